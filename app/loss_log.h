// `--log FILE.csv`: SPEC §5's CSV, one row per iteration, written through an AtomicFile so that a failed
// run leaves none.
#pragma once
#include <fstream>
#include <memory>
#include <string>

#include "nst/atomic_file.h"
#include "nst/objective.h"

namespace nst::app {

class LossLog {
 public:
  explicit LossLog(const std::string& path);  // empty: no log
  void row(int i, const LossValues& v);
  void commit();  // the run ended: the log appears

 private:
  std::unique_ptr<AtomicFile> file_;
  std::ofstream out_;
};

}  // namespace nst::app
