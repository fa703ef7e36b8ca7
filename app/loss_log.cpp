#include "loss_log.h"

#include <cstdio>

#include "nst/error.h"

namespace nst::app {

LossLog::LossLog(const std::string& path, int stages) : stage_column_(stages > 1) {
  if (path.empty()) return;
  file_ = std::make_unique<AtomicFile>(path);
  out_.open(file_->tmp());
  if (!out_) throw Error(path + ": cannot write the log");
  out_ << (stage_column_ ? "iteration,total,content,style,tv,stage\n" : "iteration,total,content,style,tv\n");
}

void LossLog::row(const LossRow& r) {
  if (!file_) return;
  char buf[192];
  int n = std::snprintf(buf, sizeof buf, "%d,%.10g,%.10g,%.10g,%.10g", r.iteration, r.v.total, r.v.content, r.v.style, r.v.tv);
  if (stage_column_) std::snprintf(buf + n, sizeof buf - std::size_t(n), ",%d", r.stage + 1);
  out_ << buf << '\n';
  out_.flush();
}

void LossLog::commit() {
  if (!file_) return;
  out_.close();
  file_->commit();
  file_.reset();
}

}  // namespace nst::app
