#include "cuda/conv_plan.h"

namespace nst::cuda {

ConvDescs::ConvDescs(int C_, int O_, int H_, int W_, bool tf32) : C(C_), O(O_), H(H_), W(W_) {
  NST_CUDNN_CHECK(cudnnSetTensor4dDescriptor(x.get(), CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, 1, C, H, W));
  NST_CUDNN_CHECK(cudnnSetTensor4dDescriptor(y.get(), CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, 1, O, H, W));
  NST_CUDNN_CHECK(cudnnSetTensor4dDescriptor(bias.get(), CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, 1, O, 1, 1));
  NST_CUDNN_CHECK(cudnnSetFilter4dDescriptor(w.get(), CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, O, C, 3, 3));
  // Cross-correlation, as PyTorch and our CPU backend. FP32 means no tensor-core TF32: CUDNN_FMA_MATH.
  for (const ConvDesc* c : {&fwd, &bwd}) {
    NST_CUDNN_CHECK(cudnnSetConvolution2dDescriptor(c->get(), 1, 1, 1, 1, 1, 1, CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT));
    NST_CUDNN_CHECK(cudnnSetConvolutionMathType(c->get(), tf32 ? CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION : CUDNN_FMA_MATH));
  }
  int n, c, h, w_;
  NST_CUDNN_CHECK(cudnnGetConvolution2dForwardOutputDim(fwd.get(), x.get(), w.get(), &n, &c, &h, &w_));
  NST_ASSERT(n == 1 && c == O && h == H && w_ == W, "cuDNN's output shape differs from a same-padded 3x3 convolution");
}

std::string ConvDescs::str() const {
  return "conv " + std::to_string(C) + "->" + std::to_string(O) + " at " + std::to_string(W) + "x" + std::to_string(H);
}

namespace {

// The first of cuDNN's ranked candidates that ran, keeps the precision asked for, and fits the workspace
// limit. Never assumes one exists.
template <typename Perf>
const Perf* pick(const Perf* perf, int count, bool tf32, std::size_t limit) {
  for (int i = 0; i < count; ++i) {
    if (perf[i].status != CUDNN_STATUS_SUCCESS || perf[i].memory > limit) continue;
    if (!tf32 && perf[i].mathType != CUDNN_FMA_MATH && perf[i].mathType != CUDNN_DEFAULT_MATH) continue;  // tensor ops
    return &perf[i];
  }
  return nullptr;
}

}  // namespace

ConvPlan::ConvPlan(cudnnHandle_t handle, int C, int O, int H, int W, bool tf32, std::size_t workspace_limit)
    : d(C, O, H, W, tf32) {
  cudnnConvolutionFwdAlgoPerf_t fperf[CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
  int n = 0;
  NST_CUDNN_CHECK(cudnnGetConvolutionForwardAlgorithm_v7(handle, d.x.get(), d.w.get(), d.fwd.get(), d.y.get(),
                                                        CUDNN_CONVOLUTION_FWD_ALGO_COUNT, &n, fperf));
  const auto* f = pick(fperf, n, tf32, workspace_limit);
  if (!f) throw Error("cuDNN offers no forward algorithm for " + d.str() + " within " + std::to_string(workspace_limit >> 20) + " MiB of workspace");
  fwd_algo = f->algo;
  // The candidates were ranked for this descriptor's math type; in TF32 mode adopt the one the winner
  // needs (cuDNN's documented contract). In FP32 mode the descriptor stays CUDNN_FMA_MATH, whatever the
  // list says, so that nothing can switch TF32 back on.
  if (tf32) NST_CUDNN_CHECK(cudnnSetConvolutionMathType(d.fwd.get(), f->mathType));
  NST_CUDNN_CHECK(cudnnGetConvolutionForwardWorkspaceSize(handle, d.x.get(), d.w.get(), d.fwd.get(), d.y.get(), fwd_algo, &fwd_workspace));

  cudnnConvolutionBwdDataAlgoPerf_t bperf[CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT];
  NST_CUDNN_CHECK(cudnnGetConvolutionBackwardDataAlgorithm_v7(handle, d.w.get(), d.y.get(), d.bwd.get(), d.x.get(),
                                                             CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT, &n, bperf));
  const auto* b = pick(bperf, n, tf32, workspace_limit);
  if (!b) throw Error("cuDNN offers no backward-data algorithm for " + d.str() + " within " + std::to_string(workspace_limit >> 20) + " MiB of workspace");
  bwd_algo = b->algo;
  if (tf32) NST_CUDNN_CHECK(cudnnSetConvolutionMathType(d.bwd.get(), b->mathType));
  NST_CUDNN_CHECK(cudnnGetConvolutionBackwardDataWorkspaceSize(handle, d.w.get(), d.y.get(), d.bwd.get(), d.x.get(), bwd_algo, &bwd_workspace));
}

}  // namespace nst::cuda
