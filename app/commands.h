// The commands of `nst`, one file each under app/. Each takes the arguments after its name, answers
// --help/-h with its usage, and returns the exit status; errors are thrown for main to print in one line.
#pragma once
#include <cstddef>
#include <exception>
#include <string>
#include <vector>

// The version, from CMake's project(); a literal so that help texts can include it.
#ifndef NST_VERSION
#define NST_VERSION "0.1.0"
#endif

namespace nst::app {

int stylize_command(const std::vector<std::string>& args);  // app/stylize.cpp
int batch_command(const std::vector<std::string>& args);    // app/batch.cpp
int bench_command(const std::vector<std::string>& args);    // app/bench.cpp
int weights_command(const std::vector<std::string>& args);  // app/weights.cpp
int info_command(const std::vector<std::string>& args);     // app/info.cpp

// Prints a help text on stdout; returns 0.
int print_help(const std::string& text);
// A command given nothing to work on: its help text on stderr; returns 2, the usage error's status.
int print_usage(const std::string& text);

// Reads a batch manifest (SPEC §5) as `nst batch --manifest FILE --output-dir DIR` does before any work,
// with every row's overrides parsed and every output placed inside DIR (which must exist); returns the
// number of rows. Throws nst::UsageError / nst::Error naming the file and line. For the fuzzer and tests.
std::size_t parse_manifest(const std::string& manifest, const std::string& output_dir);

// An error as the user reads it: an engine error about one option gets that option's flag in front
// ("--size: 64 is too small for layer relu5_1 ...").
std::string error_message(const std::exception& e);

}  // namespace nst::app
