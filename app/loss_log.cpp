#include "loss_log.h"

#include <cstdio>

#include "nst/error.h"

namespace nst::app {

LossLog::LossLog(const std::string& path) {
  if (path.empty()) return;
  file_ = std::make_unique<AtomicFile>(path);
  out_.open(file_->tmp());
  if (!out_) throw Error(path + ": cannot write the log");
  out_ << "iteration,total,content,style,tv\n";
}

void LossLog::row(int i, const LossValues& v) {
  if (!file_) return;
  char buf[160];
  std::snprintf(buf, sizeof buf, "%d,%.10g,%.10g,%.10g,%.10g\n", i, v.total, v.content, v.style, v.tv);
  out_ << buf;
  out_.flush();
}

void LossLog::commit() {
  if (!file_) return;
  out_.close();
  file_->commit();
  file_.reset();
}

}  // namespace nst::app
