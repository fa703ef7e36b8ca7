#include "nst/optim.h"

#include <cmath>
#include <deque>

#include "nst/error.h"

namespace nst {
namespace {

class Adam final : public Optimizer {
 public:
  Adam(Backend& be, Evaluate f, double lr) : be_(be), f_(std::move(f)) { st_.lr = lr; }

  LossValues start(Tensor& X) override {
    g_ = be_.alloc(X.shape());
    m_ = be_.alloc(X.shape());
    v_ = be_.alloc(X.shape());
    st_.step = 0;
    return f_(X, g_);
  }

  LossValues iterate(Tensor& X) override {
    ++st_.step;
    be_.adam_step(st_, g_, m_, v_, X);
    return f_(X, g_);
  }

  OptimizerState state() override { return {st_.step, {{"m", be_.to_host(m_)}, {"v", be_.to_host(v_)}}}; }

  void restore(const OptimizerState& s) override {
    NST_ASSERT(s.tensors.size() == 2 && s.tensors[0].first == "m" && s.tensors[1].first == "v", "Adam state holds m and v");
    st_.step = s.step;
    be_.upload(s.tensors[0].second, m_);
    be_.upload(s.tensors[1].second, v_);
  }

 private:
  Backend& be_;
  Evaluate f_;
  AdamState st_;
  Tensor g_, m_, v_;
};

class Lbfgs final : public Optimizer {
 public:
  Lbfgs(Backend& be, Evaluate f, int history, double lr) : be_(be), f_(std::move(f)), history_(history), lr_(lr) {
    if (history < 1) throw UsageError("must be at least 1, got " + std::to_string(history), "history");
  }

  LossValues start(Tensor& X) override {
    g_ = be_.alloc(X.shape());
    d_ = be_.alloc(X.shape());
    x_try_ = be_.alloc(X.shape());
    g_try_ = be_.alloc(X.shape());
    pairs_.clear();
    stopped_.clear();
    L_ = f_(X, g_);
    return L_;
  }

  LossValues iterate(Tensor& X) override {
    if (!stopped_.empty()) return L_;
    if (line_search(X)) return L_;
    // No decrease along the quasi-Newton direction: the curvature model is stale. Forget it and try the
    // steepest-descent direction before giving up.
    pairs_.clear();
    if (!line_search(X)) stopped_ = "the line search found no decrease (the loss is at a minimum to float precision)";
    return L_;
  }

  std::string stopped() const override { return stopped_; }

  OptimizerState state() override {
    OptimizerState s;
    for (std::size_t i = 0; i < pairs_.size(); ++i) {
      s.tensors.push_back({"s" + std::to_string(i), be_.to_host(pairs_[i].s)});
      s.tensors.push_back({"y" + std::to_string(i), be_.to_host(pairs_[i].y)});
    }
    return s;
  }

  void restore(const OptimizerState& s) override {
    NST_ASSERT(s.tensors.size() % 2 == 0 && int(s.tensors.size() / 2) <= history_, "L-BFGS state holds s/y pairs within the history kept");
    pairs_.clear();
    for (std::size_t i = 0; i < s.tensors.size(); i += 2) {
      Pair p{be_.to_device(s.tensors[i].second), be_.to_device(s.tensors[i + 1].second), 0};
      p.rho = 1.0 / be_.dot(p.y, p.s);
      pairs_.push_back(std::move(p));
    }
  }

 private:
  struct Pair {
    Tensor s, y;
    double rho;  // 1 / y.s
  };

  // d = -H g by the two-loop recursion, with H0 = (s.y / y.y) I from the newest pair.
  void direction() {
    be_.copy(g_, d_);
    std::vector<double> alpha(pairs_.size());
    for (std::size_t i = pairs_.size(); i-- > 0;) {
      alpha[i] = pairs_[i].rho * be_.dot(pairs_[i].s, d_);
      be_.axpy(float(-alpha[i]), pairs_[i].y, d_);
    }
    if (!pairs_.empty()) {
      const Pair& p = pairs_.back();
      be_.scale(float(1.0 / (p.rho * be_.dot(p.y, p.y))), d_);
    }
    for (std::size_t i = 0; i < pairs_.size(); ++i) {
      double beta = pairs_[i].rho * be_.dot(pairs_[i].y, d_);
      be_.axpy(float(alpha[i] - beta), pairs_[i].s, d_);
    }
    be_.scale(-1.f, d_);
  }

