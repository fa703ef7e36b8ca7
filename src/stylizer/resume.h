// Continuing from a checkpoint: it must come from a run with the same identity (the options the caller
// says a result depends on), and its stage and iteration must lie within this run.
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "nst/checkpoint.h"

namespace nst {

using Identity = std::vector<std::pair<std::string, std::string>>;

// Loads `path` and checks it; a mismatch is a UsageError about option "resume" naming the first option
// that differs, as the caller named it ("ck.h5: the checkpoint was made with --size 64, not 48").
Checkpoint load_resume(const std::string& path, const Identity& identity, int stages, int iterations);

}  // namespace nst
