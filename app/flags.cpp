#include "flags.h"

#include <algorithm>
#include <cerrno>
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
