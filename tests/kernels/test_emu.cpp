// The host emulation layer itself: thread coordinates, per-block shared memory, __syncthreads as a real
// barrier, warp shuffles, early-returning threads, and launch errors.
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <vector>

#include "common.cuh"
#include "test_util.h"

namespace {

__global__ void write_coords(unsigned* out) {
  unsigned t = threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z);
  unsigned b = blockIdx.x + gridDim.x * (blockIdx.y + gridDim.y * blockIdx.z);
  unsigned per_block = blockDim.x * blockDim.y * blockDim.z;
  out[b * per_block + t] = b * 1000 + t;
}

// Reverses each block's segment through shared memory: wrong unless the barrier holds every thread
// until all have written.
__global__ void reverse_in_block(const float* in, float* out) {
  __shared__ float tile[128];
  unsigned i = blockIdx.x * blockDim.x + threadIdx.x;
  tile[threadIdx.x] = in[i];
  __syncthreads();
  out[i] = tile[blockDim.x - 1 - threadIdx.x];
}

__global__ void shuffle_down(const float* in, float* out) {
  float v = in[threadIdx.x];
  out[threadIdx.x] = __shfl_down_sync(0xffffffffu, v, 3);
}

__global__ void block_sums(const float* in, float* out, std::size_t n) {
  __shared__ float scratch[nst::kernels::kBlock / 32];
  std::size_t i = std::size_t(blockIdx.x) * blockDim.x + threadIdx.x;
  float v = i < n ? in[i] : 0.f;
  v = nst::kernels::block_sum(v, scratch);
  if (threadIdx.x == 0) out[blockIdx.x] = v;
}

// Half the threads return before the barrier; the others must still pass it.
__global__ void early_exit(int* out) {
  if (threadIdx.x % 2) return;
  __shared__ int count;
  if (threadIdx.x == 0) count = 0;
  __syncthreads();
  atomicAdd(reinterpret_cast<float*>(out), 1.f);
  (void)count;
}

// Even threads wait at the block barrier, odd ones at a warp barrier: a divergence CUDA would hang on.
__global__ void divergent_barriers() {
  if (threadIdx.x % 2) __syncwarp();
  else __syncthreads();
}

}  // namespace

TEST_CASE("emulated launches see CUDA's coordinates in 3-D grids and blocks", "[emu]") {
  std::vector<unsigned> out(2 * 3 * 4 * 5, 0);
  nst::kernels::launch("write_coords", write_coords, dim3(2, 3), dim3(4, 5), 0, nullptr, out.data());
  for (unsigned b = 0; b < 6; ++b)
    for (unsigned t = 0; t < 20; ++t) CHECK(out[b * 20 + t] == b * 1000 + t);
}

TEST_CASE("__syncthreads is a barrier and __shared__ is per block", "[emu]") {
  std::vector<float> in(3 * 128), out(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) in[i] = float(i);
  nst::kernels::launch("reverse_in_block", reverse_in_block, 3, 128, 0, nullptr, in.data(), out.data());
  for (std::size_t b = 0; b < 3; ++b)
    for (std::size_t t = 0; t < 128; ++t) CHECK(out[b * 128 + t] == in[b * 128 + 127 - t]);
}

TEST_CASE("warp shuffles exchange lanes within a warp only", "[emu]") {
  std::vector<float> in(64), out(64);
  for (int i = 0; i < 64; ++i) in[i] = float(i);
  nst::kernels::launch("shuffle_down", shuffle_down, 1, 64, 0, nullptr, in.data(), out.data());
  for (int i = 0; i < 64; ++i) CHECK(out[i] == ((i % 32) + 3 < 32 ? float(i + 3) : float(i)));
}

TEST_CASE("block_sum reduces a block of 256 with a tail block", "[emu]") {
  const std::size_t n = 1000;  // 4 blocks, the last one partial
  std::vector<float> in(n), out(4);
  for (std::size_t i = 0; i < n; ++i) in[i] = float(i % 17);
  nst::kernels::launch("block_sums", block_sums, nst::kernels::blocks_for(n), nst::kernels::kBlock, 0, nullptr, in.data(),
                       out.data(), n);
  for (std::size_t b = 0; b < 4; ++b) {
    float want = 0;
    for (std::size_t i = b * 256; i < std::min(n, b * 256 + 256); ++i) want += in[i];
    CHECK(out[b] == want);
  }
}

TEST_CASE("threads that return early leave the barrier count", "[emu]") {
  float count = 0;
  nst::kernels::launch("early_exit", early_exit, 2, 96, 0, nullptr, reinterpret_cast<int*>(&count));
  CHECK(count == 96.f);
}

TEST_CASE("an invalid launch configuration is reported, naming the kernel", "[emu]") {
  float count = 0;
  CHECK_THROWS_WITH(
      nst::kernels::launch("early_exit", early_exit, 1, 2048, 0, nullptr, reinterpret_cast<int*>(&count)),
      Catch::Contains("launch of early_exit failed: cudaErrorInvalidConfiguration"));
  CHECK(cudaGetLastError() == cudaSuccess);  // reading the error cleared it
}

TEST_CASE("barriers that can never complete abort with a message instead of hanging", "[emu]") {
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {  // the child runs the broken kernel; it must die, not hang
    std::freopen("/dev/null", "w", stderr);
    nst::kernels::launch("divergent_barriers", divergent_barriers, 1, 64, 0, nullptr);
    _exit(0);
  }
  int status = 0;
  for (int waited = 0; waited < 100 && waitpid(pid, &status, WNOHANG) == 0; ++waited) usleep(50000);
  if (waitpid(pid, &status, WNOHANG) == 0) {
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    FAIL("the emulator hung on divergent barriers");
  }
  CHECK(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGABRT);
}
