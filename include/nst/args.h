// Command-line values, parsed one way for every command: each bad value is a UsageError naming the flag.
#pragma once
#include <string>
#include <vector>

#include "nst/error.h"

namespace nst {

// "a,b,c" -> {"a", "b", "c"}; empty fields are kept ("a,,b" has three).
std::vector<std::string> split(const std::string& s, char sep);

// A whole number in [lo, hi].
long long parse_int(const std::string& flag, const std::string& value, long long lo, long long hi);

// A finite number.
double parse_double(const std::string& flag, const std::string& value);

// Applies "--name value" and "--name=value" arguments to `o` through a table whose entries have `name`,
// `value` (the metavariable; nullptr for a switch) and `set(o, value)`. An unknown flag or a missing value is
// a UsageError naming `command`, e.g. "stylize: unknown option '--x'; see nst stylize --help".
template <typename Flag, typename Options>
void apply_flags(const std::vector<std::string>& args, const std::vector<Flag>& table, const std::string& command, Options& o) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string name = args[i], value;
    bool inline_value = false;
    if (auto eq = name.find('='); name.rfind("--", 0) == 0 && eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      inline_value = true;
    }
    const Flag* f = nullptr;
    for (const Flag& x : table)
      if (name == x.name) f = &x;
    if (!f) throw UsageError(command + ": unknown option '" + args[i] + "'; see nst " + command + " --help");
    if (f->value && !inline_value) {
      if (i + 1 >= args.size()) throw UsageError(name + " needs a value (" + f->value + ")");
      value = args[++i];
    }
    f->set(o, value);
  }
}

}  // namespace nst
