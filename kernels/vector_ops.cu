#include "vector_ops.cuh"

namespace nst::kernels {

// The elementwise ops: grid-stride loops, so any grid covers any n; consecutive threads touch
// consecutive floats (coalesced).
static __global__ void fill(float* x, float value, std::size_t n) {
  std::size_t stride = std::size_t(blockDim.x) * gridDim.x;
  for (std::size_t i = std::size_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) x[i] = value;
}

// nvcc fuses a * x[i] + y[i] into one FMA (--fmad=true), as OpenBLAS's saxpy does in the CPU backend, so
// on the GPU the two agree bitwise; the emulated build (no FMA) rounds twice and differs by up to an ulp.
static __global__ void axpy(float a, const float* x, float* y, std::size_t n) {
  std::size_t stride = std::size_t(blockDim.x) * gridDim.x;
  for (std::size_t i = std::size_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) y[i] += a * x[i];
}

static __global__ void scale(float a, float* x, std::size_t n) {
  std::size_t stride = std::size_t(blockDim.x) * gridDim.x;
  for (std::size_t i = std::size_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) x[i] *= a;
}

// Each thread accumulates its grid-stride share in double: a product of two floats is exact in double, so
// only the additions round, as in the CPU backend's dot. Then a reduction tree per block (block_sum, no
// atomics, so the result does not depend on scheduling); the host adds the per-block partials. Launched
// with kBlock threads, as block_sum requires, and every thread reaches block_sum (no early return).
static __global__ void dot(const float* x, const float* y, std::size_t n, double* partials) {
  __shared__ double scratch[kBlock / 32];
  std::size_t stride = std::size_t(blockDim.x) * gridDim.x;
  double acc = 0;
  for (std::size_t i = std::size_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride)
    acc += double(x[i]) * double(y[i]);
  acc = block_sum(acc, scratch);
  if (threadIdx.x == 0) partials[blockIdx.x] = acc;
}

void launch_fill(float* x, float value, std::size_t n, cudaStream_t stream) {
  launch("fill", fill, blocks_for(n), kBlock, 0, stream, x, value, n);
}

void launch_axpy(float a, const float* x, float* y, std::size_t n, cudaStream_t stream) {
  launch("axpy", axpy, blocks_for(n), kBlock, 0, stream, a, x, y, n);
}

void launch_scale(float a, float* x, std::size_t n, cudaStream_t stream) {
  launch("scale", scale, blocks_for(n), kBlock, 0, stream, a, x, n);
}

unsigned launch_dot(const float* x, const float* y, std::size_t n, double* partials, cudaStream_t stream) {
  // Capped grid: a few hundred partials are cheap to add on the host, and threads stride over the rest.
  unsigned blocks = reduction_blocks(n);
  launch("dot", dot, blocks, kBlock, 0, stream, x, y, n, partials);
  return blocks;
}

}  // namespace nst::kernels
