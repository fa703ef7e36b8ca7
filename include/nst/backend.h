// The primitive ops the engine needs. Everything above this interface (network, losses, optimisers,
// stylizer) is written once; each backend (CPU here, CUDA in src/cuda/) implements these ops on tensors
// that live in its own memory.
//
// Conventions: activations are NCHW with n = 1; convolutions are 3x3, stride 1, zero padding 1,
// cross-correlation with OIHW weights; weights are frozen, so there is no weight gradient. Ops that write a
// gradient *accumulate* into it (`+=`), so the losses on one layer can share one buffer.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "nst/tensor.h"

namespace nst {

enum class PoolKind { Max, Avg };

// SPEC §1: x[c] = (scale * X[perm(c)] - mean[c]) / std[c]; perm swaps R and B when bgr.
// Kept in double, exactly as the file stores them; each backend rounds what it computes from them.
struct Normalization {
  bool bgr = false;
  double scale = 1;
  double mean[3] = {0, 0, 0};
  double std[3] = {1, 1, 1};
};

// Hyperparameters are doubles, as Python's floats are in torch.optim.Adam: scalars such as 1 - beta2 are
// formed in double and rounded to float once, which is what makes the trajectory match torch's.
struct AdamState {
  double lr = 0.01, beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
  int step = 0;  // the step being taken, starting at 1
};

// The float scalars of one Adam step, formed as torch.optim.Adam forms them (in double, rounded once), so
// that every backend's update is the same: m = b1 m + a1 g; v = b2 v + a2 g^2;
// x -= step_size * (m / (sqrt(v) / bc2_sqrt + eps)).
struct AdamScalars {
  float b1, b2, a1, a2, bc2_sqrt, step_size, eps;
};
AdamScalars adam_scalars(const AdamState& s);

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string name() const = 0;
  virtual Device device() const = 0;

  // For the memory planner: bytes this device can still give us; the most scratch space the backend holds
  // while it runs all these convolutions (inputs x 1xCxHxW with weights w OxCx3x3), forward and backward
  // (the CPU's im2col tile and oneDNN's blocked copies of x and y, each kept at its largest; cuDNN's
  // workspace limit); and what it keeps for a weight tensor w besides the tensor itself (oneDNN's blocked
  // copies for forward and backward).
  struct ConvShape {
    Shape x, w;
  };
  virtual std::size_t memory_available() const = 0;
  virtual std::size_t conv_workspace(const std::vector<ConvShape>& convs) const = 0;
  virtual std::size_t weight_extra_bytes(const Shape& /*w*/) const { return 0; }

  // Memory: zero-filled tensors on this backend's device, and copies to and from host tensors.
  virtual Tensor alloc(Shape shape) = 0;
  virtual void upload(const Tensor& host, Tensor& dst) = 0;
  virtual void download(const Tensor& src, Tensor& host) = 0;
  Tensor to_device(const Tensor& host);
  Tensor to_host(const Tensor& t);

  // Network ops.
  virtual void normalize_forward(const Tensor& X, const Normalization& norm, Tensor& x) = 0;
  virtual void normalize_backward(const Tensor& dx, const Normalization& norm, Tensor& dX) = 0;  // dX += ...
  virtual void conv_forward(const Tensor& x, const Tensor& w, const Tensor& b, Tensor& y) = 0;  // y = conv + b
  virtual void conv_backward_data(const Tensor& dy, const Tensor& w, Tensor& dx) = 0;           // dx = ...
  virtual void relu_forward(const Tensor& x, Tensor& y) = 0;                       // may be in place
  virtual void relu_backward(const Tensor& y, const Tensor& dy, Tensor& dx) = 0;   // dx = dy * (y > 0); in place ok
  virtual void pool_forward(PoolKind kind, const Tensor& x, Tensor& y) = 0;        // 2x2 stride 2, floor mode
  virtual void pool_backward(PoolKind kind, const Tensor& x, const Tensor& dy, Tensor& dx) = 0;  // dx = ...

  // Losses (SPEC §3). Each returns its weighted value and adds its gradient into `grad`.
  // F is C x (H*W), N = C*H*W.
  virtual void gram(const Tensor& f, Tensor& g) = 0;  // g[C,C] = F F^T / N
  // weight/N * ||f - target||^2;  grad += 2 weight/N (f - target)
  virtual double content_loss(const Tensor& f, const Tensor& target, double weight, Tensor& grad) = 0;
  // weight/C^2 * ||G(f) - target||_F^2;  grad += 4 weight/(N C^2) (G - target) F
  virtual double style_loss(const Tensor& f, const Tensor& target_gram, double weight, Tensor& grad) = 0;
  // weight/(3HW) * sum of squared right and down differences of the image X
  virtual double tv_loss(const Tensor& X, double weight, Tensor& grad) = 0;

  // Vector ops for the optimisers, over all elements.
  virtual void fill(Tensor& x, float value) = 0;
  virtual void copy(const Tensor& src, Tensor& dst) = 0;
  virtual void axpy(float a, const Tensor& x, Tensor& y) = 0;  // y += a x
  virtual void scale(float a, Tensor& x) = 0;                  // x *= a
  virtual double dot(const Tensor& x, const Tensor& y) = 0;    // accumulated in double
  // torch.optim.Adam's update of x with gradient g, first and second moments m and v.
  virtual void adam_step(const AdamState& s, const Tensor& g, Tensor& m, Tensor& v, Tensor& x) = 0;

  // The image X (1x3xHxW) clamped to [0,1] and rounded to 8 bits (round(255 v), halves up), interleaved
  // RGB, H*W*3 bytes into host memory.
  virtual void to_rgb8(const Tensor& X, std::uint8_t* out) = 0;

  // For `nst bench`: how the forward or backward-data pass of a convolution of x (1xCxHxW) with weights w
  // (OxCx3x3) runs here, e.g. cuDNN's algorithm and its workspace; empty where there is nothing to say.
  virtual std::string conv_info(const Shape& /*x*/, const Shape& /*w*/, bool /*backward_data*/) { return {}; }
};

// The CPU backend. Its convolutions run on our AVX-512 kernel for few input channels, on oneDNN where that
// is usable and suits the shape (src/cpu/dnnl_conv.h), on im2col + OpenBLAS otherwise. blas_only keeps to
// the portable paths: im2col + OpenBLAS and plain loops, none of the run-time AVX-512 kernels (for
// `nst bench`'s library comparison, and for the tests to check every path).
// The oneDNN convolutions' algorithm: Direct; Winograd F(4x4,3x3) wherever oneDNN has one for the shape
// (about 1.7-2.5x faster on VGG19's layers from conv1_2 on, ~1e-6 relative error per convolution against
// direct's ~2e-7); or Fastest: per shape and direction, whichever of the two timed faster here when the
// shape was first met.
enum class ConvAlgo { Direct, Winograd, Fastest };
// The CUDA backend's math: fp32 everywhere, or TF32 tensor cores for cuDNN convolutions and cuBLAS GEMMs.
enum class Precision { FP32, TF32 };
std::unique_ptr<Backend> make_cpu_backend(bool blas_only = false, ConvAlgo algo = ConvAlgo::Direct);

// Output shape of a 2x2 stride-2 floor-mode pool.
inline Shape pooled_shape(const Shape& s) { return Shape{s.n, s.c, s.h / 2, s.w / 2}; }

}  // namespace nst
