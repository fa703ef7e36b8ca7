#include "tv_loss.cuh"

namespace nst::kernels {

// One thread per pixel, grid-stride over all planes' pixels flattened, so consecutive threads read and
// write consecutive addresses; the up to four neighbours a thread reads are its neighbours' own pixels,
// served from cache, which is why there is no shared-memory tile. Each thread writes only its own pixel's
// gradient, gathering the four differences that touch it instead of scattering, so no atomics are needed.
// The sum takes each pixel's right and down differences, so every difference is counted once. Assumes
// blockDim.x == kBlock, which block_sum needs.
static __global__ void tv_loss(const float* X, float k2, float* grad, int planes, int H, int W,
                               float* partials) {
  __shared__ float scratch[kBlock / 32];
  std::size_t plane = std::size_t(H) * W, n = std::size_t(planes) * plane;
  std::size_t stride = std::size_t(blockDim.x) * gridDim.x;
  float s = 0.f;
  for (std::size_t i = std::size_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    std::size_t row = i / std::size_t(W);  // row over all planes
    int x = int(i - row * W), y = int(row % std::size_t(H));
    // The terms are added in the CPU backend's order, so the gradient rounds the same way.
    float v = X[i], gv = 0.f;
    if (x + 1 < W) {
      float d = X[i + 1] - v;
      s += d * d;
      gv -= d;
    }
    if (y + 1 < H) {
      float d = X[i + W] - v;
      s += d * d;
      gv -= d;
    }
    if (x > 0) gv += v - X[i - 1];
    if (y > 0) gv += v - X[i - W];
    grad[i] += k2 * gv;
  }
  // Threads past n reach this with s = 0: all of the block must take part in the reduction.
  s = block_sum(s, scratch);
  if (threadIdx.x == 0) partials[blockIdx.x] = s;
}

unsigned launch_tv_loss(const float* X, float k2, float* grad, int planes, int H, int W, float* partials,
                        cudaStream_t stream) {
  unsigned blocks = reduction_blocks(std::size_t(planes) * H * W);
  launch("tv_loss", tv_loss, blocks, kBlock, 0, stream, X, k2, grad, planes, H, W, partials);
  return blocks;
}

}  // namespace nst::kernels
