// Every CPU backend op against its naive double-precision oracle (src/cpu/ref), on odd shapes.
#include <cmath>

#include "cpu/conv_small_c.h"
#include "cpu/dnnl_conv.h"
#include "cpu/ref/ref_ops.h"
#include "nst/backend.h"
#include "nst/weights.h"
#include "test_util.h"

using namespace nst;
using nst::test::kOpTol;
using nst::test::random_tensor;

namespace {

ref::Vec dbl(const Tensor& t) { return ref::to_double(t.to_vector()); }
ref::Dims dims(const Tensor& t) { return ref::Dims{t.shape().c, t.shape().h, t.shape().w}; }

struct ConvCase {
  int c, h, w, o;
};

}  // namespace

TEST_CASE("conv forward and backward-data match the naive loops", "[cpu][conv]") {
  // Every path: oneDNN (direct, and Winograd) where it takes the shape (channels multiples of 16, on an
  // AVX-512 CPU), our AVX-512 kernel for few input channels, and im2col + OpenBLAS, which blas_only forces.
  const int mode = GENERATE(0, 1, 2);
  const bool blas_only = mode == 1;
  auto be = make_cpu_backend(blas_only, mode == 2 ? ConvAlgo::Winograd : ConvAlgo::Direct);
  // 1x1 images, one channel, odd sizes, C < O and C > O, two wide enough that the im2col and col2im
  // buffers work in several row tiles, and channel counts oneDNN takes (1x1 and odd images among them).
  const ConvCase cases[] = {{1, 1, 1, 1},     {1, 5, 7, 3},      {3, 17, 13, 4},   {8, 9, 16, 1},
                            {16, 33, 31, 24}, {64, 45, 300, 8},  {64, 45, 300, 96}, {16, 1, 1, 16},
                            {16, 7, 5, 32},   {48, 13, 29, 16},  {128, 6, 9, 64},  {3, 17, 13, 16},
                            {8, 9, 16, 32},   {3, 64, 64, 64},  {1, 1, 1, 16},    {3, 2, 33, 48},
                            {9, 4, 17, 16}};
  for (const auto& cc : cases) {
    DYNAMIC_SECTION((mode == 1 ? "blas " : mode == 2 ? "winograd " : "") << "C=" << cc.c << " H=" << cc.h << " W=" << cc.w << " O=" << cc.o) {
      Tensor x = random_tensor({1, cc.c, cc.h, cc.w}, 1);
      Tensor w = random_tensor({cc.o, cc.c, 3, 3}, 2);
      Tensor b = random_tensor({1, cc.o, 1, 1}, 3);
      Tensor y = be->alloc({1, cc.o, cc.h, cc.w});
      be->conv_forward(x, w, b, y);
      NST_CHECK_CLOSE(y.to_vector(), ref::conv_forward(dbl(x), dims(x), dbl(w), dbl(b), cc.o), kOpTol);

      Tensor dy = random_tensor(y.shape(), 4);
      Tensor dx = random_tensor(x.shape(), 5);  // garbage in: backward-data overwrites
      be->conv_backward_data(dy, w, dx);
      NST_CHECK_CLOSE(dx.to_vector(), ref::conv_backward_data(dbl(dy), dims(x), dbl(w), cc.o), kOpTol);
    }
  }
}

