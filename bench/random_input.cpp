// Seeded inputs for the bench (random_input.h): xorshift64, a few operations per value.
#include "random_input.h"

namespace nst::bench {

Tensor random_host(Shape s, std::uint64_t seed, float lo, float hi) {
  Tensor t = Tensor::host(s);
  std::uint64_t x = seed * 0x9E3779B97F4A7C15ull + 0x2545F4914F6CDD1Dull;
  float* d = t.data();
  for (std::size_t i = 0; i < t.numel(); ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    d[i] = lo + (hi - lo) * float(x >> 40) * (1.f / 16777216.f);
  }
  return t;
}

}  // namespace nst::bench
