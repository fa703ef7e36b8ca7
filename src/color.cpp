// Colour control (Gatys et al. 2017 §5): YIQ luminance transfer and linear colour histogram matching.
#include "nst/color.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

#include "nst/error.h"

namespace nst {
namespace detail {
namespace {

constexpr Mat3 kYiq = {{{0.299, 0.587, 0.114}, {0.596, -0.274, -0.322}, {0.211, -0.523, 0.312}}};

// Adjugate over determinant, in double: the exact inverse up to rounding, rather than the 3-digit
// table usually printed beside the forward matrix (which would leave round trips off by ~1e-3).
constexpr Mat3 inverse(const Mat3& m) {
  Mat3 r{};
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) {
      // Cofactor of m[j][i], with the cyclic index trick giving the sign.
      int j1 = (j + 1) % 3, j2 = (j + 2) % 3, i1 = (i + 1) % 3, i2 = (i + 2) % 3;
      r[i][j] = m[j1][i1] * m[j2][i2] - m[j1][i2] * m[j2][i1];
    }
  double det = m[0][0] * r[0][0] + m[0][1] * r[1][0] + m[0][2] * r[2][0];
  for (auto& row : r)
    for (double& v : row) v /= det;
  return r;
}

constexpr Mat3 kYiqInverse = inverse(kYiq);

Mat3 identity() { return Mat3{{{1, 0, 0}, {0, 1, 0}, {0, 0, 1}}}; }

// V diag(f(values)) V^T.
template <typename F>
Mat3 spectral(const SymEigen3& e, F f) {
  Vec3 d = {f(e.values[0]), f(e.values[1]), f(e.values[2])};
  Mat3 r{};
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) {
      double s = 0;
      for (int k = 0; k < 3; ++k) s += e.vectors[i][k] * d[k] * e.vectors[j][k];
      r[i][j] = s;
    }
  return r;
}

}  // namespace

const Mat3& rgb_to_yiq_matrix() { return kYiq; }
const Mat3& yiq_to_rgb_matrix() { return kYiqInverse; }

Mat3 matmul(const Mat3& a, const Mat3& b) {
  Mat3 r{};
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j)
      for (int k = 0; k < 3; ++k) r[i][j] += a[i][k] * b[k][j];
  return r;
}

Mat3 transpose(const Mat3& a) {
  Mat3 r{};
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) r[i][j] = a[j][i];
  return r;
}

SymEigen3 eigen_sym3(const Mat3& in) {
  Mat3 a{};
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) a[i][j] = 0.5 * (in[i][j] + in[j][i]);
  Mat3 v = identity();
  // Cyclic Jacobi converges quadratically; a 3x3 matrix needs ~5 sweeps. Stop once the off-diagonal
  // mass is at rounding level relative to the whole matrix.
  for (int sweep = 0; sweep < 64; ++sweep) {
    double off = a[0][1] * a[0][1] + a[0][2] * a[0][2] + a[1][2] * a[1][2];
    double diag = a[0][0] * a[0][0] + a[1][1] * a[1][1] + a[2][2] * a[2][2];
    if (off == 0 || off <= 1e-36 * (diag + 2 * off)) break;
    for (int p = 0; p < 2; ++p)
      for (int q = p + 1; q < 3; ++q) {
        if (a[p][q] == 0) continue;
        // The rotation J (J_pp = J_qq = c, J_pq = s, J_qp = -s) with J^T a J zero at (p,q), taking the
        // smaller angle (Numerical Recipes §11.1). For a huge theta, t = 1/(2 theta) avoids overflow.
        double theta = (a[q][q] - a[p][p]) / (2 * a[p][q]);
        double t = std::abs(theta) > 1e150 ? 1 / (2 * theta)
                                            : std::copysign(1.0, theta) / (std::abs(theta) + std::sqrt(theta * theta + 1));
        double c = 1 / std::sqrt(t * t + 1), s = t * c;
        Mat3 j = identity();
        j[p][p] = c, j[q][q] = c, j[p][q] = s, j[q][p] = -s;
        a = matmul(transpose(j), matmul(a, j));
        a[p][q] = a[q][p] = 0;
        v = matmul(v, j);
      }
  }
  return SymEigen3{{a[0][0], a[1][1], a[2][2]}, v};
}

