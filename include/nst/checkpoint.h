// Checkpoints: the image and the optimiser's state, written
// atomically, so that an interrupted run continues exactly where it stopped.
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "nst/objective.h"
#include "nst/optim.h"
#include "nst/tensor.h"

namespace nst {

// One row of a run's loss log: the losses after `iteration` iterations of stage `stage` (row 0 of a stage is
// its starting image).
struct LossRow {
  int stage = 0, iteration = 0;
  LossValues v;
};

struct Checkpoint {
  int stage = 0;      // index of the coarse-to-fine stage
  int iteration = 0;  // iterations done within that stage
  int done = 0;       // iterations done in all stages
  std::vector<std::pair<std::string, std::string>> options;  // the run's options; a resume must match them
  Tensor X;                                                  // host, 1x3xHxW
  OptimizerState optimizer;
  std::vector<LossRow> history;  // every row so far, all stages, so that a resumed run's log continues them
};

// HDF5, via PATH.tmp + rename: a crash while writing leaves the previous checkpoint intact.
void save_checkpoint(const std::string& path, const Checkpoint& c);
// Errors name the file and what is wrong (not a checkpoint, another version, truncated).
Checkpoint load_checkpoint(const std::string& path);
// Whether `path` is an nst checkpoint by its header (HDF5 with our format attribute); reads nothing else.
bool is_checkpoint(const std::string& path);

}  // namespace nst
