// The backend chooser: the only code that names both the CPU and the CUDA backend.
#include <cstdlib>

#include "nst/backend.h"
#include "nst/device.h"
#include "nst/error.h"
#include "nst/options.h"

namespace nst {

namespace {

BackendChoice pick(const std::string& device, Precision precision, ConvAlgo conv_algo) {
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
      c.note = "running on the CPU: " + p.reason;
    }
    return c;
  }
  int index = 0;
  if (device.rfind("cuda:", 0) == 0) {
    std::string n = device.substr(5);
    char* end = nullptr;
    long v = std::strtol(n.c_str(), &end, 10);
    if (n.empty() || *end || v < 0 || v > 1023) throw UsageError("'" + device + "' is not cuda:N with N a device number", "device");
    index = int(v);
  } else if (device != "cuda") {
    throw UsageError("expected auto, cpu, cuda or cuda:N, got '" + device + "'", "device");
  }
  CudaProbe p = probe_cuda();
  if (p.devices == 0) throw Error(device + ": " + p.reason, "device");
  if (index >= p.devices)
    throw Error(device + ": there are only " + std::to_string(p.devices) + " CUDA devices (cuda:0 .. cuda:" + std::to_string(p.devices - 1) + ")",
                "device");
  c.backend = make_cuda_backend(index, precision);
  return c;
}

}  // namespace

BackendChoice make_backend(const std::string& device, Precision precision, ConvAlgo conv_algo) {
  BackendChoice c = pick(device, precision, conv_algo);
  const bool cpu = c.backend->device() == Device::Host;
  c.precision = cpu ? Precision::FP32 : precision;
  if (cpu && precision != Precision::FP32)
    c.unused.push_back(std::string("--precision ") + name(precision) + " applies to CUDA devices; the CPU backend computes in fp32");
  if (!cpu && conv_algo != ConvAlgo::Direct)
    c.unused.push_back(std::string("--conv-algo ") + name(conv_algo) +
                       " applies to the CPU backend; on CUDA the convolution plans choose cuDNN's algorithms");
  return c;
}

}  // namespace nst
