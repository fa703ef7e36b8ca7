// Everything a stylization checks before the device does any work: the options, the images, the weights,
// whether every stage's images reach the deepest layer, and whether the largest stage fits in memory.
#include <algorithm>
#include <cmath>

#include "nst/error.h"
#include "nst/image.h"
#include "nst/network.h"
#include "nst/optim.h"
#include "nst/stylizer.h"

namespace nst {

DefaultWeights default_loss_weights(double input_scale) {
  // Caffe-style weights see 0..255 inputs: jcjohnson/neural-style's defaults (content 5, style 100; its
  // TV of 1e-3 on the 0..255 image at 512², converted to this TV's per-pixel mean on the [0,1] image).
  if (input_scale == 255) return {5.0, 100.0, 1e7};
  // torchvision weights see (x - mean)/std: the PyTorch tutorial's content 1, style 1e6, and TV in the same
  // proportion to content as above.
  return {1.0, 1e6, 1e3};
}

std::vector<int> stage_sizes(int size, int scales, int start_size) {
  if (scales <= 1) return {size};
  int start = start_size > 0 ? start_size : std::max(16, int(std::lround(size / std::pow(2.0, scales - 1))));
  std::vector<int> sizes;
  for (int k = 0; k < scales; ++k)
    sizes.push_back(int(std::lround(start * std::pow(double(size) / start, double(k) / (scales - 1)))));
  return sizes;
}

namespace {

constexpr int kMaxSide = 16384;

void validate(const StylizeOptions& o) {
  if (o.content.empty()) throw UsageError("no content image", "content");
  if (o.styles.empty()) throw UsageError("no style image", "styles");
  if (o.size < 16 || o.size > kMaxSide) throw UsageError("must be between 16 and 16384, got " + std::to_string(o.size), "size");
  if (o.iterations < 0) throw UsageError("must not be negative", "iterations");
  if (!(o.style_scale > 0) || o.style_scale * o.size > kMaxSide)
    throw UsageError("must be positive (and the style at most 16384 pixels)", "style_scale");
  if (!o.style_blend.empty() && o.style_blend.size() != o.styles.size())
    throw UsageError(std::to_string(o.style_blend.size()) + " weights for " + std::to_string(o.styles.size()) + " style images",
                     "style_blend");
  if (o.history < 1 || o.history > 10000) throw UsageError("must be between 1 and 10000", "history");
  if (o.scales < 1) throw UsageError("must be at least 1", "scales");
  if (o.scales > 1 && o.start_size >= o.size)
    throw UsageError(std::to_string(o.start_size) + " must be smaller than the final size " + std::to_string(o.size), "start_size");
  if (o.scales == 1 && o.start_size > 0) throw UsageError("needs two or more stages", "start_size");
  if (o.init == InitKind::File && o.init_file.empty()) throw UsageError("no starting image file", "init");
  if (o.content_layers.empty() && o.style_layers.empty()) throw UsageError("no content or style layer", "style_layers");
  for (double w : {o.content_weight, o.style_weight, o.tv_weight})
    if (std::isnan(w)) throw UsageError("loss weights must be numbers");
}

// The smallest size for which every image reaches the deepest layer.
int smallest_size(const std::vector<std::pair<int, int>>& dims, double style_scale, int need) {
  for (int s = need;; ++s) {
    bool ok = true;
    for (std::size_t i = 0; i < dims.size() && ok; ++i) {
      int size = i == 0 ? s : int(std::floor(style_scale * s + 0.5));
      auto [h, w] = fit_long_side(dims[i].first, dims[i].second, size);
      ok = std::min(h, w) >= need;
    }
    if (ok) return s;
  }
}

}  // namespace

Stylization::Stylization(Session& session, StylizeOptions options) : session_(session), o_(std::move(options)) {
  validate(o_);
  load();
  sizes_ = stage_sizes(o_.size, o_.scales, o_.start_size);
  check_sizes();
}

Stylization::~Stylization() = default;

void Stylization::load() {
  cfg_.content_layers = o_.content_layers;
  cfg_.style_layers = o_.style_layers;
  cfg_.pooling = o_.pooling;
  weights_ = &session_.weights(o_.weights);
  DefaultWeights dw = default_loss_weights(weights_->norm.scale);
  cfg_.content_weight = o_.content_weight >= 0 ? o_.content_weight : dw.content;
  cfg_.style_weight = o_.style_weight >= 0 ? o_.style_weight : dw.style;
  cfg_.tv_weight = o_.tv_weight >= 0 ? o_.tv_weight : dw.tv;
  content0_ = load_image(o_.content);
  for (const std::string& s : o_.styles) styles0_.push_back(load_image(s));
  if (o_.init == InitKind::File) init0_ = load_image(o_.init_file);
  for (int l : cfg_.content_layers) deepest_ = std::max(deepest_, l);
  for (int l : cfg_.style_layers) deepest_ = std::max(deepest_, l);
  dims_ = {{content0_.shape().h, content0_.shape().w}};
  for (const Tensor& s : styles0_) dims_.push_back({s.shape().h, s.shape().w});
}

int Stylization::style_size(int size) const { return int(std::floor(o_.style_scale * size + 0.5)); }

int Stylization::height() const { return fit_long_side(dims_[0].first, dims_[0].second, o_.size).first; }
int Stylization::width() const { return fit_long_side(dims_[0].first, dims_[0].second, o_.size).second; }

// Every image of every stage must reach the deepest layer; the first stage is the smallest.
void Stylization::check_sizes() const {
  const int need = min_input_side(deepest_);
  const int size = sizes_.front();
  bool small = false;
  for (std::size_t i = 0; i < dims_.size(); ++i) {
    auto [h, w] = fit_long_side(dims_[i].first, dims_[i].second, i == 0 ? size : style_size(size));
    small |= std::min(h, w) < need;
  }
  if (!small) return;
  throw UsageError(std::string(sizes_.size() > 1 ? "the first stage's size " : "") + std::to_string(size) +
                       " is too small for layer " + vgg19_layers()[deepest_].name + " (it needs " + std::to_string(need) +
                       " pixels on each side): the smallest that works is " + std::to_string(smallest_size(dims_, o_.style_scale, need)),
                   sizes_.size() > 1 ? "start_size" : "size");
}

MemoryPlan Stylization::plan_for(int size) {
  PlanInput in{weights_, cfg_, fit_long_side(dims_[0].first, dims_[0].second, size), {}, o_.optimizer, o_.history, &session_.backend()};
  for (std::size_t k = 1; k < dims_.size(); ++k) in.styles.push_back(fit_long_side(dims_[k].first, dims_[k].second, style_size(size)));
  return plan_memory(in);
}

MemoryPlan Stylization::plan() {
  MemoryPlan plan = plan_for(o_.size);
  Backend& be = session_.backend();
  const std::size_t available = be.memory_available();
  if (plan.total() <= available) return plan;
  const int need = min_input_side(deepest_);
  int lo = need, hi = o_.size - 1;  // the largest size in [need, size) that fits, if any
  if (plan_for(lo).total() > available) lo = 0;
  while (lo > 0 && lo < hi) {
    int mid = (lo + hi + 1) / 2;
    if (plan_for(mid).total() <= available) lo = mid;
    else hi = mid - 1;
  }
  throw Error(std::to_string(o_.size) + " needs " + std::to_string(plan.total() >> 20) + " MiB on " + be.name() + " but " +
                  std::to_string(available >> 20) + " MiB are available: " +
                  (lo > 0 ? "the largest that fits is " + std::to_string(lo) : std::string("even the smallest size does not fit")) +
                  (o_.optimizer == OptimizerKind::Lbfgs ? " (or keep fewer L-BFGS pairs)" : ""),
              "size");
}

}  // namespace nst
