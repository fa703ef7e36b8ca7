// The CPU backend: convolutions on oneDNN where it is usable (dnnl_conv.h) and our AVX-512 kernel for few
// input channels (conv_small_c.h), else im2col + OpenBLAS SGEMM over row tiles; Grams on an AVX-512 kernel
// or SSYRK; the rest as OpenMP loops (pool backward with AVX-512 rows). Each fast path is chosen at run
// time and has a portable twin (blas_only). Also the reference that every CUDA result is checked against,
// so each op is tested against the double-precision oracle in ref/.
#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>

#include "cpu/conv_small_c.h"
#include "cpu/dnnl_conv.h"
#include "cpu/gram_avx512.h"
#include "cpu/pool_avx512.h"
#include "nst/backend.h"
#include "nst/error.h"
#include "nst/image.h"

namespace nst {
namespace {

void check_host(const Tensor& t, const char* what) {
  NST_ASSERT(t.device() == Device::Host && !t.empty(), std::string(what) + " is not a host tensor");
}

void check_same(const Tensor& a, const Tensor& b, const char* op) {
  NST_ASSERT(a.shape() == b.shape(), std::string(op) + ": shapes " + a.shape().str() + " and " + b.shape().str() + " differ");
}

// Bound on the im2col buffer: big enough that each SGEMM has thousands of columns, small enough to stay
// near the last-level cache instead of materialising 9x the activation (600 MB for conv1_2 at 512²).
constexpr std::size_t kIm2colBytes = std::size_t(16) << 20;

// OpenBLAS's GEMM packing buffers, which it touches in proportion to the matrices (measured: ~30 MiB at
// VGG19 sizes with 2 threads).
constexpr std::size_t kBlasBytes = std::size_t(32) << 20;

class CpuBackend final : public Backend {
 public:
  CpuBackend(bool blas_only, ConvAlgo algo)
      : blas_only_(blas_only), use_dnnl_(!blas_only && cpu::DnnlConv::unavailable_reason().empty()), algo_(algo) {}

  std::string name() const override {
    return algo_ == ConvAlgo::Winograd ? "cpu (winograd)" : algo_ == ConvAlgo::Fastest ? "cpu (fastest)" : "cpu";
  }
  Device device() const override { return Device::Host; }

  // MemAvailable from /proc/meminfo: what the kernel can give without swapping.
  std::size_t memory_available() const override {
    std::ifstream in("/proc/meminfo");
    std::string key;
    std::size_t kib = 0;
    while (in >> key >> kib) {
      if (key == "MemAvailable:") return kib * 1024;
      in.ignore(256, '\n');
    }
    return std::size_t(1) << 40;  // unknown: do not refuse
  }
  // What stays from one convolution to the next, each at its largest: the im2col/col2im tile of the
  // convolutions that take that path, oneDNN's blocked input and output buffers, OpenBLAS's buffers.
  std::size_t conv_workspace(const std::vector<ConvShape>& convs) const override {
    std::size_t tile = 0, in = 0, out = 0;
    for (const ConvShape& cs : convs) {
      const int C = cs.w.c, O = cs.w.n;
      const std::size_t hw = std::size_t(cs.x.h) * cs.x.w;
      const bool fwd_im2col = !small_c_takes(C, O) && !dnnl_takes(C, O, false), bwd_im2col = !dnnl_takes(C, O, true);
      if (fwd_im2col || bwd_im2col) tile = std::max(tile, im2col_floats(C, cs.x.h, cs.x.w) * sizeof(float));
      if (dnnl_takes(C, O, false)) in = std::max(in, C * hw * sizeof(float)), out = std::max(out, O * hw * sizeof(float));
      if (dnnl_takes(C, O, true)) in = std::max(in, O * hw * sizeof(float)), out = std::max(out, C * hw * sizeof(float));
    }
    return tile + in + out + kBlasBytes;
  }
  std::size_t weight_extra_bytes(const Shape& w) const override {
    return (int(dnnl_takes(w.c, w.n, false)) + int(dnnl_takes(w.c, w.n, true))) * w.numel() * sizeof(float);
  }

