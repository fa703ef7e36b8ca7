// `nst stylize`: checks what only the program knows (its output files, where the weights are), runs the
// engine's Stylization, and turns what it reports into the progress line, the CSV log, snapshots,
// checkpoints and the report; writes the result.
#include "stylize.h"

#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "commands.h"
#include "loss_log.h"
#include "nst/device.h"
#include "nst/error.h"
#include "nst/image.h"
#include "nst/report.h"
#include "progress.h"
#include "signals.h"

namespace nst::app {
namespace {

std::string find_weights(const std::string& given) {
  if (!given.empty()) return given;
  if (const char* env = std::getenv("NST_WEIGHTS"); env && *env) return env;
  if (std::filesystem::exists("weights/vgg19.h5")) return "weights/vgg19.h5";
  throw Error(
      "no weights file: pass --weights FILE.h5 or set NST_WEIGHTS (weights/vgg19.h5 does not exist); convert the "
      "published VGG19 with `nst weights convert`, or write synthetic weights for a trial run with "
      "`nst_make_weights weights/vgg19.h5` (the result then shows no real style)");
}

// Unwritable destinations are found now, not after an hour of optimisation.
void check_outputs(const StylizeArgs& a) {
  if (!writable_image_extension(a.output)) throw UsageError("--output: '" + a.output + "' must end in .png, .jpg or .jpeg");
  for (const std::string& path : {a.output, a.log, a.report, a.checkpoint}) {
    if (path.empty()) continue;
    std::filesystem::path dir = std::filesystem::path(path).parent_path();
    if (dir.empty()) dir = ".";
    if (!std::filesystem::is_directory(dir) || ::access(dir.c_str(), W_OK) != 0)
      throw Error(path + ": cannot write there (" + dir.string() + " is not a writable folder)");
  }
}

// OUT.png -> OUT_iter100.png
std::string snapshot_path(const std::string& out, int iteration) {
  std::filesystem::path p(out);
  return (p.parent_path() / (p.stem().string() + "_iter" + std::to_string(iteration) + p.extension().string())).string();
}

ReportImage report_image(const std::string& caption, const Tensor& host) {
  return ReportImage{caption, to_rgb8(host), host.shape().h, host.shape().w};
}

void save(const Tensor& img, const std::string& path) { save_image(path, to_rgb8(img), img.shape().h, img.shape().w); }

// What the program makes of a run as it goes: the log, the progress line, checkpoints, snapshots, and the
// report's pictures and curves.
class Outputs : public StylizeObserver {
 public:
  explicit Outputs(const StylizeArgs& a) : a_(a), log_(a.log), progress_(a.run.iterations, a.print_every) {}

  void stage(int k, int stages, int h, int w) override {
    if (stages > 1) std::fprintf(stderr, "nst: stage %d/%d at %dx%d\n", k + 1, stages, w, h);
    final_stage_ = k + 1 == stages;
    progress_.restart();
  }

  void inputs(const std::vector<std::pair<std::string, Tensor>>& images) override {
    if (a_.report.empty()) return;
    for (const auto& [caption, img] : images) report_.inputs.push_back(report_image(caption, img));
  }

  void resumed(int iteration) override { std::fprintf(stderr, "nst: resumed at iteration %d from %s\n", iteration, a_.run.resume.c_str()); }

  void loss(int row, const LossValues& v) override {
    log_.row(row, v);
    if (!a_.report.empty()) report_.losses.push_back(v);
  }

  void iteration(const IterationEvent& e) override {
    progress_.update(e.iteration, e.loss);
    const bool snapshot_due = a_.save_every > 0 && e.done % a_.save_every == 0;
    if (!a_.checkpoint.empty() && (snapshot_due || caught_signal())) save_checkpoint(a_.checkpoint, e.checkpoint());
    const bool last = e.iteration == e.iterations && final_stage_;
    if (snapshot_due && !last) {
      Tensor img = e.image();
      save(img, snapshot_path(a_.output, e.done));
      if (!a_.report.empty()) report_.snapshots.push_back(report_image("iteration " + std::to_string(e.done), img));
    } else if (!a_.report.empty() && a_.save_every == 0 && final_stage_ && quarter(e.iteration)) {
      report_.snapshots.push_back(report_image("iteration " + std::to_string(e.done), e.image()));  // a few, for the page
    }
  }

  void converged(int /*k*/, int stages, int iteration, const std::string& why) override {
    if (iteration != a_.run.iterations) progress_.break_line();
    std::fprintf(stderr, "nst: stopping %s after iteration %d: %s\n", stages > 1 ? "this stage" : "", iteration, why.c_str());
  }

  bool stop_requested() override { return caught_signal() != 0; }

