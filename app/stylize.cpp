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
#include "host.h"
#include "loss_log.h"
#include "convert/fetch.h"
#include "nst/checkpoint.h"
#include "nst/device.h"
#include "nst/error.h"
#include "nst/image.h"
#include "nst/optim.h"
#include "nst/report.h"
#include "output_paths.h"
#include "progress.h"
#include "signals.h"

namespace nst::app {
namespace {

ReportImage report_image(const std::string& caption, const Tensor& host) {
  return ReportImage{caption, to_rgb8(host), host.shape().h, host.shape().w};
}

void save(const Tensor& img, const std::string& path, int jpeg_quality) {
  save_image(path, to_rgb8(img), img.shape().h, img.shape().w, jpeg_quality);
}

std::string snapshot_caption(int stage, int stages, int iteration) {
  return (stages > 1 ? "stage " + std::to_string(stage + 1) + ", iteration " : std::string("iteration ")) + std::to_string(iteration);
}

// A word as a POSIX shell reads it back: as it is when it is plain, else in single quotes.
std::string shell_word(const std::string& w) {
  const bool plain = !w.empty() && w.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-./,:=+@%") == std::string::npos;
  if (plain) return w;
  std::string q = "'";
  for (char c : w) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// The command that continues an interrupted run: the same words, any --resume replaced by the checkpoint.
std::string resume_command(const std::vector<std::string>& args, const std::string& checkpoint) {
  std::string cmd = "nst stylize";
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--resume") {
      ++i;
      continue;
    }
    if (args[i].rfind("--resume=", 0) == 0) continue;
    cmd += " " + shell_word(args[i]);
  }
  return cmd + " --resume " + shell_word(checkpoint);
}

// Others' share of the CPUs above which a CPU run warns that it is slower than usual.
constexpr double kBusyWarning = 0.25;

// What the program makes of a run as it goes: the log, the progress line, checkpoints, snapshots, and the
// report's pictures and curves.
class Outputs : public StylizeObserver {
 public:
  Outputs(const StylizeArgs& a, int stages, bool on_cpu)
      : a_(a), stages_(stages), on_cpu_(on_cpu), log_(a.log, stages), progress_(a.run.iterations, a.print_every), cpu0_(bench::cpu_times()) {}

  void stage(int k, int stages, int h, int w) override {
    if (stages > 1) std::fprintf(stderr, "nst: stage %d/%d at %dx%d\n", k + 1, stages, w, h);
    final_stage_ = k + 1 == stages;
    progress_.restart();
  }

  void inputs(const std::vector<std::pair<std::string, Tensor>>& images) override {
    if (a_.report.empty()) return;
    for (const auto& [caption, img] : images) report_.inputs.push_back(report_image(caption, img));
  }

  void resumed(int iteration) override {
    std::fprintf(stderr, "nst: resumed at iteration %d from %s\n", iteration, a_.run.resume.c_str());
    progress_.restart(iteration);
    replaying_ = true;
  }

  void loss(const LossRow& r) override {
    log_.row(r);
    if (r.iteration > 0) ++done_;
    if (a_.report.empty()) return;
    report_.losses.push_back(r.v);
    report_.stages.push_back(r.stage);
    // The rows of the run resumed: its snapshots are files by now, read back for the report's page.
    if (replaying_ && r.iteration > 0 && a_.save_every > 0 && done_ % a_.save_every == 0) {
      const std::string path = snapshot_path(a_.output, r.stage, stages_, r.iteration);
      std::error_code ec;
      if (std::filesystem::exists(path, ec)) report_.snapshots.push_back(report_image(snapshot_caption(r.stage, stages_, r.iteration), load_image(path)));
    }
  }

