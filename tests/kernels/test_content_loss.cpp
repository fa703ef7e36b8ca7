// kernels/content_loss.cu (the content_loss kernel) under host emulation vs the CPU backend.
#include <vector>

#include "content_loss.cuh"
#include "guarded.h"
#include "nst/backend.h"
#include "test_util.h"

using namespace nst;

namespace {

Shape shape_of(std::size_t n) {
  // The large case as a layer's features (70 channels of 64x64): more elements than a capped grid has
  // threads, so threads stride.
  return n == std::size_t(64) * 64 * 70 ? Shape{1, 70, 64, 64} : Shape{1, 1, 1, int(n)};
}

}  // namespace

TEST_CASE("content_loss kernel matches the CPU backend's value and accumulated gradient", "[kernels][emu]") {
  auto be = make_cpu_backend();
  const double weight = 1.7;
  for (std::size_t n : {std::size_t(1), std::size_t(255), std::size_t(256), std::size_t(257), std::size_t(1000),
                        std::size_t(64) * 64 * 70}) {
    DYNAMIC_SECTION("n=" << n) {
      Shape s = shape_of(n);
      Tensor f = test::random_tensor(s, 1), target = test::random_tensor(s, 2);
      float k = kernels::content_loss_k(weight, n);  // the backend's own host code
      // The kernel adds into what is there. Starting values of the increment's size, so that a missed or
      // doubled increment shows in the relative error of the sum.
      std::vector<float> grad0 = test::random_floats(n, 3, -2 * k, 2 * k);
      Tensor want_grad = Tensor::host(s, grad0);
      double want = be->content_loss(f, target, weight, want_grad);

      test::Guarded<float> grad(grad0), partials(kernels::kMaxReductionBlocks);
      unsigned blocks = kernels::launch_content_loss(f.data(), target.data(), k, grad.data(), n, partials.data(),
                                                     nullptr);
      REQUIRE(blocks == kernels::reduction_blocks(n));
      CHECK(grad.guards_intact());
      CHECK(partials.guards_intact());
      CHECK(partials.unused_intact(blocks));

      double got = kernels::content_loss_value(weight, n, partials.sum(blocks));
      double value_err = test::rel_err(got, want);
      auto grad_cmp = test::compare(grad.values(), want_grad.to_vector());
      WARN("content_loss n=" << n << ": value rel err " << value_err << ", gradient rel L2 " << grad_cmp.rel);
      INFO("value " << got << " vs " << want);
      CHECK(value_err <= 1e-5);
      NST_CHECK_CLOSE(grad.values(), want_grad.to_vector(), test::kOpTol);
    }
  }
}