  Tensor alloc(Shape shape) override { return Tensor::host(shape); }
  void upload(const Tensor& host, Tensor& dst) override { copy(host, dst); }
  void download(const Tensor& src, Tensor& host) override { copy(src, host); }

  void normalize_forward(const Tensor& X, const Normalization& norm, Tensor& x) override {
    check_same(X, x, "normalize_forward");
    NST_ASSERT(X.shape().c == 3 && X.shape().n == 1, "normalize_forward needs a 1x3xHxW image");
    std::size_t plane = std::size_t(X.shape().h) * X.shape().w;
    for (int c = 0; c < 3; ++c) {
      const float* src = X.data() + (norm.bgr ? 2 - c : c) * plane;
      float* dst = x.data() + c * plane;
      float a = float(norm.scale / norm.std[c]), b = float(norm.mean[c] / norm.std[c]);
      for (std::size_t i = 0; i < plane; ++i) dst[i] = a * src[i] - b;
    }
  }

  void normalize_backward(const Tensor& dx, const Normalization& norm, Tensor& dX) override {
    check_same(dx, dX, "normalize_backward");
    std::size_t plane = std::size_t(dx.shape().h) * dx.shape().w;
    for (int c = 0; c < 3; ++c) {
      const float* src = dx.data() + c * plane;
      float* dst = dX.data() + (norm.bgr ? 2 - c : c) * plane;
      float a = float(norm.scale / norm.std[c]);
      for (std::size_t i = 0; i < plane; ++i) dst[i] += a * src[i];
    }
  }

  void conv_forward(const Tensor& x, const Tensor& w, const Tensor& b, Tensor& y) override {
    check_conv(x, w, y);
    NST_ASSERT(b.numel() == std::size_t(w.shape().n), "conv bias size");
    if (small_c_takes(x.shape().c, w.shape().n))
      return cpu::small_c_conv_forward(x.data(), x.shape().c, x.shape().h, x.shape().w, w.data(), w.shape().n, b.data(), y.data());
    if (dnnl_takes(x.shape().c, w.shape().n, false))
      return dnnl().forward(x.data(), x.shape().c, x.shape().h, x.shape().w, w, b.data(), y.data());
    conv3x3(x.data(), x.shape().c, x.shape().h, x.shape().w, w.data(), w.shape().n, b.data(), y.data());
  }

  // Backward-data as dcol = W^T dy (one SGEMM per row tile) and col2im. The other form, the forward
  // convolution of the rotated, transposed weights, has the same FLOPs but an O*9 x HW buffer instead of
  // C*9 x HW, and VGG19 always has C <= O: for conv1_1 that is 27 rows instead of 576 (18 ms -> 2.3 ms).
  void conv_backward_data(const Tensor& dy, const Tensor& w, Tensor& dx) override {
    check_conv(dx, w, dy);
    if (dnnl_takes(w.shape().c, w.shape().n, true)) return dnnl().backward_data(dy.data(), dy.shape().h, dy.shape().w, w, dx.data());
    conv3x3_adjoint(dy.data(), w.shape().n, dy.shape().h, dy.shape().w, w.data(), w.shape().c, dx.data());
  }

  void relu_forward(const Tensor& x, Tensor& y) override {
    check_same(x, y, "relu_forward");
    const float* s = x.data();
    float* d = y.data();
    std::size_t n = x.numel();
#pragma omp parallel for simd schedule(static)
    for (std::size_t i = 0; i < n; ++i) d[i] = s[i] > 0.f ? s[i] : 0.f;
  }

  void relu_backward(const Tensor& y, const Tensor& dy, Tensor& dx) override {
    check_same(y, dy, "relu_backward");
    check_same(y, dx, "relu_backward");
    const float* m = y.data();
    const float* g = dy.data();
    float* d = dx.data();
    std::size_t n = y.numel();
#pragma omp parallel for simd schedule(static)
    for (std::size_t i = 0; i < n; ++i) {
      // Load unconditionally, then select: a load under the condition does not vectorise (measured 6 GB/s
      // against ~100 GB/s for this form).
      float v = g[i];
      d[i] = m[i] > 0.f ? v : 0.f;
    }
  }

