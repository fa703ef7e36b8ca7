// nst bench as a user runs it: a smoke test at 64x64 on the CPU (full-width VGG19 is quick there), and checks
// of what it reports that do not depend on the timings: the FLOP counted for every op against a hand count,
// GFLOP/s and % of peak against the times and ceilings it prints, the files it writes, and its errors.
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "run_util.h"

using Catch::Contains;
using Catch::StartsWith;
using nst::test::Run;
using nst::test::run;

namespace {

const std::string kNst = NST_BIN;
// The checks below that do not time anything run on one OpenMP thread: on a busy machine every parallel
// op otherwise waits a scheduler time slice for its second thread, and a 64x64 run takes seconds, not one.
const std::string kNst1 = "OMP_NUM_THREADS=1 " + kNst;

std::string slurp(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

std::size_t count(const std::string& s, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t p = s.find(what); p != std::string::npos; p = s.find(what, p + what.size())) ++n;
  return n;
}

// ---- A small JSON reader: enough for bench's own output, strict about the grammar it accepts. ----

struct Json {
  enum Kind { Null, Bool, Number, String, Array, Object } kind = Null;
  bool boolean = false;
  double number = 0;
  std::string text;
  std::vector<Json> items;                             // Array
  std::vector<std::pair<std::string, Json>> members;  // Object, in order

  bool has(const std::string& key) const {
    for (const auto& [k, v] : members)
      if (k == key) return true;
    return false;
  }
  const Json& operator[](const std::string& key) const {
    if (kind != Object) throw std::runtime_error("JSON: '" + key + "' looked up in a non-object");
    for (const auto& [k, v] : members)
      if (k == key) return v;
    throw std::runtime_error("JSON: no member '" + key + "'");
  }
  double num() const {
    if (kind != Number) throw std::runtime_error("JSON: not a number (null is how bench writes inf or NaN)");
    return number;
  }
  const std::string& str() const {
    if (kind != String) throw std::runtime_error("JSON: not a string");
    return text;
  }
};

class JsonParser {
 public:
  explicit JsonParser(const std::string& s) : s_(s) {}
  Json parse() {
    Json v = value();
    ws();
    if (p_ != s_.size()) fail("text after the value");
    return v;
  }

 private:
  [[noreturn]] void fail(const std::string& why) const { throw std::runtime_error("JSON at byte " + std::to_string(p_) + ": " + why); }
  void ws() {
    while (p_ < s_.size() && (s_[p_] == ' ' || s_[p_] == '\n' || s_[p_] == '\t' || s_[p_] == '\r')) ++p_;
  }
  bool eat(char c) {
    ws();
    if (p_ < s_.size() && s_[p_] == c) return ++p_, true;
    return false;
  }
  void expect(char c) {
    if (!eat(c)) fail(std::string("expected '") + c + "'");
  }
  bool word(const char* w) {
    const std::string x(w);
    if (s_.compare(p_, x.size(), x) != 0) return false;
    p_ += x.size();
    return true;
  }
  std::string string_body() {
    expect('"');
    std::string o;
    while (true) {
      if (p_ >= s_.size()) fail("unterminated string");
      const char c = s_[p_++];
      if (c == '"') return o;
      if (static_cast<unsigned char>(c) < 0x20) fail("control character in a string");
      if (c != '\\') {
        o += c;
        continue;
      }
      if (p_ >= s_.size()) fail("unterminated escape");
      const char e = s_[p_++];
      if (e == '"' || e == '\\' || e == '/') o += e;
      else if (e == 'n') o += '\n';
      else if (e == 't') o += '\t';
      else if (e == 'r') o += '\r';
      else if (e == 'b') o += '\b';
      else if (e == 'f') o += '\f';
      else if (e == 'u' && p_ + 4 <= s_.size()) {
        const unsigned long u = std::stoul(s_.substr(p_, 4), nullptr, 16);
        p_ += 4;
        if (u >= 0x80) fail("non-ASCII \\u escape (bench writes none)");
        o += char(u);
      } else fail("bad escape");
    }
  }
  Json value() {
    ws();
    if (p_ >= s_.size()) fail("unexpected end");
    Json v;
    const char c = s_[p_];
    if (c == '{') {
      v.kind = Json::Object;
      ++p_;
      if (eat('}')) return v;
      do {
        ws();
        std::string k = string_body();
        expect(':');
        v.members.emplace_back(std::move(k), value());
      } while (eat(','));
      expect('}');
    } else if (c == '[') {
      v.kind = Json::Array;
      ++p_;
      if (eat(']')) return v;
      do v.items.push_back(value());
      while (eat(','));
      expect(']');
    } else if (c == '"') {
      v.kind = Json::String;
      v.text = string_body();
    } else if (word("true")) {
      v.kind = Json::Bool, v.boolean = true;
    } else if (word("false")) {
      v.kind = Json::Bool;
    } else if (word("null")) {
      v.kind = Json::Null;
    } else {
      // JSON's number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?; no inf, nan, hex or leading +.
      const std::size_t b = p_;
      auto digits = [&] {
        const std::size_t d = p_;
        while (p_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[p_]))) ++p_;
        return p_ > d;
      };
      if (p_ < s_.size() && s_[p_] == '-') ++p_;
      if (p_ < s_.size() && s_[p_] == '0') ++p_;
      else if (!digits()) fail("not a value");
      if (p_ < s_.size() && s_[p_] == '.' && (++p_, !digits())) fail("no digits after the point");
      if (p_ < s_.size() && (s_[p_] == 'e' || s_[p_] == 'E')) {
        ++p_;
        if (p_ < s_.size() && (s_[p_] == '+' || s_[p_] == '-')) ++p_;
        if (!digits()) fail("no digits in the exponent");
      }
      v.kind = Json::Number;
      v.number = std::strtod(s_.substr(b, p_ - b).c_str(), nullptr);
    }
    return v;
  }

  const std::string& s_;
  std::size_t p_ = 0;
};

