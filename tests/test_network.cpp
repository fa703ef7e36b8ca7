// The VGG19 layer graph: names, layer lists, size limits, and the activations it keeps.
#include "cpu/ref/ref_objective.h"
#include "nst/error.h"
#include "nst/network.h"
#include "test_util.h"

using namespace nst;
using Catch::Contains;

TEST_CASE("VGG19 has SPEC §2's 37 layers in order", "[network]") {
  const auto& l = vgg19_layers();
  REQUIRE(l.size() == 37);
  CHECK(l[0].name == "conv1_1");
  CHECK(l[1].name == "relu1_1");
  CHECK(l[4].name == "pool1");
  CHECK(l[10].name == "conv3_1");
  CHECK(l[36].name == "pool5");
  int convs = 0, pools = 0;
  for (const auto& x : l) convs += x.kind == LayerKind::Conv, pools += x.kind == LayerKind::Pool;
  CHECK(convs == 16);
  CHECK(pools == 5);
  CHECK(l[vgg19_layer_index("conv5_4")].conv == 15);
}

TEST_CASE("layer lists: unknown and repeated names are usage errors that say, in one line, what is valid", "[network]") {
  CHECK(parse_layer_list("relu1_1,pool2,conv5_4") == std::vector<int>{1, 9, 34});
  CHECK(layer_list_names({1, 9, 34}) == "relu1_1,pool2,conv5_4");
  CHECK_THROWS_AS(parse_layer_list("relu1_1,relu9_9"), nst::UsageError);
  CHECK_THROWS_WITH(parse_layer_list("relu1_1,relu9_9"),
                    Contains("unknown layer 'relu9_9'") && Contains("valid layers: conv1_1..conv5_4 and relu1_1..relu5_4") &&
                        Contains("pool1..pool5"));
  try {
    vgg19_layer_index("conv1_3");
    FAIL("conv1_3 does not exist");
  } catch (const nst::UsageError& e) {
    CHECK(std::string(e.what()).size() < 160);  // fits one terminal line with its flag and "nst: " before it
  }
  CHECK_THROWS_WITH(parse_layer_list("relu2_1,relu2_1"), Contains("layer 'relu2_1' is repeated"));
  CHECK_THROWS_WITH(parse_layer_list("relu2_1,"), Contains("empty layer name"));
}

TEST_CASE("an image too small for the deepest layer is an error that names the size needed", "[network]") {
  CHECK(min_input_side(vgg19_layer_index("relu1_1")) == 1);
  CHECK(min_input_side(vgg19_layer_index("pool1")) == 2);
  CHECK(min_input_side(vgg19_layer_index("relu5_1")) == 16);
  CHECK(min_input_side(vgg19_layer_index("pool5")) == 32);
  auto be = make_cpu_backend();
  Weights w = synthetic_weights({4, 4, 4, 4, 4}, 1, torchvision_normalization());
  Vgg19 net(*be, w, PoolKind::Max, vgg19_layer_index("relu5_1"), {});
  CHECK_THROWS_WITH(net.forward(Tensor::host({1, 3, 15, 40})),
                    Contains("image 40x15 is too small for layer relu5_1") && Contains("at least 16 rows and columns"));
  CHECK_NOTHROW(net.forward(Tensor::host({1, 3, 16, 17})));
  CHECK(net.activation(vgg19_layer_index("relu5_1")).shape() == (Shape{1, 4, 1, 1}));
}

TEST_CASE("forward keeps loss layers intact, runs ReLUs in place elsewhere, and matches the oracle", "[network]") {
  auto be = make_cpu_backend();
  Weights w = synthetic_weights({4, 8, 16, 32, 32}, 3, caffe_normalization());
  int conv2_1 = vgg19_layer_index("conv2_1"), relu2_1 = conv2_1 + 1, relu1_2 = vgg19_layer_index("relu1_2");
  Vgg19 net(*be, w, PoolKind::Max, vgg19_layer_index("pool2"), {conv2_1});
  Tensor X = test::random_tensor({1, 3, 13, 11}, 4, 0.f, 1.f);
  net.forward(X);
  // conv2_1 is a loss layer: its ReLU writes elsewhere. conv1_2 is not: its ReLU overwrites it.
  CHECK_FALSE(net.activation(conv2_1).shares_storage(net.activation(relu2_1)));
  CHECK(net.activation(relu1_2 - 1).shares_storage(net.activation(relu1_2)));
  CHECK(net.activation(vgg19_layer_index("pool2")).shape() == (Shape{1, 8, 3, 2}));  // 13x11 -> 6x5 -> 3x2

  // The same chain through the naive oracle, in double.
  std::vector<ref::Vec> acts = ref::forward(w, PoolKind::Max, conv2_1, ref::image_from(X));
  const ref::Vec& x = acts[conv2_1];
  NST_CHECK_CLOSE(net.activation(conv2_1).to_vector(), x, test::kOpTol);
  NST_CHECK_CLOSE(net.activation(relu2_1).to_vector(), ref::relu_forward(x), test::kOpTol);
}

TEST_CASE("backward from a single layer equals the chained oracle adjoints", "[network]") {
  auto be = make_cpu_backend();
  Weights w = synthetic_weights({4, 8, 16, 32, 32}, 5, torchvision_normalization());
  int top = vgg19_layer_index("relu2_1");
  Vgg19 net(*be, w, PoolKind::Avg, top, {top});
  Tensor X = test::random_tensor({1, 3, 9, 12}, 6, 0.f, 1.f);
  net.forward(X);
  Tensor seed = test::random_tensor(net.activation(top).shape(), 7);
  Tensor dX = test::random_tensor(X.shape(), 8);  // backward adds into it
  std::vector<float> before = dX.to_vector();
  net.backward([&](int layer, Tensor& dy) { if (layer == top) be->axpy(1.f, seed, dy); }, dX);

  // Oracle: forward to keep the activations, then each op's adjoint in reverse.
  std::vector<ref::Dims> dims;
  std::vector<ref::Vec> acts = ref::forward(w, PoolKind::Avg, top, ref::image_from(X), &dims);
  const ref::Dims image{3, 9, 12};
  acts.insert(acts.begin(), ref::normalize_forward(ref::image_from(X).data, image, w.norm));  // acts[i] is layer i's input
  dims.insert(dims.begin(), image);
  ref::Vec g = ref::to_double(seed.to_vector());
  for (int i = top; i >= 0; --i) {
    const LayerInfo& l = vgg19_layers()[i];
    if (l.kind == LayerKind::Conv) g = ref::conv_backward_data(g, dims[i], ref::to_double(w.convs[l.conv].weight), w.convs[l.conv].out);
    else if (l.kind == LayerKind::Relu) g = ref::relu_backward(acts[i + 1], g);
    else g = ref::pool_backward(PoolKind::Avg, acts[i], dims[i], g);
  }
  g = ref::normalize_backward(g, image, w.norm);
  for (std::size_t i = 0; i < g.size(); ++i) g[i] += before[i];
  NST_CHECK_CLOSE(dX.to_vector(), g, test::kOpTol);
}
