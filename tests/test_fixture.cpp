// Golden fixtures from PyTorch (tests/fixtures/make_fixtures.py, float64): the float32 CPU engine's losses
// and dL/dX at one image must match within 1e-4 relative. The double-precision oracle must match them to
// rounding, which checks the oracle itself.
#include "cpu/ref/ref_objective.h"
#include "h5_read.h"
#include "nst/objective.h"
#include "test_util.h"

using namespace nst;

namespace {

Tensor image(const test::H5File& f, const std::string& name) {
  std::vector<hsize_t> d;
  std::vector<double> v = f.dataset(name, &d);
  REQUIRE(d.size() == 3);
  REQUIRE(d[0] == 3);
  return Tensor::host(Shape{1, 3, int(d[1]), int(d[2])}, std::vector<float>(v.begin(), v.end()));
}

void check_golden(const std::string& file, ConvAlgo algo = ConvAlgo::Direct) {
  test::H5File f(std::string(NST_FIXTURES) + "/" + file);
  REQUIRE(f.number("fixture_version") == 1);
  Weights w = load_weights(std::string(NST_FIXTURES) + "/" + f.string("weights"));
  LossConfig cfg;
  cfg.content_layers = parse_layer_list(f.string("content_layers"));
  cfg.style_layers = parse_layer_list(f.string("style_layers"));
  cfg.pooling = f.string("pooling") == "avg" ? PoolKind::Avg : PoolKind::Max;
  cfg.content_weight = f.number("content_weight");
  cfg.style_weight = f.number("style_weight");
  cfg.tv_weight = f.number("tv_weight");
  std::vector<double> blend = f.numbers("style_blend");
  std::vector<Tensor> styles;
  for (std::size_t k = 0; k < blend.size(); ++k) styles.push_back(image(f, "style_" + std::to_string(k)));
  Tensor content = image(f, "content"), x = image(f, "x");
  LossValues want{f.number("loss_total"), f.number("loss_content"), f.number("loss_style"), f.number("loss_tv")};
  std::vector<double> grad_want = f.dataset("grad");

  // The engine, float32 on the CPU backend. Blend weights are given unnormalised (1:3 as the user would)
  // where there are two, to exercise the normalisation.
  auto be = make_cpu_backend(false, algo);
  Objective obj(*be, w, cfg);
  obj.set_content(content);
  std::vector<double> user_blend = blend;
  for (double& b : user_blend) b *= 4;
  obj.set_styles(styles, user_blend);
  Tensor grad = be->alloc(x.shape());
  LossValues got = obj.evaluate(x, grad);
  INFO(file << ": total " << got.total << " vs " << want.total << ", content " << got.content << " vs " << want.content
            << ", style " << got.style << " vs " << want.style << ", tv " << got.tv << " vs " << want.tv);
  CHECK(test::rel_err(got.total, want.total) <= test::kFixtureTol);
  CHECK(test::rel_err(got.content, want.content) <= test::kFixtureTol);
  CHECK(test::rel_err(got.style, want.style) <= test::kFixtureTol);
  CHECK(test::rel_err(got.tv, want.tv) <= test::kFixtureTol);
  auto cmp = test::compare(grad.to_vector(), grad_want);
  INFO(file << " gradient: " << cmp.str());
  CHECK(cmp.rel <= test::kFixtureTol);
  WARN(file << ": engine vs PyTorch: loss rel err " << test::rel_err(got.total, want.total) << ", gradient rel L2 "
            << cmp.rel);

  // The double oracle is the same math in another code path: it must agree to rounding.
  std::vector<ref::Image> ref_styles;
  for (const Tensor& s : styles) ref_styles.push_back(ref::image_from(s));
  ref::RefObjective oracle(w, cfg, ref::image_from(content), ref_styles, blend);
  LossValues r = oracle.loss(ref::image_from(x));
  CHECK(test::rel_err(r.total, want.total) <= 1e-10);
  CHECK(test::rel_err(r.content, want.content) <= 1e-10);
  CHECK(test::rel_err(r.style, want.style) <= 1e-10);
  CHECK(test::rel_err(r.tv, want.tv) <= 1e-10);
}

}  // namespace

TEST_CASE("PyTorch golden: max pooling, default layers, one style (torchvision weights)", "[fixture]") {
  check_golden("golden_max.h5");
}

// --conv-algo winograd holds the same tolerance (the mini network's 16-channel convolutions take it).
TEST_CASE("PyTorch golden with Winograd convolutions: max and avg pooling", "[fixture]") {
  check_golden("golden_max.h5", ConvAlgo::Winograd);
  check_golden("golden_avg.h5", ConvAlgo::Winograd);
}

TEST_CASE("PyTorch golden: avg pooling, conv and pool loss layers, two blended styles (Caffe BGR weights)",
          "[fixture]") {
  check_golden("golden_avg.h5");
}