Json parse_json(const std::string& s) { return JsonParser(s).parse(); }

bool finite_positive(double x) { return std::isfinite(x) && x > 0; }

// |a - b| <= rel * |b|
bool near_rel(double a, double b, double rel) { return std::abs(a - b) <= rel * std::abs(b); }

// ---- The hand count, for a square input of side `size` (bench --help's "Counting" paragraph). ----

struct Conv {
  const char* layer;
  int in, out, side;  // channels, and the side of its input and output (a 3x3 convolution with padding 1)
};

// VGG19 to conv5_1: widths 64,64 | 128,128 | 256 x4 | 512 x4 | 512, the side halving after each pool.
std::vector<Conv> vgg19_convs(int size) {
  const int s1 = size, s2 = s1 / 2, s3 = s2 / 2, s4 = s3 / 2, s5 = s4 / 2;
  return {{"conv1_1", 3, 64, s1},    {"conv1_2", 64, 64, s1},   {"conv2_1", 64, 128, s2},  {"conv2_2", 128, 128, s2},
          {"conv3_1", 128, 256, s3}, {"conv3_2", 256, 256, s3}, {"conv3_3", 256, 256, s3}, {"conv3_4", 256, 256, s3},
          {"conv4_1", 256, 512, s4}, {"conv4_2", 512, 512, s4}, {"conv4_3", 512, 512, s4}, {"conv4_4", 512, 512, s4},
          {"conv5_1", 512, 512, s5}};
}

// A 3x3 convolution, forward or backward-data: 2*C*O*9*H*W.
double conv_flop(const Conv& c) { return 2.0 * c.in * c.out * 9 * double(c.side) * c.side; }

