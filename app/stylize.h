// `nst stylize`: the options as the command line gives them, their flag table, and one stylization run on a
// session with its outputs (image, CSV log, progress, snapshots, checkpoints, report). batch runs its rows
// through the same.
#pragma once
#include <string>
#include <vector>

#include "flags.h"
#include "nst/stylizer.h"

namespace nst::app {

struct StylizeArgs {
  StylizeOptions run;  // what the engine takes; run.weights empty: $NST_WEIGHTS, else weights/vgg19.h5
  std::string output, log, report, checkpoint;
  int print_every = 50, save_every = 0;
  std::string device = "auto";
  Precision precision = Precision::FP32;
  ConvAlgo conv_algo = ConvAlgo::Direct;
  bool dry_run = false;
};

const FlagTable<StylizeArgs>& stylize_flags();

// The backend --device names, saying on stderr in one line why when "auto" falls back to the CPU.
std::unique_ptr<Backend> choose_backend(const std::string& device, Precision precision, ConvAlgo conv_algo);

// Runs one stylization on `session` (its backend is used whatever a.device says); returns the exit status:
// 0 done, 1 diverged, 128+signal interrupted. Throws nst::UsageError / nst::Error for main to print.
int stylize(StylizeArgs a, Session& session);

}  // namespace nst::app
