// Status checks for the CUDA runtime, cuDNN and cuBLAS: each throws nst::Error naming the call, the
// status and where; NST_CHECK_NOEXCEPT logs instead, for destructors.
#pragma once
#include <cublas_v2.h>
#include <cudnn.h>

#include <cstdio>
#include <string>

#include "common.cuh"  // NST_CUDA_CHECK
#include "nst/error.h"

namespace nst::cuda {

inline bool status_ok(cudaError_t s) { return s == cudaSuccess; }
inline bool status_ok(cudnnStatus_t s) { return s == CUDNN_STATUS_SUCCESS; }
inline bool status_ok(cublasStatus_t s) { return s == CUBLAS_STATUS_SUCCESS; }
inline std::string status_name(cudaError_t s) { return std::string(cudaGetErrorName(s)) + " (" + cudaGetErrorString(s) + ")"; }
inline std::string status_name(cudnnStatus_t s) { return cudnnGetErrorString(s); }
inline std::string status_name(cublasStatus_t s) { return std::string(cublasGetStatusName(s)) + " (" + cublasGetStatusString(s) + ")"; }

[[noreturn]] inline void throw_status(const char* call, const std::string& status, const char* file, int line) {
  throw Error(std::string(call) + " failed: " + status + " at " + source_location(file, line));
}

}  // namespace nst::cuda

#define NST_CUDNN_CHECK(call)                                                                    \
  do {                                                                                           \
    cudnnStatus_t nst_status_ = (call);                                                          \
    if (!::nst::cuda::status_ok(nst_status_))                                                    \
      ::nst::cuda::throw_status(#call, ::nst::cuda::status_name(nst_status_), __FILE__, __LINE__); \
  } while (0)

#define NST_CUBLAS_CHECK(call)                                                                   \
  do {                                                                                           \
    cublasStatus_t nst_status_ = (call);                                                         \
    if (!::nst::cuda::status_ok(nst_status_))                                                    \
      ::nst::cuda::throw_status(#call, ::nst::cuda::status_name(nst_status_), __FILE__, __LINE__); \
  } while (0)

// For destructors and other places that must not throw: logs one line and carries on.
#define NST_CHECK_NOEXCEPT(call)                                                                       \
  do {                                                                                                 \
    auto nst_status_ = (call);                                                                         \
    if (!::nst::cuda::status_ok(nst_status_))                                                          \
      std::fprintf(stderr, "nst: warning: %s failed: %s at %s\n", #call,                               \
                   ::nst::cuda::status_name(nst_status_).c_str(), ::nst::source_location(__FILE__, __LINE__).c_str()); \
  } while (0)
