// kernels/adam.cu (adam_step) under host emulation vs the CPU backend.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <utility>
#include <vector>

#include "adam.cuh"
#include "guarded.h"
#include "nst/backend.h"
#include "test_util.h"

using namespace nst;

TEST_CASE("adam_step kernel matches the CPU backend over 5 steps: x, m and v", "[kernels][emu]") {
  auto be = make_cpu_backend();
  // > kBlock * kMaxReductionBlocks elements too, as in the other kernel tests.
  const std::size_t big = std::size_t(kernels::kBlock) * kernels::kMaxReductionBlocks * 2 + 77;
  // Gradient scales per step: large, small (sqrt(v) near eps) and ordinary, so every term matters.
  const float grad_scale[5] = {1.f, 1e-3f, 10.f, 1e-6f, 1.f};
  double worst = 0, worst_abs = 0;
  for (std::size_t n : {std::size_t(1), std::size_t(255), std::size_t(257), std::size_t(3 * 37 * 41), big}) {
    INFO("n=" << n);
    Shape s{1, 1, 1, int(n)};
    Tensor x = test::random_tensor(s, 11, 0.f, 1.f), m = be->alloc(s), v = be->alloc(s);
    test::Guarded<float> kx(x.to_vector()), km(m.to_vector()), kv(v.to_vector());
    AdamState st;
    st.lr = 0.02;
    for (int step = 1; step <= 5; ++step) {
      INFO("step " << step);
      st.step = step;
      float k = grad_scale[step - 1];
      Tensor g = test::random_tensor(s, 100 + std::uint32_t(step), -k, k);
      be->adam_step(st, g, m, v, x);
      kernels::launch_adam_step(g.data(), km.data(), kv.data(), kx.data(), n, adam_scalars(st), nullptr);
      const std::pair<const test::Guarded<float>*, const Tensor*> pairs[] = {{&kx, &x}, {&km, &m}, {&kv, &v}};
      for (auto [got, want] : pairs) {
        std::vector<float> a = got->values(), b = want->to_vector();
        NST_CHECK_CLOSE(a, b, test::kOpTol);
        worst = std::max(worst, test::compare(a, b).rel);
        for (std::size_t i = 0; i < n; ++i) worst_abs = std::max(worst_abs, std::abs(double(a[i]) - double(b[i])));
      }
    }
    for (const auto* b : {&kx, &km, &kv}) CHECK(b->guards_intact());
  }
  WARN("adam_step: worst relative L2 vs CPU backend over x, m, v, 5 steps, all sizes: " << worst
       << " (largest absolute difference " << worst_abs << ")");
}
