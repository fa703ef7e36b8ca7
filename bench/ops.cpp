// The per-op timings (ops.h): random inputs of each op's shapes uploaded once, then each op timed alone.
#include "ops.h"

#include <algorithm>
#include <cstdint>
#include <functional>
#include <string>

#include "nst/network.h"
#include "nst/optim.h"
#include "random_input.h"

namespace nst::bench {
namespace {

constexpr double kFloat = sizeof(float);

std::string chw(const Shape& s) { return std::to_string(s.c) + "x" + std::to_string(s.h) + "x" + std::to_string(s.w); }

int deepest_layer(const LossConfig& cfg) {
  int d = 0;
  for (int l : cfg.content_layers) d = std::max(d, l);
  for (int l : cfg.style_layers) d = std::max(d, l);
  return d;
}

bool contains(const std::vector<int>& v, int x) { return std::find(v.begin(), v.end(), x) != v.end(); }

}  // namespace

std::vector<OpResult> time_ops(Backend& be, Timer& timer, const Weights& weights, const LossConfig& cfg, int size,
                               LibraryReference* library) {
  std::vector<OpResult> out;
  std::uint64_t seed = 100;
  auto upload = [&](Shape s, float lo, float hi) { return be.to_device(random_host(s, ++seed, lo, hi)); };
  auto add = [&](const std::string& layer, const std::string& op, const std::string& shape, double flop, double bytes, Bound bound,
                 const std::function<void()>& fn) -> OpResult& {
    OpResult o;
    o.layer = layer, o.op = op, o.shape = shape, o.flop = flop, o.bytes = bytes, o.bound = bound;
    o.seconds = timer.median_of(fn);
    out.push_back(o);
    return out.back();
  };

  const Shape img{1, 3, size, size};
  const double n_img = double(img.numel());
  {
    Tensor X = upload(img, 0, 1), x = be.alloc(img), dx = upload(img, -1, 1), dX = be.alloc(img);
    add("image", "normalize_forward", chw(img), 2 * n_img, kFloat * 2 * n_img, Bound::Memory, [&] { be.normalize_forward(X, weights.norm, x); });
    add("image", "normalize_backward", chw(img), 2 * n_img, kFloat * 3 * n_img, Bound::Memory, [&] { be.normalize_backward(dx, weights.norm, dX); });
  }

  Shape cur = img;
  for (int i = 0; i <= deepest_layer(cfg); ++i) {
    const LayerInfo& l = vgg19_layers()[i];
    const Shape to = vgg19_layer_shape(weights, i, size, size);
    const double n = double(cur.numel()), m = double(to.numel());
    if (l.kind == LayerKind::Conv) {
      const ConvWeights& cw = weights.convs[l.conv];
      Tensor x = upload(cur, 0, 1), y = be.alloc(to);
      Tensor w = be.to_device(Tensor::host(Shape{cw.out, cw.in, 3, 3}, cw.weight));
      Tensor b = be.to_device(Tensor::host(Shape{1, cw.out, 1, 1}, cw.bias));
      const double flop = 2.0 * cw.in * cw.out * 9 * double(to.h) * to.w, wbytes = kFloat * double(cw.weight.size());
      const std::string shape = std::to_string(cw.in) + "->" + std::to_string(cw.out) + " " + std::to_string(to.h) + "x" + std::to_string(to.w);
      OpResult& f = add(l.name, "conv_forward", shape, flop, kFloat * (n + m + cw.out) + wbytes, Bound::Compute, [&] { be.conv_forward(x, w, b, y); });
      f.info = be.conv_info(x.shape(), w.shape(), false);
      if (library) library->measure(f, x, w, b, y, false);
      OpResult& bd = add(l.name, "conv_backward_data", shape, flop, kFloat * (n + m) + wbytes, Bound::Compute, [&] { be.conv_backward_data(y, w, x); });
      bd.info = be.conv_info(x.shape(), w.shape(), true);
      if (library) library->measure(bd, x, w, b, y, true);
    } else if (l.kind == LayerKind::Relu) {
      // In place, as the network runs every ReLU whose input is not itself a loss layer.
      Tensor y = upload(cur, -1, 1), dy = upload(cur, -1, 1);
      add(l.name, "relu_forward", chw(cur), n, kFloat * 2 * n, Bound::Memory, [&] { be.relu_forward(y, y); });
      add(l.name, "relu_backward", chw(cur), n, kFloat * 3 * n, Bound::Memory, [&] { be.relu_backward(y, dy, dy); });
    } else {
      Tensor x = upload(cur, 0, 1), y = be.alloc(to), dy = upload(to, -1, 1), dx = be.alloc(cur);
      add(l.name, "pool_forward", chw(cur), 3 * m, kFloat * (n + m), Bound::Memory, [&] { be.pool_forward(cfg.pooling, x, y); });
      add(l.name, "pool_backward", chw(cur), 3 * m, kFloat * (2 * n + m), Bound::Memory, [&] { be.pool_backward(cfg.pooling, x, dy, dx); });
    }
    const bool style = contains(cfg.style_layers, i), content = contains(cfg.content_layers, i);
    if (style || content) {
      Tensor f = upload(to, 0, 1), grad = be.alloc(to);
      if (style) {
        const int C = to.c;
        const double hw = double(to.h) * to.w, c2 = double(C) * C;
        Tensor G = be.alloc(Shape{1, 1, C, C}), T = upload(Shape{1, 1, C, C}, 0, 1e-3f);
        // The stand-alone Gram is not part of the iteration's sum: the style loss computes its own.
        add(l.name, "gram", chw(to), 2 * c2 * hw, kFloat * (C * hw + c2), Bound::Compute, [&] { be.gram(f, G); }).in_iteration = false;
        // Gram (2 C^2 HW), G - T, and grad += k (G - T) F (2 C^2 HW); F read twice, grad read and written.
        add(l.name, "style_loss", chw(to), 4 * c2 * hw + 3 * c2, kFloat * (4 * C * hw + 3 * c2), Bound::Compute,
            [&] { be.style_loss(f, T, cfg.style_weight, grad); });
      }
      if (content) {
        Tensor target = upload(to, 0, 1);
        add(l.name, "content_loss", chw(to), 4 * m, kFloat * 4 * m, Bound::Memory, [&] { be.content_loss(f, target, cfg.content_weight, grad); });
      }
    }
    cur = to;
  }

  Tensor X = upload(img, 0, 1), g = upload(img, -1e-3f, 1e-3f), mom = be.alloc(img), var = be.alloc(img), grad = be.alloc(img);
  if (cfg.tv_weight != 0)
    add("image", "tv_loss", chw(img), 12 * n_img, kFloat * 3 * n_img, Bound::Memory, [&] { be.tv_loss(X, cfg.tv_weight, grad); });
  AdamState st;
  st.lr = kAdamLr;
  add("image", "adam_step", chw(img), 12 * n_img, kFloat * 7 * n_img, Bound::Memory, [&] {
    ++st.step;
    be.adam_step(st, g, mom, var, X);
  });
  return out;
}

}  // namespace nst::bench
