#include "relu.cuh"

namespace nst::kernels {

// A comparison rather than fmaxf: fmaxf(NaN, 0) is 0 too, but the select states the CPU backend's rule
// (x > 0 ? x : 0) and maps -0 to +0 the same way.
static __global__ void relu_forward(const float* x, float* y, std::size_t n) {
  std::size_t stride = std::size_t(blockDim.x) * gridDim.x;
  for (std::size_t i = std::size_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    float v = x[i];
    y[i] = v > 0.f ? v : 0.f;
  }
}

// Grid-stride loop: any grid size covers any n, so launchers can cap the grid.
static __global__ void relu_backward(const float* y, const float* dy, float* dx, std::size_t n) {
  std::size_t stride = std::size_t(blockDim.x) * gridDim.x;
  for (std::size_t i = std::size_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride)
    dx[i] = y[i] > 0.f ? dy[i] : 0.f;
}

void launch_relu_forward(const float* x, float* y, std::size_t n, cudaStream_t stream) {
  launch("relu_forward", relu_forward, blocks_for(n), kBlock, 0, stream, x, y, n);
}

void launch_relu_backward(const float* y, const float* dy, float* dx, std::size_t n, cudaStream_t stream) {
  launch("relu_backward", relu_backward, blocks_for(n), kBlock, 0, stream, y, dy, dx, n);
}

}  // namespace nst::kernels
