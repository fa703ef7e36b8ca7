#include "resume.h"

#include <algorithm>

#include "nst/error.h"

namespace nst {

Checkpoint load_resume(const std::string& path, const Identity& identity, int stages, int iterations) {
  Checkpoint c = load_checkpoint(path);
  for (const auto& [k, v] : identity) {
    // [&key = k]: clang 14 (the fuzz build) cannot capture a structured binding.
    auto it = std::find_if(c.options.begin(), c.options.end(), [&key = k](const auto& p) { return p.first == key; });
    if (it == c.options.end() || it->second != v)
      throw UsageError(path + ": the checkpoint was made with " + k + " " + (it == c.options.end() ? std::string("(absent)") : it->second) +
                           ", not " + v,
                       "resume");
  }
  if (c.stage < 0 || c.stage >= stages || c.iteration < 0 || c.iteration > iterations)
    throw UsageError(path + ": stage " + std::to_string(c.stage) + ", iteration " + std::to_string(c.iteration) +
                         " is not within this run's stages and iterations",
                     "resume");
  return c;
}

}  // namespace nst
