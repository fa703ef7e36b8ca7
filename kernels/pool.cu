#include "pool.cuh"

namespace nst::kernels {

// Pooling is memory-bound and the loops stride over the grid, so the grid stops at about one full wave of
// 256-thread blocks on a 132-SM H100 (8 blocks per SM): more blocks would only add scheduling.
constexpr unsigned kMaxPoolBlocks = 1024;

static unsigned pool_blocks(std::size_t n) {
  unsigned b = blocks_for(n);
  return b < kMaxPoolBlocks ? b : kMaxPoolBlocks;
}

// std::max(a, b) spelled out: fmaxf differs on NaN and may return either zero for (-0, +0), and the CPU
// backend's result must be reproduced bit for bit.
__device__ __forceinline__ float max_of(float a, float b) { return a < b ? b : a; }

// One thread per output pixel; consecutive threads write consecutive outputs, and a warp's loads are the
// 2 x 64 contiguous floats of its windows, each sector used whole. Indices are size_t (a tensor may exceed
// 2^32 floats); NVVM divides them in 32 bits whenever both operands fit, so that costs a branch only.
template <bool kMax>
static __global__ void pool_forward(const float* __restrict__ x, float* __restrict__ y, std::size_t n, int H,
                                    int W) {
  int oh = H / 2, ow = W / 2;
  std::size_t stride = std::size_t(blockDim.x) * gridDim.x;
  for (std::size_t o = std::size_t(blockIdx.x) * blockDim.x + threadIdx.x; o < n; o += stride) {
    std::size_t row = o / ow;  // output row over all planes: p * oh + i
    int j = int(o - row * ow);
    // The window's top input row is p * H + 2i = 2 * row + p * (H - 2 * oh): the plane is only needed
    // (one more division) when H is odd.
    std::size_t top = 2 * row + ((H & 1) ? row / oh : 0);
    const float* r0 = x + top * W + 2 * j;
    const float* r1 = r0 + W;
    float a = r0[0], b = r0[1], c = r1[0], d = r1[1];
    y[o] = kMax ? max_of(max_of(a, b), max_of(c, d)) : 0.25f * ((a + b) + (c + d));
  }
}

// One thread per input pixel: each finds its window and writes only its own dx, so the writes are
// coalesced and no two threads touch the same output (no atomics, no zeroing pass). The 4 x values and the
// dy value a window's threads share are read by each of them, from L1.
template <bool kMax>
static __global__ void pool_backward(const float* __restrict__ x, const float* __restrict__ dy,
                                     float* __restrict__ dx, std::size_t n, int H, int W) {
  int oh = H / 2, ow = W / 2;
  std::size_t stride = std::size_t(blockDim.x) * gridDim.x;
  for (std::size_t i = std::size_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    std::size_t q = i / W;  // input row over all planes: p * H + r
    int c = int(i - q * W);
    // r and the window's output row over all planes, p * oh + r / 2. With H even no row is dropped and
    // only r's parity matters, which q's is: that saves a division.
    int r;
    std::size_t wrow;
    if (H & 1) {
      std::size_t p = q / H;
      r = int(q - p * H);
      wrow = p * oh + r / 2;
    } else {
      r = int(q & 1);
      wrow = q / 2;
    }
    float v = 0.f;  // the odd last row and column took no part in the forward pass
    if (r < 2 * oh && c < 2 * ow) {
      float g = dy[wrow * ow + c / 2];
      if constexpr (kMax) {
        const float* w = x + (q - (r & 1)) * W + (c & ~1);  // the window's top-left pixel
        float m = w[0];
        int best = 0;  // first maximum in row-major order: only a strictly greater value replaces it
        if (w[1] > m) m = w[1], best = 1;
        if (w[W] > m) m = w[W], best = 2;
        if (w[W + 1] > m) best = 3;
        v = best == 2 * (r & 1) + (c & 1) ? g : 0.f;
      } else {
        v = 0.25f * g;
      }
    }
    dx[i] = v;
  }
}

void launch_pool_forward(bool max, const float* x, float* y, int planes, int H, int W, cudaStream_t stream) {
  std::size_t n = std::size_t(planes) * (H / 2) * (W / 2);
  if (max)
    launch("pool_forward<max>", pool_forward<true>, pool_blocks(n), kBlock, 0, stream, x, y, n, H, W);
  else
    launch("pool_forward<avg>", pool_forward<false>, pool_blocks(n), kBlock, 0, stream, x, y, n, H, W);
}

void launch_pool_backward(bool max, const float* x, const float* dy, float* dx, int planes, int H, int W,
                          cudaStream_t stream) {
  std::size_t n = std::size_t(planes) * H * W;
  if (max)
    launch("pool_backward<max>", pool_backward<true>, pool_blocks(n), kBlock, 0, stream, x, dy, dx, n, H, W);
  else
    launch("pool_backward<avg>", pool_backward<false>, pool_blocks(n), kBlock, 0, stream, x, dy, dx, n, H, W);
}

}  // namespace nst::kernels