  void pool_forward(PoolKind kind, const Tensor& x, Tensor& y) override {
    const Shape& s = x.shape();
    NST_ASSERT(y.shape() == pooled_shape(s), "pool_forward output shape");
    int H = s.h, W = s.w, oh = H / 2, ow = W / 2, planes = s.n * s.c;
#pragma omp parallel for schedule(static)
    for (int p = 0; p < planes; ++p) {
      const float* in = x.data() + std::size_t(p) * H * W;
      float* out = y.data() + std::size_t(p) * oh * ow;
      for (int i = 0; i < oh; ++i) {
        const float* r0 = in + std::size_t(2 * i) * W;
        const float* r1 = r0 + W;
        for (int j = 0; j < ow; ++j) {
          float a = r0[2 * j], b = r0[2 * j + 1], c = r1[2 * j], d = r1[2 * j + 1];
          out[i * ow + j] = kind == PoolKind::Max ? std::max(std::max(a, b), std::max(c, d)) : 0.25f * ((a + b) + (c + d));
        }
      }
    }
  }

  void pool_backward(PoolKind kind, const Tensor& x, const Tensor& dy, Tensor& dx) override {
    const Shape& s = x.shape();
    check_same(x, dx, "pool_backward");
    NST_ASSERT(dy.shape() == pooled_shape(s), "pool_backward gradient shape");
    int H = s.h, W = s.w, oh = H / 2, ow = W / 2, planes = s.n * s.c;
    const bool simd = !blas_only_ && cpu::pool_avx512_available();
#pragma omp parallel for schedule(static)
    for (int p = 0; p < planes; ++p) {
      const float* in = x.data() + std::size_t(p) * H * W;
      const float* g = dy.data() + std::size_t(p) * oh * ow;
      float* out = dx.data() + std::size_t(p) * H * W;
      for (int i = 0; i < oh; ++i) {
        const float* x0 = in + std::size_t(2 * i) * W;
        const float* x1 = x0 + W;
        float* d0 = out + std::size_t(2 * i) * W;
        float* d1 = d0 + W;
        const float* gi = g + std::size_t(i) * ow;
        const int done = simd ? cpu::pool_backward_rows_avx512(kind == PoolKind::Max, x0, x1, gi, W, d0, d1) / 2 : 0;
        // Every element of each window is written, with selects instead of branches (a max pool's winner is
        // data-dependent, and mispredicted branches made this loop 10x slower than the forward pass).
        if (kind == PoolKind::Avg) {
          for (int j = done; j < ow; ++j) {
            float q = 0.25f * gi[j];
            d0[2 * j] = q, d0[2 * j + 1] = q, d1[2 * j] = q, d1[2 * j + 1] = q;
          }
        } else {
          for (int j = done; j < ow; ++j) {
            // The first maximum in row-major order, as PyTorch's CPU kernel (and NaN never wins, as there).
            float a = x0[2 * j], b = x0[2 * j + 1], c = x1[2 * j], d = x1[2 * j + 1], gv = gi[j];
            float m = a;
            int k = 0;
            k = b > m ? 1 : k, m = b > m ? b : m;
            k = c > m ? 2 : k, m = c > m ? c : m;
            k = d > m ? 3 : k;
            d0[2 * j] = k == 0 ? gv : 0.f, d0[2 * j + 1] = k == 1 ? gv : 0.f;
            d1[2 * j] = k == 2 ? gv : 0.f, d1[2 * j + 1] = k == 3 ? gv : 0.f;
          }
        }
        // An odd last column took no part in the forward pass: its gradient is zero.
        if (W % 2) d0[W - 1] = 0.f, d1[W - 1] = 0.f;
      }
      if (H % 2) std::memset(out + std::size_t(H - 1) * W, 0, sizeof(float) * W);  // and an odd last row
    }
  }

