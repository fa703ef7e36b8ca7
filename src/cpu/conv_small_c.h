// A direct 3x3 convolution for few input channels (VGG19's conv1_1: 3 -> 64), written with AVX-512
// intrinsics and chosen at run time where the CPU has AVX-512.
//
// Why it exists: with 3 input channels a convolution is 27 multiply-adds per output, so it is bound by
// writing its output. im2col + SGEMM multiplies a 27-deep matrix (OpenBLAS: ~100 GFLOP/s), and oneDNN's
// kernel is fast but writes its blocked nChw16c layout, which then costs a second full pass to reorder into
// our NCHW (at 512x512: 3 ms of convolution, 5 ms of reorder). This kernel writes NCHW rows directly.
//
// How it works: each thread takes whole output rows. For row i it copies the C*3 input rows it needs into a
// zero-padded buffer (the padding becomes plain loads), then for each block of 16 output channels and each
// 16-column strip keeps 16 accumulators in registers and adds the C*9 taps, each tap one unaligned load of
// the buffer and 16 FMAs with broadcast weights; the strip's last partial vector is a masked store.
#pragma once

namespace nst::cpu {

// Whether the kernel takes a convolution from C to O channels on this CPU (AVX-512, C <= 8, O % 16 == 0).
bool small_c_conv_suits(int C, int O);

// y[O,H,W] = conv3x3(x[C,H,W], w[O,C,3,3], zero padding 1) + bias[O].
void small_c_conv_forward(const float* x, int C, int H, int W, const float* w, int O, const float* bias, float* y);

}  // namespace nst::cpu
