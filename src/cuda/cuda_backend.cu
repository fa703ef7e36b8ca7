// The CUDA backend: cuDNN convolutions, cuBLAS Grams and style gradients, our kernels for the rest. One
// stream; loss values are reduced to per-block partial sums on the device and added up in double here.
#include <cstdio>
#include <map>
#include <memory>
#include <tuple>
#include <vector>

#include "adam.cuh"
#include "content_loss.cuh"
#include "cuda/context.h"
#include "cuda/conv_plan.h"
#include "gram_diff.cuh"
#include "normalize.cuh"
#include "nst/backend.h"
#include "nst/device.h"
#include "pool.cuh"
#include "relu.cuh"
#include "to_rgb8.cuh"
#include "tv_loss.cuh"
#include "vector_ops.cuh"

namespace nst::cuda {
namespace {

// The workspace a convolution may use: cuDNN's fastest algorithms want a few hundred MiB at 512².
constexpr std::size_t kWorkspaceLimit = std::size_t(1) << 30;

void check_device(const Tensor& t, const char* what) {
  NST_ASSERT(t.device() == Device::Cuda && !t.empty(), std::string(what) + " is not a CUDA tensor");
}

void check_same(const Tensor& a, const Tensor& b, const char* op) {
  NST_ASSERT(a.shape() == b.shape(), std::string(op) + ": shapes " + a.shape().str() + " and " + b.shape().str() + " differ");
}

class CudaBackend final : public Backend {
 public:
  CudaBackend(int device, Precision precision)
      : ctx_(device, precision == Precision::TF32),
        partials_(kernels::kMaxReductionBlocks),
        dpartials_(kernels::kMaxReductionBlocks) {}

  std::string name() const override { return "cuda:" + std::to_string(ctx_.device()) + (ctx_.tf32() ? " (tf32)" : ""); }
  Device device() const override { return Device::Cuda; }

  std::size_t memory_available() const override {
    std::size_t free = 0, total = 0;
    NST_CUDA_CHECK(cudaMemGetInfo(&free, &total));
    return free;
  }
  std::size_t conv_workspace(const std::vector<ConvShape>&) const override { return kWorkspaceLimit; }

  Tensor alloc(Shape shape) override {
    std::size_t n = shape.numel();
    float* p = static_cast<float*>(device_malloc(std::max<std::size_t>(n, 1) * sizeof(float), "a " + shape.str() + " tensor"));
    Tensor t(shape, Device::Cuda, p, n, [](float* q) { NST_CHECK_NOEXCEPT(cudaFree(q)); });
    NST_CUDA_CHECK(cudaMemsetAsync(p, 0, n * sizeof(float), ctx_.stream()));
    return t;
  }

  void upload(const Tensor& host, Tensor& dst) override {
    NST_ASSERT(host.device() == Device::Host && host.numel() == dst.numel(), "upload sizes");
    check_device(dst, "upload destination");
    NST_CUDA_CHECK(cudaMemcpyAsync(dst.data(), host.data(), host.numel() * sizeof(float), cudaMemcpyHostToDevice, ctx_.stream()));
    ctx_.sync();  // the host buffer may go away as soon as we return
  }

  void download(const Tensor& src, Tensor& host) override {
    NST_ASSERT(host.device() == Device::Host && host.numel() == src.numel(), "download sizes");
    check_device(src, "download source");
    NST_CUDA_CHECK(cudaMemcpyAsync(host.data(), src.data(), src.numel() * sizeof(float), cudaMemcpyDeviceToHost, ctx_.stream()));
    ctx_.sync();
  }

  void normalize_forward(const Tensor& X, const Normalization& norm, Tensor& x) override {
    check_same(X, x, "normalize_forward");
    kernels::launch_normalize_forward(X.data(), x.data(), plane(X), kernels::norm_params(norm), ctx_.stream());
  }

  void normalize_backward(const Tensor& dx, const Normalization& norm, Tensor& dX) override {
    check_same(dx, dX, "normalize_backward");
    kernels::launch_normalize_backward(dx.data(), dX.data(), plane(dx), kernels::norm_params(norm), ctx_.stream());
  }

