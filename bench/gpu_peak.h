// The FP32 and TF32 compute peaks and the memory bandwidth of a CUDA device, from its properties and a small
// table of FLOP per clock per SM; compiled into the CUDA build only (nvcc, C++17).
#pragma once
#include <string>

namespace nst::bench {

struct GpuPeak {
  std::string name;   // "NVIDIA H100 80GB HBM3"
  double fp32_gflops = 0, tf32_gflops = 0, gbs = 0;
  std::string fp32_source, tf32_source, gbs_source;  // how each figure was derived
};

// Throws nst::Error when the device cannot be asked.
GpuPeak gpu_peak(int device);

}  // namespace nst::bench