// One iteration (normalisation, the network to relu5_1 forward and back, the losses, TV and Adam): the sum
// over its ops as bench counts them. Style losses on relu1_1..relu5_1 are 4*C^2*H*W plus 3*C^2 for G - T
// and its scaling (ops.cpp; --help rounds this to 4*C^2*H*W); content loss on relu4_2, 4 per element.
double iteration_flop(int size) {
  double f = 0;
  for (const Conv& c : vgg19_convs(size)) f += 2 * conv_flop(c) + 2.0 * c.out * c.side * c.side;  // forward + backward-data, ReLU fwd + bwd
  const int pool_out[][2] = {{64, size / 2}, {128, size / 4}, {256, size / 8}, {512, size / 16}};  // channels, side after the pool
  for (const auto& p : pool_out) f += 2 * 3.0 * p[0] * p[1] * p[1];                                 // max pool fwd + bwd
  const int style[][2] = {{64, size}, {128, size / 2}, {256, size / 4}, {512, size / 8}, {512, size / 16}};
  for (const auto& s : style) f += 4.0 * s[0] * s[0] * s[1] * s[1] + 3.0 * s[0] * s[0];
  f += 4.0 * 512 * (size / 8) * (size / 8);  // content loss, relu4_2
  const double img = 3.0 * size * size;
  return f + 2 * 2 * img + 12 * img + 12 * img;  // normalisation fwd + bwd, TV, Adam
}

// ---- The printed table: one row per op. ----

struct TableRow {
  std::string layer, op;
  double ms = 0, gflops = 0, gbs = 0, percent = 0;
  char bound = '?';
};

std::vector<TableRow> table_rows(const std::string& out) {
  std::vector<TableRow> rows;
  std::istringstream in(out);
  std::string line;
  bool inside = false;
  while (std::getline(in, line)) {
    if (line.rfind("layer ", 0) == 0) {
      inside = true;
      continue;
    }
    if (line.rfind("ops: ", 0) == 0) inside = false;
    if (!inside) continue;
    std::istringstream w(line);
    TableRow r;
    std::string shape, pct;
    w >> r.layer >> r.op >> shape;
    if (r.op.rfind("conv_", 0) == 0) w >> shape;  // "3->64 64x64": two words
    w >> r.ms >> r.gflops >> r.gbs >> pct;
    if (!w || pct.size() < 2) throw std::runtime_error("table row not understood: " + line);
    r.bound = pct.back();
    r.percent = std::stod(pct.substr(0, pct.size() - 1));
    rows.push_back(r);
  }
  return rows;
}

// stderr less the warnings about other processes' load, which a busy test machine adds to any run.
std::vector<std::string> error_lines(const std::string& err) {
  std::vector<std::string> lines;
  std::istringstream in(err);
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("nst: warning: other processes took ", 0) != 0) lines.push_back(line);
  return lines;
}

bool has_avx512() {
  std::ifstream f("/proc/cpuinfo");
  std::string w;
  while (f >> w)
    if (w == "avx512f") return true;
  return false;
}

