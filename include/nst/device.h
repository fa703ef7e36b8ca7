// Which backend runs: the one place that names both backends. CUDA devices are asked about without ever
// failing (a machine without a driver or a GPU gets a reason, not a crash), and "auto" falls back to the
// CPU saying why.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "nst/backend.h"

namespace nst {

struct CudaProbe {
  bool built = false;     // this binary has the CUDA backend
  int devices = 0;        // usable devices
  std::string reason;     // why none is usable (empty when devices > 0)
  std::string versions;   // runtime, driver, cuDNN and cuBLAS versions, as far as they can be asked
};

CudaProbe probe_cuda();

// The CUDA backend on device N; throws nst::Error when this build has none or the device cannot be used.
std::unique_ptr<Backend> make_cuda_backend(int device, Precision precision);

struct BackendChoice {
  std::unique_ptr<Backend> backend;
  std::string note;  // one line for the user when "auto" fell back to the CPU, else empty
  // Flags the chosen backend has no use for (--precision on the CPU, --conv-algo on CUDA), one line each,
  // for the caller to say once rather than ignore them silently.
  std::vector<std::string> unused;
  Precision precision = Precision::FP32;  // the precision it computes in: fp32 on the CPU whatever was asked
};

// `device`: "auto" (CUDA when a usable device exists, else the CPU with a note saying why), "cpu", "cuda" or
// "cuda:N". Anything else is a UsageError, "cuda" without a usable device an Error; both about option
// "device". conv_algo is the CPU backend's (cuDNN picks its own algorithms).
BackendChoice make_backend(const std::string& device, Precision precision = Precision::FP32, ConvAlgo conv_algo = ConvAlgo::Direct);

}  // namespace nst
