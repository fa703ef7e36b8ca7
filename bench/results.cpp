#include "results.h"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "nst/error.h"

namespace nst::bench {
namespace {

std::string fmt(const char* f, double v) {
  char b[64];
  std::snprintf(b, sizeof b, f, v);
  return b;
}

// A JSON number; a figure that could not be measured (0 s, no peak) is null rather than inf or NaN.
std::string num(double v) { return std::isfinite(v) ? fmt("%.6g", v) : "null"; }

std::string str(const std::string& s) {
  std::string o = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') o += std::string("\\") + c;
    else if (static_cast<unsigned char>(c) < 0x20) o += fmt("\\u%04x", double(static_cast<unsigned char>(c)));
    else o += c;
  }
  return o + "\"";
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string o = "\"";
  for (char c : s) o += c == '"' ? std::string("\"\"") : std::string(1, c);
  return o + "\"";
}

std::string pad(std::string s, std::size_t width, bool right = false) {
  if (s.size() >= width) return s;
  return right ? std::string(width - s.size(), ' ') + s : s + std::string(width - s.size(), ' ');
}

const char* bound_name(Bound b) { return b == Bound::Compute ? "compute" : "memory"; }

double mib(double bytes) { return bytes / double(1 << 20); }

}  // namespace

double OpResult::percent_of_peak(const Peak& p) const {
  double ceiling = bound == Bound::Compute ? p.gflops : p.gbs;
  double achieved = bound == Bound::Compute ? gflops() : gbs();
  return ceiling > 0 ? 100 * achieved / ceiling : 0;
}

std::string results_table(const Results& r, const SizeResult& s) {
  bool info = false, lib = false;
  for (const OpResult& o : s.ops) info |= !o.info.empty(), lib |= o.library_seconds > 0;
  std::string t = std::to_string(s.size) + "x" + std::to_string(s.size) + " on " + r.device + ": each op alone, median of " +
                  std::to_string(s.samples) + "\n";
  t += pad("layer", 9) + pad("op", 20) + pad("shape", 20) + pad("ms", 10, true) + pad("GFLOP/s", 10, true) +
       pad("GB/s", 9, true) + pad("% peak", 9, true) + (lib ? pad("% lib", 8, true) : "") + (info ? "  algorithm (workspace)" : "") + "\n";
  for (const OpResult& o : s.ops) {
    t += pad(o.layer, 9) + pad(o.op, 20) + pad(o.shape, 20) + pad(fmt("%.3f", o.seconds * 1e3), 10, true) +
         pad(fmt("%.1f", o.gflops()), 10, true) + pad(fmt("%.1f", o.gbs()), 9, true) +
         pad(fmt("%.1f", o.percent_of_peak(r.peak)) + (o.bound == Bound::Compute ? "c" : "m"), 9, true) +
         (lib ? pad(o.library_seconds > 0 ? fmt("%.0f", o.percent_of_library()) + (o.library == "onednn" ? "d" : "b") : "", 8, true) : "") +
         (o.info.empty() ? "" : "  " + o.info) + "\n";
  }
  t += "ops: " + fmt("%.2f", s.ops_seconds * 1e3) + " ms in all (the Grams are counted inside the style losses)\n";
  if (lib) {
    double worst = 1e300;
    std::string which;
    for (const OpResult& o : s.ops)
      if (o.library_seconds > 0 && o.percent_of_library() < worst) worst = o.percent_of_library(), which = o.layer + " " + o.op;
    t += "% lib: the best CPU library's own time for the convolution over nst's (d: oneDNN's direct convolution in its blocked "
         "layout, no reorders; b: OpenBLAS SGEMM through im2col); lowest " + fmt("%.0f", worst) + "% (" + which + ")\n";
  }
  t += "iteration " + std::to_string(s.size) + "x" + std::to_string(s.size) + ": " + fmt("%.4f", s.seconds_per_iteration) +
       " s/iteration, " + fmt("%.1f", s.gflops()) + " GFLOP/s (" + fmt("%.1f", s.flop_per_iteration * 1e-9) + " GFLOP, " +
       fmt("%.1f", r.peak.gflops > 0 ? 100 * s.gflops() / r.peak.gflops : 0) + "% of peak; compute floor " +
       fmt("%.4f", r.peak.gflops > 0 ? s.flop_per_iteration / (r.peak.gflops * 1e9) : 0) + " s), peak memory " +
       fmt("%.0f", mib(s.peak_memory_bytes)) + " MiB (" +
       (s.memory_before_bytes > 0 ? fmt("%.0f", mib(s.memory_before_bytes)) + " MiB before the run; " : std::string()) + "planned " +
       fmt("%.0f", mib(s.planned_memory_bytes)) + " MiB)\n";
  if (s.others_load > 0.05) t += "other processes took " + fmt("%.0f", 100 * s.others_load) + "% of the CPUs meanwhile: these figures are low\n";
  return t;
}

