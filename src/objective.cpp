#include "nst/objective.h"

#include <algorithm>

#include "nst/error.h"

namespace nst {
namespace {

int deepest(const LossConfig& c) {
  int d = -1;
  for (int l : c.content_layers) d = std::max(d, l);
  for (int l : c.style_layers) d = std::max(d, l);
  if (d < 0) throw UsageError("no content or style layer: nothing to optimise");
  return d;
}

std::vector<int> loss_layers(const LossConfig& c) {
  std::vector<int> v = c.content_layers;
  v.insert(v.end(), c.style_layers.begin(), c.style_layers.end());
  return v;
}

}  // namespace

Objective::Objective(Backend& backend, const Weights& weights, const LossConfig& config)
    : be_(backend), config_(config), net_(backend, weights, config.pooling, deepest(config), loss_layers(config)) {}

void Objective::set_content(const Tensor& content) {
  net_.forward(be_.to_device(content));
  content_targets_.clear();
  for (int l : config_.content_layers) {
    Tensor t = be_.alloc(net_.activation(l).shape());
    be_.copy(net_.activation(l), t);
    content_targets_.push_back(std::move(t));
  }
}

std::vector<Tensor> Objective::style_grams(const Tensor& style) {
  net_.forward(be_.to_device(style));
  std::vector<Tensor> grams;
  for (int layer : config_.style_layers) {
    const Tensor& f = net_.activation(layer);
    Tensor g = be_.alloc(Shape{1, 1, f.shape().c, f.shape().c});
    be_.gram(f, g);
    grams.push_back(std::move(g));
  }
  return grams;
}

void Objective::set_style_grams(const std::vector<std::vector<Tensor>>& grams, std::vector<double> blend) {
  if (grams.empty()) throw UsageError("no style image");
  if (blend.empty()) blend.assign(grams.size(), 1.0);
  if (blend.size() != grams.size())
    throw UsageError(std::to_string(blend.size()) + " weights for " + std::to_string(grams.size()) + " style images", "style_blend");
  double sum = 0;
  for (double b : blend) {
    if (!(b >= 0)) throw UsageError("the weights must not be negative", "style_blend");
    sum += b;
  }
  if (!(sum > 0)) throw UsageError("the weights sum to zero", "style_blend");
  style_targets_.clear();
  for (std::size_t s = 0; s < config_.style_layers.size(); ++s) {
    style_targets_.push_back(be_.alloc(grams[0][s].shape()));  // zero-filled
    for (std::size_t k = 0; k < grams.size(); ++k) be_.axpy(float(blend[k] / sum), grams[k][s], style_targets_[s]);
  }
}

void Objective::set_styles(const std::vector<Tensor>& styles, std::vector<double> blend) {
  std::vector<std::vector<Tensor>> grams;
  for (const Tensor& s : styles) grams.push_back(style_grams(s));
  set_style_grams(grams, std::move(blend));
}

LossValues Objective::evaluate(const Tensor& X, Tensor& grad) {
  NST_ASSERT(content_targets_.size() == config_.content_layers.size() || config_.content_layers.empty(),
             "evaluate() before set_content()");
  NST_ASSERT(style_targets_.size() == config_.style_layers.size(), "evaluate() before set_styles()");
  LossValues v;
  net_.forward(X);
  be_.fill(grad, 0.f);
  net_.backward(
      [&](int layer, Tensor& dy) {
        const Tensor& f = net_.activation(layer);
        for (std::size_t k = 0; k < config_.content_layers.size(); ++k) {
          if (config_.content_layers[k] != layer) continue;
          NST_ASSERT(content_targets_[k].shape() == f.shape(), "content target shape differs from the image's features");
          v.content += be_.content_loss(f, content_targets_[k], config_.content_weight, dy);
        }
        for (std::size_t k = 0; k < config_.style_layers.size(); ++k)
          if (config_.style_layers[k] == layer) v.style += be_.style_loss(f, style_targets_[k], config_.style_weight, dy);
      },
      grad);
  if (config_.tv_weight != 0) v.tv = be_.tv_loss(X, config_.tv_weight, grad);
  v.total = v.content + v.style + v.tv;
  return v;
}

}  // namespace nst
