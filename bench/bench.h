// `nst bench`: per-op and whole-iteration timings of the NST iteration that `nst stylize` runs, on full-width
// VGG19 with synthetic weights, against the device's compute and bandwidth peaks; table, CSV, JSON (SPEC §5)
// and a roofline chart. The command's flags are app/bench.cpp's.
#pragma once
#include <string>
#include <vector>

#include "nst/backend.h"

namespace nst {

struct BenchOptions {
  std::string device = "auto";  // as the backend chooser takes it (include/nst/device.h)
  Precision precision = Precision::FP32;
  ConvAlgo conv_algo = ConvAlgo::Direct;
  std::vector<int> sizes = {256, 512};  // square images, in this order
  int samples = 0;                      // timed samples of every figure; 0: 5 on the CPU, 20 on CUDA
  std::string csv, json, plot;          // files to write; empty: none
  double peak = 0, bandwidth = 0;       // GFLOP/s and GB/s ceilings; 0: measured or derived
};

// Runs the benchmark, printing as it goes; returns the exit status. Throws nst::Error for a runtime failure.
int run_bench(const BenchOptions& options);

}  // namespace nst
