// [gpu]: the CUDA backend against the CPU backend, op by op and for a whole evaluation of the objective.
// On a machine without a usable device each test says so and ctest reports it as skipped, never passed.
#include "nst/device.h"
#include "nst/objective.h"
#include "test_util.h"

using namespace nst;

namespace {

// The CUDA backend, or nullptr with the reason in `why` (the caller then NST_SKIPs).
std::unique_ptr<Backend> cuda_or_null(std::string& why, Precision p = Precision::FP32) {
  CudaProbe probe = probe_cuda();
  if (probe.devices == 0) {
    why = "no CUDA device: " + probe.reason;
    return nullptr;
  }
  return make_cuda_backend(0, p);
}

std::vector<float> run(Backend& be, const Tensor& host_in, const std::function<void(Tensor&, Tensor&)>& op, Shape out) {
  Tensor in = be.to_device(host_in), o = be.alloc(out);
  op(in, o);
  return be.to_host(o).to_vector();
}

}  // namespace

TEST_CASE("CUDA ops match the CPU backend in FP32", "[gpu]") {
  std::string why;
  auto gpu = cuda_or_null(why);
  if (!gpu) NST_SKIP(why);
  auto cpu = make_cpu_backend();
  for (auto [C, O, H, W] : {std::tuple{3, 64, 37, 41}, std::tuple{64, 128, 32, 32}, std::tuple{256, 256, 17, 9}}) {
    DYNAMIC_SECTION("conv " << C << "->" << O << " at " << H << "x" << W) {
      Tensor x = test::random_tensor({1, C, H, W}, 1), w = test::random_tensor({O, C, 3, 3}, 2), b = test::random_tensor({1, O, 1, 1}, 3);
      Tensor dy = test::random_tensor({1, O, H, W}, 4);
      Tensor gw = gpu->to_device(w), gb = gpu->to_device(b);
      auto fwd = [&](Backend& be, Tensor& in, Tensor& out, const Tensor& ww, const Tensor& bb) { be.conv_forward(in, ww, bb, out); };
      Tensor want = cpu->alloc({1, O, H, W});
      cpu->conv_forward(x, w, b, want);
      NST_CHECK_CLOSE(run(*gpu, x, [&](Tensor& i, Tensor& o) { fwd(*gpu, i, o, gw, gb); }, want.shape()), want.to_vector(), test::kOpTol);
      Tensor dx = cpu->alloc(x.shape());
      cpu->conv_backward_data(dy, w, dx);
      NST_CHECK_CLOSE(run(*gpu, dy, [&](Tensor& i, Tensor& o) { gpu->conv_backward_data(i, gw, o); }, x.shape()), dx.to_vector(), test::kOpTol);
      Tensor g = cpu->alloc({1, 1, C, C});
      cpu->gram(x, g);
      NST_CHECK_CLOSE(run(*gpu, x, [&](Tensor& i, Tensor& o) { gpu->gram(i, o); }, g.shape()), g.to_vector(), test::kOpTol);
    }
  }
}

TEST_CASE("a whole evaluation on CUDA matches the CPU backend (FP32 1e-5, TF32 1e-2)", "[gpu]") {
  for (Precision p : {Precision::FP32, Precision::TF32}) {
    std::string why;
    auto gpu = cuda_or_null(why, p);
    if (!gpu) NST_SKIP(why);
    auto cpu = make_cpu_backend();
    Weights w = synthetic_weights({16, 32, 64, 64, 64}, 11, torchvision_normalization());
    LossConfig cfg;
    cfg.content_weight = 1, cfg.style_weight = 1e3, cfg.tv_weight = 1e-2;
    Tensor content = test::random_tensor({1, 3, 64, 80}, 1, 0.f, 1.f), style = test::random_tensor({1, 3, 72, 56}, 2, 0.f, 1.f);
    Tensor X = test::random_tensor({1, 3, 64, 80}, 3, 0.f, 1.f);
    LossValues v[2];
    std::vector<float> g[2];
    int k = 0;
    for (Backend* be : {cpu.get(), gpu.get()}) {
      Objective obj(*be, w, cfg);
      obj.set_content(content);
      obj.set_styles({style});
      Tensor x = be->to_device(X), grad = be->alloc(X.shape());
      v[k] = obj.evaluate(x, grad);
      g[k++] = be->to_host(grad).to_vector();
    }
    double tol = p == Precision::FP32 ? 1e-5 : 1e-2;
    CHECK(test::rel_err(v[1].total, v[0].total) <= tol);
    NST_CHECK_CLOSE(g[1], g[0], tol * 10);  // the gradient passes 13 convolutions each way
  }
}
