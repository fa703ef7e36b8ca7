// A stylization as the engine runs it: images in, targets, coarse-to-fine stages, the optimiser's
// iterations, the image out. It prints nothing and writes no file: it tells an observer what happens (the
// program draws the progress line, writes the CSV log, snapshots, checkpoints and the report from that) and
// returns the result. Errors about one option name it as StylizeOptions does (nst::Error::option()).
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "nst/backend.h"
#include "nst/checkpoint.h"
#include "nst/memory_plan.h"
#include "nst/objective.h"
#include "nst/options.h"
#include "nst/weights.h"

namespace nst {

struct StylizeOptions {
  std::string content;                // the content image
  std::vector<std::string> styles;    // style images
  std::vector<double> style_blend;    // relative weights of the styles; empty: equal
  std::string weights;                // the VGG19 weights file
  int size = 512;                     // long side of the result
  double style_scale = 1;             // the styles' long side is round(style_scale * size)
  int iterations = 1000;              // per stage
  int scales = 1, start_size = 0;     // coarse-to-fine stages; start_size 0: size / 2^(scales-1)
  OptimizerKind optimizer = OptimizerKind::Lbfgs;
  double lr = 0;                      // 0: the optimiser's default (kAdamLr, kLbfgsLr)
  int history = kLbfgsHistory;        // L-BFGS pairs kept
  // Loss weights; < 0: the default for the weights file's input scale (default_loss_weights).
  double content_weight = -1, style_weight = -1, tv_weight = -1;
  std::vector<int> content_layers = LossConfig{}.content_layers, style_layers = LossConfig{}.style_layers;
  PoolKind pooling = PoolKind::Max;
  InitKind init = InitKind::Content;
  std::string init_file;              // InitKind::File
  unsigned long long seed = 0;        // InitKind::Random
  ColorMode colors = ColorMode::None;
  std::string resume;                 // a checkpoint to continue from
};

// Default loss weights for a weights file with this input scale (1: torchvision, 255: Caffe/Keras).
struct DefaultWeights {
  double content, style, tv;
};
DefaultWeights default_loss_weights(double input_scale);

// The sizes of the coarse-to-fine stages: geometric from the start size to `size`.
std::vector<int> stage_sizes(int size, int scales, int start_size);

// What several stylizations in one process share (nst batch): the backend, made on first use by `make`
// (the program's backend chooser), each weights file as loaded, the networks built on them, and each style's
// Grams at each size, so that a batch loads the weights once and computes a style's Grams once per size.
class Session {
 public:
  // `keep_weights`: keep each weights file's host copy (80 MB for VGG19) after its network is on the device,
  // for the next stylization that needs another network (a batch); else it is freed once uploaded.
  explicit Session(std::function<std::unique_ptr<Backend>()> make, bool keep_weights = false)
      : make_(std::move(make)), keep_weights_(keep_weights) {}
  Backend& backend();
  const Weights& weights(const std::string& path);  // loaded on first use
  void uploaded(const std::string& path);           // its network is built: the host copy may go
  Objective& objective(const std::string& weights_path, const LossConfig& config);
  // The Grams of `style` (a host image at the size it is used), computed on the first call for `key`.
  const std::vector<Tensor>& style_grams(Objective& objective, const std::string& key, const Tensor& style);
  int grams_computed() const { return computed_; }
  int grams_reused() const { return reused_; }

 private:
  std::function<std::unique_ptr<Backend>()> make_;
  bool keep_weights_;
  std::unique_ptr<Backend> backend_;
  std::map<std::string, Weights> weights_;
  std::map<std::string, std::unique_ptr<Objective>> objectives_;
  std::map<std::string, std::vector<Tensor>> grams_;
  int computed_ = 0, reused_ = 0;
};

// One iteration done, as the observer sees it.
struct IterationEvent {
  int stage = 0, stages = 1;   // this stage, of how many
  int iteration = 0;           // iterations done in this stage (1..iterations)
  int iterations = 0;          // the stage's iterations
  int done = 0;                // iterations done in all stages, this run and those it resumed
  LossValues loss;
  std::function<Tensor()> image;            // the image as it would be written (host)
  std::function<Checkpoint()> checkpoint;   // everything to continue from here (host)
};

// What a run tells its caller; every call is optional.
class StylizeObserver {
 public:
  virtual ~StylizeObserver() = default;
  virtual void stage(int /*k*/, int /*stages*/, int /*h*/, int /*w*/) {}
  // The last stage's inputs as the network sees them (content, each style, the starting image if a file).
  virtual void inputs(const std::vector<std::pair<std::string, Tensor>>& /*captioned*/) {}
  virtual void resumed(int /*iteration*/) {}
  // Every stage's losses: row 0 of a stage is its starting image, row i after i iterations. A resumed run
  // first repeats the rows of the run it continues (from its checkpoint), so the log is whole.
  virtual void loss(const LossRow& /*row*/) {}
  virtual void iteration(const IterationEvent& /*e*/) {}
  // The optimiser cannot improve the image any further: the stage ends early.
  virtual void converged(int /*stage*/, int /*stages*/, int /*iteration*/, const std::string& /*why*/) {}
  // Polled before the first iteration and after each: true ends the run there (an interrupt).
  virtual bool stop_requested() { return false; }
};

struct StylizeResult {
  // Done: every iteration ran, or the optimiser converged. Stopped: the observer asked. Diverged: the loss
  // became NaN or infinite, or L-BFGS found no step that lowers it in the run's first iteration.
  enum class End { Done, Stopped, Diverged } end = End::Done;
  std::string why;   // Diverged: what happened
  Tensor image;      // the result (host): the last image with a finite loss
  std::optional<Checkpoint> checkpoint;  // Stopped: everything to continue from where it stopped
  int done = 0;      // iterations done in all stages
  LossValues last;   // the losses of the last iteration
};

// One stylization. The constructor reads and checks everything that can be checked without the device
// (options, images, weights, sizes), so a bad input fails before any work.
class Stylization {
 public:
  Stylization(Session& session, StylizeOptions options);
  ~Stylization();

  const LossConfig& loss() const { return cfg_; }  // the loss weights resolved
  const std::vector<int>& sizes() const { return sizes_; }
  int height() const;  // of the result
  int width() const;
  // What the largest stage needs on the session's device; an Error naming the largest size that fits when
  // it cannot.
  MemoryPlan plan();
  // `identity`: what a checkpoint of this run must share with the run that resumes it, in the caller's own
  // words (the program's flags and values); put into every checkpoint and compared on resume.
  StylizeResult run(StylizeObserver& observer, const std::vector<std::pair<std::string, std::string>>& identity = {});

 private:
  struct Run;
  void load();
  void check_sizes() const;
  int style_size(int size) const;
  MemoryPlan plan_for(int size);

  Session& session_;
  StylizeOptions o_;
  LossConfig cfg_;
  const Weights* weights_ = nullptr;
  Tensor content0_, init0_;
  std::vector<Tensor> styles0_;
  std::vector<std::pair<int, int>> dims_;  // H, W of the content and each style, as loaded
  std::vector<int> sizes_;
  int deepest_ = 0;
};

}  // namespace nst
