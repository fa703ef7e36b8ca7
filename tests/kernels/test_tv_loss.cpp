// kernels/tv_loss.cu (the tv_loss kernel) under host emulation vs the CPU backend.
#include <cmath>
#include <vector>

#include "guarded.h"
#include "nst/backend.h"
#include "test_util.h"
#include "tv_loss.cuh"

using namespace nst;

namespace {

struct Image {
  int h, w;
};

}  // namespace

TEST_CASE("tv_loss kernel matches the CPU backend's value and accumulated gradient", "[kernels][emu]") {
  auto be = make_cpu_backend();
  const double weight = 0.9;
  // Single pixels, rows and columns (one neighbour direction missing everywhere), an odd image, a larger
  // one, and one of 270000 pixels, more than a capped grid has threads, so threads stride.
  for (Image im : {Image{1, 1}, Image{1, 6}, Image{7, 1}, Image{31, 17}, Image{100, 300}, Image{300, 300}}) {
    DYNAMIC_SECTION(im.h << "x" << im.w) {
      Shape s{1, 3, im.h, im.w};
      std::size_t n = s.numel();
      Tensor X = test::random_tensor(s, 1, 0.f, 1.f);
      float k2 = kernels::tv_loss_k2(weight, im.h, im.w);  // the backend's own host code
      // The kernel adds into what is there. Starting values of the increment's size, so that a missed or
      // doubled increment shows in the relative error of the sum.
      std::vector<float> grad0 = test::random_floats(n, 2, -k2, k2);
      Tensor want_grad = Tensor::host(s, grad0);
      double want = be->tv_loss(X, weight, want_grad);

      test::Guarded<float> grad(grad0), partials(kernels::kMaxReductionBlocks);
      unsigned blocks = kernels::launch_tv_loss(X.data(), k2, grad.data(), 3, im.h, im.w, partials.data(), nullptr);
      REQUIRE(blocks == kernels::reduction_blocks(n));
      CHECK(grad.guards_intact());
      CHECK(partials.guards_intact());
      CHECK(partials.unused_intact(blocks));

      double got = kernels::tv_loss_value(weight, im.h, im.w, partials.sum(blocks));
      std::vector<float> got_grad = grad.values();
      // A 1x1 image has no differences: the value is exactly 0 and the gradient unchanged.
      double value_err = want == 0 ? std::abs(got) : test::rel_err(got, want);
      auto grad_cmp = test::compare(got_grad, want_grad.to_vector());
      WARN("tv_loss " << im.h << "x" << im.w << ": value rel err " << value_err << ", gradient rel L2 "
                       << grad_cmp.rel);
      INFO("value " << got << " vs " << want);
      CHECK(value_err <= 1e-5);
      NST_CHECK_CLOSE(got_grad, want_grad.to_vector(), test::kOpTol);
    }
  }
}