  void conv_forward(const Tensor& x, const Tensor& w, const Tensor& b, Tensor& y) override {
    const ConvPlan& p = plan(x, w, y);
    const float one = 1.f, zero = 0.f;
    NST_CUDNN_CHECK(cudnnConvolutionForward(ctx_.cudnn(), &one, p.d.x.get(), x.data(), p.d.w.get(), w.data(), p.d.fwd.get(),
                                            p.fwd_algo, workspace(p.fwd_workspace), p.fwd_workspace, &zero, p.d.y.get(), y.data()));
    NST_CUDNN_CHECK(cudnnAddTensor(ctx_.cudnn(), &one, p.d.bias.get(), b.data(), &one, p.d.y.get(), y.data()));
  }

  void conv_backward_data(const Tensor& dy, const Tensor& w, Tensor& dx) override {
    const ConvPlan& p = plan(dx, w, dy);
    const float one = 1.f, zero = 0.f;
    NST_CUDNN_CHECK(cudnnConvolutionBackwardData(ctx_.cudnn(), &one, p.d.w.get(), w.data(), p.d.y.get(), dy.data(), p.d.bwd.get(),
                                                 p.bwd_algo, workspace(p.bwd_workspace), p.bwd_workspace, &zero, p.d.x.get(), dx.data()));
  }

  void relu_forward(const Tensor& x, Tensor& y) override {
    check_same(x, y, "relu_forward");
    kernels::launch_relu_forward(x.data(), y.data(), x.numel(), ctx_.stream());
  }

  void relu_backward(const Tensor& y, const Tensor& dy, Tensor& dx) override {
    check_same(y, dy, "relu_backward");
    check_same(y, dx, "relu_backward");
    kernels::launch_relu_backward(y.data(), dy.data(), dx.data(), y.numel(), ctx_.stream());
  }

  void pool_forward(PoolKind kind, const Tensor& x, Tensor& y) override {
    const Shape& s = x.shape();
    NST_ASSERT(y.shape() == pooled_shape(s), "pool_forward output shape");
    kernels::launch_pool_forward(kind == PoolKind::Max, x.data(), y.data(), s.n * s.c, s.h, s.w, ctx_.stream());
  }

  void pool_backward(PoolKind kind, const Tensor& x, const Tensor& dy, Tensor& dx) override {
    const Shape& s = x.shape();
    check_same(x, dx, "pool_backward");
    NST_ASSERT(dy.shape() == pooled_shape(s), "pool_backward gradient shape");
    kernels::launch_pool_backward(kind == PoolKind::Max, x.data(), dy.data(), dx.data(), s.n * s.c, s.h, s.w, ctx_.stream());
  }

  // G = F F^T / N. cuBLAS is column-major: row-major F (C x HW) is column-major A = F^T (HW x C), and
  // G = A^T A. SGEMM rather than SSYRK so that both triangles are written without a symmetrising pass.
  void gram(const Tensor& f, Tensor& g) override {
    int C = f.shape().c, hw = f.shape().h * f.shape().w;
    NST_ASSERT(f.shape().n == 1 && g.numel() == std::size_t(C) * C, "gram shapes");
    const float alpha = 1.f / float(f.numel()), zero = 0.f;
    NST_CUBLAS_CHECK(cublasSgemm(ctx_.cublas(), CUBLAS_OP_T, CUBLAS_OP_N, C, C, hw, &alpha, f.data(), hw, f.data(), hw, &zero, g.data(), C));
  }

  double content_loss(const Tensor& f, const Tensor& target, double weight, Tensor& grad) override {
    check_same(f, target, "content_loss");
    check_same(f, grad, "content_loss");
    std::size_t n = f.numel();
    unsigned parts = kernels::launch_content_loss(f.data(), target.data(), kernels::content_loss_k(weight, n), grad.data(), n,
                                                  partials_.get(), ctx_.stream());
    return kernels::content_loss_value(weight, n, sum_partials(parts));
  }

