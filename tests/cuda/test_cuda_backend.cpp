// [gpu]: the CUDA backend against the CPU backend, op by op and for a whole evaluation of the objective.
// On a machine without a usable device each test says so and ctest reports it as skipped, never passed.
#include <cstdint>
#include <functional>

#include "nst/device.h"
#include "nst/objective.h"
#include "nst/options.h"
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
    // Printed so that a GPU run records what the bounds rest on: the TF32 gradient bound (1e-1) is not yet
    // a measurement (issue 22); the next run on a GPU should tighten it to about twice what it prints.
    WARN(name(p) << ": loss rel err " << test::rel_err(v[1].total, v[0].total) << ", gradient "
                 << test::compare(g[1], g[0]).str());
    CHECK(test::rel_err(v[1].total, v[0].total) <= tol);
    NST_CHECK_CLOSE(g[1], g[0], tol * 10);  // the gradient passes 13 convolutions each way
  }
}

// Every Backend op, one table, as ggml's test-backend-ops does: each entry runs the same code on the CPU
// backend (the reference) and on CUDA from the same host inputs and compares what comes back. An op that
// is added to Backend without a row here is named by the count check at the end.
namespace {

// Tolerances, each with what it rests on:
// - kExact: ops with one defined result per element (ReLU, max pooling, fill, copy, to_rgb8 — the last
//   proven over every float in [0,1] in tests/kernels/test_to_rgb8.cpp, FMA or not).
// - kElementwise: one or two float roundings per element that nvcc may fuse into an FMA (axpy, scale,
//   normalisation, average pooling, Adam): a few ulps, so 1e-6 relative per element.
// - test::kOpTol (1e-5 relative L2): reductions and GEMM-like ops summed in another order (convolutions,
//   Gram, dot, the losses); the CPU backend meets it against double oracles, and the H200 run of issue 15
//   passed the conv and Gram rows at it.
constexpr double kExact = 0, kElementwise = 1e-6;

struct OpRow {
  const char* name;
  double tol;  // kExact or kElementwise: per element; otherwise relative L2
  // Runs the op on `be` from fixed host inputs; returns every output (tensors and scalars) on the host.
  std::function<std::vector<double>(Backend& be)> run;
};

std::vector<double> out(Backend& be, const Tensor& t) {
  std::vector<float> v = be.to_host(t).to_vector();
  return {v.begin(), v.end()};
}

std::vector<OpRow> op_table() {
  const Shape s{1, 5, 13, 17};
  auto in = [](Backend& be, Shape sh, std::uint32_t seed, float lo = -1.f, float hi = 1.f) {
    return be.to_device(test::random_tensor(sh, seed, lo, hi));
  };
  auto accumulate = [s, in](double (Backend::*loss)(const Tensor&, const Tensor&, double, Tensor&), bool gram_target) {
    return [=](Backend& be) {
      Tensor f = in(be, s, 1, 0.f, 2.f), grad = in(be, s, 2), target;
      if (gram_target) {
        target = be.alloc({1, 1, s.c, s.c});
        be.gram(in(be, s, 3, 0.f, 2.f), target);
      } else {
        target = in(be, s, 3, 0.f, 2.f);
      }
      std::vector<double> r = {(be.*loss)(f, target, 0.75, grad)};
      for (double v : out(be, grad)) r.push_back(v);
      return r;
    };
  };
  return {
      {"upload, download", kExact, [=](Backend& be) { return out(be, in(be, s, 1)); }},
      {"normalize_forward", kElementwise, [=](Backend& be) {
         Tensor X = in(be, {1, 3, 9, 11}, 1, 0.f, 1.f), x = be.alloc(X.shape());
         be.normalize_forward(X, torchvision_normalization(), x);
         return out(be, x);
       }},
      {"normalize_backward", kElementwise, [=](Backend& be) {
         Tensor dx = in(be, {1, 3, 9, 11}, 1), dX = in(be, {1, 3, 9, 11}, 2);
         be.normalize_backward(dx, caffe_normalization(), dX);
         return out(be, dX);
       }},
      {"conv_forward", test::kOpTol, [=](Backend& be) {
         Tensor x = in(be, s, 1), w = in(be, {8, 5, 3, 3}, 2), b = in(be, {1, 8, 1, 1}, 3), y = be.alloc({1, 8, 13, 17});
         be.conv_forward(x, w, b, y);
         return out(be, y);
       }},
      {"conv_backward_data", test::kOpTol, [=](Backend& be) {
         Tensor dy = in(be, {1, 8, 13, 17}, 1), w = in(be, {8, 5, 3, 3}, 2), dx = be.alloc(s);
         be.conv_backward_data(dy, w, dx);
         return out(be, dx);
       }},
      {"relu_forward", kExact, [=](Backend& be) {
         Tensor x = in(be, s, 1), y = be.alloc(s);
         be.relu_forward(x, y);
         return out(be, y);
       }},
      {"relu_backward", kExact, [=](Backend& be) {
         Tensor y = in(be, s, 1), dy = in(be, s, 2), dx = be.alloc(s);
         be.relu_forward(y, y);
         be.relu_backward(y, dy, dx);
         return out(be, dx);
       }},
      {"pool_forward max", kExact, [=](Backend& be) {
         Tensor x = in(be, s, 1), y = be.alloc({1, 5, 6, 8});
         be.pool_forward(PoolKind::Max, x, y);
         return out(be, y);
       }},
      {"pool_forward avg", kElementwise, [=](Backend& be) {
         Tensor x = in(be, s, 1), y = be.alloc({1, 5, 6, 8});
         be.pool_forward(PoolKind::Avg, x, y);
         return out(be, y);
       }},
      {"pool_backward max", kExact, [=](Backend& be) {
         Tensor x = in(be, s, 1), dy = in(be, {1, 5, 6, 8}, 2), dx = be.alloc(s);
         be.pool_backward(PoolKind::Max, x, dy, dx);
         return out(be, dx);
       }},
      {"pool_backward avg", kElementwise, [=](Backend& be) {
         Tensor x = in(be, s, 1), dy = in(be, {1, 5, 6, 8}, 2), dx = be.alloc(s);
         be.pool_backward(PoolKind::Avg, x, dy, dx);
         return out(be, dx);
       }},
      {"gram", test::kOpTol, [=](Backend& be) {
         Tensor f = in(be, s, 1), g = be.alloc({1, 1, 5, 5});
         be.gram(f, g);
         return out(be, g);
       }},
      {"content_loss", test::kOpTol, accumulate(&Backend::content_loss, false)},
      {"style_loss", test::kOpTol, accumulate(&Backend::style_loss, true)},
      {"tv_loss", test::kOpTol, [=](Backend& be) {
         Tensor X = in(be, {1, 3, 9, 11}, 1, 0.f, 1.f), grad = in(be, {1, 3, 9, 11}, 2);
         std::vector<double> r = {be.tv_loss(X, 1.5, grad)};
         for (double v : out(be, grad)) r.push_back(v);
         return r;
       }},
      {"fill", kExact, [=](Backend& be) {
         Tensor x = be.alloc(s);
         be.fill(x, 0.375f);
         return out(be, x);
       }},
      {"copy", kExact, [=](Backend& be) {
         Tensor x = in(be, s, 1), y = be.alloc(s);
         be.copy(x, y);
         return out(be, y);
       }},
      {"axpy", kElementwise, [=](Backend& be) {
         Tensor x = in(be, s, 1), y = in(be, s, 2);
         be.axpy(-0.3f, x, y);
         return out(be, y);
       }},
      {"scale", kElementwise, [=](Backend& be) {
         Tensor x = in(be, s, 1);
         be.scale(1.7f, x);
         return out(be, x);
       }},
      {"dot", test::kOpTol, [=](Backend& be) { return std::vector<double>{be.dot(in(be, s, 1), in(be, s, 2))}; }},
      {"adam_step", kElementwise, [=](Backend& be) {
         Tensor x = in(be, s, 1), m = in(be, s, 2, -0.1f, 0.1f), v = in(be, s, 3, 0.f, 0.01f), g = in(be, s, 4);
         AdamState st;
         st.lr = 0.02;
         st.step = 3;
         be.adam_step(st, g, m, v, x);
         std::vector<double> r = out(be, x), rm = out(be, m), rv = out(be, v);
         r.insert(r.end(), rm.begin(), rm.end());
         r.insert(r.end(), rv.begin(), rv.end());
         return r;
       }},
      {"to_rgb8", kExact, [=](Backend& be) {
         Tensor X = in(be, {1, 3, 9, 11}, 1, -0.2f, 1.2f);
         std::vector<std::uint8_t> bytes(3 * 9 * 11);
         be.to_rgb8(X, bytes.data());
         return std::vector<double>(bytes.begin(), bytes.end());
       }},
  };
}

}  // namespace

TEST_CASE("every Backend op on CUDA matches the CPU backend, one table", "[gpu]") {
  const std::vector<OpRow> table = op_table();
  // The Backend ops with a device result: upload/download, normalize x2, conv x2, relu x2, pool x2 (x2
  // kinds), gram, three losses, fill, copy, axpy, scale, dot, adam_step, to_rgb8.
  CHECK(table.size() == 22);
  std::string why;
  auto gpu = cuda_or_null(why);
  if (!gpu) NST_SKIP(why);
  auto cpu = make_cpu_backend();
  for (const OpRow& row : table) {
    INFO(row.name);
    const std::vector<double> want = row.run(*cpu), got = row.run(*gpu);
    if (row.tol == kExact || row.tol == kElementwise) NST_CHECK_EACH(got, want, row.tol, row.tol);  // values are O(1)
    else NST_CHECK_CLOSE(got, want, row.tol);
  }
}
