// The progress line of a long run: on a terminal one live line redrawn each iteration, elsewhere (a log
// file, a batch job) a plain line every N iterations.
#pragma once
#include <chrono>
#include <string>

#include "nst/objective.h"

namespace nst::app {

// "12s", "3m05s", "2h10m".
std::string duration(double seconds);

class ProgressLine {
 public:
  ProgressLine(int iterations, int every);
  void restart(int first = 0);  // a new stage, or a resumed one at iteration `first`: rates count from here
  // After iteration i of the stage: draws the line if it is due (always on a terminal, and the last one).
  void update(int i, const LossValues& v);
  // Ends a live line before another message is printed.
  void break_line() const;

 private:
  int iterations_, every_, first_ = 0;
  bool tty_;
  std::chrono::steady_clock::time_point t0_;
};

}  // namespace nst::app