TEST_CASE("the CPU picks oneDNN for channels in 16s and keeps one blocked copy per weight allocation", "[cpu][conv]") {
  auto be = make_cpu_backend();
  const std::string why = cpu::DnnlConv::unavailable_reason();
  const std::string vgg = be->conv_info({1, 64, 32, 32}, {64, 64, 3, 3}, false);
  const std::string first = be->conv_info({1, 3, 32, 32}, {64, 3, 3, 3}, true);  // crashes in oneDNN 2.6
  CHECK_THAT(first, Catch::Matchers::StartsWith("im2col + openblas"));
  if (cpu::small_c_conv_suits(3, 64))
    CHECK_THAT(be->conv_info({1, 3, 32, 32}, {64, 3, 3, 3}, false), Catch::Matchers::StartsWith("direct avx-512"));
  CHECK_THAT(make_cpu_backend(true)->conv_info({1, 64, 32, 32}, {64, 64, 3, 3}, false), Catch::Matchers::Contains("blas only"));
  if (!why.empty()) {
    CHECK_THAT(vgg, Catch::Matchers::Contains(why));
    NST_SKIP("oneDNN not used here (" << why << "): its paths are not checked");
  }
  CHECK_THAT(vgg, Catch::Matchers::StartsWith("onednn "));
  CHECK_THAT(make_cpu_backend(false, ConvAlgo::Winograd)->conv_info({1, 64, 32, 32}, {64, 64, 3, 3}, true), Catch::Matchers::Contains("wino"));
  CHECK_THAT(make_cpu_backend(false, ConvAlgo::Fastest)->conv_info({1, 64, 32, 32}, {64, 64, 3, 3}, false), Catch::Matchers::StartsWith("onednn "));

  // Two weight tensors of one shape, one after the other, and the first again: each result is its own
  // weights' (a cache keyed on shape or on a reused address would give the other's).
  Tensor x = random_tensor({1, 16, 5, 6}, 11), b = random_tensor({1, 32, 1, 1}, 12), y = be->alloc({1, 32, 5, 6});
  for (int round = 0; round < 2; ++round)
    for (std::uint32_t seed : {13u, 14u}) {
      Tensor w = random_tensor({32, 16, 3, 3}, seed);
      be->conv_forward(x, w, b, y);
      NST_CHECK_CLOSE(y.to_vector(), ref::conv_forward(dbl(x), dims(x), dbl(w), dbl(b), 32), kOpTol);
    }

  // A weight tensor's blocked copy lives as long as its allocation: replacing the weights many times over
  // holds one copy, not one per tensor ever seen.
  cpu::DnnlConv conv;
  std::size_t held_after_first = 0;
  for (int k = 0; k < 5; ++k) {
    Tensor w = random_tensor({32, 16, 3, 3}, 20 + k);
    conv.forward(x.data(), 16, 5, 6, w, b.data(), y.data());
    NST_CHECK_CLOSE(y.to_vector(), ref::conv_forward(dbl(x), dims(x), dbl(w), dbl(b), 32), kOpTol);
    if (k == 0) held_after_first = conv.bytes_held();
    CHECK(conv.bytes_held() == held_after_first);
  }
  CHECK(held_after_first >= 32 * 16 * 9 * sizeof(float));
}

TEST_CASE("relu forward and backward match the naive loops, in place too", "[cpu][relu]") {
  auto be = make_cpu_backend();
  Tensor x = random_tensor({1, 3, 7, 5}, 6), y = be->alloc(x.shape());
  be->relu_forward(x, y);
  NST_CHECK_EACH(y.to_vector(), ref::relu_forward(dbl(x)), 0, 0);  // exact, element by element
  Tensor dy = random_tensor(x.shape(), 7);
  auto expect = ref::relu_backward(dbl(y), dbl(dy));
  be->relu_backward(y, dy, dy);  // in place, as the network runs it
  NST_CHECK_EACH(dy.to_vector(), expect, 0, 0);
  be->relu_forward(x, x);
  NST_CHECK_EACH(x.to_vector(), dbl(y), 0, 0);
}

