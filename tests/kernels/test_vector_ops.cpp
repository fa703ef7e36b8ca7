// kernels/vector_ops.cu (fill, axpy, scale, dot) under host emulation vs the CPU backend.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <utility>
#include <vector>

#include "guarded.h"
#include "nst/backend.h"
#include "test_util.h"
#include "vector_ops.cuh"

using namespace nst;

namespace {

// 1, one short of a block, one over a block, an odd size (3 x 37 x 41), and one larger than
// kBlock * kMaxReductionBlocks, so the reduction grid is capped and its threads stride.
std::vector<std::size_t> sizes() {
  return {1, 255, 257, 3 * 37 * 41, std::size_t(kernels::kBlock) * kernels::kMaxReductionBlocks * 2 + 77};
}

// An op that updates a buffer in place, at every size: `run(be, want, got)` applies it through the CPU
// backend to `want` and through the kernel to `got`, a guarded copy of the same random values.
template <typename Run>
void check_in_place(const char* name, std::uint32_t seed, Run run) {
  auto be = make_cpu_backend();
  double worst = 0;
  for (std::size_t n : sizes()) {
    INFO("n=" << n);
    Tensor want = test::random_tensor(Shape{1, 1, 1, int(n)}, seed);
    test::Guarded<float> got(want.to_vector());
    run(*be, want, got.data());
    CHECK(got.guards_intact());
    NST_CHECK_CLOSE(got.values(), want.to_vector(), test::kOpTol);
    worst = std::max(worst, test::compare(got.values(), want.to_vector()).rel);
  }
  WARN(name << ": worst relative L2 vs CPU backend: " << worst);
}

}  // namespace

TEST_CASE("fill kernel matches the CPU backend", "[kernels][emu]") {
  check_in_place("fill", 1, [](Backend& be, Tensor& want, float* got) {
    be.fill(want, -0.375f);
    kernels::launch_fill(got, -0.375f, want.numel(), nullptr);
  });
}

// Not bitwise under emulation: OpenBLAS's saxpy fuses a * x + y into one FMA and the emulated kernel does not.
TEST_CASE("axpy kernel matches the CPU backend", "[kernels][emu]") {
  check_in_place("axpy", 3, [](Backend& be, Tensor& want, float* got) {
    Tensor x = test::random_tensor(want.shape(), 2);
    be.axpy(-0.3f, x, want);
    kernels::launch_axpy(-0.3f, x.data(), got, want.numel(), nullptr);
  });
}

TEST_CASE("scale kernel matches the CPU backend", "[kernels][emu]") {
  check_in_place("scale", 4, [](Backend& be, Tensor& want, float* got) {
    be.scale(1.7f, want);
    kernels::launch_scale(1.7f, got, want.numel(), nullptr);
  });
}

// Both dots add exact double products in double, in different orders, so they agree to a few ulps of the
// sum of |x_i y_i|. Measured: the relative difference to the CPU backend's dot, and to a long double sum.
TEST_CASE("dot kernel matches the CPU backend's double dot, partials and their count", "[kernels][emu]") {
  auto be = make_cpu_backend();
  constexpr double kDoubleGuard = -7.25e300;
  double worst_cpu = 0, worst_long = 0;
  for (std::size_t n : sizes()) {
    Shape s{1, 1, 1, int(n)};
    Tensor x = test::random_tensor(s, 5), y = test::random_tensor(s, 6);
    // x . y (cancelling signs) and x . x (all terms positive).
    const std::pair<const Tensor*, const Tensor*> pairs[] = {{&x, &y}, {&x, &x}};
    for (auto [a, b] : pairs) {
      INFO("n=" << n << (a == b ? " x.x" : " x.y"));
      test::Guarded<double> partials(kernels::kMaxReductionBlocks, kDoubleGuard);
      unsigned count = kernels::launch_dot(a->data(), b->data(), n, partials.data(), nullptr);
      const std::size_t want_count = std::min<std::size_t>((n + kernels::kBlock - 1) / kernels::kBlock,
                                                           kernels::kMaxReductionBlocks);
      CHECK(count == want_count);
      CHECK(partials.guards_intact());
      CHECK(partials.unused_intact(count));
      double got = partials.sum(count);
      long double exact = 0;
      for (std::size_t i = 0; i < n; ++i) exact += (long double)a->data()[i] * b->data()[i];
      double want = be->dot(*a, *b);
      double rel_cpu = test::rel_err(got, want), rel_long = test::rel_err(got, double(exact));
      INFO("kernel " << got << ", CPU backend " << want << ", long double " << double(exact));
      CHECK(rel_cpu <= 1e-12);
      worst_cpu = std::max(worst_cpu, rel_cpu);
      worst_long = std::max(worst_long, rel_long);
    }
  }
  WARN("dot: worst relative difference vs CPU backend's dot " << worst_cpu << ", vs a long double sum " << worst_long);
}
