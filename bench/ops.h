// Each op of one NST iteration timed on its own, layer by layer, on buffers of the shapes `nst stylize` would
// use, with its FLOP and bytes counted, so that every op can be set against the device's peaks (results.h)
// and, on the CPU, the libraries' own speed (library_reference.h).
#pragma once
#include <vector>

#include "library_reference.h"
#include "nst/backend.h"
#include "nst/objective.h"
#include "nst/weights.h"
#include "results.h"
#include "timer.h"

namespace nst::bench {

// In network order: per layer its forward and backward pass and the losses that sit on it; the image's
// normalisation first, its TV loss and Adam step last. FLOP and bytes as bench_help() lists them; bytes are
// the minimal traffic (each tensor read or written once). library: null, or the CPU libraries to time each
// convolution against.
std::vector<OpResult> time_ops(Backend& be, Timer& timer, const Weights& weights, const LossConfig& cfg, int size,
                               LibraryReference* library);

}  // namespace nst::bench
