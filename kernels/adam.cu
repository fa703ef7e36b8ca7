#include "adam.cuh"

namespace nst::kernels {

// A product that is never fused with the addition that follows. nvcc contracts a * b + c into one FMA by
// default (--fmad=true), which rounds once instead of twice; the CPU backend rounds twice, and Adam's
// update is meant to be the same float computation on both backends. sqrtf and `/` are IEEE-rounded
// under nvcc's defaults (-prec-sqrt, -prec-div), so only the products need this.
#if defined(__CUDACC__)
__device__ __forceinline__ float mul_rn(float a, float b) { return __fmul_rn(a, b); }
#else
inline float mul_rn(float a, float b) { return a * b; }
#endif

// One thread per element, grid-stride so any grid covers any n; each array is read and written once,
// coalesced. The operation order is the CPU backend's (src/cpu/cpu_backend.cpp, adam_step).
static __global__ void adam_step(const float* g, float* m, float* v, float* x, std::size_t n, AdamScalars a) {
  std::size_t stride = std::size_t(blockDim.x) * gridDim.x;
  for (std::size_t i = std::size_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    float gi = g[i];
    float mi = mul_rn(a.b1, m[i]) + mul_rn(a.a1, gi);
    float vi = mul_rn(a.b2, v[i]) + mul_rn(a.a2, mul_rn(gi, gi));
    float denom = sqrtf(vi) / a.bc2_sqrt + a.eps;
    m[i] = mi;
    v[i] = vi;
    x[i] -= mul_rn(a.step_size, mi / denom);
  }
}

void launch_adam_step(const float* g, float* m, float* v, float* x, std::size_t n, AdamScalars a,
                      cudaStream_t stream) {
  launch("adam_step", adam_step, blocks_for(n), kBlock, 0, stream, g, m, v, x, n, a);
}

}  // namespace nst::kernels
