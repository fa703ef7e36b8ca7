#include "signals.h"

#include <csignal>

namespace nst::app {
namespace {

volatile std::sig_atomic_t g_signal = 0;
extern "C" void on_signal(int s) { g_signal = s; }

}  // namespace

SignalGuard::SignalGuard() {
  old_int_ = std::signal(SIGINT, on_signal);
  old_term_ = std::signal(SIGTERM, on_signal);
}

SignalGuard::~SignalGuard() {
  std::signal(SIGINT, old_int_);
  std::signal(SIGTERM, old_term_);
}

int caught_signal() { return int(g_signal); }

}  // namespace nst::app
