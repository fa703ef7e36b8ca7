#include "cpu/gram_avx512.h"

#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <vector>

#include "cpu/cpu_features.h"
#include "nst/error.h"

namespace nst::cpu {

namespace {

constexpr int kRows = 4;        // a block: 4 rows of F against 4 rows
constexpr long kChunk = 2048;   // pixels per pass over all blocks
constexpr int kLanes = 16;
constexpr int kMaxC = 128;

// Sums over pixels [k0, k1) of every upper block pair into acc, laid out as [bi][bj][4][4][16] for
// bi <= bj (the lower half unused); pixels past the last whole vector go through a masked load.
__attribute__((target("avx512f"))) void accumulate(const float* f, int C, long hw, long k0, long k1, float* acc) {
  const int blocks = C / kRows;
  for (long c0 = k0; c0 < k1; c0 += kChunk) {
    const long c1 = std::min(k1, c0 + kChunk);
    for (int bi = 0; bi < blocks; ++bi)
      for (int bj = bi; bj < blocks; ++bj) {
        float* a = acc + ((std::size_t(bi) * blocks + bj) * kRows * kRows) * kLanes;
        const float* ri[kRows];
        const float* rj[kRows];
        for (int r = 0; r < kRows; ++r) ri[r] = f + (std::size_t(bi) * kRows + r) * hw, rj[r] = f + (std::size_t(bj) * kRows + r) * hw;
        __m512 s[kRows][kRows];
        for (int p = 0; p < kRows; ++p)
          for (int q = 0; q < kRows; ++q) s[p][q] = _mm512_loadu_ps(a + (p * kRows + q) * kLanes);
        long k = c0;
        for (; k + kLanes <= c1; k += kLanes) {
          __m512 x[kRows];
          for (int p = 0; p < kRows; ++p) x[p] = _mm512_loadu_ps(ri[p] + k);
          for (int q = 0; q < kRows; ++q) {
            const __m512 y = _mm512_loadu_ps(rj[q] + k);
            for (int p = 0; p < kRows; ++p) s[p][q] = _mm512_fmadd_ps(x[p], y, s[p][q]);
          }
        }
        if (k < c1) {
          const __mmask16 m = __mmask16((1u << (c1 - k)) - 1);
          __m512 x[kRows];
          for (int p = 0; p < kRows; ++p) x[p] = _mm512_maskz_loadu_ps(m, ri[p] + k);
          for (int q = 0; q < kRows; ++q) {
            const __m512 y = _mm512_maskz_loadu_ps(m, rj[q] + k);
            for (int p = 0; p < kRows; ++p) s[p][q] = _mm512_fmadd_ps(x[p], y, s[p][q]);
          }
        }
        for (int p = 0; p < kRows; ++p)
          for (int q = 0; q < kRows; ++q) _mm512_storeu_ps(a + (p * kRows + q) * kLanes, s[p][q]);
      }
  }
}

}  // namespace

bool gram_avx512_suits(int C) {
  return has_avx512f() && C > 0 && C % kRows == 0 && C <= kMaxC;
}

void gram_avx512(const float* f, int C, long hw, float scale, float* g) {
  NST_ASSERT(gram_avx512_suits(C), "AVX-512 Gram for " + std::to_string(C) + " channels");
  const int blocks = C / kRows;
  const std::size_t per_thread = std::size_t(blocks) * blocks * kRows * kRows * kLanes;
  const int threads = int(std::clamp<long>(hw / kChunk, 1, omp_get_max_threads()));
  // Kept from call to call (the partial sums of 128 channels are 2 MiB for two threads). The calling
  // thread's: the workers see it through `sums`, not by name (thread_local would be their own).
  static thread_local std::vector<float> acc;
  acc.assign(per_thread * threads, 0.f);
  float* const sums = acc.data();
#pragma omp parallel num_threads(threads)
  {
    const int t = omp_get_thread_num(), n = omp_get_num_threads();
    // Whole vectors per thread, so that only the last range ends in a partial one.
    const long vectors = (hw + kLanes - 1) / kLanes;
    const long k0 = std::min(hw, vectors * t / n * kLanes), k1 = std::min(hw, vectors * (t + 1) / n * kLanes);
    accumulate(f, C, hw, k0, k1, sums + per_thread * t);
  }
  for (int bi = 0; bi < blocks; ++bi)
    for (int bj = bi; bj < blocks; ++bj)
      for (int p = 0; p < kRows; ++p)
        for (int q = 0; q < kRows; ++q) {
          double sum = 0;
          for (int t = 0; t < threads; ++t) {
            const float* a = sums + per_thread * t + ((std::size_t(bi) * blocks + bj) * kRows * kRows + p * kRows + q) * kLanes;
            for (int l = 0; l < kLanes; ++l) sum += a[l];
          }
          const int i = bi * kRows + p, j = bj * kRows + q;
          g[std::size_t(i) * C + j] = g[std::size_t(j) * C + i] = float(scale * sum);
        }
}

}  // namespace nst::cpu
