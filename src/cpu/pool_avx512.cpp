#include "cpu/pool_avx512.h"

#include <immintrin.h>

#include "cpu/cpu_features.h"

namespace nst::cpu {

bool pool_avx512_available() { return has_avx512f(); }

__attribute__((target("avx512f"))) int pool_backward_rows_avx512(bool max, const float* x0, const float* x1, const float* g, int W,
                                                                 float* d0, float* d1) {
  // 16 windows at a time: 32 input columns per row, split into even (left) and odd (right) elements.
  const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
  const __m512i odd = _mm512_set_epi32(31, 29, 27, 25, 23, 21, 19, 17, 15, 13, 11, 9, 7, 5, 3, 1);
  // And back: element 2i from the first operand's i, 2i + 1 from the second's (indices 16.. pick the second).
  const __m512i lo = _mm512_set_epi32(23, 7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
  const __m512i hi = _mm512_set_epi32(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8);
  const int windows = W / 2 / 16 * 16;
  const __m512 zero = _mm512_setzero_ps(), quarter = _mm512_set1_ps(0.25f);
  for (int j = 0; j < windows; j += 16) {
    const __m512 gv = _mm512_loadu_ps(g + j);
    __m512 ga, gb, gc, gd;
    if (max) {
      const __m512 t0 = _mm512_loadu_ps(x0 + 2 * j), t1 = _mm512_loadu_ps(x0 + 2 * j + 16);
      const __m512 b0 = _mm512_loadu_ps(x1 + 2 * j), b1 = _mm512_loadu_ps(x1 + 2 * j + 16);
      const __m512 a = _mm512_permutex2var_ps(t0, even, t1), b = _mm512_permutex2var_ps(t0, odd, t1);
      const __m512 c = _mm512_permutex2var_ps(b0, even, b1), d = _mm512_permutex2var_ps(b0, odd, b1);
      // The scalar loop's k: 0; 1 if b > a; 2 if c > that maximum; 3 if d > that one (ordered compares:
      // false against NaN).
      const __mmask16 k1 = _mm512_cmp_ps_mask(b, a, _CMP_GT_OQ);
      const __m512 m1 = _mm512_mask_blend_ps(k1, a, b);
      const __mmask16 k2 = _mm512_cmp_ps_mask(c, m1, _CMP_GT_OQ);
      const __m512 m2 = _mm512_mask_blend_ps(k2, m1, c);
      const __mmask16 k3 = _mm512_cmp_ps_mask(d, m2, _CMP_GT_OQ);
      const __mmask16 none = __mmask16(~(k1 | k2 | k3));
      ga = _mm512_mask_mov_ps(zero, none, gv);
      gb = _mm512_mask_mov_ps(zero, __mmask16(k1 & ~k2 & ~k3), gv);
      gc = _mm512_mask_mov_ps(zero, __mmask16(k2 & ~k3), gv);
      gd = _mm512_mask_mov_ps(zero, k3, gv);
    } else {
      ga = gb = gc = gd = _mm512_mul_ps(quarter, gv);
    }
    _mm512_storeu_ps(d0 + 2 * j, _mm512_permutex2var_ps(ga, lo, gb));
    _mm512_storeu_ps(d0 + 2 * j + 16, _mm512_permutex2var_ps(ga, hi, gb));
    _mm512_storeu_ps(d1 + 2 * j, _mm512_permutex2var_ps(gc, lo, gd));
    _mm512_storeu_ps(d1 + 2 * j + 16, _mm512_permutex2var_ps(gc, hi, gd));
  }
  return 2 * windows;
}

}  // namespace nst::cpu
