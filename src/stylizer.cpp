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
#include <optional>

#include "nst/checkpoint.h"
#include "nst/color.h"
#include "nst/error.h"
#include "nst/image.h"
#include "nst/memory_plan.h"
#include "nst/network.h"
#include "nst/objective.h"
#include "nst/optim.h"
#include "nst/report.h"
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
  if (o.scales > 1 && o.start_size >= o.size)
    throw UsageError("--start-size " + std::to_string(o.start_size) + " must be smaller than --size " + std::to_string(o.size));
  if (o.scales == 1 && o.start_size > 0) throw UsageError("--start-size needs --scales 2 or more");
  for (double w : {o.content_weight, o.style_weight, o.tv_weight})
    if (std::isnan(w)) throw UsageError("loss weights must be numbers");
  // Unwritable destinations are found now, not after an hour of optimisation.
  for (const std::string& path : {o.output, o.log, o.report, o.checkpoint}) {
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

// The sizes of the coarse-to-fine stages: geometric from the start size to --size.
std::vector<int> stage_sizes(const StylizeOptions& o) {
  if (o.scales == 1) return {o.size};
  int start = o.start_size > 0 ? o.start_size : std::max(16, int(std::lround(o.size / std::pow(2.0, o.scales - 1))));
  std::vector<int> sizes;
  for (int k = 0; k < o.scales; ++k)
    sizes.push_back(int(std::lround(start * std::pow(double(o.size) / start, double(k) / (o.scales - 1)))));
  return sizes;
}

// One `nst stylize` job: the inputs as loaded, the backend, and the stages run on it.
class Job {
 public:
  Job(const StylizeOptions& o, Session* session) : o_(o), session_(session) {}

  int run() {
    validate(o_);
    load();
    sizes_ = stage_sizes(o_);
    check_sizes();
    if (session_) {
      be_ = &session_->backend();
    } else {
      BackendChoice choice = make_backend(o_.device, o_.precision, o_.conv_algo);
      if (!choice.note.empty()) std::fprintf(stderr, "%s\n", choice.note.c_str());
      own_be_ = std::move(choice.backend);
      be_ = own_be_.get();
    }
    check_memory();  // before the first line: a run that cannot fit ends with that one line on stderr
    auto [H, W] = fit_long_side(content0_.shape().h, content0_.shape().w, o_.size);
    std::fprintf(stderr, "nst: %dx%d on %s, %s, %d iterations%s, weights %s (content %g, style %g, tv %g)\n", W, H,
                 be_->name().c_str(), o_.optimizer.c_str(), o_.iterations,
                 sizes_.size() > 1 ? (" per stage, " + std::to_string(sizes_.size()) + " stages").c_str() : "",
                 weights_path_.c_str(), cfg_.content_weight, cfg_.style_weight, cfg_.tv_weight);
    if (o_.dry_run) {
      std::fprintf(stderr, "nst: memory needed on %s (%.0f MiB available):\n%s", be_->name().c_str(),
                   double(be_->memory_available()) / (1 << 20), plan_.table().c_str());
      return 0;
    }
    if (!o_.resume.empty()) load_resume();

    std::unique_ptr<Objective> own;
    Objective& objective = session_ ? session_->objective(weights_path_, cfg_) : *(own = std::make_unique<Objective>(*be_, *weights_, cfg_));
    own_weights_ = Weights();  // uploaded: the host copy (80 MB for VGG19) is not needed any more
    LossLog log(o_.log);
    SignalGuard signals;
    t0_ = std::chrono::steady_clock::now();
    Tensor X;  // the current image, on the device
    for (std::size_t k = 0; k < sizes_.size() && !g_signal && diverged_.empty(); ++k)
      if (!resume_ || int(k) >= resume_->stage) X = stage(objective, k, X, log);  // earlier stages are done
    write_result(X, o_.output);
    log.commit();
    if (!diverged_.empty()) {
      std::fprintf(stderr, "\nnst: %s (written to %s)\n", diverged_.c_str(), o_.output.c_str());
      return 1;
    }
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count();
    if (g_signal) {
      std::fprintf(stderr, "\nnst: interrupted after iteration %d: wrote %s\n", done_, o_.output.c_str());
      return 128 + int(g_signal);
    }
    std::fprintf(stderr, "nst: wrote %s (%dx%d) after %d iterations in %s, final loss %.6g\n", o_.output.c_str(),
                 X.shape().w, X.shape().h, done_, duration(secs).c_str(), last_.total);
    if (be_->device() == Device::Host) {
      // The planner's figure against the real peak (what the process ever held, libraries included).
      rusage ru{};
      getrusage(RUSAGE_SELF, &ru);
      std::fprintf(stderr, "nst: peak memory %.0f MiB (planned %.0f MiB for the run)\n", double(ru.ru_maxrss) / 1024,
                   double(plan_.total()) / (1 << 20));
    }
    return 0;
  }

 private:
  void load() {
    cfg_.content_layers = parse_layer_list(o_.content_layers, "--content-layers");
    cfg_.style_layers = parse_layer_list(o_.style_layers, "--style-layers");
    cfg_.pooling = o_.pooling;
    weights_path_ = find_weights(o_.weights);
    if (session_) {
      weights_ = &session_->weights(weights_path_);
    } else {
      own_weights_ = load_weights(weights_path_);
      weights_ = &own_weights_;
    }
    DefaultWeights dw = default_loss_weights(weights_->norm.scale);
    cfg_.content_weight = o_.content_weight >= 0 ? o_.content_weight : dw.content;
    cfg_.style_weight = o_.style_weight >= 0 ? o_.style_weight : dw.style;
    cfg_.tv_weight = o_.tv_weight >= 0 ? o_.tv_weight : dw.tv;
    content0_ = load_image(o_.content);
    for (const std::string& s : o_.styles) styles0_.push_back(load_image(s));
    if (o_.init != "content" && o_.init != "random") init0_ = load_image(o_.init);
    int deepest = 0;
    for (int l : cfg_.content_layers) deepest = std::max(deepest, l);
    for (int l : cfg_.style_layers) deepest = std::max(deepest, l);
    deepest_ = deepest;
    dims_ = {{content0_.shape().h, content0_.shape().w}};
    for (const Tensor& s : styles0_) dims_.push_back({s.shape().h, s.shape().w});
  }

  int style_size(int size) const { return int(std::floor(o_.style_scale * size + 0.5)); }

  // Every image of every stage must reach the deepest layer; the first stage is the smallest.
  void check_sizes() const {
    const int need = min_input_side(deepest_);
    int size = sizes_.front();
    bool small = false;
    for (std::size_t i = 0; i < dims_.size(); ++i) {
      auto [h, w] = fit_long_side(dims_[i].first, dims_[i].second, i == 0 ? size : style_size(size));
      small |= std::min(h, w) < need;
    }
    if (!small) return;
    std::string what = sizes_.size() > 1 ? "the first stage's size " + std::to_string(size) + " (--start-size)" : "--size " + std::to_string(size);
    throw UsageError(what + " is too small for layer " + vgg19_layers()[deepest_].name + " (it needs " + std::to_string(need) +
                     " pixels on each side): the smallest " + (sizes_.size() > 1 ? "--start-size" : "--size") + " that works is " +
                     std::to_string(smallest_size(dims_, o_.style_scale, need)));
  }

  // What the largest stage needs on the device, checked before anything is allocated.
  void check_memory() {
    auto plan_for = [&](int size) {
      PlanInput in{weights_, cfg_, fit_long_side(dims_[0].first, dims_[0].second, size), {}, o_.optimizer, o_.history, be_};
      for (std::size_t k = 1; k < dims_.size(); ++k) in.styles.push_back(fit_long_side(dims_[k].first, dims_[k].second, style_size(size)));
      return plan_memory(in);
    };
    plan_ = plan_for(o_.size);
    const std::size_t available = be_->memory_available();
    if (plan_.total() <= available) return;
    const int need = min_input_side(deepest_);
    int lo = need, hi = o_.size - 1;  // the largest size in [need, size) that fits, if any
    if (plan_for(lo).total() > available) lo = 0;
    while (lo > 0 && lo < hi) {
      int mid = (lo + hi + 1) / 2;
      if (plan_for(mid).total() <= available) lo = mid;
      else hi = mid - 1;
    }
    throw Error("--size " + std::to_string(o_.size) + " needs " + std::to_string(plan_.total() >> 20) + " MiB on " + be_->name() +
                " but " + std::to_string(available >> 20) + " MiB are available: " +
                (lo > 0 ? "the largest --size that fits is " + std::to_string(lo) : std::string("even the smallest size does not fit")) +
                (o_.optimizer == "lbfgs" ? " (or lower --history)" : ""));
  }

  // One stage at sizes_[k]: targets at that size, the start image (--init, or the previous stage's result
  // enlarged), and the optimiser's iterations. Returns the result on the device.
  Tensor stage(Objective& objective, std::size_t k, const Tensor& previous, LossLog& log) {
    const bool final_stage = k + 1 == sizes_.size();
    auto [H, W] = fit_long_side(content0_.shape().h, content0_.shape().w, sizes_[k]);
    content_ = resize_image(content0_, H, W);
    std::vector<Tensor> styles;
    for (const Tensor& s : styles0_) {
      auto [sh, sw] = fit_long_side(s.shape().h, s.shape().w, style_size(sizes_[k]));
      styles.push_back(resize_image(s, sh, sw));
    }
    // Colour control (Gatys et al. 2017): the network sees luminance only, the content's chroma being put
    // back when the image is written; or each style's colours are matched to the content's first.
    const bool luminance = o_.preserve_colors == "luminance";
    for (Tensor& s : styles) {
      if (luminance) s = match_luminance(s, content_);
      else if (o_.preserve_colors == "histogram") s = match_color_histogram(s, content_);
    }
    Tensor init;
    if (k > 0) init = resize_image(be_->to_host(previous), H, W);
    else if (o_.init == "content") init = content_;
    else if (o_.init == "random") init = random_image(H, W, o_.seed);
    else init = resize_image(init0_, H, W);
    if (luminance && k == 0) init = luminance_image(init);
    objective.set_content(luminance ? luminance_image(content_) : content_);
    if (session_ && o_.preserve_colors == "none") {
      // The styles as loaded and sized do not depend on the content: their Grams serve every row.
      std::vector<std::vector<Tensor>> grams;
      for (std::size_t i = 0; i < styles.size(); ++i) {
        std::string key = weights_path_ + "|" + o_.style_layers + "|" + (o_.pooling == PoolKind::Avg ? "avg" : "max") + "|" +
                          o_.styles[i] + "|" + styles[i].shape().str();
        grams.push_back(session_->style_grams(objective, key, styles[i]));
      }
      objective.set_style_grams(grams, o_.style_blend);
    } else {
      objective.set_styles(styles, o_.style_blend);
    }
    if (final_stage && !o_.report.empty()) {
      report_.inputs.push_back(report_image("content: " + o_.content, content_));
      for (std::size_t i = 0; i < styles.size(); ++i) report_.inputs.push_back(report_image("style: " + o_.styles[i], styles[i]));
      if (!init0_.empty()) report_.inputs.push_back(report_image("init: " + o_.init, resize_image(init0_, H, W)));
    }
    if (sizes_.size() > 1) std::fprintf(stderr, "nst: stage %zu/%zu at %dx%d\n", k + 1, sizes_.size(), W, H);

    Evaluate f = [&](const Tensor& X, Tensor& g) { return objective.evaluate(X, g); };
    std::unique_ptr<Optimizer> opt = o_.optimizer == "adam" ? make_adam(*be_, f, o_.lr > 0 ? o_.lr : 0.02)
                                                            : make_lbfgs(*be_, f, o_.history, o_.lr > 0 ? o_.lr : 1.0);
    int first = 0;  // the first iteration to run: 0, or where a checkpoint left off
    if (resume_) {
      if (resume_->X.shape() != init.shape())
        throw Error(o_.resume + ": its image is " + resume_->X.shape().str() + ", this stage's is " + init.shape().str());
      init = resume_->X;
    }
    Tensor X = be_->to_device(init);
    // The log holds the final stage's rows, the run at --size (SPEC §5's rows 0..N).
    LossValues v = opt->start(X);
    if (resume_) {
      opt->restore(resume_->optimizer);
      first = resume_->iteration;
      done_ = resume_->done;
      resume_.reset();
      std::fprintf(stderr, "nst: resumed at iteration %d from %s\n", first, o_.resume.c_str());
    }
    if (final_stage) record(first, v, log);
    const bool tty = isatty(fileno(stderr));
    const auto stage_t0 = std::chrono::steady_clock::now();
    if (!std::isfinite(v.total))
      throw Error("the loss of the starting image is " + std::to_string(v.total) + ": check the inputs and the loss weights");
    Tensor good = be_->alloc(X.shape());  // the last image with a finite loss, kept if the next one diverges
    for (int i = first; i < o_.iterations && !g_signal; ++i) {
      be_->copy(X, good);
      v = opt->iterate(X);
      if (!std::isfinite(v.total)) {
        diverged_ = "the loss became " + std::string(std::isnan(v.total) ? "NaN" : "infinite") + " at iteration " +
                    std::to_string(done_ + 1) + ": kept the image of iteration " + std::to_string(done_) + "; lower --lr" +
                    (o_.lr > 0 ? " (now " + std::to_string(o_.lr) + ")" : "") + " or the loss weights";
        return good;
      }
      ++done_;
      if (final_stage) record(i + 1, v, log);
      bool last = i + 1 == o_.iterations;
      if (tty || (o_.print_every > 0 && (i + 1) % o_.print_every == 0) || last) progress(i + 1, v, stage_t0, tty, last);
      if (!o_.checkpoint.empty() && ((o_.save_every > 0 && done_ % o_.save_every == 0) || g_signal))
        save_checkpoint(o_.checkpoint, Checkpoint{int(k), i + 1, done_, resume_options(), be_->to_host(X), opt->state()});
      if (o_.save_every > 0 && done_ % o_.save_every == 0 && !(last && final_stage)) {
        Tensor img = final_image(X);
        save(img, snapshot_path(o_.output, done_));
        if (!o_.report.empty()) report_.snapshots.push_back(report_image("iteration " + std::to_string(done_), img));
      } else if (!o_.report.empty() && o_.save_every == 0 && final_stage && quarter(i + 1)) {
        report_.snapshots.push_back(report_image("iteration " + std::to_string(done_), final_image(X)));  // a few, for the page
      }
      if (!opt->stopped().empty()) {
        if (tty && !last) std::fputc('\n', stderr);
        std::fprintf(stderr, "nst: stopping %s after iteration %d: %s\n", sizes_.size() > 1 ? "this stage" : "", i + 1,
                     opt->stopped().c_str());
        break;
      }
    }
    last_ = v;
    return X;
  }

  // Iterations 1/4, 2/4 and 3/4 of the way: the report's snapshots when --save-every gives none.
  bool quarter(int i) const {
    for (int k = 1; k <= 3; ++k)
      if (o_.iterations >= 4 && i == k * o_.iterations / 4) return true;
    return false;
  }

  void progress(int i, const LossValues& v, std::chrono::steady_clock::time_point since, bool tty, bool final_line) const {
    double el = std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
    double rate = i > 0 ? i / el : 0;
    char line[256];
    std::snprintf(line, sizeof line, "iteration %d/%d  total %.4e  content %.4e  style %.4e  tv %.4e  %.2f it/s  ETA %s", i,
                  o_.iterations, v.total, v.content, v.style, v.tv, rate,
                  rate > 0 ? duration((o_.iterations - i) / rate).c_str() : "-");
    if (tty) std::fprintf(stderr, "\r%s\033[K%s", line, final_line ? "\n" : "");
    else std::fprintf(stderr, "%s\n", line);
  }

  // The image as written: on the host, with the content's chroma put back in luminance mode.
  Tensor final_image(const Tensor& X) {
    Tensor host = be_->to_host(X);
    return o_.preserve_colors == "luminance" ? recombine_luminance(host, content_) : host;
  }

  std::vector<std::uint8_t> rgb8(const Tensor& host) {
    std::vector<std::uint8_t> rgb(std::size_t(host.shape().h) * host.shape().w * 3);
    cpu_->to_rgb8(host, rgb.data());
    return rgb;
  }

  void save(const Tensor& img, const std::string& path) { save_image(path, rgb8(img), img.shape().h, img.shape().w); }

  ReportImage report_image(const std::string& caption, const Tensor& host) {
    return ReportImage{caption, rgb8(host), host.shape().h, host.shape().w};
  }

  void record(int row, const LossValues& v, LossLog& log) {
    log.row(row, v);
    if (!o_.report.empty()) report_.losses.push_back(v);
  }

  void write_result(const Tensor& X, const std::string& path) {
    Tensor img = final_image(X);
    save(img, path);
    if (o_.report.empty()) return;
    report_.result = report_image("result: " + path, img);
    report_.title = "nst stylize: " + o_.content + " in the style of " + o_.styles[0] + (o_.styles.size() > 1 ? " and others" : "");
    char summary[256];
    std::snprintf(summary, sizeof summary, "%dx%d on %s, %s, %d iterations in %s", img.shape().w, img.shape().h, be_->name().c_str(),
                  o_.optimizer.c_str(), done_,
                  duration(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count()).c_str());
    report_.summary = summary;
    report_.options = used_options();
    write_report(o_.report, report_);
  }

  // The options a checkpoint must share with the run that resumes it: all but where it runs and how long.
  std::vector<std::pair<std::string, std::string>> resume_options() const {
    std::vector<std::pair<std::string, std::string>> v;
    for (auto& [k, val] : used_options())
      if (k != "--device" && k != "--precision" && k != "--conv-algo" && k != "--iterations") v.push_back({k, val});
    return v;
  }

  void load_resume() {
    resume_ = load_checkpoint(o_.resume);
    auto want = resume_options();
    for (const auto& [k, v] : want) {
      // [&key = k]: clang 14 (the fuzz build) cannot capture a structured binding.
      auto it = std::find_if(resume_->options.begin(), resume_->options.end(), [&key = k](const auto& p) { return p.first == key; });
      if (it == resume_->options.end() || it->second != v)
        throw UsageError("--resume " + o_.resume + ": the checkpoint was made with " + k + " " +
                         (it == resume_->options.end() ? std::string("(absent)") : it->second) + ", not " + v);
    }
    if (resume_->stage < 0 || resume_->stage >= int(sizes_.size()) || resume_->iteration < 0 || resume_->iteration > o_.iterations)
      throw UsageError("--resume " + o_.resume + ": stage " + std::to_string(resume_->stage) + ", iteration " +
                       std::to_string(resume_->iteration) + " is not within this run's stages and --iterations");
  }

  std::vector<std::pair<std::string, std::string>> used_options() const {
    auto g = [](double x) {
      char b[32];
      std::snprintf(b, sizeof b, "%g", x);
      return std::string(b);
    };
    std::string styles, blend;
    for (const auto& s : o_.styles) styles += (styles.empty() ? "" : ",") + s;
    for (double b : o_.style_blend) blend += (blend.empty() ? "" : ",") + g(b);
    return {{"--content", o_.content}, {"--style", styles}, {"--style-blend", blend.empty() ? "equal" : blend},
            {"--weights", weights_path_}, {"--size", std::to_string(o_.size)}, {"--style-scale", g(o_.style_scale)},
            {"--scales", std::to_string(o_.scales)}, {"--iterations", std::to_string(o_.iterations)},
            {"--optimizer", o_.optimizer}, {"--lr", o_.lr > 0 ? g(o_.lr) : "default"}, {"--history", std::to_string(o_.history)},
            {"--content-weight", g(cfg_.content_weight)}, {"--style-weight", g(cfg_.style_weight)},
            {"--tv-weight", g(cfg_.tv_weight)}, {"--content-layers", o_.content_layers}, {"--style-layers", o_.style_layers},
            {"--pooling", o_.pooling == PoolKind::Avg ? "avg" : "max"}, {"--init", o_.init}, {"--seed", std::to_string(o_.seed)},
            {"--preserve-colors", o_.preserve_colors}, {"--device", be_->name()},
            {"--precision", o_.precision == Precision::TF32 ? "tf32" : "fp32"},
            {"--conv-algo", o_.conv_algo == ConvAlgo::Winograd ? "winograd" : o_.conv_algo == ConvAlgo::Fastest ? "fastest" : "direct"}};
  }

  const StylizeOptions& o_;
  LossConfig cfg_;
  std::string weights_path_;
  const Weights* weights_ = nullptr;  // the session's, or own_weights_
  Weights own_weights_;
  Tensor content0_, init0_, content_;
  std::vector<Tensor> styles0_;
  std::vector<std::pair<int, int>> dims_;  // H, W of the content and each style, as loaded
  std::vector<int> sizes_;
  int deepest_ = 0, done_ = 0;
  std::string diverged_;  // why the optimisation stopped on a non-finite loss, if it did
  std::optional<Checkpoint> resume_;  // --resume: applied when its stage starts
  Session* session_;
  Backend* be_ = nullptr;  // the session's, or own_be_
  std::unique_ptr<Backend> own_be_, cpu_ = make_cpu_backend();  // cpu_: 8-bit conversion of host images
  MemoryPlan plan_;
  ReportData report_;
  LossValues last_;
  std::chrono::steady_clock::time_point t0_;
};

}  // namespace