  double style_loss(const Tensor& f, const Tensor& target_gram, double weight, Tensor& grad) override {
    check_same(f, grad, "style_loss");
    int C = f.shape().c, hw = f.shape().h * f.shape().w;
    NST_ASSERT(target_gram.numel() == std::size_t(C) * C, "style_loss target Gram size");
    if (diff_.empty() || diff_.capacity() < std::size_t(C) * C) diff_ = alloc(Shape{1, 1, C, C});
    Tensor D = diff_.view(Shape{1, 1, C, C});
    gram(f, D);
    unsigned parts = kernels::launch_gram_diff(D.data(), target_gram.data(), std::size_t(C) * C, partials_.get(), ctx_.stream());
    // grad (row-major C x HW) += k D F, i.e. column-major grad^T += k F^T D (D is symmetric).
    const float k = kernels::style_loss_k(weight, f.numel(), C), one = 1.f;
    NST_CUBLAS_CHECK(cublasSgemm(ctx_.cublas(), CUBLAS_OP_N, CUBLAS_OP_N, hw, C, C, &k, f.data(), hw, D.data(), C, &one, grad.data(), hw));
    return kernels::style_loss_value(weight, C, sum_partials(parts));
  }

  double tv_loss(const Tensor& X, double weight, Tensor& grad) override {
    check_same(X, grad, "tv_loss");
    const Shape& s = X.shape();
    unsigned parts = kernels::launch_tv_loss(X.data(), kernels::tv_loss_k2(weight, s.h, s.w), grad.data(), s.n * s.c, s.h, s.w,
                                             partials_.get(), ctx_.stream());
    return kernels::tv_loss_value(weight, s.h, s.w, sum_partials(parts));
  }

  void fill(Tensor& x, float value) override { kernels::launch_fill(x.data(), value, x.numel(), ctx_.stream()); }

  void copy(const Tensor& src, Tensor& dst) override {
    NST_ASSERT(src.numel() == dst.numel(), "copy sizes differ");
    if (src.device() == Device::Host) return upload(src, dst);
    if (dst.device() == Device::Host) return download(src, dst);
    if (src.data() != dst.data())
      NST_CUDA_CHECK(cudaMemcpyAsync(dst.data(), src.data(), src.numel() * sizeof(float), cudaMemcpyDeviceToDevice, ctx_.stream()));
  }

  void axpy(float a, const Tensor& x, Tensor& y) override {
    check_same(x, y, "axpy");
    kernels::launch_axpy(a, x.data(), y.data(), x.numel(), ctx_.stream());
  }

  void scale(float a, Tensor& x) override { kernels::launch_scale(a, x.data(), x.numel(), ctx_.stream()); }

  double dot(const Tensor& x, const Tensor& y) override {
    check_same(x, y, "dot");
    unsigned parts = kernels::launch_dot(x.data(), y.data(), x.numel(), dpartials_.get(), ctx_.stream());
    std::vector<double> host(parts);
    NST_CUDA_CHECK(cudaMemcpyAsync(host.data(), dpartials_.get(), parts * sizeof(double), cudaMemcpyDeviceToHost, ctx_.stream()));
    ctx_.sync();
    return kernels::add_partials(host.data(), parts);
  }

  void adam_step(const AdamState& st, const Tensor& g, Tensor& m, Tensor& v, Tensor& x) override {
    check_same(g, x, "adam_step");
    check_same(m, x, "adam_step");
    check_same(v, x, "adam_step");
    kernels::launch_adam_step(g.data(), m.data(), v.data(), x.data(), x.numel(), adam_scalars(st), ctx_.stream());
  }

