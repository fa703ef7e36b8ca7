// `nst bench`: per-op and whole-iteration timings of the NST iteration that `nst stylize` runs, on full-width
// VGG19 with synthetic weights, against the device's compute and bandwidth peaks; table, CSV, JSON (SPEC §5)
// and a roofline chart.
#pragma once
#include <string>
#include <vector>

namespace nst {

// Runs `nst bench` with the arguments after the command name; returns the exit status. Throws
// nst::UsageError for a bad flag or value and nst::Error for a runtime failure, for main to print.
int run_bench(const std::vector<std::string>& args);

std::string bench_help();

}  // namespace nst