// A folder of its own for the files of one run, removed with it.
struct TempDir {
  std::filesystem::path path;
  explicit TempDir(const std::string& tag)
      : path(std::filesystem::temp_directory_path() / ("nst_bench_" + tag + "_" + std::to_string(::getpid()))) {
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::string file(const std::string& name) const { return (path / name).string(); }
};

// Ceilings given on the command line: neither round nor equal, so that a % of peak against the wrong one,
// or a percentage off by a factor, shows.
constexpr double kPeak = 250, kBandwidth = 50;

struct BenchRun {
  Run r;
  std::string json, csv, svg;
};

// `nst bench --device cpu --sizes 64 --iterations 1 --peak 250 --bandwidth 50` with every file; run once per
// process, for the test cases that read it.
const BenchRun& checked_run() {
  static TempDir dir("checked");
  static const BenchRun result = [] {
    BenchRun b;
    const std::string json = dir.file("b.json"), csv = dir.file("b.csv"), svg = dir.file("b.svg");
    b.r = run(kNst1 + " bench --device cpu --sizes 64 --iterations 1 --peak 250 --bandwidth 50 --json " + nst::test::quote(json) +
              " --csv " + nst::test::quote(csv) + " --plot " + nst::test::quote(svg));
    b.json = slurp(json), b.csv = slurp(csv), b.svg = slurp(svg);
    return b;
  }();
  return result;
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
  r = run(kNst1 + " bench --device cpu --sizes 16 --iterations 1 --peak 250 --bandwidth 50 --json /nonexistent/dir/b.json");
  CHECK(r.status == 1);
  const std::vector<std::string> lines = error_lines(r.err);  // one line, less any warning about the load
  REQUIRE(lines.size() == 1);
  CHECK(lines[0] == "nst: /nonexistent/dir/b.json: cannot write (does the folder exist? is it writable?)");
  CHECK_FALSE(std::filesystem::exists("/nonexistent/dir"));
}

TEST_CASE("nst bench JSON at 64x64 is well formed, its figures finite, and its FLOP those of a hand count", "[cli][bench]") {
  const BenchRun& b = checked_run();
  INFO(b.r.err);
  REQUIRE(b.r.status == 0);
  Json j;
  REQUIRE_NOTHROW(j = parse_json(b.json));
  CHECK(j["device"].str() == "cpu");
  CHECK(j["precision"].str() == "fp32");
  CHECK(j["threads"].num() >= 1);
  CHECK(j["peak_gflops"].num() == kPeak);
  CHECK(j["peak_gflops_source"].str() == "--peak");
  CHECK(j["bandwidth_gbs"].num() == kBandwidth);
  CHECK(j["bandwidth_source"].str() == "--bandwidth");
  REQUIRE(j["iterations"].kind == Json::Array);
  REQUIRE(j["iterations"].items.size() == 1);
  const Json& it = j["iterations"].items[0];
  CHECK(it["size"].num() == 64);
  CHECK(it["samples"].num() == 1);
  const double seconds = it["seconds_per_iteration"].num(), gflops = it["gflops"].num(), gflop = it["gflop_per_iteration"].num();
  CHECK(finite_positive(seconds));
  CHECK(finite_positive(gflops));
  CHECK(finite_positive(it["ops_seconds"].num()));
  CHECK(finite_positive(it["peak_memory_bytes"].num()));
  CHECK(finite_positive(it["planned_memory_bytes"].num()));
  const double others = it["others_load"].num();
  CHECK((others >= 0 && others <= 1));

  // One iteration at 64x64 is 6,207,746,048 FLOP: 2 x 2,958,557,184 in the 13 convolutions, forward and
  // backward-data, and 290,631,680 in the rest.
  const double total = iteration_flop(64);
  CHECK(total == 6207746048.0);
  CHECK(near_rel(gflop * 1e9, total, 1e-5));
  // The iteration's GFLOP/s is its FLOP over its time.
  CHECK(near_rel(gflops, gflop / seconds, 0.01));

  const Json& layers = it["layers"];
  REQUIRE(layers.kind == Json::Array);
  double summed = 0;
  for (const Json& o : layers.items) {
    const std::string what = o["layer"].str() + " " + o["op"].str();
    INFO(what);
    const double ms = o["ms"].num(), flop = o["flop"].num(), bytes = o["bytes"].num();
    CHECK(finite_positive(ms));
    CHECK(finite_positive(o["gflops"].num()));
    CHECK(finite_positive(o["gbs"].num()));
    CHECK(finite_positive(flop));
    CHECK(finite_positive(bytes));
    CHECK(finite_positive(o["percent_of_peak"].num()));
    // GFLOP/s and GB/s are the counts over the time, row by row (6 significant digits each).
    CHECK(near_rel(o["gflops"].num(), flop / (ms * 1e-3) * 1e-9, 0.01));
    CHECK(near_rel(o["gbs"].num(), bytes / (ms * 1e-3) * 1e-9, 0.01));
    REQUIRE(o["in_iteration"].kind == Json::Bool);
    if (o["in_iteration"].boolean) summed += flop;
    else CHECK(o["op"].str() == "gram");  // only the stand-alone Grams are outside the iteration
  }
  // "An iteration's FLOP are the sum over its ops."
  CHECK(near_rel(summed, total, 1e-5));

  auto row = [&](const std::string& layer, const std::string& op) -> const Json& {
    const Json* found = nullptr;
    int n = 0;
    for (const Json& o : layers.items)
      if (o["layer"].str() == layer && o["op"].str() == op) found = &o, ++n;
    INFO(layer + " " + op);
    REQUIRE(n == 1);
    return *found;
  };
  // Every convolution, forward and backward-data: 2*C_in*9*C_out*H*W FLOP, and the minimal traffic of
  // float input, output and weights (and the bias, forward).
  for (const Conv& c : vgg19_convs(64)) {
    const double hw = double(c.side) * c.side, weights = 9.0 * c.in * c.out;
    const std::string shape = std::to_string(c.in) + "->" + std::to_string(c.out) + " " + std::to_string(c.side) + "x" + std::to_string(c.side);
    const Json& f = row(c.layer, "conv_forward");
    const Json& bd = row(c.layer, "conv_backward_data");
    INFO(c.layer);
    CHECK(f["shape"].str() == shape);
    CHECK(bd["shape"].str() == shape);
    CHECK(f["bound"].str() == "compute");
    CHECK(bd["bound"].str() == "compute");
    CHECK(near_rel(f["flop"].num(), conv_flop(c), 1e-5));
    CHECK(near_rel(bd["flop"].num(), conv_flop(c), 1e-5));
    CHECK(near_rel(f["bytes"].num(), 4 * (c.in * hw + c.out * hw + c.out + weights), 1e-5));
    CHECK(near_rel(bd["bytes"].num(), 4 * (c.in * hw + c.out * hw + weights), 1e-5));
  }
  // The same, as numbers: conv1_1 (3->64 at 64x64), conv1_2, conv3_1 (128->256 at 16x16), conv5_1 (512->512 at 4x4).
  CHECK(near_rel(row("conv1_1", "conv_forward")["flop"].num(), 14155776, 1e-5));
  CHECK(near_rel(row("conv1_2", "conv_backward_data")["flop"].num(), 301989888, 1e-5));
  CHECK(near_rel(row("conv3_1", "conv_forward")["flop"].num(), 150994944, 1e-5));
  CHECK(near_rel(row("conv4_4", "conv_forward")["flop"].num(), 301989888, 1e-5));
  CHECK(near_rel(row("conv5_1", "conv_backward_data")["flop"].num(), 75497472, 1e-5));
  // Grams 2*C^2*H*W; style losses 4*C^2*H*W + 3*C^2; content loss, TV and Adam per element.
  const std::pair<const char*, int> style[] = {{"relu1_1", 64}, {"relu2_1", 32}, {"relu3_1", 16}, {"relu4_1", 8}, {"relu5_1", 4}};
  const int widths[] = {64, 128, 256, 512, 512};
  for (int k = 0; k < 5; ++k) {
    const double C = widths[k], hw = double(style[k].second) * style[k].second;
    INFO(style[k].first);
    CHECK(near_rel(row(style[k].first, "gram")["flop"].num(), 2 * C * C * hw, 1e-5));
    CHECK(near_rel(row(style[k].first, "style_loss")["flop"].num(), 4 * C * C * hw + 3 * C * C, 1e-5));
  }
  CHECK(near_rel(row("relu4_2", "content_loss")["flop"].num(), 4.0 * 512 * 8 * 8, 1e-5));
  CHECK(near_rel(row("image", "tv_loss")["flop"].num(), 12.0 * 3 * 64 * 64, 1e-5));
  CHECK(near_rel(row("image", "adam_step")["flop"].num(), 12.0 * 3 * 64 * 64, 1e-5));
  CHECK(near_rel(row("pool1", "pool_forward")["flop"].num(), 3.0 * 64 * 32 * 32, 1e-5));
  CHECK(near_rel(row("relu3_2", "relu_backward")["flop"].num(), 256.0 * 16 * 16, 1e-5));
}

TEST_CASE("nst bench with --peak and --bandwidth reports % of peak against them and draws the roofline", "[cli][bench]") {
  const BenchRun& b = checked_run();
  INFO(b.r.err);
  REQUIRE(b.r.status == 0);
  CHECK_THAT(b.r.out, Contains("\npeak: 250.0 GFLOP/s (--peak); 50.0 GB/s (--bandwidth)\n"));
  CHECK_THAT(b.r.out, Contains("% of peak: GFLOP/s against 250.0 GFLOP/s for convolutions, Grams and style losses (c), GB/s against 50.0 GB/s"));

  // The JSON: compute-bound rows against the compute ceiling, the rest against the bandwidth.
  Json j;
  REQUIRE_NOTHROW(j = parse_json(b.json));
  const Json& layers = j["iterations"].items.at(0)["layers"];
  for (const Json& o : layers.items) {
    INFO(o["layer"].str() + " " + o["op"].str());
    const bool compute = o["bound"].str() == "compute";
    const double expected = compute ? o["gflops"].num() / kPeak * 100 : o["gbs"].num() / kBandwidth * 100;
    CHECK(near_rel(o["percent_of_peak"].num(), expected, 1e-4));
    const std::string& op = o["op"].str();
    CHECK(compute == (op.rfind("conv_", 0) == 0 || op == "gram" || op == "style_loss"));
  }

  // The table, row for row as the JSON, within the rounding of its printed digits: GFLOP/s and GB/s to 0.1,
  // % peak to 0.1.
  std::vector<TableRow> rows;
  REQUIRE_NOTHROW(rows = table_rows(b.r.out));
  REQUIRE(rows.size() == layers.items.size());
  int compute_rows = 0;
  for (std::size_t k = 0; k < rows.size(); ++k) {
    const TableRow& t = rows[k];
    const Json& o = layers.items[k];
    INFO(t.layer + " " + t.op);
    CHECK(t.layer == o["layer"].str());
    CHECK(t.op == o["op"].str());
    CHECK(t.bound == (o["bound"].str() == "compute" ? 'c' : 'm'));
    CHECK(std::abs(t.ms - o["ms"].num()) <= 0.0005 + 1e-9);
    if (t.bound == 'c') {
      ++compute_rows;
      CHECK(std::abs(t.percent - t.gflops / kPeak * 100) <= 0.05 + 0.05 / kPeak * 100 + 1e-9);
    } else {
      CHECK(std::abs(t.percent - t.gbs / kBandwidth * 100) <= 0.05 + 0.05 / kBandwidth * 100 + 1e-9);
    }
  }
  CHECK(compute_rows == 26 + 5 + 5);  // convolutions forward and backward-data, Grams, style losses

  // The iteration line: 6.2 GFLOP, its GFLOP/s over 250 as % of peak, and the compute floor 6.2077 / 250 s.
  const std::size_t at = b.r.out.find("iteration 64x64: ");
  REQUIRE(at != std::string::npos);
  double s = 0, gf = 0, total = 0, pct = 0, floor_s = 0;
  REQUIRE(std::sscanf(b.r.out.c_str() + at, "iteration 64x64: %lf s/iteration, %lf GFLOP/s (%lf GFLOP, %lf%% of peak; compute floor %lf s)",
                      &s, &gf, &total, &pct, &floor_s) == 5);
  CHECK(total == Approx(6.2));
  CHECK(floor_s == Approx(0.0248));
  CHECK(std::abs(pct - gf / kPeak * 100) <= 0.05 + 0.05 / kPeak * 100 + 1e-9);
  CHECK(std::abs(gf - 6.207746048 / s) <= 0.05 + 0.01 * gf + 6.207746048 * 0.00005 / (s * s));  // s printed to 4 places

  // The CSV's iteration row: its % of peak is its GFLOP/s over 250.
  const std::size_t c = b.csv.find("\n64,all,iteration,64x64,");
  REQUIRE(c != std::string::npos);
  double ms = 0, csv_gflops = 0, csv_pct = 0, csv_flop = 0;
  REQUIRE(std::sscanf(b.csv.c_str() + c, "\n64,all,iteration,64x64,%lf,%lf,,%lf,compute,%lf", &ms, &csv_gflops, &csv_pct, &csv_flop) == 4);
  CHECK(near_rel(csv_pct, csv_gflops / kPeak * 100, 1e-3));
  CHECK(near_rel(csv_flop, 6207746048.0, 1e-5));
  CHECK(near_rel(csv_gflops, csv_flop / (ms * 1e-3) * 1e-9, 0.01));

  // The roofline: written whole, its ceiling the --peak given, both sources in the legend.
  CHECK(b.svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0) == 0);
  CHECK(b.svg.size() > 9);
  CHECK(b.svg.substr(b.svg.size() - 7) == "</svg>\n");
  CHECK_THAT(b.svg, Contains("compute ceiling 250 GFLOP/s</text>"));
  CHECK_THAT(b.svg, Contains(">--peak</text>"));
  CHECK_THAT(b.svg, Contains(">--bandwidth</text>"));
  CHECK_THAT(b.svg, Contains("<polyline fill=\"none\" stroke=\"black\""));
  CHECK(count(b.svg, "<circle") == 26 + 2 + 2);  // 13 convolutions x 2, the size's two legend marks, the two conv legend marks
}

