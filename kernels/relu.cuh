// ReLU forward: y = max(x, 0), NaN -> 0 as the CPU backend (y may alias x).
// ReLU backward: dx = dy where y > 0, else 0 (y is the ReLU's output; dx may alias dy).
// CPU twin: CpuBackend::relu_forward/relu_backward (src/cpu/cpu_backend.cpp); oracle: ref::relu_forward/relu_backward (src/cpu/ref/ref_ops.cpp); test: tests/kernels/test_relu.cpp.
#pragma once
#include "common.cuh"

namespace nst::kernels {

void launch_relu_forward(const float* x, float* y, std::size_t n, cudaStream_t stream);
void launch_relu_backward(const float* y, const float* dy, float* dx, std::size_t n, cudaStream_t stream);

}  // namespace nst::kernels
