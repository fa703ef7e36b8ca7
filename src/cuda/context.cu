#include "cuda/context.h"

namespace nst::cuda {

void* device_malloc(std::size_t bytes, const std::string& what) {
  void* p = nullptr;
  cudaError_t e = cudaMalloc(&p, bytes);
  if (e == cudaErrorMemoryAllocation) {
    cudaGetLastError();  // not sticky: clear it so later calls start clean
    throw Error("out of GPU memory allocating " + std::to_string((bytes + (1 << 20) - 1) >> 20) + " MiB for " + what);
  }
  if (e != cudaSuccess) throw_status("cudaMalloc", status_name(e), __FILE__, __LINE__);
  return p;
}

CudaContext::CudaContext(int device, bool tf32) : device_(device), tf32_(tf32) {
  NST_CUDA_CHECK(cudaSetDevice(device));
  try {
    NST_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
    NST_CUDNN_CHECK(cudnnCreate(&cudnn_));
    NST_CUDNN_CHECK(cudnnSetStream(cudnn_, stream_));
    NST_CUBLAS_CHECK(cublasCreate(&cublas_));
    NST_CUBLAS_CHECK(cublasSetStream(cublas_, stream_));
    // FP32 means FP32: pedantic math keeps cuBLAS off TF32 and reduced-precision paths.
    NST_CUBLAS_CHECK(cublasSetMathMode(cublas_, tf32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_PEDANTIC_MATH));
  } catch (...) {
    release();  // the destructor does not run when the constructor throws
    throw;
  }
}

CudaContext::~CudaContext() { release(); }

void CudaContext::release() noexcept {
  if (cublas_) NST_CHECK_NOEXCEPT(cublasDestroy(cublas_));
  if (cudnn_) NST_CHECK_NOEXCEPT(cudnnDestroy(cudnn_));
  if (stream_) NST_CHECK_NOEXCEPT(cudaStreamDestroy(stream_));
  cublas_ = nullptr;
  cudnn_ = nullptr;
  stream_ = nullptr;
}

}  // namespace nst::cuda
