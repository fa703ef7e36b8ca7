#include "to_rgb8.cuh"

namespace nst::kernels {

// One thread per pixel: three coalesced plane loads, three bytes stored at 3i..3i+2, so a warp writes 96
// consecutive bytes. nvcc may fuse v * 255 + 0.5 into one FMA where the CPU backend rounds twice; over every
// float in [0,1] the floor of the two never differs (tests/kernels/test_to_rgb8.cpp checks all of them), so
// the bytes match the CPU's exactly.
static __global__ void to_rgb8(const float* X, unsigned char* out, std::size_t plane) {
  std::size_t stride = std::size_t(blockDim.x) * gridDim.x;
  for (std::size_t i = std::size_t(blockIdx.x) * blockDim.x + threadIdx.x; i < plane; i += stride) {
    for (int c = 0; c < 3; ++c) {
      float v = X[c * plane + i];
      v = v > 0.f ? (v < 1.f ? v : 1.f) : 0.f;  // NaN fails v > 0 and becomes 0
      out[i * 3 + c] = static_cast<unsigned char>(floorf(v * 255.f + 0.5f));
    }
  }
}

void launch_to_rgb8(const float* X, unsigned char* out, int H, int W, cudaStream_t stream) {
  std::size_t plane = std::size_t(H) * std::size_t(W);
  launch("to_rgb8", to_rgb8, blocks_for(plane), kBlock, 0, stream, X, out, plane);
}

}  // namespace nst::kernels
