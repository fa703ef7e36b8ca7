// The bench's inputs: images, activations, gradients and Gram targets filled with seeded pseudo-random values.
// The timings do not depend on them, but max pooling's branches and ReLU's zeros should see data rather
// than a constant; a seed makes every run, and the CUDA check against the CPU, see the same values.
#pragma once
#include <cstdint>

#include "nst/tensor.h"

namespace nst::bench {

// A host tensor of shape s, uniform in [lo, hi) (xorshift64 from seed).
Tensor random_host(Shape s, std::uint64_t seed, float lo, float hi);

}  // namespace nst::bench
