// Caffe .caffemodel reader: a hand-written reader of the protobuf wire format, for the one message tree
// we need (NetParameter -> layers -> blobs). The real VGG_ILSVRC_19_layers.caffemodel is 575 MB, of which
// fc6 alone is 411 MB, so the file is streamed once from front to back: top-level fields are read one at
// a time, layers other than conv1_1..conv5_4 are skipped by seeking past their blobs, and only the 32 blobs
// of the convolutions are decoded. Every length is checked against the message that holds it and against
// the file's size before anything is read or allocated, so a corrupt length cannot make us allocate more
// than the file holds.
//
// Field numbers (BVLC caffe.proto):
//   NetParameter      name=1 layers=2 (V1LayerParameter) input=3 input_dim=4 force_backward=5 state=6
//                     debug_info=7 input_shape=8 layer=100 (LayerParameter)
//   V1LayerParameter  name=4 type=5 (enum; CONVOLUTION=4) blobs=6
//   LayerParameter    name=1 type=2 (string) blobs=7
//   BlobProto         num=1 channels=2 height=3 width=4 (legacy dims) data=5 (float) diff=6 shape=7
//                     double_data=8 double_diff=9
//   BlobShape         dim=1 (int64)
#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "convert/convert.h"
#include "nst/error.h"

namespace nst {

namespace {

enum Wire : int { kVarint = 0, kFixed64 = 1, kLen = 2, kFixed32 = 5 };

constexpr std::uint64_t kMaxName = 1 << 16;  // layer names and types are short; longer means corrupt
constexpr int kMaxChannels = 4096;           // the limit nst::load_weights applies too

std::string dims_str(const std::vector<std::int64_t>& d) {
  std::string s = "[";
  for (std::size_t i = 0; i < d.size(); ++i) s += (i ? "," : "") + std::to_string(d[i]);
  return s + "]";
}

// Index of a layer name among VGG19's convolutions, or -1.
int conv_index(const std::string& name) {
  for (std::size_t i = 0; i < 16; ++i)
    if (name == vgg19_conv_names()[i]) return int(i);
  return -1;
}

struct Blob {
  std::vector<std::int64_t> shape;        // from BlobShape
  std::int64_t legacy[4] = {0, 0, 0, 0};  // num, channels, height, width
  bool has_legacy = false;
  std::vector<float> data;

  // As Caffe's Blob::FromProto: any legacy dimension present means the legacy 4-D shape.
  std::vector<std::int64_t> dims() const {
    if (has_legacy) return {legacy[0], legacy[1], legacy[2], legacy[3]};
    return shape;
  }
};

// A convolution found in the file: its blobs and where it was.
struct ConvLayer {
  bool found = false;
  int index = 0;  // 1-based position among the file's layers
  bool is_conv = false;
  std::string type;  // for the error message when it is not a convolution
  std::vector<Blob> blobs;
};

class CaffeReader {
 public:
  explicit CaffeReader(std::string path) : path_(std::move(path)) {}

  VggConvs read() {
    open();
    std::uint64_t end = size_;
    while (pos_ < end) {
      field_ = 0;
      std::uint64_t tag_at = pos_;
      auto [field, wire] = tag(end);
      field_ = int(field);
      if (!top_level_field_ok(field, wire)) {
        std::string what = "field " + std::to_string(field) + " with wire type " + std::to_string(wire) + " at byte " +
                           std::to_string(tag_at) + " is not a NetParameter field";
        if (layers_seen_ == 0) fail("not a Caffe model (" + what + ")");
        fail("corrupt after layer " + std::to_string(layers_seen_) + ": " + what);
      }
      if (field == 2 || field == 100) {
        layer(field == 2);
      } else {
        skip(wire, end);
      }
    }
    if (layers_seen_ == 0) fail("not a Caffe model (no layers)");
    return assemble();
  }

 private:
  // --- errors ---------------------------------------------------------------------------------------

  [[noreturn]] void fail(const std::string& what) const { throw Error(path_ + ": " + what); }

  std::string where() const {
    std::string s = "layer " + std::to_string(layer_index_);
    std::string in = layer_name_;
    if (field_) in += (in.empty() ? "" : ", ") + std::string("field ") + std::to_string(field_);
    return in.empty() ? s : s + " (" + in + ")";
  }

