// Adam: torch.optim.Adam's update of x with gradient g and moments m, v, with the float scalars of
// nst::adam_scalars(), in the CPU backend's operation order, so both backends take the same steps.
// The file is named adam; the op it implements is Backend::adam_step, hence launch_adam_step.
// CPU twin: CpuBackend::adam_step (src/cpu/cpu_backend.cpp); oracle: none in src/cpu/ref, the double loop of "Adam step follows torch.optim.Adam with bias correction" (tests/test_cpu_ops.cpp); test: tests/kernels/test_adam.cpp.
#pragma once
#include "common.cuh"
#include "nst/backend.h"

namespace nst::kernels {

// m = b1 m + a1 g;  v = b2 v + a2 g^2;  x -= step_size * (m / (sqrt(v) / bc2_sqrt + eps)), elementwise.
void launch_adam_step(const float* g, float* m, float* v, float* x, std::size_t n, AdamScalars a,
                      cudaStream_t stream);

}  // namespace nst::kernels
