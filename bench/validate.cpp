// The bench's check of a CUDA backend against the CPU backend (validate.h): one evaluation of the same
// Objective on the same random images on each, compared in double.
#include "validate.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <string>

#include "random_input.h"

namespace nst::bench {
namespace {

constexpr int kValidateSize = 64;

}  // namespace

std::string validate(Backend& be, const Weights& weights, const LossConfig& cfg, double tol, bool& ok) {
  const Shape img{1, 3, kValidateSize, kValidateSize};
  auto evaluate = [&](Backend& b, Tensor& grad_host) {
    Objective objective(b, weights, cfg);
    objective.set_content(random_host(img, 1, 0, 1));
    objective.set_styles({random_host(img, 2, 0, 1)});
    Tensor X = b.to_device(random_host(img, 3, 0, 1));  // not the content, so that every loss term is non-zero
    Tensor g = b.alloc(img);
    double loss = objective.evaluate(X, g).total;
    grad_host = b.to_host(g);
    return loss;
  };
  auto cpu = make_cpu_backend();
  Tensor gc, gd;
  const double lc = evaluate(*cpu, gc), ld = evaluate(be, gd);
  double num = 0, den = 0;
  for (std::size_t i = 0; i < gc.numel(); ++i) {
    double d = double(gd.data()[i]) - gc.data()[i];
    num += d * d;
    den += double(gc.data()[i]) * gc.data()[i];
  }
  const double loss_rel = std::abs(ld - lc) / std::max(std::abs(lc), 1e-300), grad_rel = std::sqrt(num / std::max(den, 1e-300));
  ok = loss_rel <= tol && grad_rel <= tol;
  char b[256];
  std::snprintf(b, sizeof b, "%s: at %dx%d against the CPU backend, loss relative difference %.2e, gradient relative L2 %.2e (limit %.0e)",
                ok ? "ok" : "MISMATCH", kValidateSize, kValidateSize, loss_rel, grad_rel, tol);
  return b;
}

}  // namespace nst::bench