  // "IMPLICIT_PRECOMP_GEMM, 0.0 MiB": the plan's algorithm (and "tensor ops" where its math type allows
  // TF32), and its workspace.
  std::string conv_info(const Shape& x, const Shape& w, bool backward_data) override {
    NST_ASSERT(x.n == 1 && w.c == x.c && w.h == 3 && w.w == 3, "conv weight " + w.str() + " does not fit input " + x.str());
    static const char* const kFwd[] = {"IMPLICIT_GEMM", "IMPLICIT_PRECOMP_GEMM", "GEMM", "DIRECT", "FFT", "FFT_TILING", "WINOGRAD",
                                       "WINOGRAD_NONFUSED"};
    static const char* const kBwd[] = {"ALGO_0", "ALGO_1", "FFT", "FFT_TILING", "WINOGRAD", "WINOGRAD_NONFUSED"};
    const ConvPlan& p = plan_for(x.c, w.n, x.h, x.w);
    const int algo = backward_data ? int(p.bwd_algo) : int(p.fwd_algo);
    const int known = backward_data ? int(sizeof kBwd / sizeof kBwd[0]) : int(sizeof kFwd / sizeof kFwd[0]);
    std::string s = algo >= 0 && algo < known ? (backward_data ? kBwd : kFwd)[algo] : "algorithm " + std::to_string(algo);
    cudnnMathType_t math = CUDNN_DEFAULT_MATH;
    NST_CUDNN_CHECK(cudnnGetConvolutionMathType(backward_data ? p.d.bwd.get() : p.d.fwd.get(), &math));
    if (math == CUDNN_TENSOR_OP_MATH || math == CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION) s += " tensor ops";
    char ws[32];
    std::snprintf(ws, sizeof ws, ", %.1f MiB", double(backward_data ? p.bwd_workspace : p.fwd_workspace) / (1 << 20));
    return s + ws;
  }

  void to_rgb8(const Tensor& X, std::uint8_t* out) override {
    const Shape& s = X.shape();
    NST_ASSERT(s.n == 1 && s.c == 3, "to_rgb8 needs a 1x3xHxW image");
    std::size_t bytes = std::size_t(s.h) * s.w * 3;
    DeviceBuffer<unsigned char> d(bytes, "the 8-bit image");
    kernels::launch_to_rgb8(X.data(), d.get(), s.h, s.w, ctx_.stream());
    NST_CUDA_CHECK(cudaMemcpyAsync(out, d.get(), bytes, cudaMemcpyDeviceToHost, ctx_.stream()));
    ctx_.sync();
  }

 private:
  static std::size_t plane(const Tensor& t) { return std::size_t(t.shape().h) * t.shape().w; }

  // The plan for x (1xCxHxW) -> y (1xOxHxW) with weights w (OxCx3x3), made once per shape.
  const ConvPlan& plan(const Tensor& x, const Tensor& w, const Tensor& y) {
    const Shape &xs = x.shape(), &ws = w.shape();
    NST_ASSERT(xs.n == 1 && ws.h == 3 && ws.w == 3 && ws.c == xs.c, "conv weight " + ws.str() + " does not fit input " + xs.str());
    NST_ASSERT(y.shape() == (Shape{1, ws.n, xs.h, xs.w}), "conv output " + y.shape().str() + " for input " + xs.str());
    return plan_for(xs.c, ws.n, xs.h, xs.w);
  }

  const ConvPlan& plan_for(int C, int O, int H, int W) {
    auto key = std::make_tuple(C, O, H, W);
    auto it = plans_.find(key);
    if (it == plans_.end()) it = plans_.emplace(key, std::make_unique<ConvPlan>(ctx_.cudnn(), C, O, H, W, ctx_.tf32(), kWorkspaceLimit)).first;
    return *it->second;
  }

  // One workspace shared by every convolution, grown to the largest need.
  void* workspace(std::size_t bytes) {
    if (bytes > workspace_.size()) {
      ctx_.sync();  // the old buffer may still be in use by queued work
      workspace_ = DeviceBuffer<unsigned char>();
      workspace_ = DeviceBuffer<unsigned char>(bytes, "the convolution workspace");
    }
    return workspace_.get();
  }

  double sum_partials(unsigned parts) {
    std::vector<float> host(parts);
    NST_CUDA_CHECK(cudaMemcpyAsync(host.data(), partials_.get(), parts * sizeof(float), cudaMemcpyDeviceToHost, ctx_.stream()));
    ctx_.sync();
    return kernels::add_partials(host.data(), parts);
  }

  CudaContext ctx_;
  DeviceBuffer<float> partials_;
  DeviceBuffer<double> dpartials_;
  DeviceBuffer<unsigned char> workspace_;
  std::map<std::tuple<int, int, int, int>, std::unique_ptr<ConvPlan>> plans_;
  Tensor diff_;
};

}  // namespace
}  // namespace nst::cuda

namespace nst {

std::unique_ptr<Backend> make_cuda_backend(int device, Precision precision) {
  return std::make_unique<cuda::CudaBackend>(device, precision);
}

}  // namespace nst
