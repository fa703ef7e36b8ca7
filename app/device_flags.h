// --device, --precision and --conv-algo: one text and one parser, shared by the flag tables of stylize,
// batch and bench (any Options with fields device, precision and conv_algo).
#pragma once
#include <string>
#include <vector>

#include "flags.h"
#include "nst/options.h"

namespace nst::app {

template <typename Options>
std::vector<Flag<Options>> device_flags() {
  return {
      {"--device", "auto|cpu|cuda[:N]", "where to run (default auto: CUDA if a device is usable, else the CPU)",
       [](Options& o, const std::string& v) { o.device = v; }},
      {"--precision", "fp32|tf32", "CUDA math: fp32, or TF32 tensor cores for convolutions and GEMMs (default fp32)",
       [](Options& o, const std::string& v) { o.precision = parse_precision(v); }},
      {"--conv-algo", "direct|winograd|fastest",
       "CPU convolutions: direct; oneDNN's Winograd F(4x4,3x3) where it has one (1.7-2.5x faster, ~1e-6 relative error "
       "per convolution); or per shape the faster of the two, timed here (default direct)",
       [](Options& o, const std::string& v) { o.conv_algo = parse_conv_algo(v); }},
  };
}

}  // namespace nst::app
