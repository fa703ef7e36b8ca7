// Guards against compiler bugs that would silently change our numbers.
#include "test_util.h"

namespace {

struct Pair {
  double a[3], b[3];
};

// GCC 12.2 at -O2 vectorises these two stores with SLP and drops the float rounding of b[1] and b[2]
// (b came out {0.22900000214576721, 0.224, 0.225}); CMakeLists.txt turns SLP off for GCC < 13.
__attribute__((noinline)) void round_through_float(Pair& r, const Pair& n) {
  for (int c = 0; c < 3; ++c) {
    r.a[c] = double(float(n.a[c]));
    r.b[c] = double(float(n.b[c]));
  }
}

}  // namespace

TEST_CASE("double(float(x)) rounds to float under the project's optimisation flags", "[toolchain]") {
  Pair n{{0.485, 0.456, 0.406}, {0.229, 0.224, 0.225}}, r{};
  round_through_float(r, n);
  for (int c = 0; c < 3; ++c) {
    CHECK(r.a[c] == double(0.f + float(n.a[c])));
    CHECK(r.b[c] == double(0.f + float(n.b[c])));
    CHECK(r.b[c] != n.b[c]);  // none of these doubles is a float
  }
}
