// Shared test helpers: seeded random data and the relative-L2 comparison every tier uses.
#pragma once
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "nst/tensor.h"

namespace nst::test {

// Tolerances, one per tier (STYLE §3).
constexpr double kOpTol = 1e-5;       // fast op vs double oracle
constexpr double kFixtureTol = 1e-4;  // float32 engine vs PyTorch float64

inline std::vector<float> random_floats(std::size_t n, std::uint32_t seed, float lo = -1.f, float hi = 1.f) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = d(gen);
  return v;
}

inline Tensor random_tensor(Shape s, std::uint32_t seed, float lo = -1.f, float hi = 1.f) {
  return Tensor::host(s, random_floats(s.numel(), seed, lo, hi));
}

struct Compare {
  double rel = 0;  // ||a - b|| / ||b||
  std::size_t worst = 0;
  double a_worst = 0, b_worst = 0;
  std::string str() const {
    return "relative L2 " + std::to_string(rel) + ", worst at " + std::to_string(worst) + ": " +
           std::to_string(a_worst) + " vs " + std::to_string(b_worst);
  }
};

template <typename A, typename B>
Compare compare(const A& a, const B& b) {
  REQUIRE(a.size() == b.size());
  Compare c;
  double num = 0, den = 0, worst = -1;
  for (std::size_t i = 0; i < a.size(); ++i) {
    double d = double(a[i]) - double(b[i]);
    num += d * d;
    den += double(b[i]) * double(b[i]);
    if (std::abs(d) > worst) worst = std::abs(d), c.worst = i, c.a_worst = a[i], c.b_worst = b[i];
  }
  c.rel = den > 0 ? std::sqrt(num / den) : std::sqrt(num);
  return c;
}

// Element by element: every |a_i - b_i| <= atol + rtol |b_i| (atol = rtol = 0: bit-exact), naming the
// first element that is not and counting the others. For ops that are exact or nearly so, where a global
// relative L2 would hide one wrong element among thousands.
template <typename A, typename B>
std::string each_close(const A& a, const B& b, double atol, double rtol) {
  if (a.size() != b.size()) return "sizes differ: " + std::to_string(a.size()) + " vs " + std::to_string(b.size());
  std::size_t bad = 0, first = 0;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (!(std::abs(double(a[i]) - double(b[i])) <= atol + rtol * std::abs(double(b[i]))) && bad++ == 0) first = i;
  if (bad == 0) return "";
  return std::to_string(bad) + " of " + std::to_string(a.size()) + " elements differ; first at " + std::to_string(first) +
         ": " + std::to_string(double(a[first])) + " vs " + std::to_string(double(b[first]));
}
#define NST_CHECK_EACH(a, b, atol, rtol)                       \
  do {                                                         \
    const std::string each_ = ::nst::test::each_close(a, b, atol, rtol); \
    INFO(each_);                                               \
    CHECK(each_.empty());                                      \
  } while (0)

// A buffer for an op that adds its gradient into it, of the increment's own scale: random values of the
// increment's RMS. (A buffer 1000x larger would hide a 1% error in the increment at a 1e-5 tolerance.)
template <typename V>
Tensor increment_scale_buffer(Shape s, std::uint32_t seed, const V& increment) {
  double sq = 0;
  for (double v : increment) sq += v * v;
  const float rms = float(std::sqrt(sq / double(increment.size())));
  Tensor t = random_tensor(s, seed);
  for (std::size_t i = 0; i < t.numel(); ++i) t.data()[i] *= rms;
  return t;
}

#define NST_CHECK_CLOSE(a, b, tol)            \
  do {                                        \
    auto cmp_ = ::nst::test::compare(a, b);   \
    INFO(cmp_.str());                         \
    CHECK(cmp_.rel <= (tol));                 \
  } while (0)

// A fresh folder under the system temp directory, unique to this process and call, removed with its
// contents at the end of the scope.
class TempDir {
 public:
  explicit TempDir(const std::string& tag = "test") {
    static int counter = 0;
    path = std::filesystem::temp_directory_path() /
           ("nst_" + tag + "_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string file(const std::string& name) const { return (path / name).string(); }

  std::filesystem::path path;
};

// A case that cannot run here (no device, no curl, no real images, a CPU without the feature) ends with
// NST_SKIP: ctest matches "SKIPPED: " in its output (SKIP_REGULAR_EXPRESSION, tests/CMakeLists.txt) and
// reports it skipped, never passed. Only for a whole case: a case that skips one part and checks the rest
// would be reported skipped too.
#define NST_SKIP(why)           \
  do {                          \
    WARN("SKIPPED: " << why);   \
    return;                     \
  } while (0)

inline double rel_err(double a, double b) { return std::abs(a - b) / std::max(std::abs(b), 1e-300); }

}  // namespace nst::test
