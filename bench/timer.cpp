// The bench's timer (timer.h): medians of backend-synchronised samples, repeated within a sample on CUDA.
#include "timer.h"

#include <algorithm>

namespace nst::bench {
namespace {

constexpr double kMinSampleS = 2e-3;  // CUDA: repeat an op within one sample until it lasts this long
constexpr int kMaxRepeats = 1000;

}  // namespace

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  std::size_t n = v.size();
  return n == 0 ? 0 : n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

Timer::Timer(Backend& be, int samples) : be_(be), samples_(samples), probe_(be.alloc(Shape{})), host_(Tensor::host(Shape{})) {}

void Timer::sync() { be_.download(probe_, host_); }

double Timer::median_of(const std::function<void()>& fn) {
  auto t0 = std::chrono::steady_clock::now();
  fn();
  sync();
  double warm = seconds_since(t0);
  int repeats = 1;
  if (be_.device() != Device::Host) {
    t0 = std::chrono::steady_clock::now();
    fn();
    sync();
    warm = seconds_since(t0);
    repeats = int(std::clamp(kMinSampleS / std::max(warm, 1e-7), 1.0, double(kMaxRepeats)));
  }
  std::vector<double> t;
  for (int s = 0; s < samples_; ++s) {
    t0 = std::chrono::steady_clock::now();
    for (int r = 0; r < repeats; ++r) fn();
    sync();
    t.push_back(seconds_since(t0) / repeats);
  }
  return median(t);
}

}  // namespace nst::bench
