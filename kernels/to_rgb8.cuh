// The image X (3 planes of H x W floats) clamped to [0,1], NaN -> 0, and rounded to 8 bits as
// floor(255 v + 0.5): H*W*3 interleaved RGB bytes into `out` (device memory).
#pragma once
#include "common.cuh"

namespace nst::kernels {

void launch_to_rgb8(const float* X, unsigned char* out, int H, int W, cudaStream_t stream);

}  // namespace nst::kernels
