// Every file nst writes appears whole or not at all: it is written to PATH.tmp and renamed to PATH only when
// complete, so an interrupted or failed write never leaves a partial output that a re-run would mistake for
// a finished one (batch skips rows whose output exists).
#pragma once
#include <string>
#include <string_view>

namespace nst {

class AtomicFile {
 public:
  explicit AtomicFile(std::string path) : path_(std::move(path)), tmp_(path_ + ".tmp") {}
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;
  ~AtomicFile();  // not committed: the temporary file is removed

  const std::string& path() const { return path_; }
  const std::string& tmp() const { return tmp_; }  // where the writer writes
  // Renames tmp() to path(); throws nst::Error naming path() if that fails.
  void commit();

 private:
  std::string path_, tmp_;
  bool committed_ = false;
};

// Writes `bytes` to `path` through an AtomicFile. Errors name the path: "out.csv: cannot write (...)".
void write_file_atomic(const std::string& path, std::string_view bytes);

}  // namespace nst
