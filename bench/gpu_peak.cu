// Peaks from cudaGetDeviceProperties and device attributes (CUDA 13 dropped cudaDeviceProp::clockRate and
// memoryClockRate; the attributes remain): SMs x clock x FLOP/clock/SM, and 2 (DDR) x memory clock x bus
// width. Clocks are the maximum boost clocks, so these are upper bounds.
#include <cuda_runtime.h>

#include <cstdio>
#include <string>

#include "gpu_peak.h"
#include "nst/error.h"

namespace nst::bench {
namespace {

// Dense FP32 (FMA = 2 FLOP) and TF32 tensor-core FLOP per clock per SM, from NVIDIA's architecture
// whitepapers. 0: no TF32 tensor cores.
struct ArchRate {
  int major, minor, fp32, tf32;
};
constexpr ArchRate kRates[] = {
    {7, 0, 128, 0},    {7, 2, 128, 0},    {7, 5, 128, 0},  // Volta, Xavier, Turing: 64 FP32 lanes
    {8, 0, 128, 1024},                                      // A100
    {8, 6, 256, 256},  {8, 9, 256, 256},                    // GA10x, Ada: 128 FP32 lanes
    {9, 0, 256, 2048},                                      // H100, H200
};

int attribute(cudaDeviceAttr a, int device, const char* what) {
  int v = 0;
  cudaError_t e = cudaDeviceGetAttribute(&v, a, device);
  if (e != cudaSuccess) throw Error(std::string("cudaDeviceGetAttribute(") + what + ") failed: " + cudaGetErrorName(e));
  return v;
}

std::string fixed(double v, int digits) {
  char b[64];
  std::snprintf(b, sizeof b, "%.*f", digits, v);
  return b;
}

}  // namespace

GpuPeak gpu_peak(int device) {
  cudaDeviceProp p{};
  cudaError_t e = cudaGetDeviceProperties(&p, device);
  if (e != cudaSuccess) throw Error("cudaGetDeviceProperties(" + std::to_string(device) + ") failed: " + cudaGetErrorName(e));
  const int sms = attribute(cudaDevAttrMultiProcessorCount, device, "SM count");
  const double clock_ghz = attribute(cudaDevAttrClockRate, device, "clock rate") * 1e-6;  // kHz
  const double mem_ghz = attribute(cudaDevAttrMemoryClockRate, device, "memory clock rate") * 1e-6;
  const int bus_bits = attribute(cudaDevAttrGlobalMemoryBusWidth, device, "memory bus width");

  GpuPeak g;
  g.name = p.name;
  const std::string arch = "sm_" + std::to_string(p.major) + std::to_string(p.minor);
  const ArchRate* rate = nullptr;
  for (const ArchRate& r : kRates)
    if (r.major == p.major && r.minor == p.minor) rate = &r;
  // Architectures after the table (Blackwell has 128 FP32 lanes per SM, as Hopper) are assumed to be like sm_90.
  const bool known = rate != nullptr;
  const int fp32 = known ? rate->fp32 : 256, tf32 = known ? rate->tf32 : 2048;
  const std::string unknown = known ? "" : " (" + arch + " is not in the table: assumed as sm_90)";
  const std::string base = std::to_string(sms) + " SMs x " + fixed(clock_ghz, 2) + " GHz x ";
  g.fp32_gflops = sms * clock_ghz * fp32;
  g.fp32_source = base + std::to_string(fp32) + " FP32 FLOP/clock/SM (" + arch + ")" + unknown;
  if (tf32 > 0) {
    g.tf32_gflops = sms * clock_ghz * tf32;
    g.tf32_source = base + std::to_string(tf32) + " TF32 FLOP/clock/SM (" + arch + ", dense)" + unknown;
  } else {
    g.tf32_gflops = g.fp32_gflops;
    g.tf32_source = arch + " has no TF32 tensor cores: " + g.fp32_source;
  }
  g.gbs = 2.0 * mem_ghz * bus_bits / 8;
  g.gbs_source = "2 x " + fixed(mem_ghz, 3) + " GHz memory clock x " + std::to_string(bus_bits) + "-bit bus";
  return g;
}

}  // namespace nst::bench