std::string results_summary(const Results& r) {
  std::string t = pad("size", 7) + pad("s/iteration", 13, true) + pad("GFLOP/s", 10, true) + pad("GFLOP", 9, true) +
                  pad("peak MiB", 10, true) + pad("before MiB", 12, true) +
                  pad("planned MiB", 13, true) + "\n";
  for (const SizeResult& s : r.sizes)
    t += pad(std::to_string(s.size), 7) + pad(fmt("%.4f", s.seconds_per_iteration), 13, true) + pad(fmt("%.1f", s.gflops()), 10, true) +
         pad(fmt("%.1f", s.flop_per_iteration * 1e-9), 9, true) + pad(fmt("%.0f", mib(s.peak_memory_bytes)), 10, true) +
         pad(fmt("%.0f", mib(s.memory_before_bytes)), 12, true) + pad(fmt("%.0f", mib(s.planned_memory_bytes)), 13, true) + "\n";
  return t;
}

std::string results_csv(const Results& r) {
  std::string t = "size,layer,op,shape,ms,gflops,gbs,percent_of_peak,bound,flop,bytes,info,library,library_ms,percent_of_library\n";
  for (const SizeResult& s : r.sizes) {
    for (const OpResult& o : s.ops)
      t += std::to_string(s.size) + "," + csv_field(o.layer) + "," + o.op + "," + csv_field(o.shape) + "," + fmt("%.6g", o.seconds * 1e3) +
           "," + fmt("%.6g", o.gflops()) + "," + fmt("%.6g", o.gbs()) + "," + fmt("%.4g", o.percent_of_peak(r.peak)) + "," +
           bound_name(o.bound) + "," + fmt("%.6g", o.flop) + "," + fmt("%.6g", o.bytes) + "," + csv_field(o.info) + "," +
           o.library + "," + (o.library_seconds > 0 ? fmt("%.6g", o.library_seconds * 1e3) + "," + fmt("%.4g", o.percent_of_library()) : ",") + "\n";
    t += std::to_string(s.size) + ",all,iteration," + std::to_string(s.size) + "x" + std::to_string(s.size) + "," +
         fmt("%.6g", s.seconds_per_iteration * 1e3) + "," + fmt("%.6g", s.gflops()) + ",," +
         fmt("%.4g", r.peak.gflops > 0 ? 100 * s.gflops() / r.peak.gflops : 0) + ",compute," + fmt("%.6g", s.flop_per_iteration) + ",,,,,\n";
  }
  return t;
}

std::string results_json(const Results& r) {
  std::string t = "{\n";
  t += "  \"device\": " + str(r.device) + ",\n";
  t += "  \"device_name\": " + str(r.device_name) + ",\n";
  t += "  \"precision\": " + str(r.precision) + ",\n";
  t += "  \"threads\": " + std::to_string(r.threads) + ",\n";
  t += "  \"peak_gflops\": " + num(r.peak.gflops) + ",\n";
  t += "  \"peak_gflops_source\": " + str(r.peak.gflops_source) + ",\n";
  t += "  \"bandwidth_gbs\": " + num(r.peak.gbs) + ",\n";
  t += "  \"bandwidth_source\": " + str(r.peak.gbs_source) + ",\n";
  t += "  \"memory_kind\": " + str(r.memory_kind) + ",\n";
  if (!r.validation.empty()) t += "  \"validation\": " + str(r.validation) + ",\n";
  t += "  \"iterations\": [";
  for (std::size_t i = 0; i < r.sizes.size(); ++i) {
    const SizeResult& s = r.sizes[i];
    t += std::string(i ? "," : "") + "\n    {\"size\": " + std::to_string(s.size) + ", \"seconds_per_iteration\": " +
         num(s.seconds_per_iteration) + ", \"gflops\": " + num(s.gflops()) + ",\n";
    t += "     \"gflop_per_iteration\": " + num(s.flop_per_iteration * 1e-9) + ", \"samples\": " + std::to_string(s.samples) +
         ", \"ops_seconds\": " + num(s.ops_seconds) + ", \"peak_memory_bytes\": " + num(s.peak_memory_bytes) +
         ", \"memory_before_bytes\": " + num(s.memory_before_bytes) + ", \"others_load\": " + num(s.others_load) +
         ", \"planned_memory_bytes\": " + num(s.planned_memory_bytes) + ",\n";
    t += "     \"layers\": [";
    for (std::size_t k = 0; k < s.ops.size(); ++k) {
      const OpResult& o = s.ops[k];
      t += std::string(k ? "," : "") + "\n      {\"layer\": " + str(o.layer) + ", \"op\": " + str(o.op) + ", \"shape\": " + str(o.shape) +
           ", \"ms\": " + num(o.seconds * 1e3) + ", \"gflops\": " + num(o.gflops()) + ", \"gbs\": " + num(o.gbs()) +
           ", \"percent_of_peak\": " + num(o.percent_of_peak(r.peak)) + ", \"bound\": " + str(bound_name(o.bound)) +
           ", \"flop\": " + num(o.flop) + ", \"bytes\": " + num(o.bytes) + ", \"in_iteration\": " + (o.in_iteration ? "true" : "false") +
           (o.info.empty() ? "" : ", \"algorithm\": " + str(o.info)) +
           (o.library_seconds > 0 ? ", \"library\": " + str(o.library) + ", \"library_ms\": " + num(o.library_seconds * 1e3) +
                                        ", \"percent_of_library\": " + num(o.percent_of_library())
                                  : "") +
           "}";
    }
    t += "\n     ]}";
  }
  t += "\n  ]\n}\n";
  return t;
}

}  // namespace nst::bench
