// Colour control from Gatys et al. 2017, "Controlling Perceptual Factors in Neural Style Transfer" (§5):
// luminance-only transfer through NTSC YIQ (§5.1), and linear colour histogram matching of the style to
// the content (§5.2). Host functions on 1x3xHxW planar RGB tensors, nominally in [0,1]. They compute in
// double, write float, and never clamp (the image writer clamps).
#pragma once
#include <array>

#include "nst/tensor.h"

namespace nst {

// NTSC YIQ, per pixel: Y = 0.299 R + 0.587 G + 0.114 B, I = 0.596 R - 0.274 G - 0.322 B,
// Q = 0.211 R - 0.523 G + 0.312 B. The I and Q rows sum to zero, so a grey pixel has I = Q = 0 and
// Y equal to its grey level. The inverse is the exact inverse of that matrix (computed in double).
Tensor rgb_to_yiq(const Tensor& rgb);
Tensor yiq_to_rgb(const Tensor& yiq);

// Y replicated to three channels: the grey image the network sees in luminance-only transfer.
Tensor luminance_image(const Tensor& rgb);

// The style's Y remapped linearly so its mean and standard deviation equal those of the content's Y,
// replicated to three channels; shaped like `style`. A constant style gives the content's mean Y.
Tensor match_luminance(const Tensor& style, const Tensor& content);

// The stylised grey `result` (its Y is taken as the mean of its three channels) recombined with the
// content's I and Q, back to RGB. Equivalently content + (Y_result - Y_content) on every channel.
// Both must have the same shape.
Tensor recombine_luminance(const Tensor& result, const Tensor& content);

// The style recoloured so its per-channel RGB means and 3x3 covariance equal the content's:
// x' = A (x - mu_s) + mu_c with A = Sigma_c^{1/2} Sigma_s^{-1/2} (symmetric square roots).
// Directions in which the style has (almost) no variance, as in a grey or constant style, are guarded:
// see detail::kColorVarFloor. Shaped like `style`.
Tensor match_color_histogram(const Tensor& style, const Tensor& content);

// Exposed for tests.
namespace detail {

using Vec3 = std::array<double, 3>;
using Mat3 = std::array<Vec3, 3>;  // row-major: m[row][col]

// The forward matrix above and its exact inverse.
const Mat3& rgb_to_yiq_matrix();
const Mat3& yiq_to_rgb_matrix();

Mat3 matmul(const Mat3& a, const Mat3& b);
Mat3 transpose(const Mat3& a);

// Eigen-decomposition of a symmetric 3x3 matrix by cyclic Jacobi rotations: a = V diag(values) V^T,
// V orthogonal with the eigenvectors as columns. Only the upper triangle's symmetric part is used
// ((a + a^T) / 2).
struct SymEigen3 {
  Vec3 values;
  Mat3 vectors;
};
SymEigen3 eigen_sym3(const Mat3& a);

// Symmetric square root of a positive semi-definite matrix; eigenvalues below zero (rounding) count as 0.
Mat3 sym_sqrt(const Mat3& a);
// Symmetric inverse square root with every eigenvalue floored at `floor` first: exact where the
// eigenvalues are >= floor, and a gain of at most 1/sqrt(floor) in the degenerate directions.
Mat3 sym_inv_sqrt(const Mat3& a, double floor);

// Variance below which a style direction counts as degenerate in match_color_histogram: a standard
// deviation of 1/1000, a quarter of an 8-bit step.
constexpr double kColorVarFloor = 1e-6;

// Per-channel means and the (population, 1/N) covariance of a 1x3xHxW image, two-pass in double.
struct ColorStats {
  Vec3 mean;
  Mat3 cov;
};
ColorStats color_stats(const Tensor& rgb);

}  // namespace detail
}  // namespace nst
