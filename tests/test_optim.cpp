// The optimisers of nst/optim.h called directly on the CPU backend with small analytic objectives in
// double: L-BFGS on an ill-conditioned quadratic (convergence, monotone loss, the first step of length
// lr, the history kept oldest first and truncated, the curvature skip, the failed line search, and
// state/restore), and Adam against torch.optim.Adam's formula written out in double (eps included).
#include <cmath>
#include <functional>
#include <vector>

#include "nst/backend.h"
#include "nst/optim.h"
#include "test_util.h"

using namespace nst;
using Vec = std::vector<double>;
using Fn = std::function<double(const Vec& x, Vec& g)>;

namespace {

// An Evaluate over a double-precision objective; counts its calls.
struct Counted {
  Fn f;
  int evals = 0;
  Evaluate evaluate() {
    return [this](const Tensor& X, Tensor& grad) {
      ++evals;
      Vec x(X.data(), X.data() + X.numel()), g(x.size());
      LossValues L;
      L.total = f(x, g);
      for (std::size_t i = 0; i < g.size(); ++i) grad.data()[i] = float(g[i]);
      return L;
    };
  }
};

Vec vec(const Tensor& t) { return Vec(t.data(), t.data() + t.numel()); }
double dist(const Vec& a, const Vec& b) {
  double s = 0;
  for (std::size_t i = 0; i < a.size(); ++i) s += (a[i] - b[i]) * (a[i] - b[i]);
  return std::sqrt(s);
}

// 0.5 x^T A x - b^T x with b = A x*, written as offset + 0.5 (x - x*)^T A (x - x*) (the same function up
// to a constant, without the cancellation). A = H diag(lambda) H, H a Householder reflection, eigenvalues
// log-spaced from 1 to 100 (condition number 100); x* is not a float, so no float X has a zero gradient.
struct Quadratic {
  static constexpr int n = 10;
  Vec u = Vec(n), lambda = Vec(n), xstar = Vec(n);
  double offset = 0;
  Quadratic() {
    auto r = nst::test::random_floats(2 * n, 7);
    for (int i = 0; i < n; ++i) u[i] = r[i], xstar[i] = r[n + i] / 3.0, lambda[i] = std::pow(100.0, i / 9.0);
  }
  Vec reflect(Vec v) const {
    double uv = 0, uu = 0;
    for (int i = 0; i < n; ++i) uv += u[i] * v[i], uu += u[i] * u[i];
    for (int i = 0; i < n; ++i) v[i] -= 2 * u[i] * uv / uu;
    return v;
  }
  double operator()(const Vec& x, Vec& g) const {
    Vec e(n);
    for (int i = 0; i < n; ++i) e[i] = x[i] - xstar[i];
    Vec he = reflect(e);
    double L = 0;
    for (int i = 0; i < n; ++i) L += 0.5 * lambda[i] * he[i] * he[i], he[i] *= lambda[i];
    g = reflect(he);
    return offset + L;
  }
  Vec grad_f(const Vec& x) const {  // the gradient as the optimiser sees it, rounded to float
    Vec g(n);
    (*this)(x, g);
    for (double& v : g) v = float(v);
    return g;
  }
  Tensor start() const {
    std::vector<float> x0(n);
    for (int i = 0; i < n; ++i) x0[i] = float(xstar[i] + 1.0 - 0.2 * i);
    return Tensor::host({1, 1, 1, n}, x0);
  }
};

std::size_t pairs(Optimizer& opt) { return opt.state().tensors.size() / 2; }

}  // namespace

