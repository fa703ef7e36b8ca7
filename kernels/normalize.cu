#include "normalize.cuh"

namespace nst::kernels {

// One thread per pixel, all three channels: nvcc unrolls the 3-trip channel loop, so p's arrays are
// indexed by constants and stay in kernel-parameter space (a channel taken from blockIdx would index them
// dynamically, which can copy the struct to local memory; ptxas -v shows a 0-byte stack frame). Each
// channel's loads and stores are still consecutive across a warp. (No #pragma unroll: GCC, which compiles
// this file for the emulated tests, rejects it under -Werror.)
static __global__ void normalize_forward(const float* X, float* x, std::size_t plane, NormParams p) {
  std::size_t stride = std::size_t(blockDim.x) * gridDim.x;
  for (std::size_t i = std::size_t(blockIdx.x) * blockDim.x + threadIdx.x; i < plane; i += stride) {
    for (int c = 0; c < 3; ++c) x[c * plane + i] = p.a[c] * X[p.src[c] * plane + i] - p.b[c];
  }
}

// src is a permutation, so the three channels write three different planes: no two threads touch one
// element, and += needs no atomics.
static __global__ void normalize_backward(const float* dx, float* dX, std::size_t plane, NormParams p) {
  std::size_t stride = std::size_t(blockDim.x) * gridDim.x;
  for (std::size_t i = std::size_t(blockIdx.x) * blockDim.x + threadIdx.x; i < plane; i += stride) {
    for (int c = 0; c < 3; ++c) dX[p.src[c] * plane + i] += p.a[c] * dx[c * plane + i];
  }
}

void launch_normalize_forward(const float* X, float* x, std::size_t plane, NormParams p, cudaStream_t stream) {
  launch("normalize_forward", normalize_forward, blocks_for(plane), kBlock, 0, stream, X, x, plane, p);
}

void launch_normalize_backward(const float* dx, float* dX, std::size_t plane, NormParams p, cudaStream_t stream) {
  launch("normalize_backward", normalize_backward, blocks_for(plane), kBlock, 0, stream, dx, dX, plane, p);
}

}  // namespace nst::kernels
