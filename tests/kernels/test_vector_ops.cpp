// kernels/vector_ops.cu (fill, axpy, scale, dot) under host emulation vs the CPU backend.
#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

#include "nst/backend.h"
#include "test_util.h"
#include "vector_ops.cuh"

using namespace nst;

namespace {

constexpr float kGuard = 12345.f;  // written around every output; the kernel must leave it alone

// 1, one short of a block, one over a block, an odd size (3 x 37 x 41), and one larger than
// kBlock * kMaxReductionBlocks, so the reduction grid is capped and its threads stride.
std::vector<std::size_t> sizes() {
  return {1, 255, 257, 3 * 37 * 41, std::size_t(kernels::kBlock) * kernels::kMaxReductionBlocks * 2 + 77};
}

std::vector<float> guarded(const Tensor& t) {
  std::vector<float> b(t.numel() + 2, kGuard);
  std::copy(t.data(), t.data() + t.numel(), b.begin() + 1);
  return b;
}

std::vector<float> inner(const std::vector<float>& b) { return std::vector<float>(b.begin() + 1, b.end() - 1); }

}  // namespace

TEST_CASE("fill kernel matches the CPU backend", "[kernels][emu]") {
  auto be = make_cpu_backend();
  double worst = 0;
  for (std::size_t n : sizes()) {
    INFO("n=" << n);
    Shape s{1, 1, 1, int(n)};
    Tensor want = test::random_tensor(s, 1);
    std::vector<float> got = guarded(want);
    be->fill(want, -0.375f);
    kernels::launch_fill(got.data() + 1, -0.375f, n, nullptr);
    CHECK(got.front() == kGuard);
    CHECK(got.back() == kGuard);
    NST_CHECK_CLOSE(inner(got), want.to_vector(), test::kOpTol);
    worst = std::max(worst, test::compare(inner(got), want.to_vector()).rel);
  }
  WARN("fill: worst relative L2 vs CPU backend: " << worst);
}

// Not bitwise under emulation: OpenBLAS's saxpy fuses a * x + y into one FMA and the emulated kernel does not.
TEST_CASE("axpy kernel matches the CPU backend", "[kernels][emu]") {
  auto be = make_cpu_backend();
  double worst = 0;
  for (std::size_t n : sizes()) {
    INFO("n=" << n);
    Shape s{1, 1, 1, int(n)};
    Tensor x = test::random_tensor(s, 2), want = test::random_tensor(s, 3);
    std::vector<float> got = guarded(want);
    be->axpy(-0.3f, x, want);
    kernels::launch_axpy(-0.3f, x.data(), got.data() + 1, n, nullptr);
    CHECK(got.front() == kGuard);
    CHECK(got.back() == kGuard);
    NST_CHECK_CLOSE(inner(got), want.to_vector(), test::kOpTol);
    worst = std::max(worst, test::compare(inner(got), want.to_vector()).rel);
  }
  WARN("axpy: worst relative L2 vs CPU backend: " << worst);
}

TEST_CASE("scale kernel matches the CPU backend", "[kernels][emu]") {
  auto be = make_cpu_backend();
  double worst = 0;
  for (std::size_t n : sizes()) {
    INFO("n=" << n);
    Shape s{1, 1, 1, int(n)};
    Tensor want = test::random_tensor(s, 4);
    std::vector<float> got = guarded(want);
    be->scale(1.7f, want);
    kernels::launch_scale(1.7f, got.data() + 1, n, nullptr);
    CHECK(got.front() == kGuard);
    CHECK(got.back() == kGuard);
    NST_CHECK_CLOSE(inner(got), want.to_vector(), test::kOpTol);
    worst = std::max(worst, test::compare(inner(got), want.to_vector()).rel);
  }
  WARN("scale: worst relative L2 vs CPU backend: " << worst);
}

// Both dots add exact double products in double, in different orders, so they agree to a few ulps of the
// sum of |x_i y_i|. Measured: the relative difference to the CPU backend's dot, and to a long double sum.
TEST_CASE("dot kernel matches the CPU backend's double dot; partials and their count", "[kernels][emu]") {
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
      std::vector<double> partials(kernels::kMaxReductionBlocks + 2, kDoubleGuard);
      unsigned count = kernels::launch_dot(a->data(), b->data(), n, partials.data() + 1, nullptr);
      const std::size_t want_count = std::min<std::size_t>((n + kernels::kBlock - 1) / kernels::kBlock,
                                                           kernels::kMaxReductionBlocks);
      CHECK(count == want_count);
      CHECK(partials.front() == kDoubleGuard);
      CHECK(std::all_of(partials.begin() + 1 + count, partials.end(), [&](double p) { return p == kDoubleGuard; }));
      double got = 0;
      for (unsigned i = 0; i < count; ++i) got += partials[1 + i];
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
