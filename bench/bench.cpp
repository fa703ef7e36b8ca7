// `nst bench`: for each size, (1) the whole iteration as `nst stylize` runs it (Adam step + Objective::evaluate),
// then (2) each op of that iteration on its own, layer by layer, on buffers of the same shapes. Every figure
// is the median of --iterations samples after a warm-up, timed with std::chrono around a backend sync (a
// one-float download, which waits for the stream on CUDA; CPU calls are synchronous).
#include "bench.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "cpu/dnnl_conv.h"
#include "host.h"
#include "nst/backend.h"
#include "nst/device.h"
#include "nst/args.h"
#include "nst/error.h"
#include "nst/memory_plan.h"
#include "nst/network.h"
#include "nst/objective.h"
#include "nst/optim.h"
#include "nst/stylizer.h"
#include "nst/weights.h"
#include "results.h"
#ifdef NST_HAVE_CUDA
#include "gpu_peak.h"
#endif

namespace nst {
namespace bench {
namespace {

constexpr double kLr = 0.02;            // stylize's Adam default
constexpr double kMinSampleS = 2e-3;    // CUDA: repeat an op within one sample until it lasts this long
constexpr int kMaxRepeats = 1000;
constexpr int kValidateSize = 64;
constexpr double kFloat = sizeof(float);
constexpr double kBusyWarning = 0.05;  // others' share of the CPUs above which the timings are suspect

struct Options {
  std::string device = "auto";
  Precision precision = Precision::FP32;
  ConvAlgo conv_algo = ConvAlgo::Direct;
  std::vector<int> sizes = {256, 512};
  int samples = 0;  // 0: 5 on the CPU, 20 on CUDA
  std::string csv, json, plot;
  double peak = 0, bandwidth = 0;
};

double parse_positive(const std::string& flag, const std::string& v) {
  double x = parse_double(flag, v);
  if (!(x > 0)) throw UsageError(flag + ": '" + v + "' is not a positive number");
  return x;
}

struct Flag {
  const char* name;
  const char* value;
  const char* help;
  std::function<void(Options&, const std::string&)> set;
};

const std::vector<Flag>& flags() {
  static const std::vector<Flag> table = {
      {kDeviceFlag.name, kDeviceFlag.value, kDeviceFlag.help, [](Options& o, const std::string& v) { o.device = v; }},
      {kPrecisionFlag.name, kPrecisionFlag.value, kPrecisionFlag.help, [](Options& o, const std::string& v) { o.precision = parse_precision(v); }},
      {kConvAlgoFlag.name, kConvAlgoFlag.value, kConvAlgoFlag.help, [](Options& o, const std::string& v) { o.conv_algo = parse_conv_algo(v); }},
      {"--sizes", "N,N,..", "square image sizes, in the order given (default 256,512)",
       [](Options& o, const std::string& v) {
         o.sizes.clear();
         std::size_t pos = 0;
         for (;;) {
           std::size_t end = v.find(',', pos);
           std::string item = v.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
           int need = min_input_side(vgg19_layer_index("relu5_1"));
           o.sizes.push_back(int(parse_int("--sizes", item, need, 16384)));
           if (end == std::string::npos) break;
           pos = end + 1;
         }
       }},
      {"--iterations", "N", "timed samples of every figure, after one warm-up; the median is reported (default 5 on the CPU, 20 on CUDA)",
       [](Options& o, const std::string& v) { o.samples = int(parse_int("--iterations", v, 1, 100000)); }},
      {"--csv", "FILE", "one row per op and size, and one per whole iteration", [](Options& o, const std::string& v) { o.csv = v; }},
      {"--json", "FILE", "device, iterations [{size, seconds_per_iteration, gflops, layers [...]}] (SPEC 5)",
       [](Options& o, const std::string& v) { o.json = v; }},
      {"--plot", "FILE.svg", "roofline chart of the convolutions (and the other ops, in grey)", [](Options& o, const std::string& v) { o.plot = v; }},
      {"--peak", "GFLOPS", "compute ceiling for % of peak and the roofline (default: measured SGEMM on the CPU; SMs x clock x FLOP/clock on CUDA)",
       [](Options& o, const std::string& v) { o.peak = parse_positive("--peak", v); }},
      {"--bandwidth", "GB/S", "memory ceiling (default: a measured 256 MiB copy on the CPU; memory clock x bus width on CUDA)",
       [](Options& o, const std::string& v) { o.bandwidth = parse_positive("--bandwidth", v); }},
  };
  return table;
}

Options parse(const std::vector<std::string>& args) {
  Options o;
  apply_flags(args, flags(), "bench", o);
  return o;
}

// Cheap seeded values (xorshift64): the timings do not depend on them, but max pooling's branches and
// ReLU's zeros should see data rather than a constant.
Tensor random_host(Shape s, std::uint64_t seed, float lo, float hi) {
  Tensor t = Tensor::host(s);
  std::uint64_t x = seed * 0x9E3779B97F4A7C15ull + 0x2545F4914F6CDD1Dull;
  float* d = t.data();
  for (std::size_t i = 0; i < t.numel(); ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    d[i] = lo + (hi - lo) * float(x >> 40) * (1.f / 16777216.f);
  }
  return t;
}

std::string chw(const Shape& s) { return std::to_string(s.c) + "x" + std::to_string(s.h) + "x" + std::to_string(s.w); }

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  std::size_t n = v.size();
  return n == 0 ? 0 : n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// Waits for the backend: a download of one float returns only when the work queued before it is done.
class Timer {
 public:
  Timer(Backend& be, int samples) : be_(be), samples_(samples), probe_(be.alloc(Shape{})), host_(Tensor::host(Shape{})) {}