Mat3 sym_sqrt(const Mat3& a) {
  return spectral(eigen_sym3(a), [](double l) { return std::sqrt(std::max(l, 0.0)); });
}

Mat3 sym_inv_sqrt(const Mat3& a, double floor) {
  return spectral(eigen_sym3(a), [floor](double l) { return 1 / std::sqrt(std::max(l, floor)); });
}

namespace {

std::size_t check_rgb(const Tensor& t, const char* fn, const char* arg) {
  const Shape& s = t.shape();
  if (t.empty() || t.device() != Device::Host || s.n != 1 || s.c != 3 || s.h < 1 || s.w < 1)
    throw Error(std::string(fn) + ": " + arg + " is " + (t.empty() ? "empty" : s.str()) +
                (t.device() == Device::Host ? "" : " on the device") + ", expected a host 1x3xHxW image");
  return std::size_t(s.h) * s.w;
}

}  // namespace

ColorStats color_stats(const Tensor& rgb) {
  std::size_t n = check_rgb(rgb, "color_stats", "image");
  const float* x = rgb.data();
  ColorStats st{};
  for (int c = 0; c < 3; ++c) {
    double s = 0;
    for (std::size_t i = 0; i < n; ++i) s += x[c * n + i];
    st.mean[c] = s / double(n);
  }
  // Two passes: the centred products keep their precision when the means dwarf the spread.
  for (std::size_t i = 0; i < n; ++i) {
    double d[3] = {x[i] - st.mean[0], x[n + i] - st.mean[1], x[2 * n + i] - st.mean[2]};
    for (int r = 0; r < 3; ++r)
      for (int c = r; c < 3; ++c) st.cov[r][c] += d[r] * d[c];
  }
  for (int r = 0; r < 3; ++r)
    for (int c = r; c < 3; ++c) st.cov[c][r] = st.cov[r][c] /= double(n);
  return st;
}

}  // namespace detail

namespace {

using detail::check_rgb;
using detail::Mat3;

// out = m * (in - sub) + add, per pixel, in double.
Tensor affine(const Tensor& in, std::size_t n, const Mat3& m, const detail::Vec3& sub, const detail::Vec3& add) {
  Tensor out = Tensor::host(in.shape());
  const float* x = in.data();
  float* y = out.data();
  for (std::size_t i = 0; i < n; ++i) {
    double d[3] = {x[i] - sub[0], x[n + i] - sub[1], x[2 * n + i] - sub[2]};
    for (int r = 0; r < 3; ++r) y[r * n + i] = float(m[r][0] * d[0] + m[r][1] * d[1] + m[r][2] * d[2] + add[r]);
  }
  return out;
}

// Y of every pixel, in double.
std::vector<double> luma(const Tensor& rgb, std::size_t n) {
  const detail::Vec3& w = detail::rgb_to_yiq_matrix()[0];
  const float* x = rgb.data();
  std::vector<double> y(n);
  for (std::size_t i = 0; i < n; ++i) y[i] = w[0] * x[i] + w[1] * x[n + i] + w[2] * x[2 * n + i];
  return y;
}

Tensor grey(const Shape& shape, const std::vector<double>& y) {
  Tensor out = Tensor::host(shape);
  float* p = out.data();
  for (std::size_t c = 0; c < 3; ++c)
    for (std::size_t i = 0; i < y.size(); ++i) p[c * y.size() + i] = float(y[i]);
  return out;
}

void mean_std(const std::vector<double>& v, double& mean, double& var) {
  double s = 0;
  for (double x : v) s += x;
  mean = s / double(v.size());
  double q = 0;
  for (double x : v) q += (x - mean) * (x - mean);
  var = q / double(v.size());
}

}  // namespace

