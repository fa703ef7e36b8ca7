// What `nst bench` measured, and its renderings: the text table, CSV, JSON (SPEC §5) and the roofline SVG.
#pragma once
#include <string>
#include <vector>

namespace nst::bench {

// The ceilings that "% of peak" and the roofline refer to.
struct Peak {
  double gflops = 0;   // compute: convolutions and GEMMs (Gram, style loss)
  std::string gflops_source;
  double gbs = 0;      // memory bandwidth: everything else
  std::string gbs_source;
};

enum class Bound { Compute, Memory };

// One op of the iteration, timed on its own: the median of the samples.
struct OpResult {
  std::string layer;  // "conv1_1", "relu4_2"; "image" for the ops on the image itself
  std::string op;     // the Backend method: "conv_forward", "conv_backward_data", "relu_forward", ...
  std::string shape;  // "3->64 256x256" for a convolution, "CxHxW" otherwise
  double seconds = 0;
  double flop = 0, bytes = 0;  // counted as bench_help() says
  Bound bound = Bound::Memory;
  bool in_iteration = true;  // false for the stand-alone Grams (each style loss computes its own)
  std::string info;          // the backend's conv_info(): cuDNN's algorithms and workspaces
  // CPU convolutions: the best library's own time for this op ("onednn" direct in its blocked layout, or
  // "openblas" through im2col), the reference nst's own path is held to; 0 where not measured.
  std::string library;
  double library_seconds = 0;

  double gflops() const { return seconds > 0 ? flop / seconds * 1e-9 : 0; }
  double gbs() const { return seconds > 0 ? bytes / seconds * 1e-9 : 0; }
  double intensity() const { return bytes > 0 ? flop / bytes : 0; }  // FLOP per byte
  double percent_of_peak(const Peak& p) const;
  double percent_of_library() const { return seconds > 0 && library_seconds > 0 ? 100 * library_seconds / seconds : 0; }
};

struct SizeResult {
  int size = 0;
  int samples = 0;
  double seconds_per_iteration = 0;  // median of whole iterations (Adam step + evaluation)
  double flop_per_iteration = 0;     // the sum over the ops of one iteration
  double ops_seconds = 0;            // the sum of the ops' medians
  double peak_memory_bytes = 0;
  double memory_before_bytes = 0;    // CPU: the resident set as the run started (weights, libraries); else 0
  double planned_memory_bytes = 0;   // the stylize memory planner's figure for the same run
  double others_load = 0;            // the share of the CPUs that other processes took meanwhile (0..1)
  std::vector<OpResult> ops;

  double gflops() const { return seconds_per_iteration > 0 ? flop_per_iteration / seconds_per_iteration * 1e-9 : 0; }
};

struct Results {
  std::string device;        // the backend's name: "cpu", "cuda:0", "cuda:0 (tf32)"
  std::string device_name;   // the processor or GPU model
  std::string precision;     // "fp32" or "tf32"
  std::string memory_kind;   // what peak_memory_bytes measures
  std::string validation;    // CUDA: the check against the CPU backend; empty on the CPU
  int threads = 0;           // CPU threads (OpenMP)
  Peak peak;
  std::vector<SizeResult> sizes;
};

std::string results_table(const Results& r, const SizeResult& s);  // one size, for stdout
std::string results_summary(const Results& r);                     // one line per size
std::string results_csv(const Results& r);
std::string results_json(const Results& r);
std::string roofline_svg(const Results& r);

}  // namespace nst::bench
