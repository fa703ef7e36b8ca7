// Naive loop oracles in double precision, each named as the backend op it checks (ref::relu_forward for
// Backend::relu_forward). They are the independent reference that the fast CPU backend (and, through it,
// the CUDA backend) is tested against: written for obviousness, never for speed. The vector ops, adam_step
// and to_rgb8 have none here: tests/test_cpu_ops.cpp checks them against loops of its own.
// Activations are C x H x W, row-major; weights O x C x 3 x 3.
#pragma once
#include <vector>

#include "nst/backend.h"

namespace nst::ref {

using Vec = std::vector<double>;
struct Dims {
  int c = 1, h = 1, w = 1;
  std::size_t numel() const { return std::size_t(c) * h * w; }
};

Vec to_double(const std::vector<float>& v);

Vec normalize_forward(const Vec& X, Dims d, const Normalization& norm);
Vec normalize_backward(const Vec& dx, Dims d, const Normalization& norm);
Vec conv_forward(const Vec& x, Dims d, const Vec& w, const Vec& b, int out);  // zero padding 1
Vec conv_backward_data(const Vec& dy, Dims in, const Vec& w, int out);
Vec relu_forward(const Vec& x);
Vec relu_backward(const Vec& y, const Vec& dy);
Vec pool_forward(PoolKind kind, const Vec& x, Dims d);
Vec pool_backward(PoolKind kind, const Vec& x, Dims d, const Vec& dy);
Vec gram(const Vec& f, Dims d);
// Each loss returns its value and, when grad is given, adds its gradient.
double content_loss(const Vec& f, const Vec& target, double weight, Vec* grad);
double style_loss(const Vec& f, Dims d, const Vec& target_gram, double weight, Vec* grad);
double tv_loss(const Vec& X, Dims d, double weight, Vec* grad);

}  // namespace nst::ref
