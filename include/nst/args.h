// Command-line values, parsed one way for every command: each bad value is a UsageError naming the flag.
#pragma once
#include <string>
#include <vector>

namespace nst {

// "a,b,c" -> {"a", "b", "c"}; empty fields are kept ("a,,b" has three).
std::vector<std::string> split(const std::string& s, char sep);

// A whole number in [lo, hi].
long long parse_int(const std::string& flag, const std::string& value, long long lo, long long hi);

// A finite number.
double parse_double(const std::string& flag, const std::string& value);

}  // namespace nst
