// The CPU backend's fast convolution: oneDNN's direct 3x3 convolution (jit:avx512_core) on its blocked
// nChw16c layout, with the activations reordered from and to our NCHW around each call and the frozen
// weights reordered once per weight tensor.
//
// Why it is gated (measured on this project's 2-core Xeon, oneDNN 2.6 from Debian; README.md, Benchmarks):
// - oneDNN's default ISA here is AMX, whose kernels segfault in this VM: we cap it at avx512_core before the
//   first primitive is made (unless the user set DNNL_MAX_CPU_ISA), and use oneDNN only where the effective
//   ISA is an AVX-512 one;
// - its avx512_core backward-data crashes for 3 input channels, and blocked layouts pad channels to 16:
//   oneDNN takes convolutions whose C and O are multiples of 16 (all of VGG19's but conv1_1), and the
//   forward pass of those with fewer than 16 input channels, which it reads in NCHW (conv1_1: 3x faster);
// - NST_CPU_CONV=blas turns it off (im2col + OpenBLAS everywhere), NST_CPU_CONV=auto (default) as above.
// Forward reaches 330-410 GFLOP/s with the reorders against 150-300 for im2col + SGEMM on these shapes.
#pragma once
#include <memory>
#include <string>

#include "nst/backend.h"
#include "nst/tensor.h"

namespace nst::cpu {

class DnnlConv {
 public:
  // Empty when oneDNN is used on this machine; otherwise why not ("built without oneDNN", "NST_CPU_CONV=blas",
  // "oneDNN's ISA here is avx2"). Decided once per process.
  static const std::string& unavailable_reason();
  // Whether oneDNN takes a convolution from C to O channels in this direction (when available).
  static bool suits(int C, int O, bool backward_data) {
    return C > 0 && O > 0 && O % 16 == 0 && (C % 16 == 0 || (!backward_data && C < 16));
  }

  // The algorithm (nst/backend.h): direct; Winograd where oneDNN has one for the shape, else direct; or
  // per shape and direction the faster of the two, timed once when the shape is first met.
  explicit DnnlConv(ConvAlgo algo = ConvAlgo::Direct);
  ~DnnlConv();
  DnnlConv(const DnnlConv&) = delete;
  DnnlConv& operator=(const DnnlConv&) = delete;

  // y[O,H,W] = conv(x[C,H,W], w) + bias; dx[C,H,W] = conv^T(dy[O,H,W], w). w is OxCx3x3, frozen: its
  // blocked copy is kept for as long as this object lives, keyed on w.storage_id().
  void forward(const float* x, int C, int H, int W, const Tensor& w, const float* bias, float* y);
  void backward_data(const float* dy, int H, int W, const Tensor& w, float* dx);
  // "onednn jit:avx512_core, nChw16c" — the implementation oneDNN picked for this shape.
  std::string describe(int C, int O, int H, int W, bool backward_data);
  // For `nst bench` (through nst/cpu_backend.h): the library's own median seconds for this convolution in its
  // native layout (no reorders, weights prepared), the reference our path is held to.
  double native_seconds(int C, int O, int H, int W, bool backward_data, int samples);
  // Bytes of the blocked weight copies and reorder buffers held now.
  std::size_t bytes_held() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace nst::cpu
