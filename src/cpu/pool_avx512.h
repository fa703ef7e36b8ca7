// AVX-512 rows of the 2x2 pooling backward pass, chosen at run time where the CPU has AVX-512 (the build
// targets baseline x86-64, where GCC vectorises the stride-2 selects of the scalar loop poorly: ~8 GB/s).
#pragma once

namespace nst::cpu {

bool pool_avx512_available();

// One pair of input rows x0, x1 (W floats each) and their pooled gradient row g (W / 2 floats): writes the
// gradient rows d0, d1 for columns [0, 2 * (W / 2 / 16) * 16) and returns how many columns it wrote; the
// caller finishes the rest. Max: the first maximum of each window in row-major order takes the gradient
// (NaN never wins), exactly as the scalar loop; avg: each element gets a quarter.
int pool_backward_rows_avx512(bool max, const float* x0, const float* x1, const float* g, int W, float* d0, float* d1);

}  // namespace nst::cpu
