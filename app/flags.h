// The one flag table of every command: each flag's parser, its line of --help, and how its value reads back
// (for the report's table of options and for matching a checkpoint on resume). A table is the only place a
// command's flags are named, so the help text can never disagree with what is parsed.
#pragma once
#include <cstdio>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "nst/error.h"

namespace nst::app {

// "--content_weight" style names: the flag that sets the engine option `option` ("start_size" ->
// "--start-size"). The engine's errors name its options this way (nst::Error::option()).
std::string flag_name(const std::string& option);

// Values, parsed one way for every flag. A bad one is a UsageError without the flag's name: the table adds it.
long long parse_int(const std::string& value, long long lo, long long hi);  // a whole number in [lo, hi]
double parse_double(const std::string& value);                              // a finite number
double parse_nonnegative(const std::string& value);
double parse_positive(const std::string& value);
std::string format_double(double x);  // %g

// The known word nearest to `given` by edit distance, if near enough to be a likely slip ("stylise" ->
// "stylize"); empty when none is.
std::string closest(const std::string& given, const std::vector<std::string>& known);

// The flag among `flags` that an unknown `given` most likely meant: the same name spelled with underscores
// or one dash (`-style_weight`), a peer's name for it (jcjohnson/neural-style's `-image_size` is `--size`), or
// a near miss (`--itertions`); empty when none.
std::string suggest_flag(const std::string& given, const std::vector<std::string>& flags);

// "unknown option '--x'" plus "; did you mean --y?" where there is a likely one, and where to look.
std::string unknown_option(const std::string& command, const std::string& given, const std::vector<std::string>& flags);

// "  --size N                        long side ..." : the flag in a column of 34, its help after it.
inline std::string help_line(const std::string& flag, const std::string& help) {
  std::string head = "  " + flag;
  if (head.size() < 34) head.resize(34, ' ');
  else head += "\n" + std::string(34, ' ');
  return head + help + "\n";
}

template <typename Options>
struct Flag {
  using Set = std::function<void(Options&, const std::string&)>;
  using Get = std::function<std::string(const Options&)>;
  Flag(const char* name_, const char* value_, std::string help_, Set set_, Get get_ = {}, bool required_ = false)
      : name(name_), value(value_), help(std::move(help_)), set(std::move(set_)), get(std::move(get_)), required(required_) {}

  const char* name;   // "--size"
  const char* value;  // metavariable ("N"); nullptr for a switch
  std::string help;
  Set set;
  Get get;  // the value as used, for the report and a checkpoint's identity; empty: not shown
  bool required;
};

template <typename Options>
class FlagTable {
 public:
  FlagTable(std::string command, std::string usage, std::vector<Flag<Options>> flags, std::string notes = {})
      : command_(std::move(command)), usage_(std::move(usage)), flags_(std::move(flags)), notes_(std::move(notes)) {}

  // Applies "--name value" and "--name=value" to `o`. A bad value is a UsageError that names the flag; an
  // unknown flag names the command, e.g. "stylize: unknown option '--x'; see nst stylize --help". With
  // `rest`, unknown arguments are handed back instead (batch passes them on to stylize's table).
  void parse(const std::vector<std::string>& args, Options& o, std::vector<std::string>* rest = nullptr) const {
    for (std::size_t i = 0; i < args.size(); ++i) {
      std::string name = args[i], value;
      bool inline_value = false;
      if (auto eq = name.find('='); name.rfind("--", 0) == 0 && eq != std::string::npos) {
        value = name.substr(eq + 1);
        name = name.substr(0, eq);
        inline_value = true;
      }
      const Flag<Options>* f = find(name);
      if (!f && rest) {
        rest->push_back(args[i]);
        continue;
      }
      if (!f) throw UsageError(unknown_option(command_, args[i], names()));
      if (f->value && !inline_value) {
        if (i + 1 >= args.size()) throw UsageError(name + " needs a value (" + f->value + ")");
        // "--log --print-every 5": the next word is a flag, not the value (a value that starts with "--" can
        // still be given as --log=--odd-name).
        if (args[i + 1].size() > 2 && args[i + 1].rfind("--", 0) == 0)
          throw UsageError(name + " needs a value (" + f->value + "), not the flag " + args[i + 1]);
        value = args[++i];
      }
      try {
        f->set(o, value);
      } catch (const UsageError& e) {
        throw UsageError(name + ": " + e.what());
      }
    }
  }

  // Every required flag given (checked after parsing, so that --help and usage errors come first).
  void check_required(const std::vector<std::string>& args) const {
    for (const Flag<Options>& f : flags_) {
      if (!f.required) continue;
      bool given = false;
      for (const std::string& a : args) given |= a == f.name || a.rfind(std::string(f.name) + "=", 0) == 0;
      if (!given) throw UsageError(std::string(f.name) + " is required");
    }
  }

  std::string help() const {
    std::string s = usage_ + "\noptions:\n";
    for (const Flag<Options>& f : flags_) s += help_line(std::string(f.name) + (f.value ? std::string(" ") + f.value : ""), f.help + (f.required ? "; required" : ""));
    s += help_line("--help, -h", "this text");
    return notes_.empty() ? s : s + "\n" + notes_;
  }

  // flag -> value as used, in the table's order, for every flag that reads back.
  std::vector<std::pair<std::string, std::string>> used(const Options& o) const {
    std::vector<std::pair<std::string, std::string>> v;
    for (const Flag<Options>& f : flags_)
      if (f.get) v.push_back({f.name, f.get(o)});
    return v;
  }

  std::vector<std::string> names() const {
    std::vector<std::string> v;
    for (const Flag<Options>& f : flags_) v.push_back(f.name);
    return v;
  }

  // The command's usage line(s): the help text up to its first blank line.
  std::string usage() const { return usage_.substr(0, usage_.find("\n\n")); }

  bool has_required() const {
    for (const Flag<Options>& f : flags_)
      if (f.required) return true;
    return false;
  }

  const Flag<Options>* find(const std::string& name) const {
    for (const Flag<Options>& f : flags_)
      if (name == f.name) return &f;
    return nullptr;
  }

 private:
  std::string command_, usage_;
  std::vector<Flag<Options>> flags_;
  std::string notes_;
};

// --help or -h anywhere among a command's arguments asks for its help text instead of a run.
bool asks_for_help(const std::vector<std::string>& args);


}  // namespace nst::app