  // A read of n bytes at pos_ would pass `end`, the end of the enclosing message. Only a message that
  // reaches the end of the file (the top level, or a layer that was cut) can have been truncated; any
  // other overrun is a corrupt length.
  [[noreturn]] void overrun(std::uint64_t n, std::uint64_t end) const {
    bool cut = end == size_;
    if (layer_index_ == 0) {
      if (layers_seen_ == 0)
        fail("not a Caffe model (field " + std::to_string(field_) + " at byte " + std::to_string(pos_) + " needs " +
             std::to_string(n) + " bytes, the file has " + std::to_string(size_ - pos_) + " left)");
      fail((cut ? "truncated after layer " : "corrupt after layer ") + std::to_string(layers_seen_));
    }
    if (cut) fail("truncated inside " + where());
    fail("corrupt " + where() + ": a length runs past the end of its message");
  }

  [[noreturn]] void corrupt(const std::string& what) const {
    if (layer_index_ == 0) {
      if (layers_seen_ == 0) fail("not a Caffe model (" + what + ")");
      fail("corrupt after layer " + std::to_string(layers_seen_) + ": " + what);
    }
    fail("corrupt " + where() + ": " + what);
  }

  // --- the file -------------------------------------------------------------------------------------

  void open() {
    std::error_code ec;
    if (!std::filesystem::exists(path_, ec)) fail("no such file");
    if (std::filesystem::is_directory(path_, ec)) fail("is a directory, not a Caffe model");
    std::uintmax_t size = std::filesystem::file_size(path_, ec);
    if (ec) fail("cannot read: " + ec.message());
    if (!file_.open(path_, std::ios::in | std::ios::binary)) fail("cannot be opened");
    size_ = size;
    if (size_ == 0) fail("not a Caffe model (empty file)");
  }

  // n bytes into dst; the caller has checked that they lie inside the file.
  void read_bytes(void* dst, std::uint64_t n) {
    auto got = file_.sgetn(static_cast<char*>(dst), std::streamsize(n));
    if (got != std::streamsize(n))
      fail("read error at byte " + std::to_string(pos_ + std::uint64_t(got)) + " (file changed?)");
    pos_ += n;
  }

  void seek(std::uint64_t p) {
    if (p == pos_) return;
    auto r = file_.pubseekpos(std::streampos(std::streamoff(p)), std::ios::in);
    if (r == std::streampos(std::streamoff(-1))) fail("cannot seek to byte " + std::to_string(p));
    pos_ = p;
  }

  void need(std::uint64_t n, std::uint64_t end) const {
    if (n > end - pos_) overrun(n, end);
  }

  // --- wire format ----------------------------------------------------------------------------------

  std::uint64_t varint(std::uint64_t end) {
    std::uint64_t at = pos_, v = 0;
    for (int i = 0; i < 10; ++i) {
      need(1, end);
      int c = file_.sbumpc();
      if (c == std::char_traits<char>::eof()) fail("read error at byte " + std::to_string(pos_) + " (file changed?)");
      ++pos_;
      if (i == 9 && c > 1) break;
      v |= std::uint64_t(c & 0x7F) << (7 * i);
      if (!(c & 0x80)) return v;
    }
    corrupt("varint at byte " + std::to_string(at) + " overflows 64 bits");
  }

  std::pair<std::uint64_t, int> tag(std::uint64_t end) {
    std::uint64_t at = pos_;
    std::uint64_t t = varint(end);
    std::uint64_t field = t >> 3;
    int wire = int(t & 7);
    if (field == 0 || field > 536870911)
      corrupt("bad field number " + std::to_string(field) + " at byte " + std::to_string(at));
    if (wire != kVarint && wire != kFixed64 && wire != kLen && wire != kFixed32)
      corrupt("field " + std::to_string(field) + " at byte " + std::to_string(at) + " has wire type " +
              std::to_string(wire) + ", which Caffe does not write");
    return {field, wire};
  }

  // The length of a length-delimited field, checked against the enclosing message.
  std::uint64_t length(std::uint64_t end) {
    std::uint64_t n = varint(end);
    need(n, end);
    return n;
  }

  void skip(int wire, std::uint64_t end) {
    switch (wire) {
      case kVarint: varint(end); return;
      case kFixed64: need(8, end); return skip_bytes(8);
      case kFixed32: need(4, end); return skip_bytes(4);
      default: return skip_bytes(length(end));
    }
  }

  // Short fields are read (a seek drops the file buffer); blobs of other layers are seeked over.
  void skip_bytes(std::uint64_t n) {
    char scratch[4096];
    if (n <= sizeof scratch) return read_bytes(scratch, n);
    seek(pos_ + n);
  }

  std::string string_field(int wire, std::uint64_t end, const char* what) {
    if (wire != kLen) corrupt(std::string(what) + " has wire type " + std::to_string(wire) + ", expected a string");
    std::uint64_t n = length(end);
    if (n > kMaxName) corrupt(std::string(what) + " is " + std::to_string(n) + " bytes long");
    std::string s(n, '\0');
    read_bytes(s.data(), n);
    return s;
  }

