// `--log FILE.csv`: SPEC §5's CSV, one row per iteration, written through an AtomicFile so that a failed
// run leaves none. A run of several stages (--scales) logs every stage, with a `stage` column (1, 2, ..)
// after SPEC's five; each stage's rows start again at 0, its starting image.
#pragma once
#include <fstream>
#include <memory>
#include <string>

#include "nst/atomic_file.h"
#include "nst/checkpoint.h"

namespace nst::app {

class LossLog {
 public:
  LossLog(const std::string& path, int stages);  // empty path: no log
  void row(const LossRow& r);
  void commit();  // the run ended: the log appears

 private:
  std::unique_ptr<AtomicFile> file_;
  std::ofstream out_;
  bool stage_column_ = false;
};

}  // namespace nst::app
