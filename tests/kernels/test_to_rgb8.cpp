// kernels/to_rgb8.cu under host emulation vs the CPU backend: the to_rgb8 kernel's bytes must be
// identical, including for values outside [0,1], NaN, infinities and the rounding boundaries.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include "guarded.h"
#include "nst/backend.h"
#include "to_rgb8.cuh"
#include "test_util.h"

using namespace nst;

TEST_CASE("to_rgb8 kernel writes the CPU backend's bytes", "[kernels][emu]") {
  auto be = make_cpu_backend();
  const float inf = std::numeric_limits<float>::infinity();
  // Edge values first, so every size (even 1x1, 3 values) gets some; then the half-way points k/255 +
  // 0.5/255 and their neighbours, where rounding decides.
  std::vector<float> special = {std::numeric_limits<float>::quiet_NaN(), inf, -inf, -0.f, 0.f, 1.f, -1e-30f,
                                std::nextafter(1.f, 2.f), std::nextafter(1.f, 0.f), 0.5f / 255.f, 254.5f / 255.f};
  for (int k = 0; k < 255; ++k) {
    float h = (k + 0.5f) / 255.f;
    special.insert(special.end(), {h, std::nextafter(h, 0.f), std::nextafter(h, 1.f)});
  }
  struct Size {
    int h, w;
  };
  for (Size sz : {Size{1, 1}, Size{5, 7}, Size{37, 41}, Size{300, 257}}) {
    DYNAMIC_SECTION(sz.h << "x" << sz.w) {
      Shape s{1, 3, sz.h, sz.w};
      std::size_t bytes = s.numel();  // 3 planes in, H*W*3 bytes out
      Tensor X = test::random_tensor(s, 11, -0.25f, 1.25f);
      for (std::size_t i = 0; i < special.size() && i < s.numel(); ++i) X.data()[i] = special[i];
      std::vector<std::uint8_t> want(bytes);
      be->to_rgb8(X, want.data());

      test::Guarded<std::uint8_t> out(bytes, 0xA5, 4);  // 4 guard bytes of 0xA5 on each side
      kernels::launch_to_rgb8(X.data(), out.data(), sz.h, sz.w, nullptr);
      CHECK(out.guards_intact());
      std::vector<std::uint8_t> got = out.values();
      std::size_t mismatches = 0, first = 0;
      for (std::size_t i = bytes; i-- > 0;)
        if (got[i] != want[i]) ++mismatches, first = i;
      INFO(mismatches << " of " << bytes << " bytes differ; first at " << first << ": " << int(got[first]) << " vs "
                      << int(want[first]));
      CHECK(mismatches == 0);
      NST_CHECK_CLOSE(got, want, 0.0);
    }
  }
}

// nvcc fuses v * 255 + 0.5 into one FMA (rounded once) where the CPU backend rounds the product and then
// the sum. Both floor to the same byte for every float in [0,1] — all 1,065,353,217 of them, checked here
// rather than sampled — so the kernel's bytes equal the CPU's whether or not the compiler contracts.
// (Above 1 and below 0 both clamp first.) v * 255 + 0.5 lies in [0.5, 255.5], so truncation is floor.
TEST_CASE("to_rgb8 rounds every float in [0,1] to the same byte fused (nvcc) and unfused (the CPU)", "[kernels][emu]") {
  std::uint64_t values = 0, differ = 0;
  std::uint32_t first = 0;
  for (std::uint32_t bits = 0; bits <= 0x3F800000u; ++bits) {  // 0x3F800000 is 1.0f
    float v;
    std::memcpy(&v, &bits, sizeof v);
    volatile float product = v * 255.f;  // rounded on its own, as without contraction
    const int unfused = static_cast<int>(product + 0.5f);
    const int fused = static_cast<int>(std::fma(v, 255.f, 0.5f));
    if (unfused != fused && differ++ == 0) first = bits;
    ++values;
  }
  INFO("first difference at bits 0x" << std::hex << first);
  CHECK(values == 1065353217u);
  CHECK(differ == 0);
}
