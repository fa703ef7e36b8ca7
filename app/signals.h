// Ctrl-C (SIGINT) and SIGTERM during a long run: caught from the start of a command, so that a signal that
// arrives while the inputs load is not lost (nor ignored, as a background job of a non-interactive shell
// would start), and answered after the current iteration: the image and a checkpoint are written.
#pragma once

namespace nst::app {

class SignalGuard {
 public:
  SignalGuard();   // installs the handlers; a guard inside another leaves the first one's
  ~SignalGuard();  // restores what was there
  SignalGuard(const SignalGuard&) = delete;
  SignalGuard& operator=(const SignalGuard&) = delete;

 private:
  void (*old_int_)(int);
  void (*old_term_)(int);
};

// The signal caught since the process started, or 0.
int caught_signal();

}  // namespace nst::app
