// An AVX-512 Gram matrix for few channels and many pixels (VGG19's relu1_1 and relu2_1: 64 or 128
// channels by H*W), chosen at run time where the CPU has AVX-512.
//
// Why: OpenBLAS's SSYRK runs a 64 x 262144 Gram (relu1_1 at 512²) at ~55 real GFLOP/s, a third of what it
// reaches on the deeper, squarer layers; such a Gram is C*C dot products, each over all of H*W.
//
// How: each thread takes a contiguous range of pixels and keeps, for every pair of 4-row blocks (i <= j)
// of F, sixteen 16-lane partial sums in a buffer that stays in L2 (C*C*16 floats). It walks its range in
// chunks of 2048 pixels (C rows of 8 KiB: in L2), loading a block's sums, adding 128 vector steps of 16
// FMAs each, and storing them back; at the end the lanes and the threads are summed in double, and the
// lower triangle mirrors the upper.
#pragma once

namespace nst::cpu {

// Whether the kernel takes a Gram of C channels on this CPU (AVX-512, C a multiple of 4, C <= 128).
bool gram_avx512_suits(int C);

// g[C,C] = scale * F F^T for F = f[C, hw] (row-major, rows hw apart).
void gram_avx512(const float* f, int C, long hw, float scale, float* g);

}  // namespace nst::cpu