Tensor rgb_to_yiq(const Tensor& rgb) {
  std::size_t n = check_rgb(rgb, "rgb_to_yiq", "image");
  return affine(rgb, n, detail::rgb_to_yiq_matrix(), {0, 0, 0}, {0, 0, 0});
}

Tensor yiq_to_rgb(const Tensor& yiq) {
  std::size_t n = check_rgb(yiq, "yiq_to_rgb", "image");
  return affine(yiq, n, detail::yiq_to_rgb_matrix(), {0, 0, 0}, {0, 0, 0});
}

Tensor luminance_image(const Tensor& rgb) {
  std::size_t n = check_rgb(rgb, "luminance_image", "image");
  return grey(rgb.shape(), luma(rgb, n));
}

Tensor match_luminance(const Tensor& style, const Tensor& content) {
  std::size_t ns = check_rgb(style, "match_luminance", "style");
  std::size_t nc = check_rgb(content, "match_luminance", "content");
  std::vector<double> ys = luma(style, ns);
  double mean_s, var_s, mean_c, var_c;
  mean_std(ys, mean_s, var_s);
  mean_std(luma(content, nc), mean_c, var_c);
  // A constant style's Y has a variance of rounding noise (~1e-32), not zero: dividing by it would blow
  // that noise up to the content's spread. Below a standard deviation of 1e-6 (far under an 8-bit step,
  // ~16 float ulps at 0.5) the style counts as constant and maps to the content's mean.
  double scale = var_s > 1e-12 ? std::sqrt(var_c / var_s) : 0.0;
  for (double& y : ys) y = (y - mean_s) * scale + mean_c;
  return grey(style.shape(), ys);
}

Tensor recombine_luminance(const Tensor& result, const Tensor& content) {
  std::size_t n = check_rgb(result, "recombine_luminance", "result");
  check_rgb(content, "recombine_luminance", "content");
  if (result.shape() != content.shape())
    throw Error("recombine_luminance: result is " + result.shape().str() + " but content is " +
                content.shape().str());
  const Mat3& fwd = detail::rgb_to_yiq_matrix();
  const Mat3& inv = detail::yiq_to_rgb_matrix();
  const float* r = result.data();
  const float* x = content.data();
  Tensor out = Tensor::host(content.shape());
  float* o = out.data();
  for (std::size_t i = 0; i < n; ++i) {
    // The network's output from a grey input is not exactly grey; its channel mean is its luminance.
    double yiq[3] = {(double(r[i]) + r[n + i] + r[2 * n + i]) / 3, 0, 0};
    for (int k = 1; k < 3; ++k) yiq[k] = fwd[k][0] * x[i] + fwd[k][1] * x[n + i] + fwd[k][2] * x[2 * n + i];
    for (int c = 0; c < 3; ++c) o[c * n + i] = float(inv[c][0] * yiq[0] + inv[c][1] * yiq[1] + inv[c][2] * yiq[2]);
  }
  return out;
}

Tensor match_color_histogram(const Tensor& style, const Tensor& content) {
  std::size_t n = check_rgb(style, "match_color_histogram", "style");
  check_rgb(content, "match_color_histogram", "content");
  detail::ColorStats s = detail::color_stats(style), c = detail::color_stats(content);
  // A grey style has covariance rank 1 and a constant one rank 0, so Sigma_s^{-1/2} does not exist.
  // Its eigenvalues are floored at kColorVarFloor before the inverse root. Adding eps*I instead would bias
  // every direction by eps/lambda: with eps = 1e-6 and a photograph-like style (weakest colour direction
  // ~1e-4) the output covariance was 5e-3 off and a style equal to the content moved by 7e-5. The floor
  // is exact wherever the style has a real spread and caps the gain at 1/sqrt(floor) where it has none.
  Mat3 a = detail::matmul(detail::sym_sqrt(c.cov), detail::sym_inv_sqrt(s.cov, detail::kColorVarFloor));
  return affine(style, n, a, s.mean, c.mean);
}

}  // namespace nst
