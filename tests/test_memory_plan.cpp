// The memory planner (src/memory_plan.cpp) against what a stylization really allocates. A backend that
// wraps the CPU backend counts every tensor allocated through Backend::alloc (the weights, activations,
// gradients, targets, the image and the optimiser's state: everything the plan has besides the
// convolutions' scratch) and its peak of live bytes over a whole run. The plan must bound that peak and not
// overstate it much (a ratio, not only a growth rate as in test_cli), for Adam and for L-BFGS with its history, at two sizes and with several styles.
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>

#include "nst/image.h"
#include "nst/memory_plan.h"
#include "nst/stylizer.h"
#include "nst/weights.h"
#include "test_util.h"

using namespace nst;
namespace fs = std::filesystem;

namespace {

struct Live {
  std::size_t now = 0, peak = 0;
};

// Every op is the CPU backend's; alloc also counts the bytes until the tensor's storage is freed.
class CountingBackend final : public Backend {
 public:
  CountingBackend(std::unique_ptr<Backend> inner, std::shared_ptr<Live> live) : in_(std::move(inner)), live_(std::move(live)) {}
  std::string name() const override { return in_->name(); }
  Device device() const override { return in_->device(); }
  std::size_t memory_available() const override { return in_->memory_available(); }
  std::size_t conv_workspace(const std::vector<ConvShape>& c) const override { return in_->conv_workspace(c); }
  std::size_t weight_extra_bytes(const Shape& w) const override { return in_->weight_extra_bytes(w); }
  Tensor alloc(Shape shape) override {
    const std::size_t n = shape.numel(), bytes = std::max<std::size_t>(64, (n * sizeof(float) + 63) / 64 * 64);
    void* p = std::aligned_alloc(64, bytes);
    REQUIRE(p);
    std::memset(p, 0, bytes);
    live_->now += bytes;
    live_->peak = std::max(live_->peak, live_->now);
    std::shared_ptr<Live> live = live_;
    return Tensor(shape, Device::Host, static_cast<float*>(p), n, [live, bytes](float* q) {
      live->now -= bytes;
      std::free(q);
    });
  }
  void upload(const Tensor& h, Tensor& d) override { in_->upload(h, d); }
  void download(const Tensor& s, Tensor& h) override { in_->download(s, h); }
  void normalize_forward(const Tensor& X, const Normalization& n, Tensor& x) override { in_->normalize_forward(X, n, x); }
  void normalize_backward(const Tensor& dx, const Normalization& n, Tensor& dX) override { in_->normalize_backward(dx, n, dX); }
  void conv_forward(const Tensor& x, const Tensor& w, const Tensor& b, Tensor& y) override { in_->conv_forward(x, w, b, y); }
  void conv_backward_data(const Tensor& dy, const Tensor& w, Tensor& dx) override { in_->conv_backward_data(dy, w, dx); }
  void relu_forward(const Tensor& x, Tensor& y) override { in_->relu_forward(x, y); }
  void relu_backward(const Tensor& y, const Tensor& dy, Tensor& dx) override { in_->relu_backward(y, dy, dx); }
  void pool_forward(PoolKind k, const Tensor& x, Tensor& y) override { in_->pool_forward(k, x, y); }
  void pool_backward(PoolKind k, const Tensor& x, const Tensor& dy, Tensor& dx) override { in_->pool_backward(k, x, dy, dx); }
  void gram(const Tensor& f, Tensor& g) override { in_->gram(f, g); }
  double content_loss(const Tensor& f, const Tensor& t, double w, Tensor& g) override { return in_->content_loss(f, t, w, g); }
  double style_loss(const Tensor& f, const Tensor& t, double w, Tensor& g) override { return in_->style_loss(f, t, w, g); }
  double tv_loss(const Tensor& X, double w, Tensor& g) override { return in_->tv_loss(X, w, g); }
  void fill(Tensor& x, float v) override { in_->fill(x, v); }
  void copy(const Tensor& s, Tensor& d) override { in_->copy(s, d); }
  void axpy(float a, const Tensor& x, Tensor& y) override { in_->axpy(a, x, y); }
  void scale(float a, Tensor& x) override { in_->scale(a, x); }
  double dot(const Tensor& x, const Tensor& y) override { return in_->dot(x, y); }
  void adam_step(const AdamState& s, const Tensor& g, Tensor& m, Tensor& v, Tensor& x) override { in_->adam_step(s, g, m, v, x); }
  void to_rgb8(const Tensor& X, std::uint8_t* out) override { in_->to_rgb8(X, out); }

 private:
  std::unique_ptr<Backend> in_;
  std::shared_ptr<Live> live_;
};

}  // namespace

TEST_CASE("the memory plan bounds what a run allocates and overstates it by less than half", "[memory]") {
  test::TempDir dir("plan");
  save_weights(dir.file("w.h5"), synthetic_weights({8, 16, 16, 32, 32}, 3, torchvision_normalization()));
  save_image(dir.file("content.png"), to_rgb8(noise_image(60, 90, 1)), 60, 90);
  save_image(dir.file("style.png"), to_rgb8(noise_image(70, 50, 2)), 70, 50);
  save_image(dir.file("style2.png"), to_rgb8(noise_image(40, 40, 3)), 40, 40);
  struct Case {
    OptimizerKind optimizer;
    int size, history, styles;
  };
  for (const Case& c : {Case{OptimizerKind::Adam, 64, 0, 1}, Case{OptimizerKind::Adam, 128, 0, 2}, Case{OptimizerKind::Lbfgs, 64, 5, 1},
                        Case{OptimizerKind::Lbfgs, 128, 8, 2}}) {
    INFO((c.optimizer == OptimizerKind::Adam ? "adam" : "lbfgs") << " size " << c.size << " history " << c.history << " styles " << c.styles);
    auto live = std::make_shared<Live>();
    Session session([live] { return std::make_unique<CountingBackend>(make_cpu_backend(), live); });
    StylizeOptions o;
    o.content = dir.file("content.png");
    o.styles = {dir.file("style.png")};
    if (c.styles == 2) o.styles.push_back(dir.file("style2.png"));
    o.weights = dir.file("w.h5");
    o.size = c.size;
    o.iterations = c.history + 3;  // L-BFGS fills its history
    o.optimizer = c.optimizer;
    if (c.history > 0) o.history = c.history;
    Stylization s(session, o);
    const MemoryPlan plan = s.plan();
    StylizeObserver quiet;
    const StylizeResult r = s.run(quiet);
    REQUIRE(r.end == StylizeResult::End::Done);
    // The plan's convolution scratch is the backend's own (im2col tiles, oneDNN's copies), not alloc'd.
    const std::size_t planned = plan.total() - plan.workspace;
    INFO("planned " << planned << " bytes (" << plan.table() << "), peak allocated " << live->peak);
    WARN("planned / allocated: " << double(planned) / double(live->peak));
    CHECK(live->peak <= planned);
    // Measured: 1.41 (Adam, 64 px), 1.09 (Adam, 128 px, two styles), 1.30 (L-BFGS 5, 64 px), 1.06 (L-BFGS 8,
    // 128 px): the fixed parts (weights and oneDNN's blocked copies of them, which the backend keeps
    // itself) weigh most in small runs.
    CHECK(double(planned) <= 1.5 * double(live->peak));
  }
}
