// What every fuzz target shares: the input as a file (the parsers take paths), and the rule that a parser
// may succeed or throw std::exception, nothing else. Anything else (a sanitizer report, a signal, an
// exception of another type, an abort) is a crash that libFuzzer saves as crash-<sha1>.
#pragma once
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <set>
#include <string>
#include <typeinfo>

#include "nst/error.h"

namespace nst::fuzz {

// The input as a file in memory: a memfd, reached by its /proc/self/fd path, rewritten for each input.
// No disk traffic, and one file per fuzzing process (libFuzzer's -jobs/-fork run several).
class MemFile {
 public:
  MemFile() {
    fd_ = ::memfd_create("nst_fuzz_input", MFD_CLOEXEC);
    if (fd_ < 0) {
      std::perror("memfd_create");
      std::abort();
    }
    path_ = "/proc/self/fd/" + std::to_string(fd_);
  }
  const std::string& write(const std::uint8_t* data, std::size_t size) {
    if (::ftruncate(fd_, 0) != 0) std::abort();
    for (std::size_t done = 0; done < size;) {
      ssize_t n = ::pwrite(fd_, data + done, size - done, off_t(done));
      if (n <= 0) std::abort();
      done += std::size_t(n);
    }
    return path_;
  }

 private:
  int fd_ = -1;
  std::string path_;
};

// Runs parse(path) on the input. nst::Error is the expected way to refuse a file; another std::exception
// is accepted too (the CLI still prints one line), but each new message is printed once, so that
// fuzz/run.sh can list them: a std::out_of_range or std::bad_alloc means a check is missing.
template <typename Parse>
int run_one(const std::uint8_t* data, std::size_t size, Parse parse) {
  static MemFile file;
  static std::set<std::string> seen;
  const std::string& path = file.write(data, size);
  try {
    parse(path);
  } catch (const nst::Error&) {
  } catch (const std::exception& e) {
    std::string what = std::string(typeid(e).name()) + ": " + e.what();
    if (seen.insert(what).second) std::fprintf(stderr, "NST_FUZZ_OTHER_EXCEPTION %s\n", what.c_str());
  }
  return 0;
}

}  // namespace nst::fuzz
