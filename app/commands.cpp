// What every command shares: printing its help or usage, and an error as the user reads it.
#include "commands.h"

#include <cstdio>

#include "flags.h"
#include "nst/error.h"

namespace nst::app {

int print_help(const std::string& text) {
  std::fputs(text.c_str(), stdout);
  return 0;
}

int print_usage(const std::string& text) {
  std::fputs(text.c_str(), stderr);
  return 2;
}

std::string error_message(const std::exception& e) {
  const auto* ne = dynamic_cast<const Error*>(&e);
  return ne && !ne->option().empty() ? flag_name(ne->option()) + ": " + e.what() : e.what();
}

}  // namespace nst::app
