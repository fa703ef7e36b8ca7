// ReLU forward: y = max(x, 0), NaN -> 0 as the CPU backend (y may alias x).
// ReLU backward: dx = dy where y > 0, else 0 (y is the ReLU's output; dx may alias dy).
#pragma once
#include "common.cuh"

namespace nst::kernels {

void launch_relu_forward(const float* x, float* y, std::size_t n, cudaStream_t stream);
void launch_relu_backward(const float* y, const float* dy, float* dx, std::size_t n, cudaStream_t stream);

}  // namespace nst::kernels