  void iteration(const IterationEvent& e) override {
    replaying_ = false;
    progress_.update(e.iteration, e.loss);
    const bool snapshot_due = a_.save_every > 0 && e.done % a_.save_every == 0;
    if (!a_.checkpoint.empty() && snapshot_due) save_checkpoint(a_.checkpoint, e.checkpoint());
    const bool last = e.iteration == e.iterations && final_stage_;
    if (snapshot_due && !last) {
      Tensor img = e.image();
      save(img, snapshot_path(a_.output, e.stage, e.stages, e.iteration), a_.jpeg_quality);
      if (!a_.report.empty()) {
        report_.snapshots.push_back(report_image(snapshot_caption(e.stage, e.stages, e.iteration), img));
        write_live_report(e);
      }
    } else if (!a_.report.empty() && a_.save_every == 0 && final_stage_ && quarter(e.iteration)) {
      report_.snapshots.push_back(report_image(snapshot_caption(e.stage, e.stages, e.iteration), e.image()));  // a few, for the page
      write_live_report(e);
    }
    warn_if_contended();
  }

  void converged(int /*k*/, int stages, int iteration, const std::string& why) override {
    if (iteration != a_.run.iterations) progress_.break_line();
    std::fprintf(stderr, "nst: stopping %s after iteration %d: %s\n", stages > 1 ? "this stage" : "", iteration, why.c_str());
  }

  bool stop_requested() override { return caught_signal() != 0; }

  // The run ended: the image (under --output only when complete), the checkpoint of an interrupted run, the
  // log and the report.
  void finish(const StylizeResult& r, const std::string& image_path, const std::string& summary,
              const std::vector<std::pair<std::string, std::string>>& options) {
    save(r.image, image_path, a_.jpeg_quality);
    std::error_code ec;
    if (r.end == StylizeResult::End::Done) std::filesystem::remove(partial_path(a_.output), ec);  // an earlier try's, now superseded
    if (r.checkpoint) save_checkpoint(a_.checkpoint.empty() ? default_checkpoint_path(a_.output) : a_.checkpoint, *r.checkpoint);
    log_.commit();
    if (a_.report.empty()) return;
    report_.result = report_image((r.end == StylizeResult::End::Done ? "result: " : "partial result: ") + image_path, r.image);
    report_.title = report_title();
    report_.summary = summary;
    report_.options = options;
    report_.refresh_seconds = 0;  // the finished page: it no longer reloads
    write_report(a_.report, report_);
  }

 private:
  std::string report_title() const {
    return "nst stylize: " + a_.run.content + " in the style of " + a_.run.styles[0] + (a_.run.styles.size() > 1 ? " and others" : "");
  }

  // The page while the run goes on, written at each of its snapshots (atomically, as every page): the
  // latest snapshot in the result's place, the losses so far, and a reload every 10 s in a browser.
  void write_live_report(const IterationEvent& e) {
    ReportData live = report_;
    live.title = report_title();
    live.result = report_.snapshots.back();
    live.result.caption = "latest: " + live.result.caption;
    live.summary = "running: " + (e.stages > 1 ? "stage " + std::to_string(e.stage + 1) + " of " + std::to_string(e.stages) + ", " : std::string()) +
                   "iteration " + std::to_string(e.iteration) + " of " + std::to_string(e.iterations);
    live.refresh_seconds = kLiveRefreshSeconds;
    write_report(a_.report, live);
  }
  static constexpr int kLiveRefreshSeconds = 10;

  // Iterations 1/4, 2/4 and 3/4 of the way: the report's snapshots when --save-every gives none.
  bool quarter(int i) const {
    for (int k = 1; k <= 3; ++k)
      if (a_.run.iterations >= 4 && i == k * a_.run.iterations / 4) return true;
    return false;
  }

  // A CPU run shares the cores with whatever else runs: measured over the first seconds, as bench does, and
  // said once when others take a large share (the run can be many times slower than usual).
  void warn_if_contended() {
    if (!on_cpu_ || warned_) return;
    bench::CpuTimes now = bench::cpu_times();
    if (now.wall - cpu0_.wall < 3) return;
    warned_ = true;
    if (const double busy = bench::others_load(cpu0_, now); busy > kBusyWarning) {
      progress_.break_line();
      std::fprintf(stderr, "nst: other processes are using %.0f%% of the CPUs: this run is slower than it would be alone\n", 100 * busy);
    }
  }

  const StylizeArgs& a_;
  int stages_;
  bool on_cpu_;
  LossLog log_;
  ProgressLine progress_;
  ReportData report_;
  bench::CpuTimes cpu0_;
  bool final_stage_ = true, replaying_ = false, warned_ = false;
  int done_ = 0;  // iterations in the rows seen so far
};

}  // namespace

