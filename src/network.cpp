#include "nst/network.h"

#include <algorithm>

#include "nst/error.h"
#include "nst/text.h"

namespace nst {

const std::vector<LayerInfo>& vgg19_layers() {
  static const std::vector<LayerInfo> layers = [] {
    std::vector<LayerInfo> v;
    const int convs_per_block[5] = {2, 2, 4, 4, 4};
    int conv = 0;
    for (int b = 1; b <= 5; ++b) {
      for (int k = 1; k <= convs_per_block[b - 1]; ++k) {
        std::string id = std::to_string(b) + "_" + std::to_string(k);
        v.push_back({"conv" + id, LayerKind::Conv, conv++});
        v.push_back({"relu" + id, LayerKind::Relu, -1});
      }
      v.push_back({"pool" + std::to_string(b), LayerKind::Pool, -1});
    }
    return v;
  }();
  return layers;
}

int vgg19_layer_index(const std::string& name) {
  const auto& layers = vgg19_layers();
  for (std::size_t i = 0; i < layers.size(); ++i)
    if (layers[i].name == name) return int(i);
  // The 37 names in the space of a terminal line, rather than listed one by one.
  throw UsageError("unknown layer '" + name + "'; valid layers: conv1_1..conv5_4 and relu1_1..relu5_4 (blocks 1-2 have _1,_2; " +
                   "blocks 3-5 _1.._4), pool1..pool5");
}

std::vector<int> parse_layer_list(const std::string& csv) {
  std::vector<int> out;
  for (const std::string& name : split(csv, ',')) {
    if (name.empty()) throw UsageError("empty layer name in '" + csv + "'");
    int idx = vgg19_layer_index(name);
    if (std::find(out.begin(), out.end(), idx) != out.end()) throw UsageError("layer '" + name + "' is repeated");
    out.push_back(idx);
  }
  return out;
}

std::string layer_list_names(const std::vector<int>& layers) {
  std::string s;
  for (int l : layers) s += (s.empty() ? "" : ",") + vgg19_layers().at(l).name;
  return s;
}

int min_input_side(int last_layer) {
  int pools = 0;
  for (int i = 0; i <= last_layer; ++i) pools += vgg19_layers()[i].kind == LayerKind::Pool;
  return 1 << pools;
}

Vgg19::Vgg19(Backend& backend, const Weights& weights, PoolKind pooling, int last_layer, const std::vector<int>& keep)
    : be_(backend), norm_(weights.norm), pooling_(pooling), last_(last_layer) {
  const auto& layers = vgg19_layers();
  NST_ASSERT(last_layer >= 0 && last_layer < int(layers.size()), "last layer out of range");
  keep_.assign(last_ + 1, false);
  for (int k : keep) {
    NST_ASSERT(k >= 0 && k <= last_, "kept layer beyond the last layer");
    keep_[k] = true;
  }
  for (int i = 0; i <= last_; ++i) {
    if (layers[i].kind != LayerKind::Conv) continue;
    const ConvWeights& cw = weights.convs[layers[i].conv];
    w_.push_back(be_.to_device(Tensor::host(Shape{cw.out, cw.in, 3, 3}, cw.weight)));
    b_.push_back(be_.to_device(Tensor::host(Shape{1, cw.out, 1, 1}, cw.bias)));
  }
  acts_.resize(last_ + 1);
}

Shape vgg19_layer_shape(const Weights& weights, int layer, int h, int w) {
  int c = 3;
  for (int i = 0; i <= layer; ++i) {
    const LayerInfo& l = vgg19_layers()[i];
    if (l.kind == LayerKind::Conv) c = weights.convs[l.conv].out;
    if (l.kind == LayerKind::Pool) h /= 2, w /= 2;
  }
  return Shape{1, c, h, w};
}

Tensor& Vgg19::ensure(Tensor& t, Shape s) {
  if (t.empty() || t.capacity() < s.numel()) t = be_.alloc(s);
  else t = t.view(s);
  return t;
}

void Vgg19::forward(const Tensor& X) {
  const Shape& xs = X.shape();
  NST_ASSERT(xs.n == 1 && xs.c == 3, "the network input must be 1x3xHxW");
  int need = min_input_side(last_);
  if (xs.h < need || xs.w < need)
    throw Error("image " + std::to_string(xs.w) + "x" + std::to_string(xs.h) + " is too small for layer " +
                vgg19_layers()[last_].name + ": it needs at least " + std::to_string(need) + " rows and columns");
  ensure(input_, xs);
  be_.normalize_forward(X, norm_, input_);
  const auto& layers = vgg19_layers();
  for (int i = 0; i <= last_; ++i) {
    const Tensor& in = i == 0 ? input_ : acts_[i - 1];
    const LayerInfo& l = layers[i];
    switch (l.kind) {
      case LayerKind::Conv: {
        // A conv output that is not a loss layer is overwritten by its ReLU below: it has no other use,
        // since backward-data needs only the (frozen) weights.
        ensure(acts_[i], Shape{1, w_[l.conv].shape().n, in.shape().h, in.shape().w});
        be_.conv_forward(in, w_[l.conv], b_[l.conv], acts_[i]);
        break;
      }
      case LayerKind::Relu:
        if (keep_[i - 1]) ensure(acts_[i], in.shape());
        else acts_[i] = in;
        be_.relu_forward(in, acts_[i]);
        break;
      case LayerKind::Pool:
        ensure(acts_[i], pooled_shape(in.shape()));
        be_.pool_forward(pooling_, in, acts_[i]);
        break;
    }
  }
  // Gradient buffers sized to the largest activation (conv1_x's) for this image.
  std::size_t biggest = xs.numel();
  for (int i = 0; i <= last_; ++i) biggest = std::max(biggest, acts_[i].numel());
  for (Tensor& g : grad_)
    if (g.empty() || g.capacity() < biggest) g = be_.alloc(Shape{1, 1, 1, int(biggest)});
}

void Vgg19::backward(const std::function<void(int, Tensor&)>& add_grad, Tensor& dX) {
  const auto& layers = vgg19_layers();
  int cur = 0;
  Tensor dy = grad_[cur].view(acts_[last_].shape());
  be_.fill(dy, 0.f);
  for (int i = last_; i >= 0; --i) {
    add_grad(i, dy);
    const Tensor& in = i == 0 ? input_ : acts_[i - 1];
    const LayerInfo& l = layers[i];
    if (l.kind == LayerKind::Relu) {
      be_.relu_backward(acts_[i], dy, dy);
      continue;
    }
    Tensor dx = grad_[1 - cur].view(in.shape());
    if (l.kind == LayerKind::Conv) be_.conv_backward_data(dy, w_[l.conv], dx);
    else be_.pool_backward(pooling_, in, dy, dx);
    dy = dx;
    cur = 1 - cur;
  }
  be_.normalize_backward(dy, norm_, dX);
}

std::size_t vgg19_activation_bytes(const Weights& weights, int last_layer, const std::vector<int>& keep, int h, int w) {
  std::size_t floats = 3 * std::size_t(h) * w, biggest = floats;
  for (int i = 0; i <= last_layer; ++i) {
    const LayerInfo& l = vgg19_layers()[i];
    std::size_t n = vgg19_layer_shape(weights, i, h, w).numel();
    biggest = std::max(biggest, n);
    bool kept_conv_before = i > 0 && std::find(keep.begin(), keep.end(), i - 1) != keep.end();
    if (l.kind != LayerKind::Relu || kept_conv_before) floats += n;
  }
  return (floats + 2 * biggest) * sizeof(float);
}

}  // namespace nst
