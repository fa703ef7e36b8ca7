// VGG19's feature layers (SPEC §2) as a plain layer list over nst::Backend: forward keeps only what
// backward needs, and backward runs from loss gradients at any set of layers down to dL/dX.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "nst/backend.h"
#include "nst/weights.h"

namespace nst {

enum class LayerKind { Conv, Relu, Pool };

struct LayerInfo {
  std::string name;  // "conv1_1", "relu1_1", "pool1", ...
  LayerKind kind;
  int conv;  // index into Weights::convs for a Conv, else -1
};

// The 37 layers conv1_1 .. pool5 in order.
const std::vector<LayerInfo>& vgg19_layers();

// Index of a layer by name; an unknown name is a UsageError that lists the valid ones.
int vgg19_layer_index(const std::string& name);

// "relu1_1,relu2_1" -> indices; an unknown, empty or repeated name is a UsageError. And back.
std::vector<int> parse_layer_list(const std::string& csv);
std::string layer_list_names(const std::vector<int>& layers);

// The smallest height and width an image may have to reach `last_layer`: every pool on the way needs
// at least 2 rows and columns entering it.
int min_input_side(int last_layer);

// The output shape of `layer` for an HxW image, from the widths in the weights file.
Shape vgg19_layer_shape(const Weights& weights, int layer, int h, int w);

// Bytes that Vgg19 holds on its device for an HxW image: the normalised input, the activations forward
// keeps (ReLUs run in place except after a kept conv), and the two gradient buffers of backward.
std::size_t vgg19_activation_bytes(const Weights& weights, int last_layer, const std::vector<int>& keep, int h, int w);

class Vgg19 {
 public:
  // Uploads the convolutions up to `last_layer`. Activations of the layers marked in `keep` (the loss
  // layers) survive the forward pass intact; the others may be overwritten in place.
  Vgg19(Backend& backend, const Weights& weights, PoolKind pooling, int last_layer, const std::vector<int>& keep);

  int last_layer() const { return last_; }
  PoolKind pooling() const { return pooling_; }

  // Runs the network on the image X (1x3xHxW in [0,1], on the backend's device).
  void forward(const Tensor& X);
  const Tensor& activation(int layer) const { return acts_.at(layer); }

  // After forward(X): walks from last_layer() down to the image. At each layer, add_grad(layer, dy) may
  // add the loss gradients with respect to that layer's output into dy; at the end dX += dL/dX.
  void backward(const std::function<void(int layer, Tensor& dy)>& add_grad, Tensor& dX);

 private:
  Tensor& ensure(Tensor& t, Shape s);

  Backend& be_;
  Normalization norm_;
  PoolKind pooling_;
  int last_;
  std::vector<bool> keep_;
  std::vector<Tensor> w_, b_;  // per conv index
  std::vector<Tensor> acts_;   // per layer
  Tensor input_;               // the normalised image
  Tensor grad_[2];             // ping-pong gradient buffers, each the largest activation
};

}  // namespace nst