  // The run ended: the image, the log and the report are written.
  void finish(const Tensor& image, const std::string& summary, const std::vector<std::pair<std::string, std::string>>& options) {
    save(image, a_.output);
    log_.commit();
    if (a_.report.empty()) return;
    report_.result = report_image("result: " + a_.output, image);
    report_.title = "nst stylize: " + a_.run.content + " in the style of " + a_.run.styles[0] + (a_.run.styles.size() > 1 ? " and others" : "");
    report_.summary = summary;
    report_.options = options;
    write_report(a_.report, report_);
  }

 private:
  // Iterations 1/4, 2/4 and 3/4 of the way: the report's snapshots when --save-every gives none.
  bool quarter(int i) const {
    for (int k = 1; k <= 3; ++k)
      if (a_.run.iterations >= 4 && i == k * a_.run.iterations / 4) return true;
    return false;
  }

  const StylizeArgs& a_;
  LossLog log_;
  ProgressLine progress_;
  ReportData report_;
  bool final_stage_ = true;
};

}  // namespace

std::unique_ptr<Backend> choose_backend(const std::string& device, Precision precision, ConvAlgo conv_algo) {
  BackendChoice choice = make_backend(device, precision, conv_algo);
  if (!choice.note.empty()) std::fprintf(stderr, "nst: %s\n", choice.note.c_str());
  return std::move(choice.backend);
}

int stylize(StylizeArgs a, Session& session) {
  check_outputs(a);
  a.run.weights = find_weights(a.run.weights);
  Stylization job(session, a.run);
  const MemoryPlan plan = job.plan();  // before the first line: a run that cannot fit ends with that one line
  Backend& be = session.backend();
  const LossConfig& cfg = job.loss();
  std::fprintf(stderr, "nst: %dx%d on %s, %s, %d iterations%s, weights %s (content %g, style %g, tv %g)\n", job.width(), job.height(),
               be.name().c_str(), name(a.run.optimizer), a.run.iterations,
               job.sizes().size() > 1 ? (" per stage, " + std::to_string(job.sizes().size()) + " stages").c_str() : "",
               a.run.weights.c_str(), cfg.content_weight, cfg.style_weight, cfg.tv_weight);
  if (a.dry_run) {
    std::fprintf(stderr, "nst: memory needed on %s (%.0f MiB available):\n%s", be.name().c_str(), double(be.memory_available()) / (1 << 20),
                 plan.table().c_str());
    return 0;
  }
  // The options as used, resolved: for the report, and (but where it runs and how long) a checkpoint's identity.
  a.run.content_weight = cfg.content_weight, a.run.style_weight = cfg.style_weight, a.run.tv_weight = cfg.tv_weight;
  a.device = be.name();
  const auto used = stylize_flags().used(a);
  std::vector<std::pair<std::string, std::string>> identity;
  for (const auto& [k, v] : used)
    if (k != "--device" && k != "--precision" && k != "--conv-algo" && k != "--iterations") identity.push_back({k, v});

  Outputs out(a);
  const auto t0 = std::chrono::steady_clock::now();
  StylizeResult r = job.run(out, identity);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  char summary[256];
  std::snprintf(summary, sizeof summary, "%dx%d on %s, %s, %d iterations in %s", r.image.shape().w, r.image.shape().h, be.name().c_str(),
                name(a.run.optimizer), r.done, duration(secs).c_str());
  out.finish(r.image, summary, used);
  if (r.end == StylizeResult::End::Diverged) {
    std::fprintf(stderr, "\nnst: %s; lower --lr%s or the loss weights (written to %s)\n", r.why.c_str(),
                 a.run.lr > 0 ? (" (now " + format_double(a.run.lr) + ")").c_str() : "", a.output.c_str());
    return 1;
  }
  if (r.end == StylizeResult::End::Stopped) {
    std::fprintf(stderr, "\nnst: interrupted after iteration %d: wrote %s\n", r.done, a.output.c_str());
    return 128 + caught_signal();
  }
  std::fprintf(stderr, "nst: wrote %s (%dx%d) after %d iterations in %s, final loss %.6g\n", a.output.c_str(), r.image.shape().w,
               r.image.shape().h, r.done, duration(secs).c_str(), r.last.total);
  if (be.device() == Device::Host) {
    // The planner's figure against the real peak (what the process ever held, libraries included).
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    std::fprintf(stderr, "nst: peak memory %.0f MiB (planned %.0f MiB for the run)\n", double(ru.ru_maxrss) / 1024, double(plan.total()) / (1 << 20));
  }
  return 0;
}

int stylize_command(const std::vector<std::string>& args) {
  SignalGuard signals;
  const FlagTable<StylizeArgs>& flags = stylize_flags();
  if (asks_for_help(args)) return print_help(flags.help());
  StylizeArgs a;
  flags.parse(args, a);
  flags.check_required(args);
  Session session([&a] { return choose_backend(a.device, a.precision, a.conv_algo); });
  return stylize(a, session);
}

}  // namespace nst::app
