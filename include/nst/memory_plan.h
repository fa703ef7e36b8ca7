// What a stylization needs on its device, computed before anything is allocated: printed
// by a dry run, and checked against what the device has so that a run that cannot fit stops at once with
// the largest size that would.
#pragma once
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "nst/backend.h"
#include "nst/objective.h"
#include "nst/options.h"
#include "nst/weights.h"

namespace nst {

struct MemoryPlan {
  std::size_t weights = 0;      // convolutions up to the deepest loss layer
  std::size_t activations = 0;  // what forward keeps for backward, and backward's two gradient buffers
  std::size_t targets = 0;      // content features and style Grams
  std::size_t optimizer = 0;    // the image, its gradient and the optimiser's state
  std::size_t workspace = 0;    // the backend's convolution scratch (a bound)
  std::size_t total() const { return weights + activations + targets + optimizer + workspace; }
  std::string table() const;    // one line per item, in MiB
};

struct PlanInput {
  const Weights* weights;
  LossConfig config;
  std::pair<int, int> content;              // H, W
  std::vector<std::pair<int, int>> styles;  // H, W of each style as used
  OptimizerKind optimizer;
  int history;
  const Backend* backend;  // its convolutions' workspace and the copies it keeps of the weights
};

MemoryPlan plan_memory(const PlanInput& in);

}  // namespace nst
