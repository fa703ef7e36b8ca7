// kernels/relu.cu under host emulation vs the CPU backend.
#include <limits>

#include "guarded.h"
#include "nst/backend.h"
#include "relu.cuh"
#include "test_util.h"

using namespace nst;

TEST_CASE("relu_forward kernel matches the CPU backend, in place too", "[kernels][emu]") {
  auto be = make_cpu_backend();
  for (std::size_t n : {std::size_t(1), std::size_t(255), std::size_t(257), std::size_t(3 * 37 * 41)}) {
    DYNAMIC_SECTION("n=" << n) {
      Shape s{1, 1, 1, int(n)};
      Tensor x = test::random_tensor(s, 3);
      // NaN and -0 must both come out as +0, as on the CPU (no infinities: they would make the L2 NaN).
      const float special[] = {std::numeric_limits<float>::quiet_NaN(), -0.f, 0.f, -1e30f, 1e30f};
      for (std::size_t i = 0; i < std::size(special) && i < n; ++i) x.data()[i] = special[i];
      Tensor want = be->alloc(s);
      be->relu_forward(x, want);
      test::Guarded<float> y(n);
      kernels::launch_relu_forward(x.data(), y.data(), n, nullptr);
      CHECK(y.guards_intact());
      NST_CHECK_CLOSE(y.values(), want.to_vector(), test::kOpTol);
      for (std::size_t i = 0; i < std::size(special) && i < n; ++i) CHECK(!std::signbit(y.data()[i]));
      kernels::launch_relu_forward(x.data(), x.data(), n, nullptr);
      NST_CHECK_CLOSE(x.to_vector(), want.to_vector(), test::kOpTol);
    }
  }
}

TEST_CASE("relu_backward kernel matches the CPU backend, in place too", "[kernels][emu]") {
  auto be = make_cpu_backend();
  for (std::size_t n : {std::size_t(1), std::size_t(255), std::size_t(257), std::size_t(3 * 37 * 41)}) {
    DYNAMIC_SECTION("n=" << n) {
      Shape s{1, 1, 1, int(n)};
      Tensor y = test::random_tensor(s, 1), dy = test::random_tensor(s, 2);
      Tensor want = be->alloc(s);
      be->relu_backward(y, dy, want);
      test::Guarded<float> dx(n);
      kernels::launch_relu_backward(y.data(), dy.data(), dx.data(), n, nullptr);
      CHECK(dx.guards_intact());
      NST_CHECK_CLOSE(dx.values(), want.to_vector(), test::kOpTol);
      kernels::launch_relu_backward(y.data(), dy.data(), dy.data(), n, nullptr);
      NST_CHECK_CLOSE(dy.to_vector(), want.to_vector(), test::kOpTol);
    }
  }
}
