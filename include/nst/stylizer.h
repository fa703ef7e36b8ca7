// `nst stylize`: everything between the command line and the engine: images in, targets, optimisation,
// log, progress and snapshots, image out.
#pragma once
#include <string>
#include <vector>

#include "nst/backend.h"
#include "nst/device.h"

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
  bool dry_run = false;
};

// Default loss weights for a weights file with this input scale (1: torchvision, 255: Caffe/Keras).
struct DefaultWeights {
  double content, style, tv;
};
DefaultWeights default_loss_weights(double input_scale);

// Runs the whole job; returns the process exit status (0 done, 1 runtime error, 128+signal when
// interrupted after writing the current image). Throws nst::UsageError / nst::Error for the caller to
// print.
int stylize(const StylizeOptions& opt);

}  // namespace nst
