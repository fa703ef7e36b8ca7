// The whole NST iteration timed as `nst stylize` runs it (Adam step + Objective::evaluate), with the memory it
// takes at its peak: the figures the per-op timings (ops.h) add up to, less what they leave out (launches,
// allocation, the optimiser's bookkeeping), and what the memory planner's estimate is checked against.
#pragma once
#include "nst/backend.h"
#include "nst/objective.h"
#include "nst/weights.h"
#include "timer.h"

namespace nst::bench {

struct Iteration {
  double seconds = 0, peak_memory = 0, memory_before = 0;
};

// Objective with a content and a style target, Adam from the content image, the image's gradient from the
// last evaluation; the median of `samples` iterations after a warm-up. The peak memory while it runs is the
// process's resident set on the CPU (high-water mark restarted here), device memory taken on CUDA.
Iteration time_iteration(Backend& be, Timer& timer, const Weights& weights, const LossConfig& cfg, int size, int samples);

}  // namespace nst::bench
