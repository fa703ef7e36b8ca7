#include "cpu/ref/ref_objective.h"

#include <algorithm>

namespace nst::ref {

Image image_from(const Tensor& host) {
  const Shape& s = host.shape();
  return Image{to_double(host.to_vector()), Dims{s.c, s.h, s.w}};
}

RefObjective::RefObjective(const Weights& weights, const LossConfig& config, const Image& content,
                           const std::vector<Image>& styles, std::vector<double> blend)
    : w_(weights), cfg_(config) {
  for (int l : cfg_.content_layers) last_ = std::max(last_, l);
  for (int l : cfg_.style_layers) last_ = std::max(last_, l);
  std::vector<Dims> dims;
  std::vector<Vec> acts = forward(w_, cfg_.pooling, last_, content, &dims);
  for (int l : cfg_.content_layers) content_targets_.push_back(acts[l]);
  if (blend.empty()) blend.assign(styles.size(), 1.0);
  double sum = 0;
  for (double b : blend) sum += b;
  style_targets_.assign(cfg_.style_layers.size(), Vec());
  for (std::size_t k = 0; k < styles.size(); ++k) {
    acts = forward(w_, cfg_.pooling, last_, styles[k], &dims);
    for (std::size_t s = 0; s < cfg_.style_layers.size(); ++s) {
      int l = cfg_.style_layers[s];
      Vec g = gram(acts[l], dims[l]);
      style_targets_[s].resize(g.size());
      for (std::size_t i = 0; i < g.size(); ++i) style_targets_[s][i] += blend[k] / sum * g[i];
    }
  }
}

std::vector<Vec> forward(const Weights& w, PoolKind pooling, int last, const Image& X, std::vector<Dims>* dims) {
  std::vector<Vec> acts;
  if (dims) dims->clear();
  Vec x = normalize_forward(X.data, X.dims, w.norm);
  Dims d = X.dims;
  for (int i = 0; i <= last; ++i) {
    const LayerInfo& l = vgg19_layers()[i];
    if (l.kind == LayerKind::Conv) {
      const ConvWeights& cw = w.convs[l.conv];
      x = conv_forward(x, d, to_double(cw.weight), to_double(cw.bias), cw.out);
      d.c = cw.out;
    } else if (l.kind == LayerKind::Relu) {
      x = relu_forward(x);
    } else {
      x = pool_forward(pooling, x, d);
      d.h /= 2, d.w /= 2;
    }
    acts.push_back(x);
    if (dims) dims->push_back(d);
  }
  return acts;
}

LossValues RefObjective::loss(const Image& X) const {
  std::vector<Dims> dims;
  std::vector<Vec> acts = forward(w_, cfg_.pooling, last_, X, &dims);
  LossValues v;
  for (std::size_t k = 0; k < cfg_.content_layers.size(); ++k)
    v.content += content_loss(acts[cfg_.content_layers[k]], content_targets_[k], cfg_.content_weight, nullptr);
  for (std::size_t k = 0; k < cfg_.style_layers.size(); ++k) {
    int l = cfg_.style_layers[k];
    v.style += style_loss(acts[l], dims[l], style_targets_[k], cfg_.style_weight, nullptr);
  }
  v.tv = tv_loss(X.data, X.dims, cfg_.tv_weight, nullptr);
  v.total = v.content + v.style + v.tv;
  return v;
}

}  // namespace nst::ref
