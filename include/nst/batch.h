// `nst batch`: many stylizations in one process (a manifest, a folder of contents times a folder of
// styles, or the frames of a video), sharded across processes, GPUs or a Slurm array.
#pragma once
#include <string>
#include <vector>

namespace nst {

int run_batch(const std::vector<std::string>& args);
std::string batch_help();

}  // namespace nst
