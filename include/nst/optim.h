// The optimisers of SPEC §4. Each works on a tensor X on the backend's device and an objective that
// returns L(X) and writes dL/dX. An iteration is one update of X; `start` evaluates the initial image
// (row 0 of the log) and `iterate` returns the losses at the new X.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "nst/backend.h"
#include "nst/objective.h"
#include "nst/options.h"

namespace nst {

using Evaluate = std::function<LossValues(const Tensor& X, Tensor& grad)>;

// What an optimiser carries from one iteration to the next besides X (host tensors), for checkpoints.
// The gradient at X is not in it: evaluating X again gives it back bit for bit.
struct OptimizerState {
  int step = 0;                                        // Adam's step count
  std::vector<std::pair<std::string, Tensor>> tensors;  // Adam: m, v; L-BFGS: s0, y0, s1, y1, ... oldest first
};

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  virtual LossValues start(Tensor& X) = 0;
  virtual LossValues iterate(Tensor& X) = 0;
  // Why the optimiser cannot improve X any further (e.g. the line search found no decrease); empty while
  // it can. The stylizer stops early when this is set.
  virtual std::string stopped() const { return {}; }
  // Checkpoints: the state after `start` and any number of iterations, and putting it back into an
  // optimiser that has just been started at the same X.
  virtual OptimizerState state() = 0;
  virtual void restore(const OptimizerState& s) = 0;
};

// Bytes an optimiser keeps on the device for an image of n floats, the image itself included (for the
// memory planner): Adam X, g, m, v; L-BFGS X, g, d, a trial point and its gradient, and 2 x history pairs;
// and the stylizer's copy of the last image with a finite loss.
std::size_t optimizer_state_bytes(OptimizerKind optimizer, int history, std::size_t n);

// The defaults, in one place: Adam's step in units of the [0,1] image, L-BFGS's first step length and the
// pairs it keeps.
constexpr double kAdamLr = 0.02;
constexpr double kLbfgsLr = 1.0;
constexpr int kLbfgsHistory = 100;

// torch.optim.Adam: beta1 0.9, beta2 0.999, eps 1e-8, step lr (in units of the [0,1] image).
std::unique_ptr<Optimizer> make_adam(Backend& be, Evaluate f, double lr);

// Limited-memory BFGS keeping `history` pairs (s, y). Each iteration takes the two-loop direction
// (scaled by s.y/y.y), tries a unit step (the first iteration: a step of length lr in L2), and backtracks
// with safeguarded quadratic interpolation until the Armijo condition L(X + t d) <= L + 1e-4 t g.d holds,
// at most 20 evaluations. A pair is kept only when y.s > 1e-10 y.y (curvature); a failed line search
// clears the history and retries along -g once before the optimiser reports that it has stopped.
std::unique_ptr<Optimizer> make_lbfgs(Backend& be, Evaluate f, int history, double lr);

}  // namespace nst