  // n little-endian float32 values, appended to v.
  void floats(std::vector<float>& v, std::uint64_t n) {
    std::size_t at = v.size();
    v.resize(at + n);
    read_bytes(v.data() + at, 4 * n);
    if constexpr (std::endian::native == std::endian::big) {
      for (std::size_t i = at; i < v.size(); ++i) {
        std::uint32_t u;
        std::memcpy(&u, &v[i], 4);
        u = (u >> 24) | ((u >> 8) & 0xFF00) | ((u << 8) & 0xFF0000) | (u << 24);
        std::memcpy(&v[i], &u, 4);
      }
    }
  }

  // --- messages -------------------------------------------------------------------------------------

  static bool top_level_field_ok(std::uint64_t field, int wire) {
    // Caffe's NetParameter is frozen: only these fields exist, which also tells other files apart
    // (an HDF5 or zip file starts with a tag of some other field).
    switch (field) {
      case 1:
      case 2:
      case 3:
      case 6:
      case 8:
      case 100: return wire == kLen;
      case 4: return wire == kVarint || wire == kLen;  // input_dim, repeated int32
      case 5:
      case 7: return wire == kVarint;  // force_backward, debug_info
      default: return false;
    }
  }

  // One layer: V1LayerParameter (`layers`, field 2) or LayerParameter (`layer`, field 100).
  void layer(bool v1) {
    std::uint64_t n = varint(size_);
    ++layers_seen_;
    layer_index_ = layers_seen_;
    layer_name_.clear();
    field_ = 0;
    // A layer that runs past the end of the file is read up to the end, so that the error names the
    // field inside it where the file was cut.
    bool cut = n > size_ - pos_;
    std::uint64_t end = cut ? size_ : pos_ + n;
    const std::uint64_t name_f = v1 ? 4 : 1, type_f = v1 ? 5 : 2, blobs_f = v1 ? 6 : 7;
    bool named = false;
    int want = -1;
    std::optional<std::uint64_t> v1_type;
    std::string type;
    std::vector<Blob> blobs;
    std::vector<std::pair<std::uint64_t, std::uint64_t>> later;  // blobs seen before the name: offset, length
    while (pos_ < end) {
      field_ = 0;
      auto [field, wire] = tag(end);
      field_ = int(field);
      if (field == name_f) {
        layer_name_ = string_field(wire, end, "name");
        named = true;
        want = conv_index(layer_name_);
      } else if (field == type_f && v1) {
        if (wire != kVarint) corrupt("type has wire type " + std::to_string(wire) + ", expected an enum");
        v1_type = varint(end);
      } else if (field == type_f) {
        type = string_field(wire, end, "type");
      } else if (field == blobs_f) {
        if (wire != kLen) corrupt("blob has wire type " + std::to_string(wire) + ", expected a message");
        std::uint64_t len = length(end);
        if (named && want >= 0) {
          blobs.push_back(blob(pos_ + len));
        } else {
          if (!named) later.push_back({pos_, len});
          skip_bytes(len);
        }
      } else {
        skip(wire, end);
      }
    }
    if (cut) fail("truncated inside " + where());  // the cut fell between two fields
    if (want >= 0) {
      // Protobuf allows any field order; Caffe writes the name first, so this is the unusual path.
      for (auto [at, len] : later) {
        seek(at);
        blobs.push_back(blob(at + len));
      }
      seek(end);
      ConvLayer& c = convs_[std::size_t(want)];
      if (c.found)
        fail(layer_name_ + " appears twice (layers " + std::to_string(c.index) + " and " +
             std::to_string(layer_index_) + ")");
      c.found = true;
      c.index = layer_index_;
      c.is_conv = v1 ? v1_type == 4u : type == "Convolution";
      c.type = v1 ? "V1 type " + (v1_type ? std::to_string(*v1_type) : std::string("missing")) : "'" + type + "'";
      c.blobs = std::move(blobs);
    }
    layer_index_ = 0;
    layer_name_.clear();
    field_ = 0;
  }