TEST_CASE("lbfgs: an ill-conditioned quadratic to 1e-6 far faster than gradient descent, the loss never rising", "[optim][lbfgs]") {
  auto be = make_cpu_backend();
  Quadratic q;
  Counted c{q};
  Tensor X = q.start();
  const Vec x0 = vec(X);
  auto opt = make_lbfgs(*be, c.evaluate(), 100, 1.0);
  double prev = opt->start(X).total;
  int k = 0;
  while (dist(vec(X), q.xstar) >= 1e-6 && k < 200) {
    const double L = opt->iterate(X).total;
    ++k;
    Vec g(Quadratic::n);
    CHECK(L == q(vec(X), g));  // the loss returned is the loss at the new X
    CHECK(L <= prev);          // Armijo: no accepted step raises the loss
    prev = L;
  }
  // Gradient descent with the best fixed step 2/(lambda_min + lambda_max) shrinks the error by at most
  // (kappa - 1)/(kappa + 1) = 99/101 an iteration: ln(|e0| / 1e-6) / ln(101/99), some 700 iterations here.
  Vec x = x0, g(Quadratic::n);
  int gd = 0;
  while (dist(x, q.xstar) >= 1e-6) {
    q(x, g);
    for (int i = 0; i < Quadratic::n; ++i) x[i] -= 2.0 / 101 * g[i];
    ++gd;
  }
  INFO("L-BFGS iterations " << k << ", gradient descent " << gd << ", evaluations " << c.evals);
  CHECK(dist(vec(X), q.xstar) < 1e-6);
  // With exact line searches BFGS would need n = 10; this backtracking L-BFGS took 26 (measured).
  CHECK(k <= 30);
  CHECK(10 * k < gd);
  // With L(x*) = 0 the loss keeps decreasing to float precision, then the line search fails and it stops.
  int more = 0;
  while (opt->stopped().empty() && more < 50) opt->iterate(X), ++more;
  INFO("iterations after 1e-6 until stopped: " << more);
  CHECK_FALSE(opt->stopped().empty());
}

TEST_CASE("lbfgs: the first iteration is a step of length lr along -g", "[optim][lbfgs]") {
  auto be = make_cpu_backend();
  Quadratic q;
  for (double lr : {0.1, 0.37}) {
    Counted c{q};
    Tensor X = q.start();
    const Vec x0 = vec(X), g0 = q.grad_f(x0);
    auto opt = make_lbfgs(*be, c.evaluate(), 10, lr);
    opt->start(X);
    opt->iterate(X);
    CHECK(c.evals == 2);  // the first trial was accepted
    const Vec x1 = vec(X);
    double gs = 0, gg = 0;
    for (int i = 0; i < Quadratic::n; ++i) gs += g0[i] * (x1[i] - x0[i]), gg += g0[i] * g0[i];
    CHECK(std::abs(dist(x1, x0) - lr) < 1e-6);
    CHECK(-gs / (std::sqrt(gg) * dist(x1, x0)) > 1 - 1e-6);  // along -g
    CHECK(std::abs(std::sqrt(gg) - lr) > 1);                  // so not a unit step along -g
  }
}

TEST_CASE("lbfgs: a pair with y.s <= 1e-10 y.y is not kept, every other pair is", "[optim][lbfgs]") {
  // sum 1 - cos x_i + 0.01 x_i^2 is concave where cos x_i < -0.02: from x_1 = 3 the second step crosses
  // a concave stretch and y.s < 0.
  Fn f = [](const Vec& x, Vec& g) {
    double L = 0;
    for (std::size_t i = 0; i < x.size(); ++i) L += 1 - std::cos(x[i]) + 0.01 * x[i] * x[i], g[i] = std::sin(x[i]) + 0.02 * x[i];
    return L;
  };
  auto be = make_cpu_backend();
  Counted c{f};
  Tensor X = Tensor::host({1, 1, 1, 2}, {-0.5f, 3.f});
  auto opt = make_lbfgs(*be, c.evaluate(), 100, 1.0);
  opt->start(X);
  Vec xp = vec(X), gp(2);
  f(xp, gp);
  int skipped = 0, kept = 0;
  std::size_t prev = 0;
  for (int k = 1; k <= 30 && opt->stopped().empty(); ++k) {
    opt->iterate(X);
    Vec x = vec(X), g(2);
    f(x, g);
    double ys = 0, yy = 0;
    for (int i = 0; i < 2; ++i) ys += (x[i] - xp[i]) * (float(g[i]) - float(gp[i])), yy += std::pow(float(g[i]) - float(gp[i]), 2);
    const std::size_t now = pairs(*opt);
    INFO("iteration " << k << " y.s/y.y " << ys / yy << " pairs " << prev << " -> " << now);
    if (ys > 1e-6 * yy) {
      CHECK(now == prev + 1);
      ++kept;
    } else if (ys < 0) {
      CHECK(now == prev);
      skipped += prev > 0;
    }
    prev = now, xp = x, gp = g;
  }
  CHECK(skipped >= 1);  // a pair refused while others were held
  CHECK(kept >= 5);
}