  void sync() { be_.download(probe_, host_); }

  // Median seconds of one call of fn, after a warm-up call. On CUDA a sample repeats fn until it lasts
  // kMinSampleS, so that the sync's own latency (~10 us) does not swamp a small kernel; CPU calls are
  // synchronous and timed one by one.
  double median_of(const std::function<void()>& fn) {
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

 private:
  Backend& be_;
  int samples_;
  Tensor probe_, host_;
};

int deepest_layer(const LossConfig& cfg) {
  int d = 0;
  for (int l : cfg.content_layers) d = std::max(d, l);
  for (int l : cfg.style_layers) d = std::max(d, l);
  return d;
}

// The CPU libraries' own speed on each convolution, which issue 8 holds nst's CPU convolutions to (at least
// 70% of the best): oneDNN's direct convolution in its native blocked layout with its weights prepared (no
// reorders, so faster than any NCHW caller can be), and OpenBLAS's SGEMM through im2col (a blas-only
// backend).
class LibraryReference {
 public:
  explicit LibraryReference(int samples) : samples_(samples), blas_(make_cpu_backend(true)), blas_timer_(*blas_, samples) {}

  // x (1xCxHxW), w, b and y are host tensors of one convolution; fills o.library and o.library_seconds.
  void measure(OpResult& o, Tensor& x, const Tensor& w, const Tensor& b, Tensor& y, bool backward_data) {
    const int C = w.shape().c, O = w.shape().n, H = x.shape().h, W = x.shape().w;
    o.library = "openblas";
    o.library_seconds = blas_timer_.median_of([&] {
      if (backward_data) blas_->conv_backward_data(y, w, x);
      else blas_->conv_forward(x, w, b, y);
    });
    if (cpu::DnnlConv::unavailable_reason().empty() && cpu::DnnlConv::suits(C, O, backward_data)) {
      const double t = dnnl_.native_seconds(C, O, H, W, backward_data, samples_);
      if (t > 0 && t < o.library_seconds) o.library = "onednn", o.library_seconds = t;
    }
  }

