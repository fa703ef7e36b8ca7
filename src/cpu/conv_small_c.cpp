#include "cpu/conv_small_c.h"

#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "cpu/cpu_features.h"
#include "nst/error.h"

namespace nst::cpu {

namespace {

constexpr int kMaxC = 8;     // the padded rows of one output row stay in L1 up to here
constexpr int kOBlock = 16;  // output channels per register block: 16 accumulators of 16 floats
constexpr int kLanes = 16;

__attribute__((target("avx512f"))) void forward_avx512(const float* x, int C, int H, int W, const float* w, int O,
                                                       const float* bias, float* y) {
  // Padded row: L floats, input column j at 1 + j, zeros at 0 and from W + 1 on; long enough that the last
  // strip's loads at offset kw (0..2) stay inside.
  const int strips = (W + kLanes - 1) / kLanes;
  const std::size_t L = std::size_t(strips) * kLanes + 2;
  const int taps = C * 9;
  // Each thread's padded rows, allocated here: a buffer malloc'd inside the parallel region would make
  // glibc give the worker threads arenas of their own, which hold on to freed memory.
  // (Each a multiple of 4 KiB: threads that shared a cache line at the seam slowed each other down.)
  const std::size_t per_thread = (std::size_t(C) * 3 * L + 1023) / 1024 * 1024;
  std::vector<float> buffers(per_thread * omp_get_max_threads());
#pragma omp parallel
  {
    float* const rows = buffers.data() + per_thread * omp_get_thread_num();
#pragma omp for schedule(static)
    for (int i = 0; i < H; ++i) {
      for (int c = 0; c < C; ++c)
        for (int kh = 0; kh < 3; ++kh) {
          float* r = rows + (std::size_t(c) * 3 + kh) * L;
          const int src = i + kh - 1;
          std::fill(r, r + L, 0.f);
          if (src >= 0 && src < H) std::memcpy(r + 1, x + (std::size_t(c) * H + src) * W, sizeof(float) * W);
        }
      for (int o0 = 0; o0 < O; o0 += kOBlock) {
        const float* wb = w + std::size_t(o0) * taps;
        for (int s = 0; s < strips; ++s) {
          const int j0 = s * kLanes;
          __m512 acc[kOBlock];
          for (int k = 0; k < kOBlock; ++k) acc[k] = _mm512_set1_ps(bias[o0 + k]);
          for (int c = 0; c < C; ++c)
            for (int kh = 0; kh < 3; ++kh) {
              const float* r = rows + (std::size_t(c) * 3 + kh) * L + j0;
              for (int kw = 0; kw < 3; ++kw) {
                // Output column j reads input column j + kw - 1, which sits at j + kw in the padded row.
                const __m512 v = _mm512_loadu_ps(r + kw);
                const int t = (c * 3 + kh) * 3 + kw;
                for (int k = 0; k < kOBlock; ++k) acc[k] = _mm512_fmadd_ps(_mm512_set1_ps(wb[k * taps + t]), v, acc[k]);
              }
            }
          const int left = W - j0;
          float* out = y + (std::size_t(o0) * H + i) * W + j0;
          const std::size_t plane = std::size_t(H) * W;
          if (left >= kLanes && reinterpret_cast<std::uintptr_t>(out) % 64 == 0 && plane % kLanes == 0) {
            // Streaming stores: the output is too big to stay in cache, and a normal store would first read
            // each line it writes.
            for (int k = 0; k < kOBlock; ++k) _mm512_stream_ps(out + k * plane, acc[k]);
          } else {
            const __mmask16 mask = left >= kLanes ? __mmask16(0xFFFF) : __mmask16((1u << left) - 1);
            for (int k = 0; k < kOBlock; ++k) _mm512_mask_storeu_ps(out + k * plane, mask, acc[k]);
          }
        }
      }
    }
    _mm_sfence();  // the streaming stores are visible before the threads join
  }
}

}  // namespace

bool small_c_conv_suits(int C, int O) { return C >= 1 && C <= kMaxC && O > 0 && O % kOBlock == 0 && has_avx512f(); }

void small_c_conv_forward(const float* x, int C, int H, int W, const float* w, int O, const float* bias, float* y) {
  NST_ASSERT(small_c_conv_suits(C, O), "small-C convolution for " + std::to_string(C) + "->" + std::to_string(O) + " channels");
  forward_avx512(x, C, H, W, w, O, bias, y);
}

}  // namespace nst::cpu
