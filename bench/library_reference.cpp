// The libraries' reference times (library_reference.h): the faster of OpenBLAS through im2col, timed on a
// blas-only CPU backend, and oneDNN's native convolution where the CPU backend would use oneDNN.
#include "library_reference.h"

namespace nst::bench {

LibraryReference::LibraryReference(int samples) : samples_(samples), blas_(make_cpu_backend(true)), blas_timer_(*blas_, samples) {}

void LibraryReference::measure(OpResult& o, Tensor& x, const Tensor& w, const Tensor& b, Tensor& y, bool backward_data) {
  const int C = w.shape().c, O = w.shape().n, H = x.shape().h, W = x.shape().w;
  o.library = "openblas";
  o.library_seconds = blas_timer_.median_of([&] {
    if (backward_data) blas_->conv_backward_data(y, w, x);
    else blas_->conv_forward(x, w, b, y);
  });
  const double t = dnnl_.seconds(C, O, H, W, backward_data, samples_);  // negative where oneDNN does not take it
  if (t > 0 && t < o.library_seconds) o.library = "onednn", o.library_seconds = t;
}

}  // namespace nst::bench
