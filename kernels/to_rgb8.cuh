// The image X (3 planes of H x W floats) clamped to [0,1], NaN -> 0, and rounded to 8 bits as
// floor(255 v + 0.5): H*W*3 interleaved RGB bytes into `out` (device memory).
// CPU twin: CpuBackend::to_rgb8, which is nst::to_rgb8 (src/image.cpp); oracle: none in src/cpu/ref, the expected bytes of "to_rgb8 clamps, rounds halves up and interleaves the channels" (tests/test_cpu_ops.cpp); test: tests/kernels/test_to_rgb8.cpp.
#pragma once
#include "common.cuh"

namespace nst::kernels {

void launch_to_rgb8(const float* X, unsigned char* out, int H, int W, cudaStream_t stream);

}  // namespace nst::kernels
