// kernels/pool.cu under host emulation vs the CPU backend: the pool_forward and pool_backward kernels, max
// and avg, through the launchers (so with their production grid and block sizes).
#include <bit>
#include <cstdint>
#include <limits>
#include <vector>

#include "guarded.h"
#include "nst/backend.h"
#include "pool.cuh"
#include "test_util.h"

using namespace nst;

namespace {

// An output buffer of n values with 8 guards on each side; its values start as NaN, so any value the
// kernel fails to write fails the comparison.
test::Guarded<float> output(std::size_t n) {
  return test::Guarded<float>(std::vector<float>(n, std::numeric_limits<float>::quiet_NaN()), test::kGuard, 8);
}

// The kernels sum and compare in the CPU backend's order, so they should agree bit for bit, not just
// within the tolerance.
std::size_t bit_mismatches(const std::vector<float>& a, const std::vector<float>& b) {
  REQUIRE(a.size() == b.size());
  std::size_t n = 0;
  for (std::size_t i = 0; i < a.size(); ++i) n += std::bit_cast<std::uint32_t>(a[i]) != std::bit_cast<std::uint32_t>(b[i]);
  return n;
}

const char* kind_name(PoolKind kind) { return kind == PoolKind::Max ? "max" : "avg"; }

// Runs both kernels on x (planes in the c dimension) with a random dy and checks them against the CPU
// backend: relative L2 (reported), bit-identical values, intact guards.
void check_against_cpu(PoolKind kind, const Tensor& x) {
  const Shape& s = x.shape();
  int planes = s.n * s.c, H = s.h, W = s.w;
  bool max = kind == PoolKind::Max;
  auto be = make_cpu_backend();
  Tensor dy = test::random_tensor(pooled_shape(s), 2);
  Tensor y_want = be->alloc(pooled_shape(s)), dx_want = be->alloc(s);
  be->pool_forward(kind, x, y_want);
  be->pool_backward(kind, x, dy, dx_want);

  test::Guarded<float> y = output(y_want.numel());
  kernels::launch_pool_forward(max, x.data(), y.data(), planes, H, W, nullptr);
  auto fwd = test::compare(y.values(), y_want.to_vector());
  WARN("pool_forward<" << kind_name(kind) << "> " << planes << "x" << H << "x" << W << ": " << fwd.str());
  CHECK(y.guards_intact());
  NST_CHECK_CLOSE(y.values(), y_want.to_vector(), test::kOpTol);
  CHECK(bit_mismatches(y.values(), y_want.to_vector()) == 0);

  // NaN garbage: every value, the dropped row and column included, must be written.
  test::Guarded<float> dx = output(x.numel());
  kernels::launch_pool_backward(max, x.data(), dy.data(), dx.data(), planes, H, W, nullptr);
  auto bwd = test::compare(dx.values(), dx_want.to_vector());
  WARN("pool_backward<" << kind_name(kind) << "> " << planes << "x" << H << "x" << W << ": " << bwd.str());
  CHECK(dx.guards_intact());
  NST_CHECK_CLOSE(dx.values(), dx_want.to_vector(), test::kOpTol);
  CHECK(bit_mismatches(dx.values(), dx_want.to_vector()) == 0);
}

struct Case {
  int planes, H, W;
};

}  // namespace

TEST_CASE("pool_forward and pool_backward kernels match the CPU backend", "[kernels][emu]") {
  // Odd H or W: floor mode drops the last row or column. Even H and odd H take different index paths in
  // the kernels. 2x515x1031 outgrows the launchers' capped grid in both directions, so the grid-stride
  // loops run more than once.
  const Case cases[] = {{1, 2, 2}, {1, 3, 3}, {4, 7, 9}, {3, 16, 11}, {16, 33, 32}, {64, 37, 41}, {2, 515, 1031}};
  for (PoolKind kind : {PoolKind::Max, PoolKind::Avg})
    for (const Case& c : cases)
      DYNAMIC_SECTION(kind_name(kind) << " " << c.planes << "x" << c.H << "x" << c.W) {
        check_against_cpu(kind, test::random_tensor(Shape{1, c.planes, c.H, c.W}, 1));
      }
}

TEST_CASE("pool kernels match the CPU backend when windows hold ties", "[kernels][emu]") {
  // Values from {0, 1, 2}: most max windows hold a tie, and the gradient must go to the same pixel.
  Shape s{2, 3, 17, 15};
  std::vector<float> v = test::random_floats(s.numel(), 3, 0.f, 3.f);
  for (float& f : v) f = float(int(f));
  Tensor x = Tensor::host(s, v);
  check_against_cpu(PoolKind::Max, x);
  check_against_cpu(PoolKind::Avg, x);
}

TEST_CASE("pool_backward kernel sends a tied max's gradient to the first maximum in row-major order",
          "[kernels][emu]") {
  // 3x7: three windows; row 2 and column 6 are dropped (their 9s must be ignored and get zero).
  //   window 0: 1 3 / 3 2          maximum at (0,1) and (1,0)  -> (0,1), index 1
  //   window 1: 5 5 / 5 5          all equal                   -> (0,0), index 2
  //   window 2: -1 -2 / -0.5 -0.5  maximum at (1,0) and (1,1)  -> (1,0), index 7 + 4 = 11
  const int H = 3, W = 7;
  std::vector<float> xv = {1, 3, 5, 5, -1,   -2,   9,  //
                           3, 2, 5, 5, -0.5, -0.5, 9,  //
                           9, 9, 9, 9, 9,    9,    9};
  std::vector<float> dyv = {10, 20, 30};
  std::vector<float> dx_want(H * W, 0.f);
  dx_want[1] = 10, dx_want[2] = 20, dx_want[11] = 30;

  test::Guarded<float> y = output(3);
  kernels::launch_pool_forward(true, xv.data(), y.data(), 1, H, W, nullptr);
  CHECK(y.values() == std::vector<float>{3, 5, -0.5f});
  CHECK(y.guards_intact());

  test::Guarded<float> dx = output(H * W);
  kernels::launch_pool_backward(true, xv.data(), dyv.data(), dx.data(), 1, H, W, nullptr);
  CHECK(dx.values() == dx_want);
  CHECK(dx.guards_intact());

  // The CPU backend, the reference of the other tests, agrees with the hand-made answer.
  auto be = make_cpu_backend();
  Shape s{1, 1, H, W};
  Tensor x = Tensor::host(s, xv), dy = Tensor::host(pooled_shape(s), dyv), want = be->alloc(s);
  be->pool_backward(PoolKind::Max, x, dy, want);
  CHECK(want.to_vector() == dx_want);
}