TEST_CASE("max and average pooling match the naive loops in floor mode", "[cpu][pool]") {
  const bool plain = GENERATE(false, true);  // with and without the AVX-512 rows (widths of 32 and more)
  auto be = make_cpu_backend(plain);
  const Shape shapes[] = {{1, 1, 2, 2}, {1, 1, 3, 3}, {1, 4, 7, 9}, {1, 3, 16, 11}, {1, 16, 33, 32}, {1, 2, 9, 97}, {1, 3, 6, 64}};
  for (PoolKind kind : {PoolKind::Max, PoolKind::Avg}) {
    for (const Shape& s : shapes) {
      DYNAMIC_SECTION((plain ? "plain " : "") << (kind == PoolKind::Max ? "max " : "avg ") << s.str()) {
        Tensor x = random_tensor(s, 8), y = be->alloc(pooled_shape(s));
        be->pool_forward(kind, x, y);
        NST_CHECK_CLOSE(y.to_vector(), ref::pool_forward(kind, dbl(x), dims(x)), kOpTol);
        Tensor dy = random_tensor(y.shape(), 9), dx = random_tensor(s, 10);
        be->pool_backward(kind, x, dy, dx);
        NST_CHECK_CLOSE(dx.to_vector(), ref::pool_backward(kind, dbl(x), dims(x), dbl(dy)), kOpTol);
      }
    }
  }
}

TEST_CASE("max pooling sends the gradient of a tie to the first maximum in row-major order", "[cpu][pool]") {
  auto be = make_cpu_backend();
  // Window 1: all equal -> (0,0). Window 2: max at (0,1) and (1,0) -> (0,1).
  Tensor x = Tensor::host({1, 1, 2, 4}, {5, 5, 1, 3, 5, 5, 3, 2});
  Tensor dy = Tensor::host({1, 1, 1, 2}, {1, 2}), dx = be->alloc(x.shape());
  be->pool_backward(PoolKind::Max, x, dy, dx);
  CHECK(dx.to_vector() == std::vector<float>{1, 0, 0, 2, 0, 0, 0, 0});

  // Wide rows of values from {0, 1, 2} and some NaNs (most windows tied): the AVX-512 rows and the plain
  // loop pick the same element in every window.
  Shape s{1, 3, 6, 101};
  std::vector<float> v = nst::test::random_floats(s.numel(), 21, 0.f, 3.f);
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = i % 37 == 5 ? std::nanf("") : float(int(v[i]));
  Tensor xs = Tensor::host(s, v), gs = random_tensor(pooled_shape(s), 22);
  Tensor fast = be->alloc(s), slow = be->alloc(s);
  be->pool_backward(PoolKind::Max, xs, gs, fast);
  make_cpu_backend(true)->pool_backward(PoolKind::Max, xs, gs, slow);
  CHECK(fast.to_vector() == slow.to_vector());
}

TEST_CASE("Gram matrix matches the naive loop", "[cpu][gram]") {
  const bool plain = GENERATE(false, true);  // with and without the AVX-512 Gram (C in 4s up to 128)
  auto be = make_cpu_backend(plain);
  // 1 and 5 channels (SSYRK only), 4 and 8 channels on 1 pixel and on fewer pixels than a vector, 64 and
  // 128 channels on several 2048-pixel chunks with a partial last vector (and so two threads' ranges).
  for (Shape s : {Shape{1, 1, 1, 1}, Shape{1, 5, 3, 7}, Shape{1, 64, 17, 19}, Shape{1, 4, 1, 1}, Shape{1, 8, 3, 5},
                  Shape{1, 64, 67, 71}, Shape{1, 128, 40, 53}, Shape{1, 132, 5, 5}}) {
    DYNAMIC_SECTION((plain ? "plain " : "") << s.str()) {
      Tensor f = random_tensor(s, 11, 0.f, 2.f), g = be->alloc({1, 1, s.c, s.c});
      be->gram(f, g);
      NST_CHECK_CLOSE(g.to_vector(), ref::gram(dbl(f), dims(f)), kOpTol);
    }
  }
}

