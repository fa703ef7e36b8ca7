// Input normalisation (SPEC §1): x[c] = a[c] * X[src[c]] - b[c], and its adjoint dX[src[c]] += a[c] * dx[c].
// X, x, dx, dX are 3 planes of `plane` floats each.
// CPU twin: CpuBackend::normalize_forward/normalize_backward (src/cpu/cpu_backend.cpp); oracle: ref::normalize_forward/normalize_backward (src/cpu/ref/ref_ops.cpp); test: tests/kernels/test_normalize.cpp.
#pragma once
#include "common.cuh"
#include "nst/backend.h"

namespace nst::kernels {

// The per-channel constants, rounded to float from the double Normalization exactly as the CPU backend
// rounds them, so both backends scale by the same floats. Passed to the kernels by value.
struct NormParams {
  float a[3];  // scale / std
  float b[3];  // mean / std
  int src[3];  // the input channel that feeds output channel c (R and B swapped when bgr)
};

// Host only.
inline NormParams norm_params(const Normalization& n) {
  NormParams p{};
  for (int c = 0; c < 3; ++c) {
    p.a[c] = float(n.scale / n.std[c]);
    p.b[c] = float(n.mean[c] / n.std[c]);
    p.src[c] = n.bgr ? 2 - c : c;
  }
  return p;
}

void launch_normalize_forward(const float* X, float* x, std::size_t plane, NormParams p, cudaStream_t stream);
void launch_normalize_backward(const float* dx, float* dX, std::size_t plane, NormParams p, cudaStream_t stream);

}  // namespace nst::kernels