  Blob blob(std::uint64_t end) {
    Blob b;
    while (pos_ < end) {
      auto [field, wire] = tag(end);
      if (field >= 1 && field <= 4) {
        if (wire != kVarint) corrupt("blob dimension has wire type " + std::to_string(wire));
        b.legacy[field - 1] = std::int64_t(std::int32_t(std::uint32_t(varint(end))));
        b.has_legacy = true;
      } else if (field == 5) {
        if (wire == kFixed32) {
          need(4, end);
          floats(b.data, 1);
        } else if (wire == kLen) {
          std::uint64_t len = length(end);
          if (len % 4) corrupt("packed float data of " + std::to_string(len) + " bytes");
          floats(b.data, len / 4);
        } else {
          corrupt("blob data has wire type " + std::to_string(wire));
        }
      } else if (field == 7) {
        if (wire != kLen) corrupt("blob shape has wire type " + std::to_string(wire));
        std::uint64_t shape_len = length(end);
        std::uint64_t shape_end = pos_ + shape_len;
        while (pos_ < shape_end) {
          auto [f, w] = tag(shape_end);
          if (f != 1) {
            skip(w, shape_end);
          } else if (w == kVarint) {
            dim(b, shape_end);
          } else if (w == kLen) {
            std::uint64_t packed_len = length(shape_end);
            std::uint64_t packed_end = pos_ + packed_len;
            while (pos_ < packed_end) dim(b, packed_end);
          } else {
            corrupt("blob shape dimension has wire type " + std::to_string(w));
          }
        }
      } else if (field == 8) {
        fail(layer_name_ + " holds double_data (float64), expected float32 data");
      } else {
        skip(wire, end);  // diff, double_diff: gradients, not weights
      }
    }
    return b;
  }

  void dim(Blob& b, std::uint64_t end) {
    if (b.shape.size() >= 32) corrupt("blob shape has more than 32 dimensions");  // Caffe's kMaxBlobAxes
    b.shape.push_back(std::int64_t(varint(end)));
  }

  // --- checks ---------------------------------------------------------------------------------------

  VggConvs assemble() {
    VggConvs out;
    std::int64_t in = 3;
    for (std::size_t i = 0; i < 16; ++i) {
      const std::string name = vgg19_conv_names()[i];
      ConvLayer& c = convs_[i];
      if (!c.found) fail("no layer " + name + " (not VGG19?)");
      if (!c.is_conv) fail(name + " is not a convolution (" + c.type + ")");
      if (c.blobs.size() != 2)
        fail(name + " has " + std::to_string(c.blobs.size()) + " blob" + (c.blobs.size() == 1 ? "" : "s") +
             ", expected 2 (weights and bias)");
      std::vector<std::int64_t> w = c.blobs[0].dims(), b = c.blobs[1].dims();
      std::string expect = "[out," + std::to_string(in) + ",3,3]";
      if (w.size() != 4 || w[2] != 3 || w[3] != 3) fail(name + " has weights " + dims_str(w) + ", expected " + expect);
      if (w[1] != in) fail(name + " has weights " + dims_str(w) + ", expected in=" + std::to_string(in));
      std::int64_t o = w[0];
      if (o < 1 || o > kMaxChannels)
        fail(name + " has weights " + dims_str(w) + ", expected 1.." + std::to_string(kMaxChannels) +
             " output channels");
      // Legacy bias blobs are 1x1x1xout.
      bool bias_ok =
          (b.size() == 1 && b[0] == o) || (b.size() == 4 && b[0] == 1 && b[1] == 1 && b[2] == 1 && b[3] == o);
      if (!bias_ok) fail(name + " has bias " + dims_str(b) + ", expected [" + std::to_string(o) + "]");
      std::size_t nw = std::size_t(o) * std::size_t(in) * 9;
      ConvWeights& cw = out[i];
      check_values(name, "weights", c.blobs[0].data, nw, w);
      check_values(name, "bias", c.blobs[1].data, std::size_t(o), b);
      cw.out = int(o);
      cw.in = int(in);
      cw.weight = std::move(c.blobs[0].data);
      cw.bias = std::move(c.blobs[1].data);
      in = o;
    }
    return out;
  }

  void check_values(const std::string& name, const char* what, const std::vector<float>& v, std::size_t n,
                    const std::vector<std::int64_t>& dims) const {
    if (v.size() != n)
      fail(name + " " + what + " hold " + std::to_string(v.size()) + " values, expected " + std::to_string(n) +
           " for " + dims_str(dims));
    for (std::size_t k = 0; k < n; ++k)
      if (!std::isfinite(v[k])) fail(name + " " + what + " hold NaN or Inf at index " + std::to_string(k));
  }

  std::string path_;
  std::filebuf file_;
  std::uint64_t size_ = 0, pos_ = 0;
  int layers_seen_ = 0;
  int layer_index_ = 0;  // the layer being read (1-based), 0 at the top level
  std::string layer_name_;
  int field_ = 0;  // the field being read inside that layer
  std::array<ConvLayer, 16> convs_;
};

}  // namespace

VggConvs read_caffemodel(const std::string& path) { return CaffeReader(path).read(); }

}  // namespace nst
