// `nst bench`: its flags; the benchmark itself is bench/.
#include "bench.h"

#include "commands.h"
#include "device_flags.h"
#include "flags.h"
#include "nst/network.h"
#include "nst/text.h"

namespace nst::app {
namespace {

using F = Flag<BenchOptions>;
using O = BenchOptions;
using V = const std::string&;

FlagTable<BenchOptions> make_table() {
  std::vector<F> t = device_flags<O>();
  std::vector<F> more = {
      {"--sizes", "N,N,..", "square image sizes, in the order given (default 256,512)",
       [](O& o, V v) {
         o.sizes.clear();
         const int need = min_input_side(vgg19_layer_index("relu5_1"));
         for (const std::string& item : split(v, ',')) o.sizes.push_back(int(parse_int(item, need, 16384)));
       }},
      {"--iterations", "N", "timed samples of every figure, after one warm-up; the median is reported (default 5 on the CPU, 20 on CUDA)",
       [](O& o, V v) { o.samples = int(parse_int(v, 1, 100000)); }},
      {"--csv", "FILE", "one row per op and size, and one per whole iteration", [](O& o, V v) { o.csv = v; }},
      {"--json", "FILE", "device, iterations [{size, seconds_per_iteration, gflops, layers [...]}] (SPEC 5)", [](O& o, V v) { o.json = v; }},
      {"--plot", "FILE.svg", "roofline chart of the convolutions (and the other ops, in grey)", [](O& o, V v) { o.plot = v; }},
      {"--peak", "GFLOPS", "compute ceiling for % of peak and the roofline (default: measured SGEMM on the CPU; SMs x clock x FLOP/clock on CUDA)",
       [](O& o, V v) { o.peak = parse_positive(v); }},
      {"--bandwidth", "GB/S", "memory ceiling (default: a measured 256 MiB copy on the CPU; memory clock x bus width on CUDA)",
       [](O& o, V v) { o.bandwidth = parse_positive(v); }},
  };
  for (F& f : more) t.push_back(std::move(f));
  return FlagTable<BenchOptions>(
      "bench",
      "usage: nst bench [options]\n\n"
      "Times one NST iteration as `nst stylize` runs it (Adam, content relu4_2, style relu1_1,relu2_1,relu3_1,\n"
      "relu4_1,relu5_1, the default loss weights) on full-width VGG19 with synthetic weights (no download): first\n"
      "whole iterations (Adam step + evaluation), then each op of the iteration on its own, layer by layer.\n"
      "Prints a table per size (op, shape, ms, GFLOP/s, GB/s, % of peak; on CUDA cuDNN's algorithm and\n"
      "workspace), then seconds per iteration, GFLOP/s and peak memory per size.\n",
      std::move(t),
      "Counting: a 3x3 convolution (forward or backward-data) is 2*C*O*9*H*W FLOP; a Gram 2*C^2*H*W; a style\n"
      "loss 4*C^2*H*W (its Gram and its gradient GEMM); per element, ReLU 1, content loss 4, TV loss 12, Adam 12,\n"
      "normalisation 2, and a max pool 3 per output. Bytes are the minimal traffic: each tensor read or written\n"
      "once. % of peak is GFLOP/s against the compute ceiling for convolutions, Grams and style losses (marked c),\n"
      "GB/s against the bandwidth for the rest (m); small tensors that stay in cache can pass 100%, and so can the\n"
      "CPU's Grams, whose SSYRK does half the counted FLOP. An iteration's FLOP are the sum over its ops. Peak\n"
      "memory: the process's peak resident set on the CPU; on CUDA the device memory taken while the iteration ran\n"
      "(cudaMemGetInfo).\n\n"
      "Libraries (CPU): each convolution is also timed in the libraries themselves: OpenBLAS's SGEMM through\n"
      "im2col, and oneDNN's direct convolution in its own blocked layout with its weights prepared (nst's oneDNN\n"
      "path adds the reorders from and to NCHW). % lib is the faster one's time over nst's (d: oneDNN, b: OpenBLAS).\n"
      "NST_CPU_CONV=blas keeps nst's convolutions on OpenBLAS.\n\n"
      "Timing: std::chrono around a backend sync (a one-float download); on CUDA a sample repeats a small op until\n"
      "it lasts 2 ms. Other processes on the same CPUs slow everything down: the share of the CPUs they took is\n"
      "reported (JSON others_load) and warned about above 5%.\n");
}

}  // namespace

int bench_command(const std::vector<std::string>& args) {
  static const FlagTable<BenchOptions> flags = make_table();
  if (asks_for_help(args)) return print_help(flags.help());
  BenchOptions o;
  flags.parse(args, o);
  return run_bench(o);
}

}  // namespace nst::app
