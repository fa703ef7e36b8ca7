#include "cpu/ref/ref_ops.h"

#include <cmath>

namespace nst::ref {

Vec to_double(const std::vector<float>& v) { return Vec(v.begin(), v.end()); }

static int channel_source(const Normalization& norm, int c) { return norm.bgr ? 2 - c : c; }

Vec normalize_forward(const Vec& X, Dims d, const Normalization& norm) {
  Vec x(d.numel());
  std::size_t plane = std::size_t(d.h) * d.w;
  for (int c = 0; c < 3; ++c)
    for (std::size_t i = 0; i < plane; ++i)
      x[c * plane + i] =
          (double(norm.scale) * X[channel_source(norm, c) * plane + i] - norm.mean[c]) / norm.std[c];
  return x;
}

Vec normalize_backward(const Vec& dx, Dims d, const Normalization& norm) {
  Vec dX(d.numel());
  std::size_t plane = std::size_t(d.h) * d.w;
  for (int c = 0; c < 3; ++c)
    for (std::size_t i = 0; i < plane; ++i)
      dX[channel_source(norm, c) * plane + i] = dx[c * plane + i] * norm.scale / norm.std[c];
  return dX;
}

Vec conv_forward(const Vec& x, Dims d, const Vec& w, const Vec& b, int out) {
  Vec y(std::size_t(out) * d.h * d.w);
  for (int o = 0; o < out; ++o)
    for (int i = 0; i < d.h; ++i)
      for (int j = 0; j < d.w; ++j) {
        double s = b[o];
        for (int c = 0; c < d.c; ++c)
          for (int kh = 0; kh < 3; ++kh)
            for (int kw = 0; kw < 3; ++kw) {
              int ii = i + kh - 1, jj = j + kw - 1;
              if (ii < 0 || ii >= d.h || jj < 0 || jj >= d.w) continue;
              s += w[((std::size_t(o) * d.c + c) * 3 + kh) * 3 + kw] * x[(std::size_t(c) * d.h + ii) * d.w + jj];
            }
        y[(std::size_t(o) * d.h + i) * d.w + j] = s;
      }
  return y;
}

// The adjoint of conv_forward: scatter each output gradient back to the inputs that produced it.
Vec conv_backward_data(const Vec& dy, Dims in, const Vec& w, int out) {
  Vec dx(in.numel());
  for (int o = 0; o < out; ++o)
    for (int i = 0; i < in.h; ++i)
      for (int j = 0; j < in.w; ++j) {
        double g = dy[(std::size_t(o) * in.h + i) * in.w + j];
        for (int c = 0; c < in.c; ++c)
          for (int kh = 0; kh < 3; ++kh)
            for (int kw = 0; kw < 3; ++kw) {
              int ii = i + kh - 1, jj = j + kw - 1;
              if (ii < 0 || ii >= in.h || jj < 0 || jj >= in.w) continue;
              dx[(std::size_t(c) * in.h + ii) * in.w + jj] += w[((std::size_t(o) * in.c + c) * 3 + kh) * 3 + kw] * g;
            }
      }
  return dx;
}

Vec relu_forward(const Vec& x) {
  Vec y(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) y[i] = x[i] > 0 ? x[i] : 0.0;
  return y;
}

Vec relu_backward(const Vec& y, const Vec& dy) {
  Vec dx(y.size());
  for (std::size_t i = 0; i < y.size(); ++i) dx[i] = y[i] > 0 ? dy[i] : 0.0;
  return dx;
}

Vec pool_forward(PoolKind kind, const Vec& x, Dims d) {
  int oh = d.h / 2, ow = d.w / 2;
  Vec y(std::size_t(d.c) * oh * ow);
  for (int c = 0; c < d.c; ++c)
    for (int i = 0; i < oh; ++i)
      for (int j = 0; j < ow; ++j) {
        double m = kind == PoolKind::Max ? -INFINITY : 0.0;
        for (int a = 0; a < 2; ++a)
          for (int b = 0; b < 2; ++b) {
            double v = x[(std::size_t(c) * d.h + 2 * i + a) * d.w + 2 * j + b];
            m = kind == PoolKind::Max ? std::max(m, v) : m + v / 4;
          }
        y[(std::size_t(c) * oh + i) * ow + j] = m;
      }
  return y;
}

Vec pool_backward(PoolKind kind, const Vec& x, Dims d, const Vec& dy) {
  int oh = d.h / 2, ow = d.w / 2;
  Vec dx(d.numel());
  for (int c = 0; c < d.c; ++c)
    for (int i = 0; i < oh; ++i)
      for (int j = 0; j < ow; ++j) {
        double g = dy[(std::size_t(c) * oh + i) * ow + j];
        auto at = [&](int a, int b) { return (std::size_t(c) * d.h + 2 * i + a) * d.w + 2 * j + b; };
        if (kind == PoolKind::Avg) {
          for (int a = 0; a < 2; ++a)
            for (int b = 0; b < 2; ++b) dx[at(a, b)] += g / 4;
          continue;
        }
        // The first maximum in row-major order takes the gradient, as PyTorch's CPU kernel does.
        std::size_t best = at(0, 0);
        for (int a = 0; a < 2; ++a)
          for (int b = 0; b < 2; ++b)
            if (x[at(a, b)] > x[best]) best = at(a, b);
        dx[best] += g;
      }
  return dx;
}

Vec gram(const Vec& f, Dims d) {
  std::size_t hw = std::size_t(d.h) * d.w;
  double n = double(d.numel());
  Vec g(std::size_t(d.c) * d.c);
  for (int a = 0; a < d.c; ++a)
    for (int b = 0; b < d.c; ++b) {
      double s = 0;
      for (std::size_t k = 0; k < hw; ++k) s += f[a * hw + k] * f[b * hw + k];
      g[std::size_t(a) * d.c + b] = s / n;
    }
  return g;
}

double content_loss(const Vec& f, const Vec& target, double weight, Vec* grad) {
  double n = double(f.size()), s = 0;
  for (std::size_t i = 0; i < f.size(); ++i) {
    double diff = f[i] - target[i];
    s += diff * diff;
    if (grad) (*grad)[i] += 2 * weight / n * diff;
  }
  return weight / n * s;
}

double style_loss(const Vec& f, Dims d, const Vec& target_gram, double weight, Vec* grad) {
  Vec g = gram(f, d);
  double c2 = double(d.c) * d.c, n = double(d.numel()), s = 0;
  for (std::size_t i = 0; i < g.size(); ++i) {
    g[i] -= target_gram[i];
    s += g[i] * g[i];
  }
  if (grad) {
    // d/dF of ||F F^T/N - T||^2 is 2 (D + D^T) F / N = 4 D F / N, D being symmetric.
    std::size_t hw = std::size_t(d.h) * d.w;
    for (int a = 0; a < d.c; ++a)
      for (std::size_t k = 0; k < hw; ++k) {
        double acc = 0;
        for (int b = 0; b < d.c; ++b) acc += g[std::size_t(a) * d.c + b] * f[b * hw + k];
        (*grad)[a * hw + k] += 4 * weight / (n * c2) * acc;
      }
  }
  return weight / c2 * s;
}

double tv_loss(const Vec& X, Dims d, double weight, Vec* grad) {
  double k = weight / (3.0 * d.h * d.w), s = 0;
  auto at = [&](int c, int i, int j) { return (std::size_t(c) * d.h + i) * d.w + j; };
  for (int c = 0; c < d.c; ++c)
    for (int i = 0; i < d.h; ++i)
      for (int j = 0; j < d.w; ++j) {
        for (auto [ni, nj] : {std::pair{i, j + 1}, std::pair{i + 1, j}}) {
          if (ni >= d.h || nj >= d.w) continue;
          double diff = X[at(c, ni, nj)] - X[at(c, i, j)];
          s += diff * diff;
          if (grad) {
            (*grad)[at(c, ni, nj)] += 2 * k * diff;
            (*grad)[at(c, i, j)] -= 2 * k * diff;
          }
        }
      }
  return k * s;
}

}  // namespace nst::ref