TEST_CASE("content, style and TV losses match the naive loops, value and accumulated gradient", "[cpu][loss]") {
  auto be = make_cpu_backend();
  for (Shape s : {Shape{1, 1, 1, 1}, Shape{1, 3, 5, 9}, Shape{1, 32, 13, 11}}) {
    DYNAMIC_SECTION(s.str()) {
      Tensor f = random_tensor(s, 12, 0.f, 3.f), t = random_tensor(s, 13, 0.f, 3.f);
      ref::Vec inc(s.numel(), 0.0);
      ref::content_loss(dbl(f), dbl(t), 0.7, &inc);
      Tensor grad = nst::test::increment_scale_buffer(s, 14, inc);  // the ops add into it
      ref::Vec g_ref = dbl(grad);
      double v = be->content_loss(f, t, 0.7, grad);
      double v_ref = ref::content_loss(dbl(f), dbl(t), 0.7, &g_ref);
      CHECK(nst::test::rel_err(v, v_ref) <= kOpTol);
      NST_CHECK_CLOSE(grad.to_vector(), g_ref, kOpTol);

      Tensor tg = be->alloc({1, 1, s.c, s.c});
      be->gram(random_tensor(s, 15, 0.f, 3.f), tg);
      ref::Vec sinc(s.numel(), 0.0);
      ref::style_loss(dbl(f), dims(f), dbl(tg), 3.5, &sinc);
      grad = nst::test::increment_scale_buffer(s, 24, sinc);
      g_ref = dbl(grad);
      v = be->style_loss(f, tg, 3.5, grad);
      v_ref = ref::style_loss(dbl(f), dims(f), dbl(tg), 3.5, &g_ref);
      CHECK(nst::test::rel_err(v, v_ref) <= kOpTol);
      NST_CHECK_CLOSE(grad.to_vector(), g_ref, kOpTol);
    }
  }
  for (Shape s : {Shape{1, 3, 1, 1}, Shape{1, 3, 1, 6}, Shape{1, 3, 7, 1}, Shape{1, 3, 31, 17}}) {
    DYNAMIC_SECTION("tv " << s.str()) {
      Tensor X = random_tensor(s, 16, 0.f, 1.f);
      ref::Vec inc(s.numel(), 0.0);
      ref::tv_loss(dbl(X), dims(X), 2.5, &inc);
      Tensor grad = nst::test::increment_scale_buffer(s, 17, inc);
      ref::Vec g_ref = dbl(grad);
      double v = be->tv_loss(X, 2.5, grad);
      double v_ref = ref::tv_loss(dbl(X), dims(X), 2.5, &g_ref);
      if (v_ref == 0) CHECK(v == 0);
      else CHECK(nst::test::rel_err(v, v_ref) <= kOpTol);
      NST_CHECK_CLOSE(grad.to_vector(), g_ref, kOpTol);
    }
  }
}

TEST_CASE("input normalisation forward and backward, RGB and BGR", "[cpu][normalize]") {
  auto be = make_cpu_backend();
  for (const Normalization& norm : {torchvision_normalization(), caffe_normalization()}) {
    DYNAMIC_SECTION((norm.bgr ? "caffe" : "torchvision")) {
      Tensor X = random_tensor({1, 3, 5, 7}, 18, 0.f, 1.f), x = be->alloc(X.shape());
      be->normalize_forward(X, norm, x);
      NST_CHECK_CLOSE(x.to_vector(), ref::normalize_forward(dbl(X), dims(X), norm), kOpTol);
      Tensor dx = random_tensor(X.shape(), 19);
      ref::Vec expect = ref::normalize_backward(dbl(dx), dims(X), norm);
      Tensor dX = nst::test::increment_scale_buffer(X.shape(), 20, expect);
      ref::Vec before = dbl(dX);
      for (std::size_t i = 0; i < expect.size(); ++i) expect[i] += before[i];
      be->normalize_backward(dx, norm, dX);
      NST_CHECK_CLOSE(dX.to_vector(), expect, kOpTol);
    }
  }
}