TEST_CASE("nst bench --conv-algo winograd on the CPU runs and says so", "[cli][bench]") {
  TempDir dir("winograd");
  const std::string json = dir.file("w.json");
  Run r = run(kNst1 + " bench --device cpu --sizes 64 --iterations 1 --peak 250 --bandwidth 50 --conv-algo winograd --json " +
              nst::test::quote(json));
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK(error_lines(r.err).empty());
  // The backend's name carries the algorithm: the first line and the JSON's device.
  CHECK_THAT(r.out, StartsWith("nst bench: cpu (winograd) ("));
  Json j;
  REQUIRE_NOTHROW(j = parse_json(slurp(json)));
  CHECK(j["device"].str() == "cpu (winograd)");
  CHECK(j["precision"].str() == "fp32");
  // Per convolution, the implementation that ran ("algorithm"): oneDNN's Winograd wherever oneDNN takes the
  // shape (all but conv1_1, whose 3 input channels go to nst's own kernel and to im2col + SGEMM). oneDNN has
  // Winograd kernels on AVX-512 only; elsewhere it falls back to direct (src/cpu/dnnl_conv.cpp).
  int onednn = 0, wino = 0;
  for (const Json& o : j["iterations"].items.at(0)["layers"].items) {
    if (o["op"].str().rfind("conv_", 0) != 0) continue;
    INFO(o["layer"].str() + " " + o["op"].str());
    REQUIRE(o.has("algorithm"));
    const std::string& a = o["algorithm"].str();
    // The FLOP stay the direct count whatever the algorithm: GFLOP/s are effective ones.
    for (const Conv& c : vgg19_convs(64))
      if (o["layer"].str() == c.layer) CHECK(near_rel(o["flop"].num(), conv_flop(c), 1e-5));
    if (a.rfind("onednn", 0) == 0) ++onednn, wino += a.find("wino") != std::string::npos;
  }
  if (onednn == 0) WARN("this build's CPU backend has no oneDNN: no Winograd to check");
  else if (!has_avx512()) WARN("no AVX-512 here: oneDNN has no Winograd kernels, " << wino << " of " << onednn << " used it");
  else {
    CHECK(onednn == 24);
    CHECK(wino == onednn);
    CHECK(count(r.out, "onednn jit_wino") == 24);  // and the table's algorithm column says the same
  }
}

