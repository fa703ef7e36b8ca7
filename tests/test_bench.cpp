// nst bench as a user runs it: a smoke test at 64x64 on the CPU (full-width VGG19 is quick there). Checks
// the exit status and the shape of the outputs, never the timings.
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "run_util.h"

using Catch::Contains;
using nst::test::Run;
using nst::test::run;

namespace {

const std::string kNst = NST_BIN;

std::string slurp(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

std::size_t count(const std::string& s, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t p = s.find(what); p != std::string::npos; p = s.find(what, p + what.size())) ++n;
  return n;
}

}  // namespace

TEST_CASE("nst bench at 64x64 on the CPU writes the table, CSV, JSON and roofline", "[cli][bench]") {
  auto dir = std::filesystem::temp_directory_path() / ("nst_bench_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto json = dir / "b.json", csv = dir / "b.csv", svg = dir / "b.svg";
  Run r = run(kNst + " bench --device cpu --sizes 64 --iterations 1 --json " + nst::test::quote(json.string()) + " --csv " +
              nst::test::quote(csv.string()) + " --plot " + nst::test::quote(svg.string()));
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK_THAT(r.out, Contains("conv1_1"));
  CHECK_THAT(r.out, Contains("conv5_1"));
  CHECK_THAT(r.out, Contains("s/iteration"));

  const std::string j = slurp(json);
  CHECK(j.front() == '{');
  CHECK_THAT(j, Contains("\"device\": \"cpu\""));
  CHECK_THAT(j, Contains("\"iterations\": ["));
  CHECK_THAT(j, Contains("\"size\": 64"));
  CHECK_THAT(j, Contains("\"seconds_per_iteration\": "));
  CHECK_THAT(j, Contains("\"gflops\": "));
  CHECK_THAT(j, Contains("\"layers\": ["));
  CHECK(count(j, "{") == count(j, "}"));
  CHECK(count(j, "[") == count(j, "]"));
  // Every convolution an iteration touches, forward and backward-data: conv1_1 .. conv5_1 is 13 of them.
  CHECK(count(j, "\"op\": \"conv_forward\"") == 13);
  CHECK(count(j, "\"op\": \"conv_backward_data\"") == 13);
  CHECK(count(j, "\"op\": \"style_loss\"") == 5);
  CHECK(count(j, "\"op\": \"content_loss\"") == 1);
  // On the CPU every convolution is also timed in the libraries themselves, the reference for "% lib".
  CHECK(count(j, "\"percent_of_library\": ") == 26);
  CHECK_THAT(r.out, Contains("% lib"));
  CHECK_FALSE(std::filesystem::exists(json.string() + ".tmp"));

  const std::string c = slurp(csv);
  CHECK(c.rfind("size,layer,op,shape,ms,gflops,gbs,percent_of_peak,bound,flop,bytes,info,library,library_ms,percent_of_library\n", 0) == 0);
  CHECK_THAT(c, Contains("64,all,iteration,64x64,"));
  CHECK_THAT(c, Contains("64,conv4_2,conv_backward_data,512->512 8x8,"));

  const std::string s = slurp(svg);
  CHECK(s.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0) == 0);
  CHECK_THAT(s, Contains("</svg>\n"));
  CHECK(count(s, "<circle") >= 26);  // 13 convolutions, forward and backward, plus the legend's
  CHECK_THAT(s, Contains(">conv1_1</text>"));
  CHECK_THAT(s, Contains(">conv3_2..3_4</text>"));
  CHECK_THAT(s, Contains(">conv5_1</text>"));
  CHECK_THAT(s, Contains("compute ceiling"));
  std::filesystem::remove_all(dir);
}

TEST_CASE("nst bench --device cpu --sizes 256 runs the full-size smoke test", "[cli][bench]") {
  // Issue 8's CI smoke run at a real size: every op, the library references and the summary; not timed.
  Run r = run(kNst + " bench --device cpu --sizes 256 --iterations 1");
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK_THAT(r.out, Contains("256x256 on cpu"));
  CHECK_THAT(r.out, Contains("iteration 256x256: "));
  CHECK_THAT(r.out, Contains("% lib"));
  CHECK(count(r.out, "conv_backward_data") >= 13);  // 13 rows, and maybe the lowest % lib
}

TEST_CASE("nst bench --help, and its usage errors exit 2 with one line", "[cli][bench]") {
  Run r = run(kNst + " bench --help");
  CHECK(r.status == 0);
  CHECK_THAT(r.out, Contains("usage: nst bench"));
  CHECK_THAT(r.out, Contains("--sizes"));
  r = run(kNst + " bench --device cpu --sizes 8");
  CHECK(r.status == 2);
  CHECK(r.err == "nst: --sizes: '8' is not a whole number from 16 to 16384\n");
  r = run(kNst + " bench --device cpu --iterations 0");
  CHECK(r.status == 2);
  CHECK_THAT(r.err, Contains("--iterations"));
  r = run(kNst + " bench --frobnicate");
  CHECK(r.status == 2);
  CHECK_THAT(r.err, Contains("unknown option '--frobnicate'"));
  r = run(kNst + " bench --device gpu");
  CHECK(r.status == 2);
  r = run(kNst + " bench --device cpu --sizes 64 --json /nonexistent/dir/b.json");
  CHECK(r.status == 1);
  CHECK_THAT(r.err, Contains("/nonexistent/dir/b.json"));
}