  void gram(const Tensor& f, Tensor& g) override {
    int C = f.shape().c;
    NST_ASSERT(f.shape().n == 1 && g.numel() == std::size_t(C) * C, "gram shapes");
    int hw = f.shape().h * f.shape().w;
    float inv_n = 1.f / float(f.numel());
    if (!blas_only_ && cpu::gram_avx512_suits(C)) return cpu::gram_avx512(f.data(), C, hw, inv_n, g.data());
    cblas_ssyrk(CblasRowMajor, CblasUpper, CblasNoTrans, C, hw, inv_n, f.data(), hw, 0.f, g.data(), C);
    float* G = g.data();
    for (int a = 0; a < C; ++a)
      for (int b = 0; b < a; ++b) G[std::size_t(a) * C + b] = G[std::size_t(b) * C + a];
  }

  double content_loss(const Tensor& f, const Tensor& target, double weight, Tensor& grad) override {
    check_same(f, target, "content_loss");
    check_same(f, grad, "content_loss");
    const float* a = f.data();
    const float* t = target.data();
    float* g = grad.data();
    std::size_t n = f.numel();
    float k = float(2 * weight / double(n));
    double s = 0;
#pragma omp parallel for simd reduction(+ : s) schedule(static)
    for (std::size_t i = 0; i < n; ++i) {
      float d = a[i] - t[i];
      s += double(d) * d;
      g[i] += k * d;
    }
    return weight / double(n) * s;
  }

  double style_loss(const Tensor& f, const Tensor& target_gram, double weight, Tensor& grad) override {
    check_same(f, grad, "style_loss");
    int C = f.shape().c, hw = f.shape().h * f.shape().w;
    NST_ASSERT(target_gram.numel() == std::size_t(C) * C, "style_loss target Gram size");
    if (diff_.empty() || diff_.numel() != std::size_t(C) * C) diff_ = Tensor::host(Shape{1, 1, C, C});
    gram(f, diff_);
    float* D = diff_.data();
    const float* T = target_gram.data();
    double s = 0;
    for (std::size_t i = 0; i < std::size_t(C) * C; ++i) {
      D[i] -= T[i];
      s += double(D[i]) * D[i];
    }
    double c2 = double(C) * C;
    float k = float(4 * weight / (double(f.numel()) * c2));
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, C, hw, C, k, D, C, f.data(), hw, 1.f, grad.data(), hw);
    return weight / c2 * s;
  }

  double tv_loss(const Tensor& X, double weight, Tensor& grad) override {
    check_same(X, grad, "tv_loss");
    const Shape& s = X.shape();
    int H = s.h, W = s.w, planes = s.n * s.c;
    float k2 = float(2 * weight / (3.0 * H * W));
    double sum = 0;
#pragma omp parallel for reduction(+ : sum) schedule(static)
    for (int p = 0; p < planes; ++p) {
      const float* x = X.data() + std::size_t(p) * H * W;
      float* g = grad.data() + std::size_t(p) * H * W;
      for (int i = 0; i < H; ++i)
        for (int j = 0; j < W; ++j) {
          // Gradient of every difference that touches pixel (i,j): to the right, down, from the left, from above.
          float v = x[i * W + j], gv = 0.f;
          if (j + 1 < W) { float d = x[i * W + j + 1] - v; sum += double(d) * d; gv -= d; }
          if (i + 1 < H) { float d = x[(i + 1) * W + j] - v; sum += double(d) * d; gv -= d; }
          if (j > 0) gv += v - x[i * W + j - 1];
          if (i > 0) gv += v - x[(i - 1) * W + j];
          g[i * W + j] += k2 * gv;
        }
    }
    return weight / (3.0 * H * W) * sum;
  }

  void fill(Tensor& x, float value) override { std::fill(x.data(), x.data() + x.numel(), value); }

  void copy(const Tensor& src, Tensor& dst) override {
    NST_ASSERT(src.numel() == dst.numel(), "copy sizes differ");
    if (src.data() != dst.data()) std::memcpy(dst.data(), src.data(), src.numel() * sizeof(float));
  }

  void axpy(float a, const Tensor& x, Tensor& y) override {
    check_same(x, y, "axpy");
    cblas_saxpy(int(x.numel()), a, x.data(), 1, y.data(), 1);
  }

