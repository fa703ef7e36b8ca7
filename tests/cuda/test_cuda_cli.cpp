// [gpu]: the CUDA backend as a user runs it — nst stylize --device cuda against the CPU run's log, each
// --precision from the command line, a checkpoint written and resumed on CUDA, and batch --devices 0.
// Without a usable device each case says SKIPPED and ctest reports it skipped, never passed.
#include <cmath>
#include <fstream>
#include <string>
#include <vector>

#include "nst/device.h"
#include "nst/image.h"
#include "stylize_fixture.h"

using Catch::Contains;
using nst::test::Run;
using nst::test::run;
using nst::test::StylizeFixture;

namespace {

using nst::test::log_totals;

double worst_rel(const std::vector<double>& a, const std::vector<double>& b) {
  REQUIRE(a.size() == b.size());
  double w = 0;
  for (std::size_t i = 0; i < a.size(); ++i) w = std::max(w, std::abs(a[i] - b[i]) / std::abs(b[i]));
  return w;
}

// Measured on one H200 (issue 15): 20 Adam iterations on CUDA follow the CPU backend's losses within
// 1.3e-4 relative in FP32 and 2.5e-3 in TF32. Twice that, for other GPUs' algorithm choices.
constexpr double kLogFp32 = 2.6e-4, kLogTf32 = 5e-3;

}  // namespace

TEST_CASE("stylize --device cuda follows the CPU run's log, in FP32 and TF32 from the command line", "[gpu]") {
  if (nst::probe_cuda().devices == 0) NST_SKIP("no CUDA device: " << nst::probe_cuda().reason);
  StylizeFixture fx;
  const std::string common = fx.base + " --optimizer adam --iterations 20 --print-every 0";  // base has --device cpu
  REQUIRE(run(common + " --output " + fx.path("cpu.png") + " --log " + fx.path("cpu.csv")).status == 0);
  for (const char* precision : {"fp32", "tf32"}) {
    INFO(precision);
    const std::string log = fx.path(std::string(precision) + ".csv");
    Run r = run(common + " --device cuda --precision " + precision + " --output " + fx.path(std::string(precision) + ".png") +
                " --log " + log);
    INFO(r.err);
    REQUIRE(r.status == 0);
    CHECK_THAT(r.err, Contains("on cuda"));
    const double w = worst_rel(log_totals(log), log_totals(fx.path("cpu.csv")));
    WARN(precision << ": worst relative distance of the loss log from the CPU's over 21 rows: " << w);
    CHECK(w <= (std::string(precision) == "fp32" ? kLogFp32 : kLogTf32));
  }
}

TEST_CASE("a checkpoint written on CUDA resumes on CUDA and ends where the uninterrupted run does", "[gpu]") {
  if (nst::probe_cuda().devices == 0) NST_SKIP("no CUDA device: " << nst::probe_cuda().reason);
  StylizeFixture fx;
  const std::string common = fx.base + " --device cuda --optimizer lbfgs --print-every 0";
  REQUIRE(run(common + " --iterations 8 --output " + fx.path("whole.png") + " --log " + fx.path("whole.csv")).status == 0);
  REQUIRE(run(common + " --iterations 4 --save-every 4 --checkpoint " + fx.path("ck.h5") + " --output " + fx.path("first.png")).status == 0);
  Run r = run(common + " --iterations 8 --resume " + fx.path("ck.h5") + " --output " + fx.path("resumed.png") + " --log " +
              fx.path("resumed.csv"));
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK_THAT(r.err, Contains("resumed at iteration 4"));
  // The same rows 0..8; on the GPU a convolution algorithm may sum in another order from one process to
  // the next, so the rows agree to float rounding rather than bit for bit as on the CPU.
  CHECK(worst_rel(log_totals(fx.path("resumed.csv")), log_totals(fx.path("whole.csv"))) <= 1e-5);
}

TEST_CASE("batch --devices 0 runs the rows on the GPU in a worker", "[gpu]") {
  if (nst::probe_cuda().devices == 0) NST_SKIP("no CUDA device: " << nst::probe_cuda().reason);
  StylizeFixture fx;
  std::ofstream(fx.path("rows.csv")) << "content,style,output\ncontent.png,style.png,a.png\nstyle.png,content.png,b.png\n";
  Run r = run(std::string(NST_BIN) + " batch --manifest " + fx.path("rows.csv") + " --output-dir " + fx.path("out") +
              " --devices 0 --weights " + fx.path("w.h5") + " --size 64 --iterations 3 --print-every 0");
  INFO(r.err);
  CHECK(r.status == 0);
  CHECK(nst::load_image(fx.path("out/a.png")).shape().w == 64);
  CHECK(nst::load_image(fx.path("out/b.png")).shape().w == 64);
}