  // One iteration: direction, backtracking line search, history update. False when no step decreased L.
  bool line_search(Tensor& X) {
    direction();
    double gtd = be_.dot(g_, d_);
    if (!(gtd < 0)) {  // not a descent direction (or NaN): fall back to -g
      pairs_.clear();
      direction();
      gtd = be_.dot(g_, d_);
      if (!(gtd < 0)) return false;
    }
    // Without curvature information the direction is -g, whose scale means nothing: start at length lr.
    double t = pairs_.empty() ? lr_ / std::sqrt(-gtd) : 1.0;
    const double c1 = 1e-4;
    for (int evals = 0; evals < 20; ++evals) {
      be_.copy(X, x_try_);
      be_.axpy(float(t), d_, x_try_);
      LossValues L = f_(x_try_, g_try_);
      // Armijo, and strictly lower: at a minimum the trial point rounds back to X (or the decrease to
      // below an ulp of L) and L(X + t d) == L would pass the bound forever without moving.
      if (std::isfinite(L.total) && L.total <= L_.total + c1 * t * gtd && L.total < L_.total) {
        accept(X, t, L);
        return true;
      }
      // Minimiser of the quadratic through L(0), L'(0) and L(t), kept within [0.1 t, 0.5 t].
      double q = std::isfinite(L.total) ? -gtd * t * t / (2 * (L.total - L_.total - gtd * t)) : 0.1 * t;
      t = std::clamp(q, 0.1 * t, 0.5 * t);
    }
    return false;
  }

  void accept(Tensor& X, double t, const LossValues& L) {
    // s = t d, y = g_new - g. The oldest pair's tensors are reused once the history is full.
    Pair p;
    if (int(pairs_.size()) == history_) {
      p = std::move(pairs_.front());
      pairs_.pop_front();
    } else {
      p.s = be_.alloc(X.shape());
      p.y = be_.alloc(X.shape());
    }
    be_.copy(d_, p.s);
    be_.scale(float(t), p.s);
    be_.copy(g_try_, p.y);
    be_.axpy(-1.f, g_, p.y);
    double ys = be_.dot(p.y, p.s), yy = be_.dot(p.y, p.y);
    if (ys > 1e-10 * yy) {
      p.rho = 1.0 / ys;
      pairs_.push_back(std::move(p));
    }
    std::swap(X, x_try_);
    std::swap(g_, g_try_);
    L_ = L;
  }

  Backend& be_;
  Evaluate f_;
  int history_;
  double lr_;
  LossValues L_;
  Tensor g_, d_, x_try_, g_try_;
  std::deque<Pair> pairs_;
  std::string stopped_;
};

}  // namespace

std::size_t optimizer_state_bytes(OptimizerKind optimizer, int history, std::size_t n) {
  // + 1: the stylizer keeps the last image whose loss was finite.
  std::size_t images = (optimizer == OptimizerKind::Adam ? 4 : 5 + 2 * std::size_t(history)) + 1;
  return images * n * sizeof(float);
}

std::unique_ptr<Optimizer> make_adam(Backend& be, Evaluate f, double lr) {
  if (!(lr > 0)) throw UsageError("must be positive", "lr");
  return std::make_unique<Adam>(be, std::move(f), lr);
}

std::unique_ptr<Optimizer> make_lbfgs(Backend& be, Evaluate f, int history, double lr) {
  if (!(lr > 0)) throw UsageError("must be positive", "lr");
  return std::make_unique<Lbfgs>(be, std::move(f), history, lr);
}

}  // namespace nst
