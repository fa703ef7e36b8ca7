#include "nst/stylizer.h"

#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "nst/error.h"
#include "nst/image.h"
#include "nst/memory_plan.h"
#include "nst/network.h"
#include "nst/objective.h"
#include "nst/optim.h"
#include "nst/weights.h"

namespace nst {

DefaultWeights default_loss_weights(double input_scale) {
  // Caffe-style weights see 0..255 inputs: jcjohnson/neural-style's defaults (content 5, style 100; its
  // TV of 1e-3 on the 0..255 image at 512², converted to this TV's per-pixel mean on the [0,1] image).
  if (input_scale == 255) return {5.0, 100.0, 1e7};
  // torchvision weights see (x - mean)/std: the PyTorch tutorial's content 1, style 1e6, and TV in the same
  // proportion to content as above.
  return {1.0, 1e6, 1e3};
}

namespace {

volatile std::sig_atomic_t g_signal = 0;
extern "C" void on_signal(int s) { g_signal = s; }

// Catches SIGINT/SIGTERM while alive: the loop finishes its iteration, writes the image and exits.
class SignalGuard {
 public:
  SignalGuard() {
    g_signal = 0;
    old_int_ = std::signal(SIGINT, on_signal);
    old_term_ = std::signal(SIGTERM, on_signal);
  }
  ~SignalGuard() {
    std::signal(SIGINT, old_int_);
    std::signal(SIGTERM, old_term_);
  }

 private:
  void (*old_int_)(int);
  void (*old_term_)(int);
};

std::string find_weights(const std::string& given) {
  if (!given.empty()) return given;
  if (const char* env = std::getenv("NST_WEIGHTS"); env && *env) return env;
  if (std::filesystem::exists("weights/vgg19.h5")) return "weights/vgg19.h5";
  throw Error(
      "no weights file: pass --weights FILE.h5 or set NST_WEIGHTS (weights/vgg19.h5 does not exist); convert the "
      "published VGG19 with `nst weights convert`, or write synthetic weights for a trial run with "
      "`nst_make_weights weights/vgg19.h5` (the result then shows no real style)");
}

// OUT.png -> OUT_iter100.png
std::string snapshot_path(const std::string& out, int iteration) {
  std::filesystem::path p(out);
  return (p.parent_path() / (p.stem().string() + "_iter" + std::to_string(iteration) + p.extension().string())).string();
}

std::string duration(double s) {
  char buf[32];
  if (s < 60) std::snprintf(buf, sizeof buf, "%.0fs", s);
  else if (s < 3600) std::snprintf(buf, sizeof buf, "%dm%02ds", int(s) / 60, int(s) % 60);
  else std::snprintf(buf, sizeof buf, "%dh%02dm", int(s) / 3600, int(s) % 3600 / 60);
  return buf;
}

void write_image(Backend& be, const Tensor& X, const std::string& path) {
  std::vector<std::uint8_t> rgb(std::size_t(X.shape().h) * X.shape().w * 3);
  be.to_rgb8(X, rgb.data());
  save_image(path, rgb, X.shape().h, X.shape().w);
}

// A uniform [0,1] image from a splitmix64 stream: the same seed gives the same image everywhere.
Tensor random_image(int h, int w, unsigned long long seed) {
  Tensor t = Tensor::host(Shape{1, 3, h, w});
  std::uint64_t s = seed;
  for (std::size_t i = 0; i < t.numel(); ++i) {
    std::uint64_t z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    t.data()[i] = float(double((z ^ (z >> 31)) >> 40) * 0x1.0p-24);
  }
  return t;
}

// The CSV of SPEC §5, written to FILE.tmp and renamed when the run ends, so a failed run leaves none.
class LossLog {
 public:
  explicit LossLog(std::string path) : path_(std::move(path)) {
    if (path_.empty()) return;
    out_.open(path_ + ".tmp");
    if (!out_) throw Error(path_ + ": cannot write the log");
    out_ << "iteration,total,content,style,tv\n";
  }
  ~LossLog() {
    if (out_.is_open()) {  // not committed: a failed run
      out_.close();
      std::remove((path_ + ".tmp").c_str());
    }
  }
  void row(int i, const LossValues& v) {
    if (!out_.is_open()) return;
    char buf[160];
    std::snprintf(buf, sizeof buf, "%d,%.10g,%.10g,%.10g,%.10g\n", i, v.total, v.content, v.style, v.tv);
    out_ << buf;
    out_.flush();
  }
  void commit() {
    if (!out_.is_open()) return;
    out_.close();
    std::error_code ec;
    std::filesystem::rename(path_ + ".tmp", path_, ec);
    if (ec) throw Error(path_ + ": cannot write the log: " + ec.message());
  }