std::string default_weights() {
  if (const char* env = std::getenv("NST_WEIGHTS"); env && *env) return env;
  if (std::filesystem::exists("weights/vgg19.h5")) return "weights/vgg19.h5";
  if (const std::string user = user_weights_path(); !user.empty() && std::filesystem::exists(user)) return user;
  return {};
}

std::string find_weights(const std::string& given) {
  if (!given.empty()) return given;
  if (std::string found = default_weights(); !found.empty()) return found;
  throw Error(
      "no weights file: pass --weights FILE.h5 or set NST_WEIGHTS (neither weights/vgg19.h5 nor " + user_weights_path() +
      " exists); get the published VGG19 with `nst weights fetch`, or write synthetic weights for a trial run "
      "with `nst_make_weights weights/vgg19.h5` (the result then shows no real style)");
}

std::unique_ptr<Backend> choose_backend(const std::string& device, Precision precision, ConvAlgo conv_algo) {
  BackendChoice choice = make_backend(device, precision, conv_algo);
  if (!choice.note.empty()) std::fprintf(stderr, "nst: %s\n", choice.note.c_str());
  for (const std::string& line : choice.unused) std::fprintf(stderr, "nst: %s\n", line.c_str());  // said once, not ignored
  return std::move(choice.backend);
}

int stylize(StylizeArgs a, Session& session) {
  a.run.weights = find_weights(a.run.weights);
  if (a.checkpoint.empty()) a.checkpoint = a.run.resume;  // a resumed run goes on checkpointing to the file it continues
  if (a.run.lr <= 0) a.run.lr = a.run.optimizer == OptimizerKind::Adam ? kAdamLr : kLbfgsLr;  // the value used, in the report
  // A --resume that is no checkpoint at all is said first, in load_checkpoint's one line (before the
  // output checks, which would otherwise object to checkpointing onto it).
  if (!a.run.resume.empty() && !is_checkpoint(a.run.resume)) load_checkpoint(a.run.resume);
  check_output_paths(a);
  if (a.jpeg_quality != kDefaultJpegQuality && !is_jpeg_path(a.output))
    std::fprintf(stderr, "nst: --jpeg-quality applies to .jpg outputs; %s is written as PNG\n", a.output.c_str());
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

  Outputs out(a, int(job.sizes().size()), be.device() == Device::Host);
  const auto t0 = std::chrono::steady_clock::now();
  StylizeResult r = job.run(out, identity);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  char summary[256];
  std::snprintf(summary, sizeof summary, "%dx%d on %s, %s, %d iterations in %s", r.image.shape().w, r.image.shape().h, be.name().c_str(),
                name(a.run.optimizer), r.done, duration(secs).c_str());
  // The final name holds a complete result only; anything else is OUT.partial.png.
  const std::string image_path = r.end == StylizeResult::End::Done ? a.output : partial_path(a.output);
  out.finish(r, image_path, summary, used);
  if (r.end == StylizeResult::End::Diverged) {
    std::fprintf(stderr, "\nnst: %s; lower --lr (now %s) or the loss weights (the image: %s)\n", r.why.c_str(), format_double(a.run.lr).c_str(),
                 image_path.c_str());
    return 1;
  }
  if (r.end == StylizeResult::End::Stopped) {
    const std::string ck = a.checkpoint.empty() ? default_checkpoint_path(a.output) : a.checkpoint;
    std::fprintf(stderr, "\nnst: interrupted after iteration %d: wrote %s and the checkpoint %s%s\n", r.done, image_path.c_str(), ck.c_str(),
                 a.command_line.empty() ? "" : ("; to continue: " + resume_command(a.command_line, ck)).c_str());
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
  if (args.empty()) return print_usage(flags.help());
  StylizeArgs a;
  a.command_line = args;
  flags.parse(args, a);
  flags.check_required(args);
  Session session([&a] { return choose_backend(a.device, a.precision, a.conv_algo); });
  return stylize(a, session);
}

}  // namespace nst::app
