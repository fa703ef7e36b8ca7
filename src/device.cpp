#include <cstdlib>

#include "nst/device.h"
#include "nst/error.h"

namespace nst {

const FlagText kDeviceFlag{"--device", "auto|cpu|cuda[:N]", "where to run (default auto: CUDA if a device is usable, else the CPU)"};
const FlagText kPrecisionFlag{"--precision", "fp32|tf32", "CUDA math: fp32, or TF32 tensor cores for convolutions and GEMMs (default fp32)"};
const FlagText kConvAlgoFlag{"--conv-algo", "direct|winograd|fastest",
                             "CPU convolutions: direct; oneDNN's Winograd F(4x4,3x3) where it has one (1.7-2.5x faster, ~1e-6 "
                             "relative error per convolution); or per shape the faster of the two, timed here (default direct)"};

Precision parse_precision(const std::string& v) {
  if (v != "fp32" && v != "tf32") throw UsageError("--precision: expected fp32 or tf32, got '" + v + "'");
  return v == "tf32" ? Precision::TF32 : Precision::FP32;
}

ConvAlgo parse_conv_algo(const std::string& v) {
  if (v == "direct") return ConvAlgo::Direct;
  if (v == "winograd") return ConvAlgo::Winograd;
  if (v == "fastest") return ConvAlgo::Fastest;
  throw UsageError("--conv-algo: expected direct, winograd or fastest, got '" + v + "'");
}

BackendChoice make_backend(const std::string& device, Precision precision, ConvAlgo conv_algo) {
  BackendChoice c;
  if (device == "cpu") {
    c.backend = make_cpu_backend(false, conv_algo);
    return c;
  }
  if (device == "auto") {
    CudaProbe p = probe_cuda();
    if (p.devices > 0) {
      c.backend = make_cuda_backend(0, precision);
    } else {
      c.backend = make_cpu_backend(false, conv_algo);
      c.note = "nst: running on the CPU: " + p.reason;
    }
    return c;
  }
  int index = 0;
  if (device.rfind("cuda:", 0) == 0) {
    std::string n = device.substr(5);
    char* end = nullptr;
    long v = std::strtol(n.c_str(), &end, 10);
    if (n.empty() || *end || v < 0 || v > 1023) throw UsageError("--device: '" + device + "' is not cuda:N with N a device number");
    index = int(v);
  } else if (device != "cuda") {
    throw UsageError("--device: expected auto, cpu, cuda or cuda:N, got '" + device + "'");
  }
  CudaProbe p = probe_cuda();
  if (p.devices == 0) throw Error("--device " + device + ": " + p.reason);
  if (index >= p.devices)
    throw Error("--device " + device + ": there are only " + std::to_string(p.devices) + " CUDA devices (cuda:0 .. cuda:" +
                std::to_string(p.devices - 1) + ")");
  c.backend = make_cuda_backend(index, precision);
  return c;
}

}  // namespace nst
