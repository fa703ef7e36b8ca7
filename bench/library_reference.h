// The CPU libraries' own speed on each convolution, which issue 8 holds nst's CPU convolutions to (at least
// 70% of the best): oneDNN's direct convolution in its native blocked layout with its weights prepared (no
// reorders, so faster than any NCHW caller can be), and OpenBLAS's SGEMM through im2col (a blas-only
// backend). The bench's "library" columns come from here.
#pragma once
#include <memory>

#include "nst/backend.h"
#include "nst/cpu_backend.h"
#include "nst/tensor.h"
#include "results.h"
#include "timer.h"

namespace nst::bench {

class LibraryReference {
 public:
  explicit LibraryReference(int samples);

  // x (1xCxHxW), w, b and y are host tensors of one convolution; fills o.library and o.library_seconds.
  void measure(OpResult& o, Tensor& x, const Tensor& w, const Tensor& b, Tensor& y, bool backward_data);

 private:
  int samples_;
  std::unique_ptr<Backend> blas_;
  Timer blas_timer_;
  CpuLibraryConvTimer dnnl_;
};

}  // namespace nst::bench
