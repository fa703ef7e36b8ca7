// probe_cuda() for CUDA builds. cudaGetDeviceCount fails with cudaErrorNoDevice or
// cudaErrorInsufficientDriver on machines without a GPU: that is an answer ("no device"), not an error,
// given in words that say what to do (no driver, an old driver, no GPU).
#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cudnn.h>

#include "nst/device.h"

namespace nst {

CudaProbe probe_cuda() {
  CudaProbe p;
  p.built = true;
  int runtime = 0, driver = 0, cublas_major = 0, cublas_minor = 0;
  cudaRuntimeGetVersion(&runtime);
  cudaDriverGetVersion(&driver);  // 0 when no driver is installed
  cublasGetProperty(MAJOR_VERSION, &cublas_major);
  cublasGetProperty(MINOR_VERSION, &cublas_minor);
  std::size_t cudnn = cudnnGetVersion();
  p.versions = "CUDA runtime " + std::to_string(runtime / 1000) + "." + std::to_string(runtime % 1000 / 10) +
               ", driver " + (driver ? std::to_string(driver / 1000) + "." + std::to_string(driver % 1000 / 10) : std::string("none")) +
               ", cuDNN " + std::to_string(cudnn / 10000) + "." + std::to_string(cudnn % 10000 / 100) + "." +
               std::to_string(cudnn % 100) + ", cuBLAS " + std::to_string(cublas_major) + "." + std::to_string(cublas_minor);
  cudaError_t e = cudaGetDeviceCount(&p.devices);
  if (e != cudaSuccess) {
    p.devices = 0;
    // The runtime reports a missing driver and an old one alike (cudaErrorInsufficientDriver); what to do
    // differs, so the driver's own version tells them apart.
    auto version = [](int v) { return std::to_string(v / 1000) + "." + std::to_string(v % 1000 / 10); };
    if (driver == 0)
      p.reason = "no NVIDIA driver is installed (libcuda.so.1 not found)";
    else if (driver < runtime)
      p.reason = "the NVIDIA driver supports CUDA " + version(driver) + ", older than the CUDA " + version(runtime) +
                 " this build needs: update the driver";
    else if (e == cudaErrorNoDevice)
      p.reason = "the NVIDIA driver is installed but sees no GPU";
    else
      p.reason = std::string("no usable CUDA device: ") + cudaGetErrorName(e) + " (" + cudaGetErrorString(e) + ")";
    cudaGetLastError();  // clear the sticky-free error so later calls start clean
  } else if (p.devices == 0) {
    p.reason = "no CUDA device";
  }
  return p;
}

}  // namespace nst
