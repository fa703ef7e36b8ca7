// Checkpoints: the image and the optimiser's state, written
// atomically, so that an interrupted run continues exactly where it stopped.
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "nst/optim.h"
#include "nst/tensor.h"

namespace nst {

struct Checkpoint {
  int stage = 0;      // index of the coarse-to-fine stage
  int iteration = 0;  // iterations done within that stage
  int done = 0;       // iterations done in all stages
  std::vector<std::pair<std::string, std::string>> options;  // the run's options; a resume must match them
  Tensor X;                                                  // host, 1x3xHxW
  OptimizerState optimizer;
};

// HDF5, via PATH.tmp + rename: a crash while writing leaves the previous checkpoint intact.
void save_checkpoint(const std::string& path, const Checkpoint& c);
// Errors name the file and what is wrong (not a checkpoint, another version, truncated).
Checkpoint load_checkpoint(const std::string& path);

}  // namespace nst