  void scale(float a, Tensor& x) override { cblas_sscal(int(x.numel()), a, x.data(), 1); }

  double dot(const Tensor& x, const Tensor& y) override {
    check_same(x, y, "dot");
    const float* a = x.data();
    const float* b = y.data();
    std::size_t n = x.numel();
    double s = 0;
#pragma omp parallel for simd reduction(+ : s) schedule(static)
    for (std::size_t i = 0; i < n; ++i) s += double(a[i]) * b[i];
    return s;
  }

  void adam_step(const AdamState& st, const Tensor& g, Tensor& m, Tensor& v, Tensor& x) override {
    check_same(g, x, "adam_step");
    check_same(m, x, "adam_step");
    check_same(v, x, "adam_step");
    const AdamScalars a = adam_scalars(st);
    const float* gp = g.data();
    float *mp = m.data(), *vp = v.data(), *xp = x.data();
    std::size_t n = x.numel();
#pragma omp parallel for simd schedule(static)
    for (std::size_t i = 0; i < n; ++i) {
      mp[i] = a.b1 * mp[i] + a.a1 * gp[i];
      vp[i] = a.b2 * vp[i] + a.a2 * (gp[i] * gp[i]);
      float denom = std::sqrt(vp[i]) / a.bc2_sqrt + a.eps;
      xp[i] -= a.step_size * (mp[i] / denom);
    }
  }

  // Host memory is this backend's: the engine's host conversion is the op.
  void to_rgb8(const Tensor& X, std::uint8_t* out) override { ::nst::to_rgb8(X, out); }

  std::string conv_info(const Shape& x, const Shape& w, bool backward_data) override {
    if (!backward_data && small_c_takes(w.c, w.n)) return "direct avx-512, few input channels (conv_small_c.h)";
    if (dnnl_takes(w.c, w.n, backward_data)) return dnnl().describe(w.c, w.n, x.h, x.w, backward_data);
    std::string why = blas_only_ ? "blas only" : cpu::DnnlConv::unavailable_reason();
    if (why.empty()) why = "oneDNN does not take these channels";
    return "im2col + openblas sgemm (" + why + ")";
  }

 private:
  // The forward pass's choice, in order: our AVX-512 kernel for few input channels, oneDNN, im2col + SGEMM.
  bool small_c_takes(int C, int O) const { return !blas_only_ && cpu::small_c_conv_suits(C, O); }
  bool dnnl_takes(int C, int O, bool bwd) const {
    return use_dnnl_ && cpu::DnnlConv::suits(C, O, bwd) && !(!bwd && small_c_takes(C, O));
  }
  cpu::DnnlConv& dnnl() {
    if (!dnnl_) dnnl_ = std::make_unique<cpu::DnnlConv>(algo_);
    return *dnnl_;
  }

  static void check_conv(const Tensor& x, const Tensor& w, const Tensor& y) {
    check_host(x, "conv input");
    const Shape &xs = x.shape(), &ws = w.shape(), &ys = y.shape();
    NST_ASSERT(xs.n == 1 && ws.h == 3 && ws.w == 3 && ws.c == xs.c, "conv weight " + ws.str() + " does not fit input " + xs.str());
    NST_ASSERT(ys == (Shape{1, ws.n, xs.h, xs.w}), "conv output " + ys.str() + " for input " + xs.str());
  }

