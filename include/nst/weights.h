// The VGG19 weights file (SPEC §1): HDF5, read and written with the HDF5 C API.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "nst/backend.h"

namespace nst {

// The 16 convolutions of VGG19, in network order.
const std::array<const char*, 16>& vgg19_conv_names();

struct ConvWeights {
  int out = 0, in = 0;
  std::vector<float> weight;  // [out, in, 3, 3]
  std::vector<float> bias;    // [out]
};

struct Weights {
  std::string source_model, source_sha256;
  Normalization norm;
  std::array<ConvWeights, 16> convs;
};

// Reads and validates a weights file; every problem is an nst::Error naming the file, the group and what
// is wrong.
Weights load_weights(const std::string& path);

// Writes a file exactly as SPEC §1 says the writer stores it (fixed-length ASCII strings, int32 version,
// float32 attributes and datasets). Written to PATH.tmp and renamed, so no partial file is left behind.
void save_weights(const std::string& path, const Weights& w);

// Normalisations of the published weights (SPEC §1 table).
Normalization torchvision_normalization();
Normalization caffe_normalization();

// Seeded He-normal weights with the given widths of the five blocks (VGG19: 64,128,256,512,512), for tests
// and for running without the real weights. The same seed gives the same values on every machine.
Weights synthetic_weights(const std::array<int, 5>& widths, std::uint64_t seed, const Normalization& norm);

}  // namespace nst
