// Total variation of the image (SPEC §3): squared differences to the right and down neighbours that exist,
// and the gradient of their sum, in one pass.
// CPU twin: CpuBackend::tv_loss (src/cpu/cpu_backend.cpp); oracle: ref::tv_loss (src/cpu/ref/ref_ops.cpp); test: tests/kernels/test_tv_loss.cpp.
#pragma once
#include "common.cuh"

namespace nst::kernels {

// X is `planes` planes of H x W. For every pixel: grad[i] += k2 * (its share of the gradient of the sum of
// squared differences; k2 = 2 weight / (3HW), formed by the caller as the CPU backend does), and
// partials[b] = the sum of the squared right and down differences of the pixels block b visited. Returns
// the number of partials written, reduction_blocks(planes * H * W); the caller adds them up in double and
// scales by weight / (3HW).
unsigned launch_tv_loss(const float* X, float k2, float* grad, int planes, int H, int W, float* partials,
                        cudaStream_t stream);

// The host side, shared by CudaBackend::tv_loss and the kernel's test: k2, and the loss from the sum.
inline float tv_loss_k2(double weight, int H, int W) { return float(2 * weight / (3.0 * H * W)); }
inline double tv_loss_value(double weight, int H, int W, double sum) { return weight / (3.0 * H * W) * sum; }

}  // namespace nst::kernels
