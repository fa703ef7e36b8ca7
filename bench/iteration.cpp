// The whole-iteration timing (iteration.h): an Objective and an Adam optimiser on random images, warmed up,
// then timed iteration by iteration while the peak memory is watched.
#include "iteration.h"

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <vector>

#include "host.h"
#include "nst/optim.h"
#include "random_input.h"

namespace nst::bench {

Iteration time_iteration(Backend& be, Timer& timer, const Weights& weights, const LossConfig& cfg, int size, int samples) {
  const bool host = be.device() == Device::Host;
  Iteration r;
  if (host) release_free_memory();
  if (host && reset_peak_rss()) r.memory_before = peak_rss_bytes();  // the high-water mark starts at what is resident now
  const std::size_t free0 = host ? 0 : be.memory_available();
  std::size_t free_min = free0;
  auto note_free = [&] {
    if (!host) free_min = std::min(free_min, be.memory_available());
  };
  {
    const Shape img{1, 3, size, size};
    Objective objective(be, weights, cfg);
    Tensor content = random_host(img, 1, 0, 1);
    objective.set_content(content);
    objective.set_styles({random_host(img, 2, 0, 1)});
    Tensor X = be.to_device(content);
    auto opt = make_adam(be, [&](const Tensor& x, Tensor& g) { return objective.evaluate(x, g); }, kAdamLr);
    opt->start(X);  // the first evaluation warms up: convolution plans, workspaces, first-touch page faults
    if (!host) opt->iterate(X);
    note_free();
    std::vector<double> t;
    for (int s = 0; s < samples; ++s) {
      auto t0 = std::chrono::steady_clock::now();
      opt->iterate(X);
      timer.sync();
      t.push_back(seconds_since(t0));
    }
    note_free();
    r.seconds = median(t);
    r.peak_memory = host ? peak_rss_bytes() : double(free0 - free_min);
  }
  return r;
}

}  // namespace nst::bench
