#include "flags.h"

#include <algorithm>
#include <cerrno>
#include <cctype>
#include <cmath>
#include <cstdlib>

namespace nst::app {

std::string flag_name(const std::string& option) {
  std::string f = "--" + option;
  std::replace(f.begin(), f.end(), '_', '-');
  return f == "--styles" ? "--style" : f;  // the one option whose flag is singular: --style a.png,b.png
}

long long parse_int(const std::string& v, long long lo, long long hi) {
  errno = 0;
  char* end = nullptr;
  long long x = std::strtoll(v.c_str(), &end, 10);
  if (v.empty() || *end || errno || x < lo || x > hi)
    throw UsageError("'" + v + "' is not a whole number from " + std::to_string(lo) + " to " + std::to_string(hi));
  return x;
}

double parse_double(const std::string& v) {
  errno = 0;
  char* end = nullptr;
  double x = std::strtod(v.c_str(), &end);
  if (v.empty() || *end || errno || !std::isfinite(x)) throw UsageError("'" + v + "' is not a number");
  return x;
}

double parse_nonnegative(const std::string& v) {
  double x = parse_double(v);
  if (x < 0) throw UsageError("must not be negative, got " + v);
  return x;
}

double parse_positive(const std::string& v) {
  double x = parse_double(v);
  if (!(x > 0)) throw UsageError("'" + v + "' is not a positive number");
  return x;
}

std::string format_double(double x) {
  char b[32];
  std::snprintf(b, sizeof b, "%g", x);
  return b;
}

bool asks_for_help(const std::vector<std::string>& args) {
  return std::any_of(args.begin(), args.end(), [](const std::string& a) { return a == "--help" || a == "-h"; });
}

}  // namespace nst::app

namespace nst::app {
namespace {

// Edits that turn a into b: insertions, deletions, substitutions and swaps of two neighbours ("bnech").
std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
  for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i)
    for (std::size_t j = 1; j <= b.size(); ++j) {
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  return d[a.size()][b.size()];
}

// "--Style_Weight" -> "style-weight": the name without its dashes, in lower case, underscores as dashes.
std::string bare(const std::string& flag) {
  std::string s = flag.substr(std::min(flag.find_first_not_of('-'), flag.size()));
  s = s.substr(0, s.find('='));
  for (char& c : s) c = c == '_' ? '-' : char(std::tolower((unsigned char)c));
  return s;
}

// What the peers call our flags (jcjohnson/neural-style and neural-style-pt, whose users come with their
// command lines), where the name is not simply ours with underscores.
const std::pair<const char*, const char*> kPeerFlags[] = {
    {"content-image", "--content"},     {"style-image", "--style"},          {"output-image", "--output"},
    {"image-size", "--size"},           {"num-iterations", "--iterations"}, {"learning-rate", "--lr"},
    {"lbfgs-num-correction", "--history"}, {"print-iter", "--print-every"}, {"save-iter", "--save-every"},
    {"gpu", "--device"},                {"backend", "--device"},            {"style-blend-weights", "--style-blend"},
    {"model-file", "--weights"},        {"original-colors", "--preserve-colors"}, {"init-image", "--init"},
};

}  // namespace

std::string closest(const std::string& given, const std::vector<std::string>& known) {
  std::string best;
  std::size_t best_d = std::string::npos;
  for (const std::string& k : known) {
    std::size_t d = edit_distance(given, k);
    if (d < best_d) best_d = d, best = k;
  }
  // Two edits at most, and fewer than a third of the word: "stylise" is stylize, "size" is not "seed".
  return best_d <= 2 && best_d * 3 < std::max(given.size(), std::size_t(3)) ? best : std::string();
}

std::string suggest_flag(const std::string& given, const std::vector<std::string>& flags) {
  const std::string b = bare(given);
  if (b.empty()) return {};
  std::vector<std::string> bares;
  for (const std::string& f : flags) {
    if (bare(f) == b) return f;
    bares.push_back(bare(f));
  }
  for (const auto& [peer, ours] : kPeerFlags)
    if (b == peer && std::find(flags.begin(), flags.end(), ours) != flags.end()) return ours;
  std::string near = closest(b, bares);
  return near.empty() ? near : "--" + near;
}

std::string unknown_option(const std::string& command, const std::string& given, const std::vector<std::string>& flags) {
  std::string s = command + ": unknown option '" + given + "'";
  if (std::string f = suggest_flag(given, flags); !f.empty()) s += "; did you mean " + f + "?";
  return s + " (see nst " + command + " --help)";
}

}  // namespace nst::app
