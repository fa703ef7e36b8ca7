// kernels/normalize.cu under host emulation vs the CPU backend: normalize_forward and normalize_backward
// on image sizes that are not multiples of the block, for both published normalisations (torchvision RGB
// and caffe BGR, which swaps planes).
#include <limits>
#include <vector>

#include "guarded.h"
#include "nst/backend.h"
#include "nst/weights.h"
#include "normalize.cuh"
#include "test_util.h"

using namespace nst;

namespace {

constexpr std::size_t kGuards = 3;  // sentinels on each side of an output

struct Size {
  int h, w;
};
const Size kSizes[] = {{1, 1}, {5, 7}, {37, 41}, {300, 257}};

struct Named {
  const char* name;
  Normalization norm;
};
std::vector<Named> normalizations() { return {{"torchvision", torchvision_normalization()}, {"caffe", caffe_normalization()}}; }

// `values` with kGuards sentinels before and after.
test::Guarded<float> guarded(const std::vector<float>& values) {
  return test::Guarded<float>(values, test::kGuard, kGuards);
}

// Runs `check(norm, shape)` for each normalisation and image size, each in its own section.
template <typename Check>
void for_each_case(Check check) {
  for (const Named& nn : normalizations())
    for (Size sz : kSizes) {
      DYNAMIC_SECTION(nn.name << " " << sz.h << "x" << sz.w) { check(nn.norm, Shape{1, 3, sz.h, sz.w}); }
    }
}

std::size_t plane(const Shape& s) { return std::size_t(s.h) * s.w; }

}  // namespace

TEST_CASE("norm_params rounds the constants as the CPU backend does", "[kernels][emu]") {
  Normalization n = caffe_normalization();
  kernels::NormParams p = kernels::norm_params(n);
  for (int c = 0; c < 3; ++c) {
    CHECK(p.a[c] == float(n.scale / n.std[c]));
    CHECK(p.b[c] == float(n.mean[c] / n.std[c]));
    CHECK(p.src[c] == 2 - c);
  }
  n = torchvision_normalization();
  p = kernels::norm_params(n);
  for (int c = 0; c < 3; ++c) {
    CHECK(p.a[c] == float(n.scale / n.std[c]));
    CHECK(p.b[c] == float(n.mean[c] / n.std[c]));
    CHECK(p.src[c] == c);
  }
}

TEST_CASE("normalize_forward kernel matches the CPU backend", "[kernels][emu]") {
  auto be = make_cpu_backend();
  for_each_case([&](const Normalization& norm, Shape s) {
    Tensor X = test::random_tensor(s, 7, 0.f, 1.f);
    Tensor want = be->alloc(s);
    be->normalize_forward(X, norm, want);
    test::Guarded<float> x = guarded(std::vector<float>(s.numel(), 0.f));
    kernels::launch_normalize_forward(X.data(), x.data(), plane(s), kernels::norm_params(norm), nullptr);
    CHECK(x.guards_intact());
    NST_CHECK_CLOSE(x.values(), want.to_vector(), test::kOpTol);
  });
}

TEST_CASE("normalize_backward kernel accumulates as the CPU backend does", "[kernels][emu]") {
  auto be = make_cpu_backend();
  for_each_case([&](const Normalization& norm, Shape s) {
    Tensor dx = test::random_tensor(s, 8);
    std::vector<float> dX0 = test::random_floats(s.numel(), 9);  // what is accumulated into
    Tensor want = Tensor::host(s, dX0);
    be->normalize_backward(dx, norm, want);
    test::Guarded<float> dX = guarded(dX0);
    kernels::launch_normalize_backward(dx.data(), dX.data(), plane(s), kernels::norm_params(norm), nullptr);
    CHECK(dX.guards_intact());
    NST_CHECK_CLOSE(dX.values(), want.to_vector(), test::kOpTol);
  });
}
