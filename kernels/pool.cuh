// 2x2 stride-2 pooling in floor mode (an odd last row or column is dropped), max or average, over
// `planes` contiguous H x W planes (planes = N * C); the pooled planes are (H/2) x (W/2).
// CPU twin: CpuBackend::pool_forward/pool_backward (src/cpu/cpu_backend.cpp; backward rows in src/cpu/pool_avx512.cpp); oracle: ref::pool_forward/pool_backward (src/cpu/ref/ref_ops.cpp); test: tests/kernels/test_pool.cpp.
#pragma once
#include "common.cuh"

namespace nst::kernels {

// y = pool(x). Max as std::max(std::max(a, b), std::max(c, d)); avg as 0.25f * ((a + b) + (c + d)),
// the CPU backend's order, so the results are bit-identical to it.
void launch_pool_forward(bool max, const float* x, float* y, int planes, int H, int W, cudaStream_t stream);

// dx (planes x H x W) is overwritten entirely: avg gives 0.25f * g to each pixel of the window; max gives
// the whole g to the first maximum of the window in row-major order (strict >, as PyTorch's CPU kernel)
// and 0 to the other three; the dropped odd last row and column get 0.
void launch_pool_backward(bool max, const float* x, const float* dy, float* dx, int planes, int H, int W,
                          cudaStream_t stream);

}  // namespace nst::kernels