TEST_CASE("nst bench --precision tf32 on the CPU runs and exits 0", "[cli][bench]") {
  TempDir dir("tf32");
  Run r = run(kNst1 + " bench --device cpu --sizes 16 --iterations 1 --peak 250 --bandwidth 50 --precision tf32 --json " +
              nst::test::quote(dir.file("t.json")));
  INFO(r.err);
  CHECK(r.status == 0);
  CHECK_THAT(r.out, Contains("iteration 16x16: "));
  Json j;
  REQUIRE_NOTHROW(j = parse_json(slurp(dir.file("t.json"))));
  CHECK(j["device"].str() == "cpu");
}

// Found by this test: bench used to ignore --precision tf32 on the CPU silently; README's flag table says
// "on the CPU nst says it does not apply", and stylize prints exactly this line (make_backend's `unused`).
TEST_CASE("nst bench --precision tf32 on the CPU says once that it does not apply", "[cli][bench]") {
  Run r = run(kNst1 + " bench --device cpu --sizes 16 --iterations 1 --peak 250 --bandwidth 50 --precision tf32");
  INFO(r.err);
  REQUIRE(r.status == 0);
  const std::vector<std::string> lines = error_lines(r.err);
  REQUIRE(lines.size() == 1);
  CHECK(lines[0] == "nst: --precision tf32 applies to CUDA devices; the CPU backend computes in fp32");
}

