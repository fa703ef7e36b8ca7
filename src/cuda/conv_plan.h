// cuDNN convolution for one shape: RAII descriptors, the forward and backward-data algorithms chosen
// once (weights are frozen: no backward-filter), and the workspace each needs.
#pragma once
#include <cstddef>
#include <string>

#include "cuda/check.h"

namespace nst::cuda {

template <typename T, cudnnStatus_t (*Destroy)(T)>
class CudnnDesc {
 public:
  explicit CudnnDesc(cudnnStatus_t (*create)(T*)) { NST_CUDNN_CHECK(create(&d_)); }
  ~CudnnDesc() {
    if (d_) NST_CHECK_NOEXCEPT(Destroy(d_));
  }
  CudnnDesc(const CudnnDesc&) = delete;
  CudnnDesc& operator=(const CudnnDesc&) = delete;
  T get() const { return d_; }

 private:
  T d_ = nullptr;
};

using TensorDesc = CudnnDesc<cudnnTensorDescriptor_t, cudnnDestroyTensorDescriptor>;
using FilterDesc = CudnnDesc<cudnnFilterDescriptor_t, cudnnDestroyFilterDescriptor>;
using ConvDesc = CudnnDesc<cudnnConvolutionDescriptor_t, cudnnDestroyConvolutionDescriptor>;

// The descriptors of a 3x3, stride 1, pad 1 float32 NCHW convolution of a 1xCxHxW input to O channels.
// They need no device, so CI tests them.
struct ConvDescs {
  ConvDescs(int C, int O, int H, int W, bool tf32);
  TensorDesc x{cudnnCreateTensorDescriptor}, y{cudnnCreateTensorDescriptor}, bias{cudnnCreateTensorDescriptor};
  FilterDesc w{cudnnCreateFilterDescriptor};
  ConvDesc fwd{cudnnCreateConvolutionDescriptor}, bwd{cudnnCreateConvolutionDescriptor};
  int C, O, H, W;
  std::string str() const;  // "conv 64->128 at 128x128" for messages
};

struct ConvPlan {
  ConvPlan(cudnnHandle_t handle, int C, int O, int H, int W, bool tf32, std::size_t workspace_limit);
  ConvDescs d;
  cudnnConvolutionFwdAlgo_t fwd_algo;
  cudnnConvolutionBwdDataAlgo_t bwd_algo;
  std::size_t fwd_workspace = 0, bwd_workspace = 0;
};

}  // namespace nst::cuda
