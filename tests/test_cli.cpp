// The programs as a user runs them: exit codes, one-line errors, and the synthetic weights tool.
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "nst/weights.h"
#include "test_util.h"

using Catch::Contains;

namespace {

struct Run {
  int status = -1;
  std::string out, err;
};

// Runs a command line through the shell, capturing stdout and stderr separately.
Run run(const std::string& cmd) {
  std::string err_file = std::filesystem::temp_directory_path() / ("nst_cli_err_" + std::to_string(::getpid()));
  Run r;
  FILE* p = ::popen((cmd + " 2>" + err_file).c_str(), "r");
  REQUIRE(p);
  std::array<char, 4096> buf;
  std::size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  int st = ::pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  std::ifstream e(err_file);
  r.err.assign(std::istreambuf_iterator<char>(e), {});
  std::filesystem::remove(err_file);
  return r;
}

std::size_t lines(const std::string& s) { return std::size_t(std::count(s.begin(), s.end(), '\n')); }

const std::string kNst = NST_BIN, kMake = NST_MAKE_WEIGHTS;

}  // namespace

TEST_CASE("nst --help, --version and usage errors", "[cli]") {
  Run r = run(kNst + " --help");
  CHECK(r.status == 0);
  CHECK_THAT(r.out, Contains("usage: nst COMMAND"));
  r = run(kNst + " --version");
  CHECK(r.status == 0);
  CHECK_THAT(r.out, Contains("nst 0."));
  r = run(kNst + " frobnicate");
  CHECK(r.status == 2);
  CHECK(r.err == "nst: unknown command 'frobnicate'; try nst --help\n");
  r = run(kNst);
  CHECK(r.status == 2);
  CHECK(lines(r.err) == 1);
}

TEST_CASE("nst info reports the backends and falls back with a reason when there is no GPU", "[cli]") {
  Run r = run(kNst + " info");
  CHECK(r.status == 0);
  CHECK_THAT(r.out, Contains("backends: cpu"));
  CHECK_THAT(r.out, Contains("cuda devices: "));
}

TEST_CASE("nst_make_weights writes a file that nst info summarises; bad weights exit 1 with one line", "[cli]") {
  auto dir = std::filesystem::temp_directory_path() / ("nst_cli_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::string w = (dir / "mini.h5").string();
  Run r = run(kMake + " " + w + " --widths 4,8,16,32,32 --seed 3 --normalization caffe");
  CHECK(r.status == 0);
  CHECK(r.err.empty());
  nst::Weights loaded = nst::load_weights(w);
  CHECK(loaded.norm.bgr);
  CHECK(loaded.convs[15].out == 32);
  CHECK(loaded.source_model == "synthetic VGG19 widths 4,8,16,32,32 seed 3");
  CHECK_FALSE(std::filesystem::exists(w + ".tmp"));

  r = run(kNst + " info --weights " + w);
  CHECK(r.status == 0);
  CHECK_THAT(r.out, Contains("input: BGR, scale 255"));
  CHECK_THAT(r.out, Contains("widths: 4 4 8 8 16 16 16 16 32 32 32 32 32 32 32 32"));

  std::ofstream(dir / "junk.h5") << "not weights";
  r = run(kNst + " info --weights " + (dir / "junk.h5").string());
  CHECK(r.status == 1);
  CHECK(lines(r.err) == 1);
  CHECK_THAT(r.err, Contains("junk.h5: not an HDF5 file"));

  r = run(kMake + " " + w + " --widths 4,8");
  CHECK(r.status == 2);
  CHECK_THAT(r.err, Contains("--widths needs five comma-separated numbers"));
  std::filesystem::remove_all(dir);
}
