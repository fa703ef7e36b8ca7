// Where `nst stylize` writes, and the rule that keeps the user's files safe: no output may be one of the
// run's inputs or another of its outputs, and an existing file is replaced only when its name says it is
// an output of ours (an image for --output, .csv for --log, .html for --report, an nst checkpoint for
// --checkpoint). Checked before any work; a breach is a usage error naming both flags.
#pragma once
#include <string>

namespace nst::app {

struct StylizeArgs;

// OUT.png -> OUT.partial.png: the image of a run that did not complete (interrupted, or diverged).
std::string partial_path(const std::string& output);

// OUT.png -> OUT.png.checkpoint.h5: where an interrupted run's checkpoint goes when --checkpoint names none.
std::string default_checkpoint_path(const std::string& output);

// OUT.png -> OUT_iter100.png, or OUT_stage2_iter100.png in a run of several stages (iteration within the stage).
std::string snapshot_path(const std::string& output, int stage, int stages, int iteration);

// The checks above, on the options as resolved (a.run.weights found, a.checkpoint the file checkpoints go to).
void check_output_paths(const StylizeArgs& a);

}  // namespace nst::app
