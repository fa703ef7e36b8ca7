// Errors: one exception type per exit status, so `main` can catch once and print one line.
#pragma once
#include <stdexcept>
#include <string>
#include <utility>

namespace nst {

// A runtime failure (bad file, out of memory, CUDA error): exit status 1. When it is about one option of
// the engine's API, `option` names it as the API does (a field of StylizeOptions such as "size"), and the
// message is about its value ("64 is too small for layer relu5_1"): the program that took the option, under
// whatever name, prefixes that name.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what, std::string option = {}) : std::runtime_error(what), option_(std::move(option)) {}
  const std::string& option() const { return option_; }

 private:
  std::string option_;
};

// A bad option or value given by the user: exit status 2.
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