int stylize(const StylizeOptions& o, Session* session) { return Job(o, session).run(); }

Backend& Session::backend() {
  if (!backend_) {
    BackendChoice choice = make_backend(device_, precision_, conv_algo_);
    if (!choice.note.empty()) std::fprintf(stderr, "%s\n", choice.note.c_str());
    backend_ = std::move(choice.backend);
  }
  return *backend_;
}

const Weights& Session::weights(const std::string& path) {
  auto it = weights_.find(path);
  if (it == weights_.end()) it = weights_.emplace(path, load_weights(path)).first;
  return it->second;
}

Objective& Session::objective(const std::string& weights_path, const LossConfig& c) {
  std::string key = weights_path + "|" + std::to_string(c.pooling == PoolKind::Avg);
  for (int l : c.content_layers) key += "|c" + std::to_string(l);
  for (int l : c.style_layers) key += "|s" + std::to_string(l);
  char w[96];
  std::snprintf(w, sizeof w, "|%.17g|%.17g|%.17g", c.content_weight, c.style_weight, c.tv_weight);
  key += w;
  auto it = objectives_.find(key);
  if (it == objectives_.end()) it = objectives_.emplace(key, std::make_unique<Objective>(backend(), weights(weights_path), c)).first;
  return *it->second;
}

const std::vector<Tensor>& Session::style_grams(Objective& objective, const std::string& key, const Tensor& style) {
  auto it = grams_.find(key);
  if (it != grams_.end()) {
    ++reused_;
    return it->second;
  }
  ++computed_;
  return grams_.emplace(key, objective.style_grams(style)).first->second;
}

}  // namespace nst