TEST_CASE("lbfgs: history 3 keeps the 3 newest pairs s = X_k - X_k-1, y = g_k - g_k-1, oldest first", "[optim][lbfgs]") {
  auto be = make_cpu_backend();
  Quadratic q;
  Counted c{q};
  Tensor X = q.start();
  auto opt = make_lbfgs(*be, c.evaluate(), 3, 1.0);
  opt->start(X);
  std::vector<Vec> xs{vec(X)};
  for (int k = 1; k <= 6; ++k) {
    opt->iterate(X);
    xs.push_back(vec(X));
    CHECK(pairs(*opt) == std::size_t(std::min(k, 3)));
  }
  const OptimizerState s = opt->state();
  REQUIRE(s.tensors.size() == 6);
  for (int j = 0; j < 3; ++j) {
    CHECK(s.tensors[2 * j].first == "s" + std::to_string(j));
    CHECK(s.tensors[2 * j + 1].first == "y" + std::to_string(j));
    const Vec& xa = xs[4 + j - 1];
    const Vec& xb = xs[4 + j];
    const Vec sv = vec(s.tensors[2 * j].second), yv = vec(s.tensors[2 * j + 1].second);
    const Vec ga = q.grad_f(xa), gb = q.grad_f(xb);
    for (int i = 0; i < Quadratic::n; ++i) {
      INFO("pair " << j << " element " << i);
      CHECK(std::abs(sv[i] - (xb[i] - xa[i])) < 1e-6);
      CHECK(std::abs(yv[i] - (gb[i] - ga[i])) < 1e-6);
    }
    CHECK(dist(xb, xa) > 1e-4);  // steps big enough for the order to show
  }
}

TEST_CASE("lbfgs: a wrong gradient fails both line searches, X stays put and the optimiser stops", "[optim][lbfgs]") {
  auto be = make_cpu_backend();
  Quadratic q;
  Counted c{[&q](const Vec& x, Vec& g) {
    double L = q(x, g);
    for (double& v : g) v = -v;
    return L;
  }};
  Tensor X = q.start();
  const Vec x0 = vec(X);
  auto opt = make_lbfgs(*be, c.evaluate(), 10, 1.0);
  const double L0 = opt->start(X).total;
  CHECK(opt->stopped().empty());
  const double L1 = opt->iterate(X).total;
  CHECK(c.evals == 1 + 20 + 20);  // start, 20 trials along -g, history cleared, 20 more along -g
  CHECK_FALSE(opt->stopped().empty());
  CHECK(vec(X) == x0);
  CHECK(L1 == L0);
  // Stopped: further iterations neither evaluate nor move.
  CHECK(opt->iterate(X).total == L0);
  CHECK(c.evals == 41);
  CHECK(vec(X) == x0);
}

TEST_CASE("lbfgs: 4 iterations, state, restore into a fresh optimiser, 3 more equal 7 in one go bit for bit", "[optim][lbfgs]") {
  auto be = make_cpu_backend();
  Quadratic q;
  Counted c{q};
  Tensor A = q.start();
  auto whole = make_lbfgs(*be, c.evaluate(), 3, 1.0);
  whole->start(A);
  for (int k = 0; k < 7; ++k) whole->iterate(A);

  Tensor B = q.start();
  auto first = make_lbfgs(*be, c.evaluate(), 3, 1.0);
  first->start(B);
  for (int k = 0; k < 4; ++k) first->iterate(B);
  const OptimizerState s = first->state();
  CHECK(s.tensors.size() == 6);
  Tensor C = Tensor::host(B.shape(), B.to_vector());
  auto second = make_lbfgs(*be, c.evaluate(), 3, 1.0);
  second->start(C);
  second->restore(s);
  for (int k = 0; k < 3; ++k) second->iterate(C);
  CHECK(C.to_vector() == A.to_vector());
  CHECK(dist(vec(C), vec(B)) > 1e-3);  // the 3 iterations after the restore moved X
}

