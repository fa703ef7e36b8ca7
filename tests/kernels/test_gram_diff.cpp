// kernels/gram_diff.cu (the gram_diff kernel) under host emulation vs a double computation from the CPU
// backend's Grams, and vs the CPU backend's style loss value.
#include <string>
#include <vector>

#include "gram_diff.cuh"
#include "guarded.h"
#include "nst/backend.h"
#include "test_util.h"

using namespace nst;

namespace {

// Runs the kernel on copies of G and T inside guarded buffers and checks D = G - T and the sum of D^2
// against double; returns the sum of the partials (in double, as the backend adds them).
double check_gram_diff(const std::vector<float>& G, const std::vector<float>& T, const std::string& what) {
  std::size_t n = G.size();
  std::vector<double> want_d(n);
  double want_sum = 0;
  for (std::size_t i = 0; i < n; ++i) {
    want_d[i] = double(G[i]) - double(T[i]);
    want_sum += want_d[i] * want_d[i];
  }

  test::Guarded<float> d(G), partials(kernels::kMaxReductionBlocks);
  unsigned blocks = kernels::launch_gram_diff(d.data(), T.data(), n, partials.data(), nullptr);
  REQUIRE(blocks == kernels::reduction_blocks(n));
  CHECK(d.guards_intact());
  CHECK(partials.guards_intact());
  CHECK(partials.unused_intact(blocks));

  double sum = partials.sum(blocks);
  std::vector<float> got_d = d.values();
  double sum_err = test::rel_err(sum, want_sum);
  auto d_cmp = test::compare(got_d, want_d);
  WARN("gram_diff " << what << ": sum rel err " << sum_err << ", D rel L2 " << d_cmp.rel);
  INFO("sum " << sum << " vs " << want_sum);
  CHECK(sum_err <= 1e-5);
  NST_CHECK_CLOSE(got_d, want_d, test::kOpTol);
  return sum;
}

}  // namespace

TEST_CASE("gram_diff kernel on two feature maps' Grams matches double and the style loss", "[kernels][emu]") {
  auto be = make_cpu_backend();
  const double weight = 2.3;
  // C*C entries: below, at and above one block of 256; 1024; and 600^2 = 360000, more than a capped grid
  // has threads, so threads stride.
  for (int C : {1, 15, 16, 17, 32, 600}) {
    DYNAMIC_SECTION("C=" << C) {
      int h = C > 100 ? 2 : 5, w = C > 100 ? 3 : 7;
      Tensor f = test::random_tensor(Shape{1, C, h, w}, 1), f2 = test::random_tensor(Shape{1, C, h, w}, 2, 0.f, 1.f);
      Tensor G = Tensor::host(Shape{1, 1, C, C}), T = Tensor::host(Shape{1, 1, C, C});
      be->gram(f, G);
      be->gram(f2, T);
      double sum = check_gram_diff(G.to_vector(), T.to_vector(), "C=" + std::to_string(C));

      // The backend's value from the partials, as the CUDA backend forms it, vs the CPU style loss.
      Tensor grad = Tensor::host(f.shape());
      double want = be->style_loss(f, T, weight, grad);
      double got = kernels::style_loss_value(weight, C, sum);
      WARN("gram_diff C=" << C << ": style value rel err vs CPU backend " << test::rel_err(got, want));
      CHECK(test::rel_err(got, want) <= 1e-5);
    }
  }
}

TEST_CASE("gram_diff kernel on flat buffers of odd sizes matches double", "[kernels][emu]") {
  for (std::size_t n : {std::size_t(255), std::size_t(256), std::size_t(257), std::size_t(1000)}) {
    DYNAMIC_SECTION("n=" << n) {
      check_gram_diff(test::random_floats(n, 4), test::random_floats(n, 5), "n=" + std::to_string(n));
    }
  }
}
