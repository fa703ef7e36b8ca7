// What cuDNN, cuBLAS and the CUDA runtime do without a device, tested in CI: versions, descriptor set-up,
// output shapes, math types, and our status checks' messages.
#include "cuda/context.h"
#include "cuda/conv_plan.h"
#include "nst/device.h"
#include "test_util.h"

using namespace nst;
using Catch::Contains;

TEST_CASE("cuDNN's version is 9 and the probe reports it", "[cuda]") {
  CHECK(cudnnGetVersion() >= 90000);
  CudaProbe p = probe_cuda();
  CHECK(p.built);
  CHECK_THAT(p.versions, Contains("cuDNN 9.") && Contains("cuBLAS ") && Contains("CUDA runtime "));
  if (p.devices == 0) CHECK_FALSE(p.reason.empty());
}

TEST_CASE("convolution descriptors: a same-padded 3x3 keeps H and W, FP32 is FMA math, TF32 allows tensor ops", "[cuda]") {
  for (auto [C, O, H, W] : {std::tuple{3, 64, 256, 256}, std::tuple{64, 128, 37, 41}, std::tuple{512, 512, 1, 1}}) {
    cuda::ConvDescs d(C, O, H, W, false);  // the constructor checks cudnnGetConvolution2dForwardOutputDim
    int n, c, h, w;
    NST_CUDNN_CHECK(cudnnGetConvolution2dForwardOutputDim(d.fwd.get(), d.x.get(), d.w.get(), &n, &c, &h, &w));
    CHECK(n == 1);
    CHECK(c == O);
    CHECK(h == H);
    CHECK(w == W);
    cudnnDataType_t t;
    int nn, cc, hh, ww, ns, cs, hs, ws;
    NST_CUDNN_CHECK(cudnnGetTensor4dDescriptor(d.y.get(), &t, &nn, &cc, &hh, &ww, &ns, &cs, &hs, &ws));
    CHECK(t == CUDNN_DATA_FLOAT);
    CHECK(ws == 1);
    CHECK(hs == W);  // packed NCHW
    CHECK(cs == H * W);
    cudnnMathType_t m;
    NST_CUDNN_CHECK(cudnnGetConvolutionMathType(d.fwd.get(), &m));
    CHECK(m == CUDNN_FMA_MATH);
    CHECK(d.str() == "conv " + std::to_string(C) + "->" + std::to_string(O) + " at " + std::to_string(W) + "x" + std::to_string(H));
  }
  cuda::ConvDescs t(64, 64, 32, 32, true);
  cudnnMathType_t m;
  NST_CUDNN_CHECK(cudnnGetConvolutionMathType(t.bwd.get(), &m));
  CHECK(m == CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION);
}

TEST_CASE("status checks name the call, the status and the place", "[cuda]") {
  cuda::TensorDesc d{cudnnCreateTensorDescriptor};
  CHECK_THROWS_WITH([&] { NST_CUDNN_CHECK(cudnnSetTensor4dDescriptor(d.get(), CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, 1, -3, 4, 4)); }(),
                    Contains("cudnnSetTensor4dDescriptor(d.get(), CUDNN_TENSOR_NCHW") && Contains("failed: CUDNN_STATUS_BAD_PARAM") &&
                        Contains("at tests/cuda/test_cudnn.cpp:"));
  CHECK_THROWS_WITH([] { NST_CUBLAS_CHECK(cublasSgemm(nullptr, CUBLAS_OP_N, CUBLAS_OP_N, 1, 1, 1, nullptr, nullptr, 1, nullptr, 1, nullptr, nullptr, 1)); }(),
                    Contains("cublasSgemm(nullptr") && Contains("CUBLAS_STATUS_NOT_INITIALIZED"));
}

TEST_CASE("without a device, allocation and context creation fail with an error, not a crash", "[cuda]") {
  if (probe_cuda().devices > 0) NST_SKIP("a CUDA device is present: the no-device paths are not exercised here");
  CHECK_THROWS_WITH(cuda::DeviceBuffer<float>(1024), Contains("cudaMalloc failed: ") && Contains("at src/cuda/context.cu:"));
  CHECK_THROWS_WITH(cuda::CudaContext(0, false), Contains("cudaSetDevice(device) failed"));
  CHECK_THROWS_AS(make_cuda_backend(0, Precision::FP32), Error);
}
