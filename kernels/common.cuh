// What every kernel file includes: the CUDA runtime, or its host emulation where NST_CUDA_EMU is defined
// (the tests that run kernels on the CPU), the status check, one launch helper, and the reductions our
// kernels share. Host-only code of the CUDA backend may include it too (compiled by g++ against the real
// runtime): the device parts are then left out.
#pragma once
#include <cstddef>
#include <string>

#if defined(NST_CUDA_EMU)
#include "emu/cuda_emu.h"
#else
#include <cuda_runtime.h>
#endif

#include "nst/error.h"

// Throws nst::Error naming the call, the CUDA error, and where.
#define NST_CUDA_CHECK(call)                                                                               \
  do {                                                                                                     \
    cudaError_t nst_status_ = (call);                                                                      \
    if (nst_status_ != cudaSuccess)                                                                        \
      throw ::nst::Error(std::string(#call) + " failed: " + cudaGetErrorName(nst_status_) + " (" +         \
                         cudaGetErrorString(nst_status_) + ") at " + ::nst::source_location(__FILE__, __LINE__)); \
  } while (0)

namespace nst::kernels {

constexpr int kBlock = 256;  // threads per block for elementwise and reduction kernels

inline unsigned blocks_for(std::size_t n, int block = kBlock) {
  std::size_t b = (n + block - 1) / block;
  return unsigned(b == 0 ? 1 : b);
}

// Grids of reductions are capped; kernels stride over the rest, and each block writes one partial sum
// that the host adds up in double (a few hundred values).
constexpr unsigned kMaxReductionBlocks = 1024;
inline unsigned reduction_blocks(std::size_t n) {
  unsigned b = blocks_for(n);
  return b < kMaxReductionBlocks ? b : kMaxReductionBlocks;
}

// The host's half of every reduction: the kernel's per-block partial sums, added up in double in order.
// CudaBackend calls it on the partials it copied back; the emulated kernel tests call it on theirs, so
// they check the backend's own arithmetic, not a copy of it.
template <typename T>
double add_partials(const T* partials, unsigned parts) {
  double s = 0;
  for (unsigned i = 0; i < parts; ++i) s += partials[i];
  return s;
}

#if defined(__CUDACC__) || defined(NST_CUDA_EMU)

// Launches kernel<<<grid, block, shared, stream>>>(args...) under nvcc, or runs it under host emulation,
// and checks the launch once, naming the kernel.
template <typename... Params, typename... Args>
void launch(const char* name, void (*kernel)(Params...), dim3 grid, dim3 block, std::size_t shared,
            cudaStream_t stream, Args... args) {
#if defined(__CUDACC__)
  kernel<<<grid, block, shared, stream>>>(args...);
#else
  (void)stream;
  ::nst::emu::launch(grid, block, shared, [&] { kernel(args...); });
#endif
  cudaError_t e = cudaGetLastError();
  if (e != cudaSuccess)
    throw ::nst::Error(std::string("launch of ") + name + " failed: " + cudaGetErrorName(e) + " (" + cudaGetErrorString(e) + ")");
#if !defined(__CUDACC__)
  ::nst::emu::record_launch(name);
#endif
}

// Sum over the 32 lanes of a warp; every lane gets the total.
template <typename T>
__device__ __forceinline__ T warp_sum(T v) {
  for (int offset = 16; offset > 0; offset /= 2) v += __shfl_xor_sync(0xffffffffu, v, offset);
  return v;
}

// Sum over a block of kBlock threads, by warps then by the first warp: a reduction tree, no atomics. The
// result is valid in thread 0. Every thread of the block must call it (no early return before it).
// `scratch` is the caller's __shared__ T[kBlock / 32]; call __syncthreads() before reusing it.
template <typename T>
__device__ __forceinline__ T block_sum(T v, T* scratch) {
  int lane = int(threadIdx.x) % 32, warp = int(threadIdx.x) / 32;
  v = warp_sum(v);
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  v = int(threadIdx.x) < kBlock / 32 ? scratch[lane] : T(0);
  if (warp == 0) v = warp_sum(v);
  return v;
}

#endif  // defined(__CUDACC__) || defined(NST_CUDA_EMU)

}  // namespace nst::kernels