 private:
  std::string path_;
  std::ofstream out_;
};

void validate(const StylizeOptions& o) {
  if (o.content.empty()) throw UsageError("--content is required");
  if (o.styles.empty()) throw UsageError("--style is required");
  if (o.output.empty()) throw UsageError("--output is required");
  if (!writable_image_extension(o.output)) throw UsageError("--output: '" + o.output + "' must end in .png, .jpg or .jpeg");
  if (o.size < 16 || o.size > 16384) throw UsageError("--size must be between 16 and 16384, got " + std::to_string(o.size));
  if (o.iterations < 0) throw UsageError("--iterations must not be negative");
  if (o.print_every < 0 || o.save_every < 0) throw UsageError("--print-every and --save-every must not be negative");
  if (!(o.style_scale > 0) || o.style_scale * o.size > 16384) throw UsageError("--style-scale must be positive (and the style at most 16384 pixels)");
  if (!o.style_blend.empty() && o.style_blend.size() != o.styles.size())
    throw UsageError("--style-blend has " + std::to_string(o.style_blend.size()) + " weights for " +
                     std::to_string(o.styles.size()) + " style images");
  if (o.optimizer != "adam" && o.optimizer != "lbfgs") throw UsageError("--optimizer: expected adam or lbfgs, got '" + o.optimizer + "'");
  if (o.history < 1 || o.history > 10000) throw UsageError("--history must be between 1 and 10000");
  for (double w : {o.content_weight, o.style_weight, o.tv_weight})
    if (std::isnan(w)) throw UsageError("loss weights must be numbers");
  // Unwritable destinations are found now, not after an hour of optimisation.
  for (const std::string& path : {o.output, o.log}) {
    if (path.empty()) continue;
    std::filesystem::path dir = std::filesystem::path(path).parent_path();
    if (dir.empty()) dir = ".";
    if (!std::filesystem::is_directory(dir) || ::access(dir.c_str(), W_OK) != 0)
      throw Error(path + ": cannot write there (" + dir.string() + " is not a writable folder)");
  }
}

// The smallest --size for which every image reaches the deepest layer.
int smallest_size(const std::vector<std::pair<int, int>>& dims, double style_scale, int need) {
  for (int s = need;; ++s) {
    bool ok = true;
    for (std::size_t i = 0; i < dims.size() && ok; ++i) {
      int size = i == 0 ? s : int(std::floor(style_scale * s + 0.5));
      auto [h, w] = fit_long_side(dims[i].first, dims[i].second, size);
      ok = std::min(h, w) >= need;
    }
    if (ok) return s;
  }
}

}  // namespace

int stylize(const StylizeOptions& o) {
  validate(o);
  LossConfig cfg;
  cfg.content_layers = parse_layer_list(o.content_layers, "--content-layers");
  cfg.style_layers = parse_layer_list(o.style_layers, "--style-layers");
  cfg.pooling = o.pooling;
  const std::string weights_path = find_weights(o.weights);
  Weights weights = load_weights(weights_path);
  DefaultWeights dw = default_loss_weights(weights.norm.scale);
  cfg.content_weight = o.content_weight >= 0 ? o.content_weight : dw.content;
  cfg.style_weight = o.style_weight >= 0 ? o.style_weight : dw.style;
  cfg.tv_weight = o.tv_weight >= 0 ? o.tv_weight : dw.tv;

  // Images: the content fitted to --size, each style to style_scale * size, the init to the content's size.
  Tensor content0 = load_image(o.content);
  std::vector<Tensor> styles0;
  for (const std::string& s : o.styles) styles0.push_back(load_image(s));
  Tensor init0 = o.init == "content" || o.init == "random" ? Tensor() : load_image(o.init);
  int deepest = 0;
  for (int l : cfg.content_layers) deepest = std::max(deepest, l);
  for (int l : cfg.style_layers) deepest = std::max(deepest, l);
  const int need = min_input_side(deepest);
  std::vector<std::pair<int, int>> dims = {{content0.shape().h, content0.shape().w}};
  for (const Tensor& s : styles0) dims.push_back({s.shape().h, s.shape().w});
  const int style_size = int(std::floor(o.style_scale * o.size + 0.5));
  auto [H, W] = fit_long_side(content0.shape().h, content0.shape().w, o.size);
  bool small = std::min(H, W) < need;
  for (const Tensor& s : styles0) {
    auto [sh, sw] = fit_long_side(s.shape().h, s.shape().w, style_size);
    small |= std::min(sh, sw) < need;
  }
  if (small)
    throw UsageError("--size " + std::to_string(o.size) + " is too small for layer " + vgg19_layers()[deepest].name +
                     " (it needs " + std::to_string(need) + " pixels on each side): the smallest --size that works is " +
                     std::to_string(smallest_size(dims, o.style_scale, need)));
  BackendChoice choice = make_backend(o.device, o.precision);
  if (!choice.note.empty()) std::fprintf(stderr, "%s\n", choice.note.c_str());
  Backend& be = *choice.backend;
  std::fprintf(stderr, "nst: %dx%d on %s, %s, %d iterations, weights %s (content %g, style %g, tv %g)\n", W, H,
               be.name().c_str(), o.optimizer.c_str(), o.iterations, weights_path.c_str(), cfg.content_weight,
               cfg.style_weight, cfg.tv_weight);

  // What the run needs on the device, for any --size; checked before anything is allocated.
  auto plan_for = [&](int size) {
    PlanInput in{&weights, cfg, fit_long_side(dims[0].first, dims[0].second, size), {}, o.optimizer, o.history, be.workspace_limit()};
    for (std::size_t k = 1; k < dims.size(); ++k)
      in.styles.push_back(fit_long_side(dims[k].first, dims[k].second, int(std::floor(o.style_scale * size + 0.5))));
    return plan_memory(in);
  };
  const MemoryPlan plan = plan_for(o.size);
  const std::size_t available = be.memory_available();
  if (o.dry_run)
    std::fprintf(stderr, "nst: memory needed on %s (%.0f MiB available):\n%s", be.name().c_str(), double(available) / (1 << 20),
                 plan.table().c_str());
  if (plan.total() > available) {
    int lo = need, hi = o.size - 1;  // the largest size in [need, size) that fits, if any
    if (plan_for(lo).total() > available) lo = 0;
    while (lo > 0 && lo < hi) {
      int mid = (lo + hi + 1) / 2;
      if (plan_for(mid).total() <= available) lo = mid;
      else hi = mid - 1;
    }
    throw Error("--size " + std::to_string(o.size) + " needs " + std::to_string(plan.total() >> 20) + " MiB on " + be.name() +
                " but " + std::to_string(available >> 20) + " MiB are available: " +
                (lo > 0 ? "the largest --size that fits is " + std::to_string(lo) : std::string("even the smallest size does not fit")) +
                (o.optimizer == "lbfgs" ? " (or lower --history)" : ""));
  }
  if (o.dry_run) return 0;

  Tensor content = resize_image(content0, H, W);
  std::vector<Tensor> styles;
  for (const Tensor& s : styles0) {
    auto [sh, sw] = fit_long_side(s.shape().h, s.shape().w, style_size);
    styles.push_back(resize_image(s, sh, sw));
  }
  Tensor init;
  if (o.init == "content") init = content;
  else if (o.init == "random") init = random_image(H, W, o.seed);
  else init = resize_image(init0, H, W);

  Objective objective(be, weights, cfg);
  objective.set_content(content);
  objective.set_styles(styles, o.style_blend);
  weights = Weights();  // uploaded: the host copy (80 MB for VGG19) is not needed any more
  content0 = Tensor(), styles0.clear(), init0 = Tensor(), styles.clear();
  Evaluate f = [&](const Tensor& X, Tensor& g) { return objective.evaluate(X, g); };
  std::unique_ptr<Optimizer> opt = o.optimizer == "adam" ? make_adam(be, f, o.lr > 0 ? o.lr : 0.02)
                                                         : make_lbfgs(be, f, o.history, o.lr > 0 ? o.lr : 1.0);
  Tensor X = be.to_device(init);
  LossLog log(o.log);
  SignalGuard signals;
  const bool tty = isatty(fileno(stderr));
  auto t0 = std::chrono::steady_clock::now();
  auto report = [&](int i, const LossValues& v, bool final_line) {
    double el = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    double rate = i > 0 ? i / el : 0;
    char line[256];
    std::snprintf(line, sizeof line, "iteration %d/%d  total %.4e  content %.4e  style %.4e  tv %.4e  %.2f it/s  ETA %s", i,
                  o.iterations, v.total, v.content, v.style, v.tv, rate,
                  rate > 0 ? duration((o.iterations - i) / rate).c_str() : "-");
    if (tty) std::fprintf(stderr, "\r%s\033[K%s", line, final_line ? "\n" : "");
    else std::fprintf(stderr, "%s\n", line);
  };

  LossValues v = opt->start(X);
  log.row(0, v);
  int i = 0;
  for (; i < o.iterations && !g_signal; ++i) {
    if (!std::isfinite(v.total)) throw Error("the loss is " + std::to_string(v.total) + " at iteration " + std::to_string(i) + ": lower --lr or the loss weights");
    v = opt->iterate(X);
    log.row(i + 1, v);
    bool last = i + 1 == o.iterations;
    if (tty || (o.print_every > 0 && (i + 1) % o.print_every == 0) || last) report(i + 1, v, last);
    if (o.save_every > 0 && (i + 1) % o.save_every == 0 && !last) write_image(be, X, snapshot_path(o.output, i + 1));
    if (!opt->stopped().empty()) {
      if (tty) std::fputc('\n', stderr);
      std::fprintf(stderr, "nst: stopping after iteration %d: %s\n", i + 1, opt->stopped().c_str());
      ++i;
      break;
    }
  }
  write_image(be, X, o.output);
  log.commit();
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (g_signal) {
    std::fprintf(stderr, "\nnst: interrupted after iteration %d: wrote %s\n", i, o.output.c_str());
    return 128 + int(g_signal);
  }
  std::fprintf(stderr, "nst: wrote %s (%dx%d) after %d iterations in %s, final loss %.6g\n", o.output.c_str(), W, H, i,
               duration(secs).c_str(), v.total);
  if (be.device() == Device::Host) {
    // The planner's figure against the real peak (what the process ever held, libraries included).
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    std::fprintf(stderr, "nst: peak memory %.0f MiB (planned %.0f MiB for the run)\n", double(ru.ru_maxrss) / 1024,
                 double(plan.total()) / (1 << 20));
  }
  return 0;
}

}  // namespace nst
