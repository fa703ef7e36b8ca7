// kernels/relu.cu under host emulation vs the CPU backend.
#include "nst/backend.h"
#include "relu.cuh"
#include "test_util.h"

using namespace nst;

TEST_CASE("relu_backward kernel matches the CPU backend, in place too", "[kernels][emu]") {
  auto be = make_cpu_backend();
  for (std::size_t n : {std::size_t(1), std::size_t(255), std::size_t(257), std::size_t(3 * 37 * 41)}) {
    DYNAMIC_SECTION("n=" << n) {
      Shape s{1, 1, 1, int(n)};
      Tensor y = test::random_tensor(s, 1), dy = test::random_tensor(s, 2);
      Tensor want = be->alloc(s);
      be->relu_backward(y, dy, want);
      std::vector<float> dx(n + 2, 12345.f);  // guard values around the output
      kernels::launch_relu_backward(y.data(), dy.data(), dx.data() + 1, n, nullptr);
      CHECK(dx.front() == 12345.f);
      CHECK(dx.back() == 12345.f);
      NST_CHECK_CLOSE(std::vector<float>(dx.begin() + 1, dx.end() - 1), want.to_vector(), test::kOpTol);
      kernels::launch_relu_backward(y.data(), dy.data(), dy.data(), n, nullptr);
      NST_CHECK_CLOSE(dy.to_vector(), want.to_vector(), test::kOpTol);
    }
  }
}