// Found by this test: bench recorded the precision asked for rather than the one computed in, "tf32" in
// the first line and the JSON for a run that was all fp32.
TEST_CASE("nst bench --precision tf32 on the CPU records the fp32 it computed in", "[cli][bench]") {
  TempDir dir("tf32_recorded");
  Run r = run(kNst1 + " bench --device cpu --sizes 16 --iterations 1 --peak 250 --bandwidth 50 --precision tf32 --json " +
              nst::test::quote(dir.file("t.json")));
  INFO(r.err);
  REQUIRE(r.status == 0);
  Json j;
  REQUIRE_NOTHROW(j = parse_json(slurp(dir.file("t.json"))));
  CHECK(j["precision"].str() == "fp32");
  CHECK_THAT(r.out, Contains(" threads), fp32; "));
}

TEST_CASE("nst bench usage errors exit 2 with one line naming the flag and write nothing", "[cli][bench]") {
  TempDir dir("usage");
  const std::string json = dir.file("u.json"), csv = dir.file("u.csv"), svg = dir.file("u.svg");
  const std::string base = kNst1 + " bench --device cpu --sizes 16 --iterations 1 --peak 250 --bandwidth 50 --json " + nst::test::quote(json) +
                           " --csv " + nst::test::quote(csv) + " --plot " + nst::test::quote(svg) + " ";
  const std::pair<const char*, const char*> cases[] = {
      {"--sizes 0", "nst: --sizes: '0' is not a whole number from 16 to 16384\n"},
      {"--sizes abc", "nst: --sizes: 'abc' is not a whole number from 16 to 16384\n"},
      {"--sizes 64,abc", "nst: --sizes: 'abc' is not a whole number from 16 to 16384\n"},
      {"--sizes 64,", "nst: --sizes: '' is not a whole number from 16 to 16384\n"},
      {"--sizes 16384,16385", "nst: --sizes: '16385' is not a whole number from 16 to 16384\n"},
      {"--sizes", "nst: --sizes needs a value (N,N,..)\n"},
      {"--iterations 0", "nst: --iterations: '0' is not a whole number from 1 to 100000\n"},
      {"--iterations 1.5", "nst: --iterations: '1.5' is not a whole number from 1 to 100000\n"},
      {"--peak -1", "nst: --peak: '-1' is not a positive number\n"},
      {"--peak 0", "nst: --peak: '0' is not a positive number\n"},
      {"--peak nan", "nst: --peak: 'nan' is not a number\n"},
      {"--bandwidth -1", "nst: --bandwidth: '-1' is not a positive number\n"},
      {"--bandwidth inf", "nst: --bandwidth: 'inf' is not a number\n"},
      {"--conv-algo fft", "nst: --conv-algo: expected direct, winograd or fastest, got 'fft'\n"},
      {"--precision fp16", "nst: --precision: expected fp32 or tf32, got 'fp16'\n"},
  };
  for (const auto& [args, message] : cases) {
    INFO(args);
    Run r = run(base + args);
    CHECK(r.status == 2);
    CHECK(r.err == message);
    CHECK(r.out.empty());  // refused before the first line
    CHECK(std::filesystem::is_empty(dir.path));  // no file, and no FILE.tmp
  }
}

TEST_CASE("nst bench exits 1 with one line when its JSON cannot be written, leaving no temporary file", "[cli][bench]") {
  TempDir dir("unwritable");
  // A folder where the file should go: PATH.tmp can be written but not renamed over it.
  const std::string json = dir.file("taken.json");
  std::filesystem::create_directory(json);
  Run r = run(kNst1 + " bench --device cpu --sizes 16 --iterations 1 --peak 250 --bandwidth 50 --json " + nst::test::quote(json));
  CHECK(r.status == 1);
  const std::vector<std::string> lines = error_lines(r.err);
  REQUIRE(lines.size() == 1);
  CHECK(lines[0] == "nst: " + json + ": cannot write it: Is a directory");
  CHECK(std::filesystem::is_directory(json));
  CHECK(std::filesystem::is_empty(json));
  CHECK_FALSE(std::filesystem::exists(json + ".tmp"));
}
