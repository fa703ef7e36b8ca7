// Errors: one exception type per exit status, so `main` can catch once and print one line.
#pragma once
#include <stdexcept>
#include <string>

namespace nst {

// A runtime failure (bad file, out of memory, CUDA error): exit status 1.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A bad flag or value given by the user: exit status 2.
class UsageError : public Error {
 public:
  using Error::Error;
};

// "file.cpp:42" for messages that name where a check failed.
std::string source_location(const char* file, int line);

}  // namespace nst

// Check a condition that the code itself relies on; throws nst::Error naming the file and line.
#define NST_ASSERT(cond, msg)                                                                       \
  do {                                                                                              \
    if (!(cond)) throw ::nst::Error(std::string("internal error: ") + (msg) + " (" #cond ") at " + \
                                    ::nst::source_location(__FILE__, __LINE__));                  \
  } while (0)