TEST_CASE("adam: gradients near eps step by lr m/(sqrt(v) + eps), not lr sign(g)", "[optim][adam]") {
  const Vec gc = {1e-8, -1e-8, 1e-9, 1e-6};  // the gradient, constant: L = g.x
  const int n = int(gc.size());
  Fn f = [&](const Vec& x, Vec& g) {
    double L = 0;
    for (int i = 0; i < n; ++i) L += gc[i] * x[i], g[i] = gc[i];
    return L;
  };
  auto be = make_cpu_backend();
  Counted c{f};
  Tensor X = Tensor::host({1, 1, 1, n});
  const double lr = 0.02, b1 = 0.9, b2 = 0.999, eps = 1e-8;
  auto opt = make_adam(*be, c.evaluate(), lr);
  opt->start(X);
  Vec x(n, 0.0), m(n, 0.0), v(n, 0.0);
  for (int t = 1; t <= 3; ++t) {
    opt->iterate(X);
    for (int i = 0; i < n; ++i) {
      m[i] = b1 * m[i] + (1 - b1) * gc[i];
      v[i] = b2 * v[i] + (1 - b2) * gc[i] * gc[i];
      const double mhat = m[i] / (1 - std::pow(b1, t)), vhat = v[i] / (1 - std::pow(b2, t));
      x[i] -= lr * mhat / (std::sqrt(vhat) + eps);
    }
    const Vec got = vec(X);
    for (int i = 0; i < n; ++i) {
      INFO("step " << t << " element " << i << ": " << got[i] << " vs " << x[i]);
      CHECK(nst::test::rel_err(got[i], x[i]) < 1e-6);
    }
    // g = 1e-8 = eps halves the step: lr/2 a step, where lr sign(g) would give lr.
    CHECK(std::abs(got[0] + t * lr / 2) < 1e-6 * t * lr);
  }
}

TEST_CASE("adam: steps on the quadratic match torch.optim.Adam written out in double", "[optim][adam]") {
  auto be = make_cpu_backend();
  Quadratic q;
  Counted c{q};
  Tensor X = q.start();
  const Vec x0 = vec(X);
  // lr 0.05: X is stored in float, half an ulp of |X| ~ 1 is 1e-6 of a first step of 0.05.
  const double lr = 0.05, b1 = 0.9, b2 = 0.999, eps = 1e-8;
  auto opt = make_adam(*be, c.evaluate(), lr);
  opt->start(X);
  const int n = Quadratic::n;
  Vec x = x0, m(n, 0.0), v(n, 0.0), g(n);
  for (int t = 1; t <= 10; ++t) {
    q(x, g);
    for (int i = 0; i < n; ++i) {
      m[i] = b1 * m[i] + (1 - b1) * g[i];
      v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
      x[i] -= lr * (m[i] / (1 - std::pow(b1, t))) / (std::sqrt(v[i] / (1 - std::pow(b2, t))) + eps);
    }
    opt->iterate(X);
    const Vec got = vec(X);
    Vec dgot(n), dref(n);  // the displacements from X0, so that the comparison sees the steps
    for (int i = 0; i < n; ++i) dgot[i] = got[i] - x0[i], dref[i] = x[i] - x0[i];
    INFO("step " << t);
    NST_CHECK_CLOSE(dgot, dref, 1e-6);
  }
  CHECK(c.evals == 11);
}

TEST_CASE("lbfgs: at a minimum with a nonzero loss it reports that it has stopped", "[optim][lbfgs]") {
  // The same quadratic plus 1. At float precision the step X + t d rounds back to X, and the Armijo test
  // L <= L + 1e-4 t g.d alone passes because 1e-4 t g.d is below half an ulp of L: before the line search
  // also asked for L to be strictly lower, such an iteration counted as a success and the optimiser
  // evaluated forever (300 iterations, 266 of them leaving X as it was, 1649 evaluations) without stopping.
  auto be = make_cpu_backend();
  Quadratic q;
  q.offset = 1;
  Counted c{q};
  Tensor X = q.start();
  auto opt = make_lbfgs(*be, c.evaluate(), 100, 1.0);
  opt->start(X);
  int k = 0, still = 0;  // iterations that left X as it was without stopping
  while (opt->stopped().empty() && k < 300) {
    const Vec before = vec(X);
    opt->iterate(X), ++k;
    still += vec(X) == before && opt->stopped().empty();
  }
  INFO("iterations " << k << " (" << still << " not moving X), evaluations " << c.evals << ", |X - x*| " << dist(vec(X), q.xstar));
  CHECK(dist(vec(X), q.xstar) < 1e-6);
  CHECK_FALSE(opt->stopped().empty());
  CHECK(still == 0);
  CHECK(k < 60);
}
