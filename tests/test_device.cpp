// --device: auto falls back to the CPU with one line saying why; bad values are usage errors.
#include "nst/device.h"
#include "nst/error.h"
#include "test_util.h"

using namespace nst;
using Catch::Contains;

TEST_CASE("device choice: cpu, auto's fallback, and bad values", "[device]") {
  CHECK(make_backend("cpu").backend->name() == "cpu");
  CHECK(make_backend("cpu").note.empty());

  CudaProbe p = probe_cuda();
  BackendChoice a = make_backend("auto");
  if (p.devices == 0) {
    CHECK(a.backend->device() == Device::Host);
    CHECK(a.note == "running on the CPU: " + p.reason);
    CHECK_FALSE(p.reason.empty());
    CHECK(a.note.find('\n') == std::string::npos);  // one line
    CHECK_THROWS_AS(make_backend("cuda"), Error);
    CHECK_THROWS_WITH(make_backend("cuda:0"), Contains("cuda:0: ") && Contains(p.reason));
    try {
      make_backend("cuda:0");
    } catch (const Error& e) {
      CHECK(e.option() == "device");  // the program puts its flag's name in front
    }
  } else {
    CHECK(a.backend->device() == Device::Cuda);
    CHECK(a.note.empty());
  }
  CHECK_THROWS_AS(make_backend("gpu"), UsageError);
  CHECK_THROWS_WITH(make_backend("gpu"), "expected auto, cpu, cuda or cuda:N, got 'gpu'");
  CHECK_THROWS_AS(make_backend("cuda:x"), UsageError);
  CHECK_THROWS_AS(make_backend("cuda:-1"), UsageError);
  CHECK_THROWS_AS(make_backend("cuda:"), UsageError);
}
