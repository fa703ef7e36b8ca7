// Which backend runs: CUDA devices asked about without ever failing (a machine without a driver or a GPU
// gets a reason, not a crash), and the choice behind --device auto|cpu|cuda[:N].
#pragma once
#include <memory>
#include <string>

#include "nst/backend.h"

namespace nst {

struct CudaProbe {
  bool built = false;     // this binary has the CUDA backend
  int devices = 0;        // usable devices
  std::string reason;     // why none is usable (empty when devices > 0)
  std::string versions;   // runtime, driver, cuDNN and cuBLAS versions, as far as they can be asked
};

CudaProbe probe_cuda();

// --precision: fp32 everywhere, or TF32 tensor cores for cuDNN convolutions and cuBLAS GEMMs.
enum class Precision { FP32, TF32 };

// The CUDA backend on device N; throws nst::Error when this build has none or the device cannot be used.
std::unique_ptr<Backend> make_cuda_backend(int device, Precision precision);

struct BackendChoice {
  std::unique_ptr<Backend> backend;
  std::string note;  // one line for the user when "auto" fell back to the CPU, else empty
};

// "auto" (CUDA when a usable device exists, else the CPU with a note saying why), "cpu", "cuda" or
// "cuda:N". Anything else is a UsageError; "cuda" without a usable device is an Error.
// conv_algo is the CPU backend's (cuDNN picks its own algorithms).
BackendChoice make_backend(const std::string& device, Precision precision = Precision::FP32, ConvAlgo conv_algo = ConvAlgo::Direct);

// The flags that choose and tune the backend, the same in stylize, batch and bench: name, value
// metavariable and help line of each, and the parsers of their values (a bad one is a UsageError naming the
// flag).
struct FlagText {
  const char* name;
  const char* value;
  const char* help;
};
extern const FlagText kDeviceFlag, kPrecisionFlag, kConvAlgoFlag;
Precision parse_precision(const std::string& value);  // fp32 | tf32
ConvAlgo parse_conv_algo(const std::string& value);   // direct | winograd | fastest

}  // namespace nst