TEST_CASE("vector ops for the optimisers", "[cpu][vector]") {
  auto be = make_cpu_backend();
  Shape s{1, 3, 11, 13};
  Tensor x = random_tensor(s, 21), y = random_tensor(s, 22);
  ref::Vec xd = dbl(x), yd = dbl(y);
  double d = 0;
  for (std::size_t i = 0; i < xd.size(); ++i) d += xd[i] * yd[i];
  CHECK(nst::test::rel_err(be->dot(x, y), d) <= kOpTol);
  be->axpy(-0.3f, x, y);
  for (std::size_t i = 0; i < yd.size(); ++i) yd[i] += -0.3 * xd[i];
  NST_CHECK_CLOSE(y.to_vector(), yd, kOpTol);
  be->scale(1.7f, y);
  for (double& v : yd) v *= 1.7;
  NST_CHECK_CLOSE(y.to_vector(), yd, kOpTol);
  NST_CHECK_EACH(y.to_vector(), yd, 1e-6, 1e-6);  // one rounding of each float op, element by element
  be->copy(y, x);
  CHECK(x.to_vector() == y.to_vector());
  be->fill(x, 0.25f);
  CHECK(x.to_vector() == std::vector<float>(x.numel(), 0.25f));
}

TEST_CASE("Adam step follows torch.optim.Adam with bias correction", "[cpu][adam]") {
  auto be = make_cpu_backend();
  Shape s{1, 3, 4, 5};
  Tensor x = random_tensor(s, 23), m = be->alloc(s), v = be->alloc(s);
  ref::Vec xd = dbl(x), md(xd.size()), vd(xd.size());
  AdamState st;
  st.lr = 0.05;
  for (int step = 1; step <= 5; ++step) {
    Tensor g = random_tensor(s, 100 + step);
    ref::Vec gd = dbl(g);
    st.step = step;
    be->adam_step(st, g, m, v, x);
    double bc1 = 1 - std::pow(0.9, step), bc2 = 1 - std::pow(0.999, step);
    for (std::size_t i = 0; i < xd.size(); ++i) {
      md[i] = 0.9 * md[i] + 0.1 * gd[i];
      vd[i] = 0.999 * vd[i] + 0.001 * gd[i] * gd[i];
      xd[i] -= 0.05 / bc1 * md[i] / (std::sqrt(vd[i]) / std::sqrt(bc2) + 1e-8);
    }
  }
  NST_CHECK_CLOSE(x.to_vector(), xd, kOpTol);
  NST_CHECK_CLOSE(m.to_vector(), md, kOpTol);
  NST_CHECK_CLOSE(v.to_vector(), vd, kOpTol);
}

TEST_CASE("to_rgb8 clamps, rounds halves up and interleaves the channels", "[cpu][image]") {
  auto be = make_cpu_backend();
  // One row of 4 pixels; channel planes R, G, B.
  Tensor X = Tensor::host({1, 3, 1, 4}, {-0.1f, 0.f, 0.5f, 1.2f,                         // R
                                         1.f, 10.f / 255.f, 0.25f, std::nanf(""),          // G
                                         254.5f / 255.f, 1.49f / 255.f, 0.999f, 0.0019f}); // B
  std::vector<std::uint8_t> out(12);
  be->to_rgb8(X, out.data());
  CHECK(out == std::vector<std::uint8_t>{0, 255, 255, 0, 10, 1, 128, 64, 255, 255, 0, 0});
  // Every 8-bit level survives the round trip value/255 -> byte (SPEC §3 reads files as value/255).
  Tensor levels = be->alloc({1, 3, 1, 256});
  for (int c = 0; c < 3; ++c)
    for (int k = 0; k < 256; ++k) levels.data()[c * 256 + k] = float(k) / 255.f;
  std::vector<std::uint8_t> bytes(256 * 3);
  be->to_rgb8(levels, bytes.data());
  for (int k = 0; k < 256; ++k) CHECK(bytes[k * 3 + 1] == k);
}