 private:
  int samples_;
  std::unique_ptr<Backend> blas_;
  Timer blas_timer_;
  cpu::DnnlConv dnnl_;
};

bool contains(const std::vector<int>& v, int x) { return std::find(v.begin(), v.end(), x) != v.end(); }

// Each op of one iteration on its own, in network order: per layer its forward and backward pass and the
// losses that sit on it; the image's normalisation first, its TV loss and Adam step last. FLOP and bytes
// as bench_help() lists them; bytes are the minimal traffic (each tensor read or written once).
std::vector<OpResult> time_ops(Backend& be, Timer& timer, const Weights& weights, const LossConfig& cfg, int size,
                               LibraryReference* library) {
  std::vector<OpResult> out;
  std::uint64_t seed = 100;
  auto upload = [&](Shape s, float lo, float hi) { return be.to_device(random_host(s, ++seed, lo, hi)); };
  auto add = [&](const std::string& layer, const std::string& op, const std::string& shape, double flop, double bytes, Bound bound,
                 const std::function<void()>& fn) -> OpResult& {
    OpResult o;
    o.layer = layer, o.op = op, o.shape = shape, o.flop = flop, o.bytes = bytes, o.bound = bound;
    o.seconds = timer.median_of(fn);
    out.push_back(o);
    return out.back();
  };

  const Shape img{1, 3, size, size};
  const double n_img = double(img.numel());
  {
    Tensor X = upload(img, 0, 1), x = be.alloc(img), dx = upload(img, -1, 1), dX = be.alloc(img);
    add("image", "normalize_forward", chw(img), 2 * n_img, kFloat * 2 * n_img, Bound::Memory, [&] { be.normalize_forward(X, weights.norm, x); });
    add("image", "normalize_backward", chw(img), 2 * n_img, kFloat * 3 * n_img, Bound::Memory, [&] { be.normalize_backward(dx, weights.norm, dX); });
  }

  Shape cur = img;
  for (int i = 0; i <= deepest_layer(cfg); ++i) {
    const LayerInfo& l = vgg19_layers()[i];
    const Shape to = vgg19_layer_shape(weights, i, size, size);
    const double n = double(cur.numel()), m = double(to.numel());
    if (l.kind == LayerKind::Conv) {
      const ConvWeights& cw = weights.convs[l.conv];
      Tensor x = upload(cur, 0, 1), y = be.alloc(to);
      Tensor w = be.to_device(Tensor::host(Shape{cw.out, cw.in, 3, 3}, cw.weight));
      Tensor b = be.to_device(Tensor::host(Shape{1, cw.out, 1, 1}, cw.bias));
      const double flop = 2.0 * cw.in * cw.out * 9 * double(to.h) * to.w, wbytes = kFloat * double(cw.weight.size());
      const std::string shape = std::to_string(cw.in) + "->" + std::to_string(cw.out) + " " + std::to_string(to.h) + "x" + std::to_string(to.w);
      OpResult& f = add(l.name, "conv_forward", shape, flop, kFloat * (n + m + cw.out) + wbytes, Bound::Compute, [&] { be.conv_forward(x, w, b, y); });
      f.info = be.conv_info(x.shape(), w.shape(), false);
      if (library) library->measure(f, x, w, b, y, false);
      OpResult& bd = add(l.name, "conv_backward_data", shape, flop, kFloat * (n + m) + wbytes, Bound::Compute, [&] { be.conv_backward_data(y, w, x); });
      bd.info = be.conv_info(x.shape(), w.shape(), true);
      if (library) library->measure(bd, x, w, b, y, true);
    } else if (l.kind == LayerKind::Relu) {
      // In place, as the network runs every ReLU whose input is not itself a loss layer.
      Tensor y = upload(cur, -1, 1), dy = upload(cur, -1, 1);
      add(l.name, "relu_forward", chw(cur), n, kFloat * 2 * n, Bound::Memory, [&] { be.relu_forward(y, y); });
      add(l.name, "relu_backward", chw(cur), n, kFloat * 3 * n, Bound::Memory, [&] { be.relu_backward(y, dy, dy); });
    } else {
      Tensor x = upload(cur, 0, 1), y = be.alloc(to), dy = upload(to, -1, 1), dx = be.alloc(cur);
      add(l.name, "pool_forward", chw(cur), 3 * m, kFloat * (n + m), Bound::Memory, [&] { be.pool_forward(cfg.pooling, x, y); });
      add(l.name, "pool_backward", chw(cur), 3 * m, kFloat * (2 * n + m), Bound::Memory, [&] { be.pool_backward(cfg.pooling, x, dy, dx); });
    }
    const bool style = contains(cfg.style_layers, i), content = contains(cfg.content_layers, i);
    if (style || content) {
      Tensor f = upload(to, 0, 1), grad = be.alloc(to);
      if (style) {
        const int C = to.c;
        const double hw = double(to.h) * to.w, c2 = double(C) * C;
        Tensor G = be.alloc(Shape{1, 1, C, C}), T = upload(Shape{1, 1, C, C}, 0, 1e-3f);
        // The stand-alone Gram is not part of the iteration's sum: the style loss computes its own.
        add(l.name, "gram", chw(to), 2 * c2 * hw, kFloat * (C * hw + c2), Bound::Compute, [&] { be.gram(f, G); }).in_iteration = false;
        // Gram (2 C^2 HW), G - T, and grad += k (G - T) F (2 C^2 HW); F read twice, grad read and written.
        add(l.name, "style_loss", chw(to), 4 * c2 * hw + 3 * c2, kFloat * (4 * C * hw + 3 * c2), Bound::Compute,
            [&] { be.style_loss(f, T, cfg.style_weight, grad); });
      }
      if (content) {
        Tensor target = upload(to, 0, 1);
        add(l.name, "content_loss", chw(to), 4 * m, kFloat * 4 * m, Bound::Memory, [&] { be.content_loss(f, target, cfg.content_weight, grad); });
      }
    }
    cur = to;
  }

  Tensor X = upload(img, 0, 1), g = upload(img, -1e-3f, 1e-3f), mom = be.alloc(img), var = be.alloc(img), grad = be.alloc(img);
  if (cfg.tv_weight != 0)
    add("image", "tv_loss", chw(img), 12 * n_img, kFloat * 3 * n_img, Bound::Memory, [&] { be.tv_loss(X, cfg.tv_weight, grad); });
  AdamState st;
  st.lr = kLr;
  add("image", "adam_step", chw(img), 12 * n_img, kFloat * 7 * n_img, Bound::Memory, [&] {
    ++st.step;
    be.adam_step(st, g, mom, var, X);
  });
  return out;
}

struct Iteration {
  double seconds = 0, peak_memory = 0, memory_before = 0;
};

// The whole iteration, as stylize runs it: Objective with a content and a style target, Adam from the
// content image, the image's gradient from the last evaluation. Also the peak memory while it runs: the
// process's resident set on the CPU (high-water mark restarted here), device memory taken on CUDA.
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
    auto opt = make_adam(be, [&](const Tensor& x, Tensor& g) { return objective.evaluate(x, g); }, kLr);
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

// CUDA only: the loss and the image's gradient at a small size against the CPU backend, before any timing.
std::string validate(Backend& be, const Weights& weights, const LossConfig& cfg, double tol, bool& ok) {
  const Shape img{1, 3, kValidateSize, kValidateSize};
  auto evaluate = [&](Backend& b, Tensor& grad_host) {
    Objective objective(b, weights, cfg);
    objective.set_content(random_host(img, 1, 0, 1));
    objective.set_styles({random_host(img, 2, 0, 1)});
    Tensor X = b.to_device(random_host(img, 3, 0, 1));  // not the content, so that every loss term is non-zero
    Tensor g = b.alloc(img);
    double loss = objective.evaluate(X, g).total;
    grad_host = b.to_host(g);
    return loss;
  };
  auto cpu = make_cpu_backend();
  Tensor gc, gd;
  const double lc = evaluate(*cpu, gc), ld = evaluate(be, gd);
  double num = 0, den = 0;
  for (std::size_t i = 0; i < gc.numel(); ++i) {
    double d = double(gd.data()[i]) - gc.data()[i];
    num += d * d;
    den += double(gc.data()[i]) * gc.data()[i];
  }
  const double loss_rel = std::abs(ld - lc) / std::max(std::abs(lc), 1e-300), grad_rel = std::sqrt(num / std::max(den, 1e-300));
  ok = loss_rel <= tol && grad_rel <= tol;
  char b[256];
  std::snprintf(b, sizeof b, "%s: at %dx%d against the CPU backend, loss relative difference %.2e, gradient relative L2 %.2e (limit %.0e)",
                ok ? "ok" : "MISMATCH", kValidateSize, kValidateSize, loss_rel, grad_rel, tol);
  return b;
}

}  // namespace
}  // namespace bench

std::string bench_help() {
  std::string s =
      "usage: nst bench [options]\n\n"
      "Times one NST iteration as `nst stylize` runs it (Adam, content relu4_2, style relu1_1,relu2_1,relu3_1,\n"
      "relu4_1,relu5_1, the default loss weights) on full-width VGG19 with synthetic weights (no download): first\n"
      "whole iterations (Adam step + evaluation), then each op of the iteration on its own, layer by layer.\n"
      "Prints a table per size (op, shape, ms, GFLOP/s, GB/s, % of peak; on CUDA cuDNN's algorithm and\n"
      "workspace), then seconds per iteration, GFLOP/s and peak memory per size.\n\n"
      "options:\n";
  for (const bench::Flag& f : bench::flags()) {
    std::string head = std::string("  ") + f.name + " " + f.value;
    if (head.size() < 34) head.resize(34, ' ');
    else head += "\n" + std::string(34, ' ');
    s += head + f.help + "\n";
  }
  s += "\nCounting: a 3x3 convolution (forward or backward-data) is 2*C*O*9*H*W FLOP; a Gram 2*C^2*H*W; a style\n"
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
       "reported (JSON others_load) and warned about above 5%.\n";
  return s;
}

int run_bench(const std::vector<std::string>& args) {
  using namespace bench;
  const Options o = parse(args);
  BackendChoice choice = make_backend(o.device, o.precision, o.conv_algo);
  if (!choice.note.empty()) std::fprintf(stderr, "%s\n", choice.note.c_str());
  Backend& be = *choice.backend;
  const bool host = be.device() == Device::Host;
  const int samples = o.samples > 0 ? o.samples : host ? 5 : 20;

  const Weights weights = synthetic_weights({64, 128, 256, 512, 512}, 1, torchvision_normalization());
  LossConfig cfg;
  const DefaultWeights dw = default_loss_weights(weights.norm.scale);
  cfg.content_weight = dw.content, cfg.style_weight = dw.style, cfg.tv_weight = dw.tv;

  // Every size must fit before anything is timed.
  std::vector<MemoryPlan> plans;
  for (int size : o.sizes) {
    plans.push_back(plan_memory(PlanInput{&weights, cfg, {size, size}, {{size, size}}, "adam", 100, &be}));
    const std::size_t available = be.memory_available();
    if (plans.back().total() > available)
      throw Error("--sizes: " + std::to_string(size) + " needs " + std::to_string(plans.back().total() >> 20) + " MiB on " + be.name() +
                  " but " + std::to_string(available >> 20) + " MiB are available");
  }

  Results r;
  r.device = be.name();
  r.precision = o.precision == Precision::TF32 ? "tf32" : "fp32";
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
    const bool tf32 = o.precision == Precision::TF32;
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
    r.validation = validate(be, weights, cfg, o.precision == Precision::TF32 ? 5e-2 : 1e-3, ok);
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

  if (!o.csv.empty()) write_file(o.csv, results_csv(r));
  if (!o.json.empty()) write_file(o.json, results_json(r));
  if (!o.plot.empty()) write_file(o.plot, roofline_svg(r));
  return 0;
}

}  // namespace nst
