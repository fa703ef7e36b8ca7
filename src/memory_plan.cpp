#include "nst/memory_plan.h"

#include <algorithm>
#include <cstdio>

#include "nst/backend.h"
#include "nst/network.h"
#include "nst/optim.h"

namespace nst {

MemoryPlan plan_memory(const PlanInput& in) {
  const LossConfig& c = in.config;
  int last = 0;
  for (int l : c.content_layers) last = std::max(last, l);
  for (int l : c.style_layers) last = std::max(last, l);
  std::vector<int> keep = c.content_layers;
  keep.insert(keep.end(), c.style_layers.begin(), c.style_layers.end());

  MemoryPlan p;
  auto [H, W] = in.content;
  std::vector<Backend::ConvShape> convs;  // every convolution of every image the run passes through VGG19
  for (int i = 0; i <= last; ++i)
    if (const LayerInfo& l = vgg19_layers()[i]; l.kind == LayerKind::Conv) {
      const ConvWeights& cw = in.weights->convs[l.conv];
      const Shape ws{cw.out, cw.in, 3, 3};
      p.weights += (cw.weight.size() + cw.bias.size()) * sizeof(float) + in.backend->weight_extra_bytes(ws);
      auto add = [&](int h, int w) {
        const Shape y = vgg19_layer_shape(*in.weights, i, h, w);
        convs.push_back({Shape{1, cw.in, y.h, y.w}, ws});
      };
      add(H, W);
      for (auto [h, w] : in.styles) add(h, w);
    }
  p.workspace = in.backend->conv_workspace(convs);
  // One set of activation buffers serves every image in turn; the largest image sets its size.
  p.activations = vgg19_activation_bytes(*in.weights, last, keep, H, W);
  for (auto [h, w] : in.styles) p.activations = std::max(p.activations, vgg19_activation_bytes(*in.weights, last, keep, h, w));
  std::size_t gram_scratch = 0;
  for (int l : c.content_layers) p.targets += vgg19_layer_shape(*in.weights, l, H, W).numel() * sizeof(float);
  for (int l : c.style_layers) {
    std::size_t ch = std::size_t(vgg19_layer_shape(*in.weights, l, H, W).c);
    p.targets += ch * ch * sizeof(float);
    gram_scratch = std::max(gram_scratch, ch * ch * sizeof(float));
  }
  p.targets += 2 * gram_scratch;  // a style's Gram while blending, and the loss's G - T
  p.optimizer = optimizer_state_bytes(in.optimizer, in.history, 3 * std::size_t(H) * W);
  return p;
}

std::string MemoryPlan::table() const {
  auto mib = [](std::size_t b) { return double(b) / (1 << 20); };
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "  weights       %9.1f MiB\n  activations   %9.1f MiB\n  targets       %9.1f MiB\n"
                "  optimizer     %9.1f MiB\n  workspace     %9.1f MiB (at most)\n  total         %9.1f MiB\n",
                mib(weights), mib(activations), mib(targets), mib(optimizer), mib(workspace), mib(total()));
  return buf;
}

}  // namespace nst
