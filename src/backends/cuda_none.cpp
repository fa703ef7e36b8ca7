// probe_cuda() and make_cuda_backend() for builds without the CUDA toolkit: the chooser then always
// answers with the CPU.
#include "nst/device.h"
#include "nst/error.h"

namespace nst {

CudaProbe probe_cuda() {
  CudaProbe p;
  p.reason = "this build has no CUDA backend (configured without nvcc)";
  return p;
}

std::unique_ptr<Backend> make_cuda_backend(int, Precision) {
  throw Error("this build has no CUDA backend (configured without nvcc)");
}

}  // namespace nst
