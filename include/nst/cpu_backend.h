// What the CPU backend offers beyond nst::Backend (its maker, make_cpu_backend, is in nst/backend.h): the speed
// of oneDNN's own convolution, which `nst bench` holds the backend's convolutions to (issue 8: at least 70% of
// the best library). It is a property of the library the backend is built on rather than an op, so it is not
// part of Backend; it is public so that bench/ needs none of src/cpu's private headers.
#pragma once
#include <memory>

namespace nst {

namespace cpu {
class DnnlConv;
}

// oneDNN's direct 3x3 convolution timed in its native blocked layout with its weights prepared: no reorders,
// so faster than any NCHW caller can be. One object keeps its plans and buffers between calls, as the CPU
// backend's own convolutions do, so that shapes met again are not planned again.
class CpuLibraryConvTimer {
 public:
  CpuLibraryConvTimer();
  ~CpuLibraryConvTimer();
  CpuLibraryConvTimer(const CpuLibraryConvTimer&) = delete;
  CpuLibraryConvTimer& operator=(const CpuLibraryConvTimer&) = delete;

  // Median seconds of `samples` runs, after a warm-up, of the forward or backward-data convolution of a
  // 1xCxHxW input with OxCx3x3 weights; negative where the CPU backend does not use oneDNN for it: built
  // without oneDNN, NST_CPU_CONV=blas, a CPU below AVX-512, or a shape oneDNN is not used for
  // (src/cpu/dnnl_conv.h says which).
  double seconds(int C, int O, int H, int W, bool backward_data, int samples);

 private:
  std::unique_ptr<cpu::DnnlConv> dnnl_;  // made for the first convolution oneDNN takes
};

}  // namespace nst
