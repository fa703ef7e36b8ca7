// `nst bench`'s orchestration: the backend, the synthetic VGG19 and the memory check of every size; the
// device's peaks (host.h, gpu_peak.h) and, on CUDA, the check against the CPU backend (validate.h); then for
// each size (1) the whole iteration as `nst stylize` runs it (iteration.h) and (2) each op of that iteration on
// its own, layer by layer, on buffers of the same shapes (ops.h, with the CPU libraries' own speed from
// library_reference.h). Every figure is the median of --iterations samples after a warm-up (timer.h). The
// tables and the files written are results.h's.
#include "bench.h"

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "host.h"
#include "iteration.h"
#include "library_reference.h"
#include "nst/atomic_file.h"
#include "nst/backend.h"
#include "nst/device.h"
#include "nst/error.h"
#include "nst/memory_plan.h"
#include "nst/optim.h"
#include "nst/stylizer.h"
#include "nst/weights.h"
#include "ops.h"
#include "results.h"
#include "timer.h"
#include "validate.h"
#ifdef NST_HAVE_CUDA
#include "gpu_peak.h"
#endif

namespace nst {
namespace {

constexpr double kBusyWarning = 0.05;  // others' share of the CPUs above which the timings are suspect

}  // namespace

int run_bench(const BenchOptions& o) {
  using namespace bench;
  BackendChoice choice = make_backend(o.device, o.precision, o.conv_algo);
  if (!choice.note.empty()) std::fprintf(stderr, "nst: %s\n", choice.note.c_str());
  for (const std::string& line : choice.unused) std::fprintf(stderr, "nst: %s\n", line.c_str());
  Backend& be = *choice.backend;
  const Precision precision = choice.precision;  // what runs, not what was asked (fp32 on the CPU)
  const bool host = be.device() == Device::Host;
  const int samples = o.samples > 0 ? o.samples : host ? 5 : 20;

  const Weights weights = synthetic_weights({64, 128, 256, 512, 512}, 1, torchvision_normalization());
  LossConfig cfg;
  const DefaultWeights dw = default_loss_weights(weights.norm.scale);
  cfg.content_weight = dw.content, cfg.style_weight = dw.style, cfg.tv_weight = dw.tv;

  // Every size must fit before anything is timed.
  std::vector<MemoryPlan> plans;
  for (int size : o.sizes) {
    plans.push_back(plan_memory(PlanInput{&weights, cfg, {size, size}, {{size, size}}, OptimizerKind::Adam, 100, &be}));
    const std::size_t available = be.memory_available();
    if (plans.back().total() > available)
      throw Error(std::to_string(size) + " needs " + std::to_string(plans.back().total() >> 20) + " MiB on " + be.name() +
                  " but " + std::to_string(available >> 20) + " MiB are available", "sizes");
  }

  Results r;
  r.device = be.name();
  r.precision = name(precision);
  r.threads = cpu_threads();
  if (host) {
    const CpuTimes t0 = cpu_times();
    r.memory_kind = "peak resident set of the process while the iteration ran (VmHWM)";
    if (o.peak > 0) r.peak.gflops = o.peak, r.peak.gflops_source = "--peak";
    else r.peak.gflops = cpu_sgemm_gflops(), r.peak.gflops_source = "measured: OpenBLAS SGEMM 2048^3, " + std::to_string(r.threads) + " threads";
    if (o.bandwidth > 0) r.peak.gbs = o.bandwidth, r.peak.gbs_source = "--bandwidth";
    else r.peak.gbs = cpu_copy_gbs(), r.peak.gbs_source = "measured: 256 MiB copy, " + std::to_string(r.threads) + " threads";
    r.device_name = cpu_name();
    if (const double busy = others_load(t0, cpu_times()); busy > kBusyWarning && (o.peak <= 0 || o.bandwidth <= 0))
      std::fprintf(stderr, "nst: warning: other processes took %.0f%% of the CPUs while the peaks were measured: they are low, and %% of peak high\n",
                   100 * busy);
  } else {
#ifdef NST_HAVE_CUDA
    int index = 0;
    std::sscanf(r.device.c_str(), "cuda:%d", &index);
    const GpuPeak g = gpu_peak(index);
    r.device_name = g.name;
    r.memory_kind = "device memory taken while the iteration ran (cudaMemGetInfo before and after)";
    const bool tf32 = precision == Precision::TF32;
    r.peak.gflops = o.peak > 0 ? o.peak : tf32 ? g.tf32_gflops : g.fp32_gflops;
    r.peak.gflops_source = o.peak > 0 ? "--peak" : tf32 ? g.tf32_source : g.fp32_source;
    r.peak.gbs = o.bandwidth > 0 ? o.bandwidth : g.gbs;
    r.peak.gbs_source = o.bandwidth > 0 ? "--bandwidth" : g.gbs_source;
#else
    NST_ASSERT(false, "a non-CPU backend in a build without CUDA");
#endif
  }

  std::printf("nst bench: %s (%s%s), %s; full-width VGG19 (synthetic weights) to relu5_1, content relu4_2, style relu1_1..relu5_1, "
              "TV, Adam\n",
              r.device.c_str(), r.device_name.c_str(), host ? (", " + std::to_string(r.threads) + " threads").c_str() : "", r.precision.c_str());
  if (!host) std::printf("cuda: %s\n", probe_cuda().versions.c_str());
  std::printf("peak: %.1f GFLOP/s (%s); %.1f GB/s (%s)\n\n", r.peak.gflops, r.peak.gflops_source.c_str(), r.peak.gbs, r.peak.gbs_source.c_str());
  if (!host) {
    bool ok = true;
    r.validation = validate(be, weights, cfg, precision == Precision::TF32 ? 5e-2 : 1e-3, ok);
    std::printf("validation %s\n\n", r.validation.c_str());
    if (!ok) std::fprintf(stderr, "nst: warning: %s: %s\n", be.name().c_str(), r.validation.c_str());
  }
  std::fflush(stdout);

  Timer timer(be, samples);
  std::unique_ptr<LibraryReference> library;
  if (host) library = std::make_unique<LibraryReference>(samples);
  for (std::size_t k = 0; k < o.sizes.size(); ++k) {
    SizeResult s;
    s.size = o.sizes[k];
    s.samples = samples;
    s.planned_memory_bytes = double(plans[k].total());
    const CpuTimes t0 = cpu_times();
    // The whole iteration first, so that its peak memory is not the per-op buffers' leftovers.
    Iteration it = time_iteration(be, timer, weights, cfg, s.size, samples);
    s.seconds_per_iteration = it.seconds;
    s.peak_memory_bytes = it.peak_memory;
    s.memory_before_bytes = it.memory_before;
    s.ops = time_ops(be, timer, weights, cfg, s.size, library.get());
    s.others_load = others_load(t0, cpu_times());
    for (const OpResult& op : s.ops)
      if (op.in_iteration) s.flop_per_iteration += op.flop, s.ops_seconds += op.seconds;
    if (s.others_load > kBusyWarning) {
      std::fflush(stdout);
      std::fprintf(stderr, "nst: warning: other processes took %.0f%% of the CPUs while %dx%d was timed: its figures are low\n",
                   100 * s.others_load, s.size, s.size);
    }
    r.sizes.push_back(s);
    std::fputs(results_table(r, r.sizes.back()).c_str(), stdout);
    std::fputs("\n", stdout);
    std::fflush(stdout);
  }
  std::printf("%% of peak: GFLOP/s against %.1f GFLOP/s for convolutions, Grams and style losses (c), GB/s against %.1f GB/s for the rest (m)\n\n",
              r.peak.gflops, r.peak.gbs);
  std::fputs(results_summary(r).c_str(), stdout);

  if (!o.csv.empty()) write_file_atomic(o.csv, results_csv(r));
  if (!o.json.empty()) write_file_atomic(o.json, results_json(r));
  if (!o.plot.empty()) write_file_atomic(o.plot, roofline_svg(r));
  return 0;
}

}  // namespace nst
