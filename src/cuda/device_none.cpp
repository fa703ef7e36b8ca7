// probe_cuda() for builds without the CUDA toolkit.
#include "nst/device.h"

namespace nst {

CudaProbe probe_cuda() {
  CudaProbe p;
  p.reason = "this build has no CUDA backend (configured without nvcc)";
  return p;
}

}  // namespace nst
