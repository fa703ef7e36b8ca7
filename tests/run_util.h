// Running the programs as a user does, for the command-line tests.
#pragma once
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "test_util.h"

namespace nst::test {

struct Run {
  int status = -1;
  std::string out, err;
};

// Runs a command line (a list of shell commands too) through the shell, capturing stdout and stderr apart.
inline Run run(const std::string& cmd) {
  std::string err_file = std::filesystem::temp_directory_path() / ("nst_run_err_" + std::to_string(::getpid()));
  Run r;
  FILE* p = ::popen(("{ " + cmd + "; } 2>" + err_file).c_str(), "r");
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

// A shell word: 'text' with any ' escaped.
inline std::string quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// The total column of a loss log written by --log (iteration,total,...), rows 0..N.
inline std::vector<double> log_totals(const std::string& csv) {
  std::ifstream in(csv);
  std::string line;
  std::getline(in, line);  // the header
  std::vector<double> t;
  while (std::getline(in, line)) t.push_back(std::stod(line.substr(line.find(',') + 1)));
  return t;
}

}  // namespace nst::test
