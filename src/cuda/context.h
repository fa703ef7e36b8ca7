// Move-only owners of device memory, the stream, and the cuDNN and cuBLAS handles bound to it.
#pragma once
#include <cstddef>
#include <string>
#include <utility>

#include "cuda/check.h"

namespace nst::cuda {

// cudaMalloc of `bytes`: running out of memory is a one-line error naming the size and what it was for;
// any other failure names the call and the status.
void* device_malloc(std::size_t bytes, const std::string& what);

// Device memory for n values of T. Copies are explicit (there are none), so no transfer happens by accident.
template <typename T>
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  explicit DeviceBuffer(std::size_t n, const char* what = "a buffer")
      : p_(n ? static_cast<T*>(device_malloc(n * sizeof(T), what)) : nullptr), n_(n) {}
  DeviceBuffer(DeviceBuffer&& o) noexcept : p_(std::exchange(o.p_, nullptr)), n_(std::exchange(o.n_, 0)) {}
  DeviceBuffer& operator=(DeviceBuffer&& o) noexcept {
    std::swap(p_, o.p_);
    std::swap(n_, o.n_);
    return *this;
  }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  ~DeviceBuffer() {
    if (p_) NST_CHECK_NOEXCEPT(cudaFree(p_));
  }
  T* get() const { return p_; }
  std::size_t size() const { return n_; }

 private:
  T* p_ = nullptr;
  std::size_t n_ = 0;
};

// One device, one stream, and the cuDNN and cuBLAS handles bound to that stream. Everyone who launches
// borrows it.
class CudaContext {
 public:
  CudaContext(int device, bool tf32);
  ~CudaContext();
  CudaContext(const CudaContext&) = delete;
  CudaContext& operator=(const CudaContext&) = delete;

  int device() const { return device_; }
  bool tf32() const { return tf32_; }
  cudaStream_t stream() const { return stream_; }
  cudnnHandle_t cudnn() const { return cudnn_; }
  cublasHandle_t cublas() const { return cublas_; }
  void sync() const { NST_CUDA_CHECK(cudaStreamSynchronize(stream_)); }

 private:
  void release() noexcept;

  int device_;
  bool tf32_;
  cudaStream_t stream_ = nullptr;
  cudnnHandle_t cudnn_ = nullptr;
  cublasHandle_t cublas_ = nullptr;
};

}  // namespace nst::cuda
