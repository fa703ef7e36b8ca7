// Content loss on one layer (SPEC §3): the squared distance of the features f to the target, and its
// gradient, in one pass.
// CPU twin: CpuBackend::content_loss (src/cpu/cpu_backend.cpp); oracle: ref::content_loss (src/cpu/ref/ref_ops.cpp); test: tests/kernels/test_content_loss.cpp.
#pragma once
#include "common.cuh"

namespace nst::kernels {

// d = f - target: grad[i] += k * d[i] (k = 2 weight / N, formed by the caller as the CPU backend does), and
// partials[b] = the sum of d^2 over the elements block b visited. Returns the number of partials written,
// reduction_blocks(n); the caller adds them up in double and scales by weight / N.
unsigned launch_content_loss(const float* f, const float* target, float k, float* grad, std::size_t n,
                             float* partials, cudaStream_t stream);

// The host side, shared by CudaBackend::content_loss and the kernel's test: the gradient's factor k, and
// the loss from the partials' sum.
inline float content_loss_k(double weight, std::size_t n) { return float(2 * weight / double(n)); }
inline double content_loss_value(double weight, std::size_t n, double sum) { return weight / double(n) * sum; }

}  // namespace nst::kernels
