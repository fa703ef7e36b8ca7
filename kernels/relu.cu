#include "relu.cuh"

namespace nst::kernels {

// Grid-stride loop: any grid size covers any n, so launchers can cap the grid.
static __global__ void relu_backward(const float* y, const float* dy, float* dx, std::size_t n) {
  std::size_t stride = std::size_t(blockDim.x) * gridDim.x;
  for (std::size_t i = std::size_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride)
    dx[i] = y[i] > 0.f ? dy[i] : 0.f;
}

void launch_relu_backward(const float* y, const float* dy, float* dx, std::size_t n, cudaStream_t stream) {
  launch("relu_backward", relu_backward, blocks_for(n), kBlock, 0, stream, y, dy, dx, n);
}

}  // namespace nst::kernels
