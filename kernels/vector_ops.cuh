// The vector ops of L-BFGS that cuBLAS does not give us as we need them: fill, y += a x and x *= a in
// place on our stream, and a dot product accumulated in double like the CPU backend's.
// One file for four Backend ops, each launcher named for its op (Backend::copy is a cudaMemcpyAsync).
// CPU twin: CpuBackend::fill/axpy/scale/dot (src/cpu/cpu_backend.cpp; axpy and scale are OpenBLAS's saxpy/sscal); oracle: none in src/cpu/ref, the double loops of "vector ops for the optimisers" (tests/test_cpu_ops.cpp); test: tests/kernels/test_vector_ops.cpp.
#pragma once
#include "common.cuh"

namespace nst::kernels {

void launch_fill(float* x, float value, std::size_t n, cudaStream_t stream);      // x = value
void launch_axpy(float a, const float* x, float* y, std::size_t n, cudaStream_t stream);  // y += a x
void launch_scale(float a, float* x, std::size_t n, cudaStream_t stream);         // x *= a

// Writes one double partial sum of x . y per block into partials (room for kMaxReductionBlocks) and
// returns how many it wrote; the caller adds them in double after copying them back.
unsigned launch_dot(const float* x, const float* y, std::size_t n, double* partials, cudaStream_t stream);

}  // namespace nst::kernels
