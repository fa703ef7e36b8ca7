// The whole objective of SPEC §3 in double precision, built from the naive oracles: forward only. It is the
// function that finite differences differentiate, and it is checked against PyTorch's fixtures itself.
#pragma once
#include <vector>

#include "cpu/ref/ref_ops.h"
#include "nst/objective.h"

namespace nst::ref {

struct Image {
  Vec data;  // 3 x H x W in [0,1]
  Dims dims;
};

Image image_from(const Tensor& host);

// Activations of layers 0..last for image X (and their dims, when asked for).
std::vector<Vec> forward(const Weights& w, PoolKind pooling, int last, const Image& X, std::vector<Dims>* dims = nullptr);

class RefObjective {
 public:
  RefObjective(const Weights& weights, const LossConfig& config, const Image& content, const std::vector<Image>& styles,
               std::vector<double> blend = {});
  LossValues loss(const Image& X) const;

 private:
  const Weights& w_;
  LossConfig cfg_;
  int last_ = 0;
  std::vector<Vec> content_targets_, style_targets_;
};

}  // namespace nst::ref
