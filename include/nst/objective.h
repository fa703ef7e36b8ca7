// The Gatys objective (SPEC §3): content, style and TV losses on a VGG19, and the gradient with respect
// to the image, on any backend.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "nst/backend.h"
#include "nst/network.h"
#include "nst/weights.h"

namespace nst {

struct LossConfig {
  std::vector<int> content_layers = {vgg19_layer_index("relu4_2")};
  std::vector<int> style_layers = {vgg19_layer_index("relu1_1"), vgg19_layer_index("relu2_1"),
                                   vgg19_layer_index("relu3_1"), vgg19_layer_index("relu4_1"),
                                   vgg19_layer_index("relu5_1")};
  double content_weight = 1.0, style_weight = 1.0, tv_weight = 0.0;
  PoolKind pooling = PoolKind::Max;
};

struct LossValues {
  double total = 0, content = 0, style = 0, tv = 0;  // the weighted terms and their sum
};

class Objective {
 public:
  Objective(Backend& backend, const Weights& weights, const LossConfig& config);

  // Targets, from host images 1x3xHxW in [0,1]: F_l(content) for the content layers, and the blended Gram
  // T_l = sum_k beta_k G_l(style_k) for the style layers. `blend` is normalised to sum 1 here; empty means
  // equal weights.
  void set_content(const Tensor& content);
  void set_styles(const std::vector<Tensor>& styles, std::vector<double> blend = {});
  // The same in two steps, so that a batch can compute each style's Grams once and reuse them: the Grams
  // G_l(style) for every style layer (on the device), and the blend of several styles' Grams as targets.
  std::vector<Tensor> style_grams(const Tensor& style);
  void set_style_grams(const std::vector<std::vector<Tensor>>& grams, std::vector<double> blend = {});

  // L(X) and grad = dL/dX (overwritten), X and grad on the backend's device.
  LossValues evaluate(const Tensor& X, Tensor& grad);

  const LossConfig& config() const { return config_; }

 private:
  Backend& be_;
  LossConfig config_;
  Vgg19 net_;
  std::vector<Tensor> content_targets_;  // per content layer
  std::vector<Tensor> style_targets_;    // per style layer, C x C
};

}  // namespace nst
