// Host emulation of CUDA's execution model, so that the same kernels/*.cu sources compile as C++ and run
// in CI on machines without a GPU.
//
// A launch runs the grid's blocks one after another. Within a block every CUDA thread is a fiber (a
// ucontext with its own stack) on one OS thread: a fiber runs until it reaches a barrier or returns, then
// the next one runs. So `__syncthreads()` is a real barrier across the block's threads, warp shuffles
// exchange values between the 32 lanes of a warp, `__shared__` variables are per-block (a block's
// fibers share them; blocks do not overlap in time), and local variables are per-thread (each fiber has
// its own stack). Threads that return early leave the barrier count, as on the GPU. A barrier that can
// never complete (threads waiting at different barriers) aborts with a message instead of hanging.
//
// Only what our kernels use is provided; a kernel that needs more fails to compile here, which is the
// signal to add it (and its test).
#pragma once
#if defined(__CUDACC__)
#error "cuda_emu.h is for host (non-nvcc) builds only"
#endif

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>

struct dim3 {
  unsigned x = 1, y = 1, z = 1;
  constexpr dim3(unsigned x_ = 1, unsigned y_ = 1, unsigned z_ = 1) : x(x_), y(y_), z(z_) {}
};
struct uint3 {
  unsigned x = 0, y = 0, z = 0;
};

enum cudaError_t { cudaSuccess = 0, cudaErrorInvalidConfiguration = 9 };
using cudaStream_t = struct CUstream_st*;

namespace nst::emu {

// The executing thread's coordinates, switched with the fibers.
extern uint3 thread_idx, block_idx;
extern dim3 block_dim, grid_dim;

constexpr int kWarpSize = 32;
constexpr unsigned kMaxThreadsPerBlock = 1024;
constexpr std::size_t kMaxSharedBytes = 48 * 1024;

// Runs body() once per thread of grid x block; returns cudaErrorInvalidConfiguration for what CUDA would
// refuse (empty grid or block, more than 1024 threads, more than 48 KiB of dynamic shared memory).
cudaError_t launch(dim3 grid, dim3 block, std::size_t dynamic_shared_bytes, const std::function<void()>& body);

// Notes that the kernel `name` ran to completion (launch() in common.cuh calls it). With
// $NST_EMU_LAUNCH_LOG set to a folder, the process writes the names it ran there at exit, one file per
// process: tests/check_kernel_tests.cmake proves from them that every __global__ ran in CI.
void record_launch(const char* name);

void syncthreads();
void syncwarp();
void* dynamic_shared();  // the launch's dynamic shared memory, zero-filled per block

// Lane exchange through the calling warp: every live lane of the warp must call it (as __shfl_*_sync
// with a full mask requires). Returns the value offered by lane `src_lane` (or the caller's own when
// src_lane is outside the warp or that lane has exited).
double exchange(double value, int src_lane);
int lane_id();

}  // namespace nst::emu

#define threadIdx (::nst::emu::thread_idx)
#define blockIdx (::nst::emu::block_idx)
#define blockDim (::nst::emu::block_dim)
#define gridDim (::nst::emu::grid_dim)
#define warpSize (::nst::emu::kWarpSize)

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __restrict__
// Static storage is per block because blocks run one at a time and their threads share one OS thread.
#define __shared__ static

#define __syncthreads() ::nst::emu::syncthreads()
#define __syncwarp(...) ::nst::emu::syncwarp()

template <typename T>
inline T __shfl_down_sync(unsigned /*mask*/, T v, unsigned delta, int width = ::nst::emu::kWarpSize) {
  int lane = ::nst::emu::lane_id(), src = lane + int(delta);
  // Lanes whose source lies beyond their width-segment keep their own value.
  if (src / width != lane / width) src = -1;
  return T(::nst::emu::exchange(double(v), src < 0 ? lane : src));
}

template <typename T>
inline T __shfl_xor_sync(unsigned /*mask*/, T v, int lane_mask, int width = ::nst::emu::kWarpSize) {
  int lane = ::nst::emu::lane_id(), src = lane ^ lane_mask;
  if (src / width != lane / width) src = lane;
  return T(::nst::emu::exchange(double(v), src));
}

// Fibers switch only at barriers, so read-modify-write is atomic with respect to the other threads.
inline float atomicAdd(float* p, float v) {
  float old = *p;
  *p = old + v;
  return old;
}

// As in CUDA: the error of the last launch, cleared by reading it.
cudaError_t cudaGetLastError();
inline const char* cudaGetErrorString(cudaError_t e) {
  return e == cudaSuccess ? "no error" : "invalid configuration argument (host emulation)";
}
inline const char* cudaGetErrorName(cudaError_t e) {
  return e == cudaSuccess ? "cudaSuccess" : "cudaErrorInvalidConfiguration";
}

inline float rsqrtf(float x) { return 1.f / std::sqrt(x); }
using std::sqrt;
