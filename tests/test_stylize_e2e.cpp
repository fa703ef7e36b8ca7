// nst stylize end to end against PyTorch: the whole program (PNG in, sizes, network, losses, Adam, --log)
// on the CPU, compared row by row with the float64 torch.optim.Adam runs in tests/fixtures/e2e_*/
// (written by tests/fixtures/make_fixtures.py); plus L-BFGS progress and run-to-run determinism.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "run_util.h"

namespace fs = std::filesystem;

namespace {

using nst::test::quote;
using nst::test::Run;
using nst::test::run;

const std::string kNst = NST_BIN;
const fs::path kFixtures = NST_FIXTURES;

using nst::test::TempDir;


std::string read_file(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

// Runs `nst args...` with stdout discarded; stderr is captured.
Run run_nst(const std::vector<std::string>& args) {
  std::string cmd = quote(kNst);
  for (const auto& a : args) cmd += " " + quote(a);
  return run(cmd + " >/dev/null");
}

void require_success(const Run& r) {
  INFO("nst's stderr: " << r.err);
  REQUIRE(r.status == 0);
}

// One e2e fixture folder: the options of args.txt (file names resolved against the folder), the weights,
// the images.
struct Case {
  std::string name;
  fs::path dir;
  std::vector<std::string> args;
  fs::path weights;
  std::vector<fs::path> styles;

  explicit Case(const std::string& n) : name(n), dir(kFixtures / n) {
    REQUIRE(fs::is_directory(dir));
    std::ifstream a(dir / "args.txt");
    REQUIRE(a);
    for (std::string line; std::getline(a, line);) {
      if (line.empty()) continue;
      // a value naming a file of the case folder (e.g. --init init.png) becomes its full path
      if (line.rfind("--", 0) != 0 && fs::is_regular_file(dir / line)) line = (dir / line).string();
      args.push_back(line);
    }
    std::ifstream w(dir / "weights.txt");
    std::string wname;
    REQUIRE(std::getline(w, wname));
    weights = kFixtures / wname;
    REQUIRE(fs::is_regular_file(weights));
    for (int k = 0; fs::is_regular_file(dir / ("style_" + std::to_string(k) + ".png")); ++k)
      styles.push_back(dir / ("style_" + std::to_string(k) + ".png"));
    REQUIRE(!styles.empty());
    REQUIRE(fs::is_regular_file(dir / "content.png"));
  }

  // The full command line (after `nst`) writing into `out`, with args.txt's options edited: `set` replaces
  // the value of an option (adding it when absent), `drop` removes an option and its value.
  std::vector<std::string> command(const fs::path& out, const std::vector<std::pair<std::string, std::string>>& set = {},
                                   const std::vector<std::string>& drop = {}) const {
    std::string style_list;
    for (const auto& s : styles) style_list += (style_list.empty() ? "" : ",") + s.string();
    std::vector<std::string> cmd = {"stylize",   "--device", "cpu",     "--weights", weights.string(),
                                    "--content", (dir / "content.png").string(),
                                    "--style",   style_list, "--output", (out / "out.png").string(),
                                    "--log",     (out / "log.csv").string()};
    std::vector<std::string> rest = args;
    for (const auto& d : drop) {
      auto it = std::find(rest.begin(), rest.end(), d);
      REQUIRE(it != rest.end());
      REQUIRE(it + 1 != rest.end());
      rest.erase(it, it + 2);
    }
    for (const auto& [opt, val] : set) {
      auto it = std::find(rest.begin(), rest.end(), opt);
      if (it == rest.end()) {
        rest.push_back(opt);
        rest.push_back(val);
      } else {
        REQUIRE(it + 1 != rest.end());
        *(it + 1) = val;
      }
    }
    cmd.insert(cmd.end(), rest.begin(), rest.end());
    return cmd;
  }
};

constexpr int kCols = 4;
const char* const kColNames[kCols] = {"total", "content", "style", "tv"};

struct Row {
  long iteration = 0;
  double v[kCols] = {0, 0, 0, 0};
};

// Parses an `iteration,total,content,style,tv` log (SPEC section 5).
std::vector<Row> read_log(const fs::path& p) {
  std::ifstream f(p);
  INFO(p.string());
  REQUIRE(f);
  std::string line;
  REQUIRE(std::getline(f, line));
  if (!line.empty() && line.back() == '\r') line.pop_back();
  REQUIRE(line == "iteration,total,content,style,tv");
  std::vector<Row> rows;
  while (std::getline(f, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    INFO("line: " << line);
    std::stringstream ss(line);
    std::string field;
    std::vector<std::string> fields;
    while (std::getline(ss, field, ',')) fields.push_back(field);
    REQUIRE(fields.size() == 1 + kCols);
    Row r;
    std::size_t used = 0;
    r.iteration = std::stol(fields[0], &used);
    REQUIRE(used == fields[0].size());
    for (int c = 0; c < kCols; ++c) {
      r.v[c] = std::stod(fields[1 + c], &used);
      REQUIRE(used == fields[1 + c].size());
      REQUIRE(std::isfinite(r.v[c]));
    }
    REQUIRE(r.iteration == long(rows.size()));
    rows.push_back(r);
  }
  return rows;
}

// |got - want| / |want|; a term that is exactly 0 in the reference (the content loss at row 0 with
// --init content) is measured relative to the total loss instead.
double rel(double got, double want, double want_total) {
  const double den = want != 0 ? std::abs(want) : std::abs(want_total);
  return std::abs(got - want) / std::max(den, std::numeric_limits<double>::min());
}

constexpr double kRow0Tol = 1e-4;  // SPEC section 5: float32 engine vs float64, initial image
constexpr double kRunTol = 2e-3;   // SPEC section 5: over a short Adam run

void check_adam_case(const std::string& name) {
  Case cs(name);
  TempDir tmp(name);
  const auto cmd = cs.command(tmp.path);
  Run r = run_nst(cmd);
  require_success(r);
  REQUIRE(fs::is_regular_file(tmp.path / "out.png"));

  const auto want = read_log(cs.dir / "expected.csv");
  const auto got = read_log(tmp.path / "log.csv");
  REQUIRE(want.size() == 21);
  REQUIRE(got.size() == 21);

  double worst0[kCols] = {}, worst[kCols] = {};
  std::size_t worst_row[kCols] = {};
  for (std::size_t i = 0; i < want.size(); ++i) {
    for (int c = 0; c < kCols; ++c) {
      const double e = rel(got[i].v[c], want[i].v[c], want[i].v[0]);
      INFO(name << " row " << i << " " << kColNames[c] << ": nst " << got[i].v[c] << ", torch float64 "
                << want[i].v[c] << ", relative error " << e);
      if (i == 0) {
        worst0[c] = e;
        CHECK(e <= kRow0Tol);
      } else {
        if (e >= worst[c]) worst[c] = e, worst_row[c] = i;
        CHECK(e <= kRunTol);
      }
    }
  }
  for (int c = 0; c < kCols; ++c) {
    char buf[256];
    // short enough that Catch does not wrap it: relative errors, row 0 and the worst of rows 1..20
    std::snprintf(buf, sizeof buf, "%-9s %-7s rel err row 0 %.2e, rows 1-20 max %.2e (row %zu)", name.c_str(),
                  kColNames[c], worst0[c], worst[c], worst_row[c]);
    WARN(buf);
  }
}

void check_lbfgs_case(const std::string& name, const std::vector<std::pair<std::string, std::string>>& extra = {}) {
  Case cs(name);
  TempDir tmp(name + "_lbfgs");
  std::vector<std::pair<std::string, std::string>> set = {{"--optimizer", "lbfgs"}, {"--iterations", "50"}};
  set.insert(set.end(), extra.begin(), extra.end());
  const auto cmd = cs.command(tmp.path, set, {"--lr"});
  Run r = run_nst(cmd);
  require_success(r);
  const auto log = read_log(tmp.path / "log.csv");
  REQUIRE(log.size() >= 2);
  REQUIRE(log.size() <= 51);
  const double first = log.front().v[0], last = log.back().v[0];
  REQUIRE(first > 0);
  const double factor = first / last;
  char buf[256];
  std::snprintf(buf, sizeof buf, "%s L-BFGS: total %.4g -> %.4g (row %ld), %.1fx lower", name.c_str(), first, last,
                log.back().iteration, factor);
  WARN(buf);
  CHECK(last > 0);
  CHECK(factor >= 10.0);
}

}  // namespace

TEST_CASE("stylize e2e_max: Adam losses match float64 torch.optim.Adam row by row", "[e2e][stylize]") {
  check_adam_case("e2e_max");
}

TEST_CASE("stylize e2e_blend: Adam losses match float64 torch.optim.Adam row by row", "[e2e][stylize]") {
  check_adam_case("e2e_blend");
}

// From e2e_max's own start (--init content, where L_c = 0) a 10x drop is out of reach for any optimiser: the
// minimum of that problem is near 0.06 against 0.31 at the content (float64 torch.optim.LBFGS, history 100:
// 2.4x after 50 iterations, 4.8x after 500; nst's L-BFGS also reaches 2.4x after 50). So this case starts
// from noise, as a user's --init random run does.
TEST_CASE("stylize e2e_max with L-BFGS from --init random lowers the total loss at least 10x in 50 iterations",
          "[e2e][stylize]") {
  check_lbfgs_case("e2e_max", {{"--init", "random"}, {"--seed", "7"}});
}

TEST_CASE("stylize e2e_blend with L-BFGS lowers the total loss at least 10x in 50 iterations", "[e2e][stylize]") {
  check_lbfgs_case("e2e_blend");
}

TEST_CASE("stylize on the CPU is deterministic: two runs give byte-identical image and log", "[e2e][stylize]") {
  Case cs("e2e_max");
  TempDir tmp("determinism");
  const fs::path a = tmp.path / "a", b = tmp.path / "b";
  fs::create_directories(a);
  fs::create_directories(b);
  const std::vector<std::pair<std::string, std::string>> set = {
      {"--iterations", "5"}, {"--init", "random"}, {"--seed", "7"}};
  require_success(run_nst(cs.command(a, set)));
  require_success(run_nst(cs.command(b, set)));

  const std::string png_a = read_file(a / "out.png"), png_b = read_file(b / "out.png");
  const std::string csv_a = read_file(a / "log.csv"), csv_b = read_file(b / "log.csv");
  REQUIRE(!png_a.empty());
  REQUIRE(read_log(a / "log.csv").size() == 6);
  CHECK(png_a == png_b);
  CHECK(csv_a == csv_b);
}
