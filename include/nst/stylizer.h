// `nst stylize`: everything between the command line and the engine: images in, targets, optimisation,
// log, progress and snapshots, image out.
#pragma once
#include <string>
#include <vector>

#include <map>
#include <memory>

#include "nst/backend.h"
#include "nst/device.h"
#include "nst/objective.h"
#include "nst/weights.h"

namespace nst {

struct StylizeOptions {
  std::string content, output, weights, log, report, init = "content", device = "auto", optimizer = "lbfgs";
  std::string preserve_colors = "none";  // none | luminance | histogram
  std::string checkpoint, resume;         // --checkpoint FILE (written every --save-every and on interrupt), --resume FILE
  std::vector<std::string> styles;
  std::vector<double> style_blend;  // empty: equal
  int size = 512, iterations = 1000, history = 100, print_every = 50, save_every = 0;
  int scales = 1, start_size = 0;  // coarse-to-fine stages; start_size 0: size / 2^(scales-1)
  double style_scale = 1, lr = -1;  // lr < 0: the optimiser's default
  // Loss weights; < 0 means the default for the weights file's input scale (see --help).
  double content_weight = -1, style_weight = -1, tv_weight = -1;
  std::string content_layers = "relu4_2", style_layers = "relu1_1,relu2_1,relu3_1,relu4_1,relu5_1";
  PoolKind pooling = PoolKind::Max;
  unsigned long long seed = 0;
  Precision precision = Precision::FP32;
  ConvAlgo conv_algo = ConvAlgo::Direct;
  bool dry_run = false;
};

// The stylize flags (src/cli_stylize.cpp): applied on top of `base`; and their --help text.
StylizeOptions parse_stylize(const std::vector<std::string>& args, StylizeOptions base = {});
std::string stylize_help();

// Default loss weights for a weights file with this input scale (1: torchvision, 255: Caffe/Keras).
struct DefaultWeights {
  double content, style, tv;
};
DefaultWeights default_loss_weights(double input_scale);

// What several stylizations in one process share (nst batch): the backend, each weights file as loaded,
// the networks built on them, and each style's Grams at each size, so that a batch loads the weights once
// and computes a style's Grams once per size.
class Session {
 public:
  Session(std::string device, Precision precision, ConvAlgo conv_algo = ConvAlgo::Direct)
      : device_(std::move(device)), precision_(precision), conv_algo_(conv_algo) {}
  Backend& backend();  // made on first use; prints the device note once
  const Weights& weights(const std::string& path);
  Objective& objective(const std::string& weights_path, const LossConfig& config);
  // The Grams of `style` (a host image at the size it is used), computed on the first call for `key`.
  const std::vector<Tensor>& style_grams(Objective& objective, const std::string& key, const Tensor& style);
  int grams_computed() const { return computed_; }
  int grams_reused() const { return reused_; }

 private:
  std::string device_;
  Precision precision_;
  ConvAlgo conv_algo_;
  std::unique_ptr<Backend> backend_;
  std::map<std::string, Weights> weights_;
  std::map<std::string, std::unique_ptr<Objective>> objectives_;
  std::map<std::string, std::vector<Tensor>> grams_;
  int computed_ = 0, reused_ = 0;
};

// Runs the whole job; returns the process exit status (0 done, 1 runtime error, 128+signal when
// interrupted after writing the current image). Throws nst::UsageError / nst::Error for the caller to
// print.
// With a session, what it already holds is reused (its device wins over opt.device).
int stylize(const StylizeOptions& opt, Session* session = nullptr);

}  // namespace nst
