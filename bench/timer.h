// How `nst bench` times a figure: the median of a number of samples after a warm-up, each measured with
// std::chrono around a backend sync (a one-float download, which waits for the stream on CUDA; CPU calls are
// synchronous), so that one timer serves both devices.
#pragma once
#include <chrono>
#include <functional>
#include <vector>

#include "nst/backend.h"
#include "nst/tensor.h"

namespace nst::bench {

double seconds_since(std::chrono::steady_clock::time_point t0);
double median(std::vector<double> v);  // 0 for none

// Waits for the backend: a download of one float returns only when the work queued before it is done.
class Timer {
 public:
  Timer(Backend& be, int samples);

  void sync();

  // Median seconds of one call of fn, after a warm-up call. On CUDA a sample repeats fn until it lasts
  // kMinSampleS, so that the sync's own latency (~10 us) does not swamp a small kernel; CPU calls are
  // synchronous and timed one by one.
  double median_of(const std::function<void()>& fn);

 private:
  Backend& be_;
  int samples_;
  Tensor probe_, host_;
};

}  // namespace nst::bench
