// `nst stylize`: the options as the command line gives them, their flag table, and one stylization run on a
// session with its outputs (image, CSV log, progress, snapshots, checkpoints, report). batch runs its rows
// through the same.
#pragma once
#include <string>
#include <vector>

#include "flags.h"
#include "nst/image.h"
#include "nst/stylizer.h"

namespace nst::app {

struct StylizeArgs {
  StylizeOptions run;  // what the engine takes; run.weights empty: $NST_WEIGHTS, else weights/vgg19.h5
  std::string output, log, report, checkpoint;
  int print_every = 50, save_every = 0;
  int jpeg_quality = kDefaultJpegQuality;  // for a .jpg --output and its snapshots
  std::string device = "auto";
  Precision precision = Precision::FP32;
  ConvAlgo conv_algo = ConvAlgo::Direct;
  bool dry_run = false;
  std::vector<std::string> command_line;  // the words after `nst stylize`, for the resume command; empty in a batch
};

const FlagTable<StylizeArgs>& stylize_flags();

// The weights file stylize uses without --weights: $NST_WEIGHTS, else weights/vgg19.h5 if it exists; empty
// when there is none.
std::string default_weights();
// `given`, else default_weights(); throws nst::Error saying how to get weights when there are none.
std::string find_weights(const std::string& given);

// The backend --device names, saying on stderr in one line why when "auto" falls back to the CPU.
std::unique_ptr<Backend> choose_backend(const std::string& device, Precision precision, ConvAlgo conv_algo);

// Runs one stylization on `session` (its backend is used whatever a.device says); returns the exit status:
// 0 done (the image at a.output), 1 diverged (the last finite image at OUT.partial.png), 128+signal
// interrupted (OUT.partial.png and a checkpoint, at --checkpoint or OUT.png.checkpoint.h5). Throws nst::UsageError / nst::Error for main to print.
int stylize(StylizeArgs a, Session& session);

}  // namespace nst::app
