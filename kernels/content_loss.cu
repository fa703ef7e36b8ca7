#include "content_loss.cuh"

namespace nst::kernels {

// Grid-stride over the elements, so the launcher can cap the grid at kMaxReductionBlocks; each thread
// keeps its own sum of d^2 and the block adds them with block_sum (a tree, no atomics), which keeps the
// result independent of scheduling. Assumes blockDim.x == kBlock, which block_sum needs.
static __global__ void content_loss(const float* f, const float* target, float k, float* grad, std::size_t n,
                                    float* partials) {
  __shared__ float scratch[kBlock / 32];
  std::size_t stride = std::size_t(blockDim.x) * gridDim.x;
  float s = 0.f;
  for (std::size_t i = std::size_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    float d = f[i] - target[i];
    s += d * d;
    grad[i] += k * d;
  }
  // Threads past n reach this with s = 0: all of the block must take part in the reduction.
  s = block_sum(s, scratch);
  if (threadIdx.x == 0) partials[blockIdx.x] = s;
}

unsigned launch_content_loss(const float* f, const float* target, float k, float* grad, std::size_t n,
                             float* partials, cudaStream_t stream) {
  unsigned blocks = reduction_blocks(n);
  launch("content_loss", content_loss, blocks, kBlock, 0, stream, f, target, k, grad, n, partials);
  return blocks;
}

}  // namespace nst::kernels
