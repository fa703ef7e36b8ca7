#include "progress.h"

#include <unistd.h>

#include <cstdio>

namespace nst::app {

std::string duration(double s) {
  char buf[32];
  if (s < 60) std::snprintf(buf, sizeof buf, "%.0fs", s);
  else if (s < 3600) std::snprintf(buf, sizeof buf, "%dm%02ds", int(s) / 60, int(s) % 60);
  else std::snprintf(buf, sizeof buf, "%dh%02dm", int(s) / 3600, int(s) % 3600 / 60);
  return buf;
}

ProgressLine::ProgressLine(int iterations, int every)
    : iterations_(iterations), every_(every), tty_(isatty(fileno(stderr))), t0_(std::chrono::steady_clock::now()) {}

void ProgressLine::restart(int first) {
  t0_ = std::chrono::steady_clock::now();
  first_ = first;
}

void ProgressLine::update(int i, const LossValues& v) {
  const bool last = i == iterations_;
  if (!(tty_ || (every_ > 0 && i % every_ == 0) || last)) return;
  double el = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count();
  double rate = i > first_ && el > 0 ? (i - first_) / el : 0;
  char line[256];
  std::snprintf(line, sizeof line, "iteration %d/%d  total %.4e  content %.4e  style %.4e  tv %.4e  %.2f it/s  ETA %s", i, iterations_,
                v.total, v.content, v.style, v.tv, rate, rate > 0 ? duration((iterations_ - i) / rate).c_str() : "-");
  if (tty_) std::fprintf(stderr, "\r%s\033[K%s", line, last ? "\n" : "");
  else std::fprintf(stderr, "%s\n", line);
}

void ProgressLine::break_line() const {
  if (tty_) std::fputc('\n', stderr);
}

}  // namespace nst::app
