// The style loss's Gram difference on one layer (SPEC §3): D = G - T in place, and ||D||_F^2. The backend
// then forms the gradient as D F with cuBLAS.
// Not an op of nst::Backend but the step of Backend::style_loss that is ours: CudaBackend::style_loss
// (src/cuda/cuda_backend.cu) forms G with CudaBackend::gram (cuBLAS), calls launch_gram_diff, then forms
// the gradient; so its twin and oracle are the style loss's.
// CPU twin: the D -= T loop of CpuBackend::style_loss (src/cpu/cpu_backend.cpp); oracle: ref::style_loss (src/cpu/ref/ref_ops.cpp); test: tests/kernels/test_gram_diff.cpp.
#pragma once
#include "common.cuh"

namespace nst::kernels {

// G[i] -= T[i] over the n = C*C entries, and partials[b] = the sum of D^2 over the entries block b visited.
// Returns the number of partials written, reduction_blocks(n); the caller adds them up in double and
// scales by weight / C^2.
unsigned launch_gram_diff(float* G, const float* T, std::size_t n, float* partials, cudaStream_t stream);

// The host side, shared by CudaBackend::style_loss and the kernel's test: the loss from ||D||^2, and the
// factor k of the gradient k D F (N = C*H*W).
inline double style_loss_value(double weight, int C, double sum) { return weight / (double(C) * C) * sum; }
inline float style_loss_k(double weight, std::size_t N, int C) { return float(4 * weight / (double(N) * double(C) * C)); }

}  // namespace nst::kernels