  // y[O,H,W] = w[O,C*9] * im2col(x) (+ bias), one SGEMM per tile of output rows.
  void conv3x3(const float* x, int C, int H, int W, const float* w, int O, const float* bias, float* y) {
    std::size_t K = std::size_t(C) * 9, HW = std::size_t(H) * W;
    const int rows = im2col_rows(C, H, W);
    grow_col(im2col_floats(C, H, W));
    for (int r0 = 0; r0 < H; r0 += rows) {
      int nr = std::min(rows, H - r0);
      std::size_t cols = std::size_t(nr) * W;
#pragma omp parallel for schedule(static)
      for (std::size_t k = 0; k < K; ++k) {
        int c = int(k / 9), kh = int(k % 9) / 3, kw = int(k % 3);
        float* dst = col_.data() + k * cols;
        for (int r = 0; r < nr; ++r) {
          int i = r0 + r + kh - 1;
          float* d = dst + std::size_t(r) * W;
          if (i < 0 || i >= H) { std::fill(d, d + W, 0.f); continue; }
          const float* s = x + (std::size_t(c) * H + i) * W;
          // Column j reads input column j + kw - 1: shift the row, zero the padded edge.
          int lo = kw == 0 ? 1 : 0, hi = kw == 2 ? W - 1 : W;
          if (kw == 0) d[0] = 0.f;
          if (kw == 2) d[W - 1] = 0.f;
          std::memcpy(d + lo, s + lo + kw - 1, sizeof(float) * (hi - lo));
        }
      }
      float* yt = y + std::size_t(r0) * W;
      if (bias) {
        for (int o = 0; o < O; ++o) std::fill(yt + o * HW, yt + o * HW + cols, bias[o]);
      }
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, O, int(cols), int(K), 1.f, w, int(K), col_.data(),
                  int(cols), bias ? 1.f : 0.f, yt, int(HW));
    }
  }

  // dx[C,H,W] = col2im(W^T dy), one SGEMM per tile of rows of dy; each tile's columns scatter into input
  // rows r0-1 .. r1, so tiles accumulate into dx one after another.
  void conv3x3_adjoint(const float* dy, int O, int H, int W, const float* w, int C, float* dx) {
    std::size_t K = std::size_t(C) * 9, HW = std::size_t(H) * W;
    const int rows = im2col_rows(C, H, W);
    grow_col(im2col_floats(C, H, W));
    std::fill(dx, dx + std::size_t(C) * HW, 0.f);
    for (int r0 = 0; r0 < H; r0 += rows) {
      int nr = std::min(rows, H - r0);
      std::size_t cols = std::size_t(nr) * W;
      cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, int(K), int(cols), O, 1.f, w, int(K), dy + std::size_t(r0) * W,
                  int(HW), 0.f, col_.data(), int(cols));
#pragma omp parallel for schedule(static)
      for (int c = 0; c < C; ++c)
        for (int k = 0; k < 9; ++k) {
          int kh = k / 3, kw = k % 3;
          const float* src = col_.data() + (std::size_t(c) * 9 + k) * cols;
          for (int r = 0; r < nr; ++r) {
            int i = r0 + r + kh - 1;
            if (i < 0 || i >= H) continue;
            float* d = dx + (std::size_t(c) * H + i) * W;
            const float* s = src + std::size_t(r) * W;
            // Column j of the tile came from input column j + kw - 1.
            int lo = kw == 0 ? 1 : 0, hi = kw == 2 ? W - 1 : W;
            for (int j = lo; j < hi; ++j) d[j + kw - 1] += s[j];
          }
        }
    }
  }

  const bool blas_only_, use_dnnl_;
  const ConvAlgo algo_;
  std::unique_ptr<cpu::DnnlConv> dnnl_;  // made on the first convolution it takes
  // Rows of the image per im2col/col2im tile (C*9 x rows*W floats), and the tile's floats.
  static int im2col_rows(int C, int H, int W) {
    return int(std::clamp<std::size_t>(kIm2colBytes / (std::size_t(C) * 9 * W * sizeof(float)), 1, H));
  }
  static std::size_t im2col_floats(int C, int H, int W) { return std::size_t(C) * 9 * im2col_rows(C, H, W) * W; }

  // The im2col/col2im tile, grown as a larger one is needed: the old tile is freed first, never copied
  // (vector::resize would hold both and touch the new one's pages: +16 MiB of peak at 512²).
  void grow_col(std::size_t n) {
    if (col_.size() >= n) return;
    col_ = std::vector<float>();
    col_.resize(n);
  }

  std::vector<float> col_;
  Tensor diff_;
};

}  // namespace

std::unique_ptr<Backend> make_cpu_backend(bool blas_only, ConvAlgo algo) { return std::make_unique<CpuBackend>(blas_only, algo); }

}  // namespace nst
