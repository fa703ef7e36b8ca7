#include "nst/atomic_file.h"

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "nst/error.h"

namespace nst {

AtomicFile::~AtomicFile() {
  if (!committed_) std::remove(tmp_.c_str());
}

void AtomicFile::commit() {
  std::error_code ec;
  std::filesystem::rename(tmp_, path_, ec);
  if (ec) {
    std::remove(tmp_.c_str());
    throw Error(path_ + ": cannot write it: " + ec.message());
  }
  committed_ = true;
}

void write_file_atomic(const std::string& path, std::string_view bytes) {
  AtomicFile file(path);
  {
    std::ofstream f(file.tmp(), std::ios::binary);
    if (!f) throw Error(path + ": cannot write (does the folder exist? is it writable?)");
    if (!f.write(bytes.data(), std::streamsize(bytes.size())).flush()) throw Error(path + ": cannot write (is the disk full?)");
  }
  file.commit();
}

}  // namespace nst
