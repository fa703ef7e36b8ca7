// CUDA only: the loss and the image's gradient at a small size against the CPU backend, before any timing, so
// that `nst bench` never reports the speed of a backend that computes the wrong thing.
#pragma once
#include <string>

#include "nst/backend.h"
#include "nst/objective.h"
#include "nst/weights.h"

namespace nst::bench {

// "ok: ..." or "MISMATCH: ..." with both relative differences and the limit tol; ok says which.
std::string validate(Backend& be, const Weights& weights, const LossConfig& cfg, double tol, bool& ok);

}  // namespace nst::bench
