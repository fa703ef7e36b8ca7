// convert_weights: recognise the source format, read it, attach SPEC §1's preprocessing and provenance,
// and write our HDF5 file.
#include <cstring>
#include <filesystem>
#include <fstream>

#include "convert/convert.h"
#include "nst/error.h"

namespace nst {
namespace {

enum class Format { Pth, Caffe, Keras };

// By the first bytes, not the name: a zip (PK\3\4) or a pickle (0x80 protocol byte) is PyTorch, the HDF5
// signature is Keras, anything else is tried as a protobuf (Caffe's wire format has no magic).
Format sniff(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path + ": cannot open");
  unsigned char b[8] = {};
  in.read(reinterpret_cast<char*>(b), sizeof b);
  if (in.gcount() < 4) throw Error(path + ": too short to be a model file");
  if (b[0] == 'P' && b[1] == 'K' && b[2] == 3 && b[3] == 4) return Format::Pth;
  if (b[0] == 0x80) return Format::Pth;
  if (std::memcmp(b, "\x89HDF\r\n\x1a\n", 8) == 0) return Format::Keras;
  return Format::Caffe;
}

Normalization preset(Source s) {
  return s == Source::Torchvision ? torchvision_normalization() : caffe_normalization();
}

const char* model_name(Source s, Format f) {
  if (f == Format::Pth) return s == Source::Torchvision ? "torchvision vgg19 (.pth)" : "VGG19 with Caffe weights (.pth, e.g. jcjohnson's vgg19-d01eb7cb)";
  if (f == Format::Caffe) return "caffe VGG_ILSVRC_19_layers";
  return "keras vgg19_weights_tf_dim_ordering_tf_kernels_notop";
}

}  // namespace

Source parse_source(const std::string& name) {
  if (name == "torchvision") return Source::Torchvision;
  if (name == "caffe") return Source::Caffe;
  if (name == "keras") return Source::Keras;
  throw UsageError("expected torchvision, caffe or keras, got '" + name + "'");  // the flag table names --source
}

void convert_weights(const std::string& in, const std::string& out, const std::string& source) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(in, ec)) throw Error(in + ": no such file");
  Format f = sniff(in);
  Source s = !source.empty() ? parse_source(source) : f == Format::Pth ? Source::Torchvision : f == Format::Caffe ? Source::Caffe : Source::Keras;
  Weights w;
  w.convs = f == Format::Pth ? read_pth(in) : f == Format::Caffe ? read_caffemodel(in) : read_keras_h5(in);
  w.norm = preset(s);
  w.source_model = model_name(s, f);
  w.source_sha256 = sha256_file(in);
  save_weights(out, w);
}

}  // namespace nst
