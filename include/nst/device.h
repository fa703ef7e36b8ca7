// Which CUDA devices this process can use, asked without ever failing: a machine without a driver or a GPU
// gets a reason, not a crash, and the engine runs on the CPU.
#pragma once
#include <string>

namespace nst {

struct CudaProbe {
  bool built = false;     // this binary has the CUDA backend
  int devices = 0;        // usable devices
  std::string reason;     // why none is usable (empty when devices > 0)
  std::string versions;   // runtime, driver, cuDNN and cuBLAS versions, as far as they can be asked
};

CudaProbe probe_cuda();

}  // namespace nst
