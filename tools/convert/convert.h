// Converting the published VGG19 weights to our HDF5 file (SPEC §1), with no Python framework: readers
// for torchvision/PyTorch .pth (legacy pickle stream and zip archives), Caffe .caffemodel (protobuf) and
// Keras .h5. Each reader returns the 16 convolutions in network order, OIHW float32, and rejects anything
// that is not VGG19 with an nst::Error naming the file and what is wrong.
#pragma once
#include <array>
#include <string>

#include "nst/weights.h"

namespace nst {

using VggConvs = std::array<ConvWeights, 16>;

VggConvs read_pth(const std::string& path);         // tools/convert/pth.cpp
VggConvs read_caffemodel(const std::string& path);  // tools/convert/caffemodel.cpp
VggConvs read_keras_h5(const std::string& path);    // tools/convert/keras.cpp

// The preprocessing presets of SPEC §1's table.
enum class Source { Torchvision, Caffe, Keras };
Source parse_source(const std::string& name);  // "torchvision" | "caffe" | "keras"; UsageError otherwise

// Reads IN (its format recognised from its first bytes), fills the SPEC §1 attributes for `source`
// (default: torchvision for .pth, caffe for .caffemodel, keras for .h5) and `source_sha256`, and writes OUT
// via a temporary file. `source` exists because jcjohnson's vgg19-d01eb7cb.pth has torchvision's key names
// but Caffe's weights and preprocessing.
void convert_weights(const std::string& in, const std::string& out, const std::string& source = "");

// Lower-case hex digests of a whole file (tools/convert/digest.cpp).
std::string sha256_file(const std::string& path);
std::string md5_file(const std::string& path);

}  // namespace nst
