#include "gram_diff.cuh"

namespace nst::kernels {

// Grid-stride over the entries, so the launcher can cap the grid at kMaxReductionBlocks; per-thread sums
// of D^2 are added by block_sum (a tree, no atomics). Assumes blockDim.x == kBlock, which block_sum needs.
static __global__ void gram_diff(float* G, const float* T, std::size_t n, float* partials) {
  __shared__ float scratch[kBlock / 32];
  std::size_t stride = std::size_t(blockDim.x) * gridDim.x;
  float s = 0.f;
  for (std::size_t i = std::size_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    float d = G[i] - T[i];
    G[i] = d;
    s += d * d;
  }
  // Threads past n reach this with s = 0: all of the block must take part in the reduction.
  s = block_sum(s, scratch);
  if (threadIdx.x == 0) partials[blockIdx.x] = s;
}

unsigned launch_gram_diff(float* G, const float* T, std::size_t n, float* partials, cudaStream_t stream) {
  unsigned blocks = reduction_blocks(n);
  launch("gram_diff", gram_diff, blocks, kBlock, 0, stream, G, T, n, partials);
  return blocks;
}

}  // namespace nst::kernels
