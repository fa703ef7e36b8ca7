// Weights file reader and writer (SPEC §1) on the HDF5 C API.
#include "nst/weights.h"

#include <hdf5.h>

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <sstream>

#include "h5.h"
#include "nst/error.h"
#include "nst/text.h"

namespace nst {

const std::array<const char*, 16>& vgg19_conv_names() {
  static const std::array<const char*, 16> names = {
      "conv1_1", "conv1_2", "conv2_1", "conv2_2", "conv3_1", "conv3_2", "conv3_3", "conv3_4",
      "conv4_1", "conv4_2", "conv4_3", "conv4_4", "conv5_1", "conv5_2", "conv5_3", "conv5_4"};
  return names;
}

namespace {

using namespace nst::h5;

// The shortest text that reads back as x: "256", "0", "-1e-09", "255.0000001" (std::to_string gives "-0.000000").
std::string num_str(double x) {
  char buf[32];
  return std::string(buf, std::to_chars(buf, buf + sizeof buf, x).ptr);
}

std::string dims_str(const std::vector<hsize_t>& d) {
  std::string s = "[";
  for (std::size_t i = 0; i < d.size(); ++i) s += (i ? "," : "") + std::to_string(d[i]);
  return s + "]";
}

class Reader {
 public:
  explicit Reader(std::string path) : path_(std::move(path)) {}

  [[noreturn]] void fail(const std::string& where, const std::string& what) const {
    throw Error(path_ + ": " + (where.empty() ? "" : where + ": ") + what);
  }

  H5Id open_file() {
    std::error_code ec;
    if (!std::filesystem::exists(path_, ec)) fail("", "no such file");
    if (std::filesystem::is_directory(path_, ec)) fail("", "is a directory, not a weights file");
    // H5Fis_hdf5 fails alike on a file it cannot open and on one that is not HDF5: tell them apart.
    if (std::FILE* f = std::fopen(path_.c_str(), "rb")) std::fclose(f);
    else fail("", std::string("cannot be read (") + std::strerror(errno) + ")");
    if (std::filesystem::file_size(path_, ec) == 0) fail("", "empty file (an interrupted download or copy?)");
    htri_t is = H5Fis_hdf5(path_.c_str());
    if (is <= 0) {
      // A published VGG19 given as it was downloaded: say how to turn it into ours.
      const std::string ext = lower_extension(path_);
      if (ext == ".pth" || ext == ".pt" || ext == ".caffemodel")
        fail("", "a published VGG19 in its own format, not nst's HDF5 weights; convert it first: nst weights convert " + path_ + " OUT.h5");
      fail("", "not an HDF5 file (nst's weights are made by nst weights convert or nst weights fetch)");
    }
    H5Id f(H5Fopen(path_.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
    if (!f.valid()) fail("", "cannot be opened as HDF5 (truncated or corrupt file)");
    return f;
  }

  H5Id open_attr(hid_t obj, const char* name, const std::string& where) {
    if (H5Aexists(obj, name) <= 0) fail(where, std::string("missing attribute '") + name + "'");
    H5Id a(H5Aopen(obj, name, H5P_DEFAULT), H5Aclose);
    if (!a.valid()) fail(where, std::string("attribute '") + name + "' cannot be read");
    return a;
  }

  hssize_t attr_points(hid_t attr) {
    H5Id space(H5Aget_space(attr), H5Sclose);
    return space.valid() ? H5Sget_simple_extent_npoints(space.get()) : -1;
  }

  std::string string_attr(hid_t obj, const char* name, const std::string& where = "") {
    H5Id a = open_attr(obj, name, where);
    H5Id type(H5Aget_type(a.get()), H5Tclose);
    if (H5Tget_class(type.get()) != H5T_STRING) fail(where, std::string("attribute '") + name + "' is not a string");
    if (attr_points(a.get()) != 1) fail(where, std::string("attribute '") + name + "' is not a single string");
    H5Id mem(H5Tcopy(H5T_C_S1), H5Tclose);
    // HDF5 converts no character set into another: read UTF-8 (h5py's default) as UTF-8.
    NST_H5_CHECK(H5Tset_cset(mem.get(), H5Tget_cset(type.get())));
    if (H5Tis_variable_str(type.get()) > 0) {
      NST_H5_CHECK(H5Tset_size(mem.get(), H5T_VARIABLE));
      char* buf = nullptr;
      if (H5Aread(a.get(), mem.get(), &buf) < 0 || !buf) fail(where, std::string("attribute '") + name + "' cannot be read");
      std::string s = buf;
      H5free_memory(buf);
      return s;
    }
    std::size_t size = H5Tget_size(type.get());
    NST_H5_CHECK(H5Tset_size(mem.get(), size));
    NST_H5_CHECK(H5Tset_strpad(mem.get(), H5T_STR_NULLPAD));
    std::string buf(size + 1, '\0');
    if (H5Aread(a.get(), mem.get(), buf.data()) < 0) fail(where, std::string("attribute '") + name + "' cannot be read");
    return std::string(buf.c_str());
  }

  std::vector<double> number_attr(hid_t obj, const char* name, std::size_t count, bool integer) {
    H5Id a = open_attr(obj, name, "");
    H5Id type(H5Aget_type(a.get()), H5Tclose);
    H5T_class_t cls = H5Tget_class(type.get());
    if (integer ? cls != H5T_INTEGER : (cls != H5T_FLOAT && cls != H5T_INTEGER))
      fail("", std::string("attribute '") + name + "' is not " + (integer ? "an integer" : "a number"));
    hssize_t n = attr_points(a.get());
    if (n != hssize_t(count))
      fail("", std::string("attribute '") + name + "' has " + std::to_string(n) + " values, expected " + std::to_string(count));
    std::vector<double> v(count);
    if (H5Aread(a.get(), H5T_NATIVE_DOUBLE, v.data()) < 0) fail("", std::string("attribute '") + name + "' cannot be read");
    for (double x : v)
      if (!std::isfinite(x)) fail("", std::string("attribute '") + name + "' is not finite");
    return v;
  }

  // Reads a float32 dataset of the expected shape; names what is wrong otherwise.
  std::vector<float> dataset(hid_t group, const std::string& gname, const char* name, const std::vector<hsize_t>& expect) {
    std::string where = gname + "/" + name;
    if (H5Lexists(group, name, H5P_DEFAULT) <= 0) fail(gname, std::string("missing dataset '") + name + "'");
    H5Id ds(H5Dopen2(group, name, H5P_DEFAULT), H5Dclose);
    if (!ds.valid()) fail(where, "is not a dataset");
    H5Id type(H5Dget_type(ds.get()), H5Tclose);
    H5T_class_t cls = H5Tget_class(type.get());
    std::size_t size = H5Tget_size(type.get());
    if (cls != H5T_FLOAT || size != 4) {
      std::string got = cls == H5T_FLOAT ? "float" + std::to_string(8 * size) : cls == H5T_INTEGER ? "integer" : "not a number";
      fail(where, "is " + got + ", expected float32");
    }
    H5Id space(H5Dget_space(ds.get()), H5Sclose);
    int rank = H5Sget_simple_extent_ndims(space.get());
    std::vector<hsize_t> dims(rank > 0 ? rank : 0);
    if (rank > 0) H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
    if (dims != expect) fail(where, "is " + dims_str(dims) + ", expected " + dims_str(expect));
    std::size_t n = 1;
    for (hsize_t d : dims) n *= d;
    // A dataset can declare far more values than the file holds (never-written chunks read as fill
    // values): check before allocating. Uncompressed data must occupy 4 bytes per value.
    H5Id dcpl(H5Dget_create_plist(ds.get()), H5Pclose);
    if (dcpl.valid() && H5Pget_nfilters(dcpl.get()) == 0 && H5Dget_storage_size(ds.get()) < n * sizeof(float))
      fail(where, "holds " + std::to_string(H5Dget_storage_size(ds.get())) + " bytes of data for " + std::to_string(n) +
                      " values (truncated or never written)");
    std::vector<float> v(n);
    if (H5Dread(ds.get(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()) < 0)
      fail(where, "cannot be read (truncated or corrupt file)");
    for (std::size_t i = 0; i < n; ++i)
      if (!std::isfinite(v[i])) fail(where, "holds NaN or Inf at index " + std::to_string(i));
    return v;
  }

  // The [out,in,3,3] shape of a weight dataset, before reading it: `out` is what the file says.
  hsize_t out_channels(hid_t group, const std::string& gname) {
    if (H5Lexists(group, "weight", H5P_DEFAULT) <= 0) fail(gname, "missing dataset 'weight'");
    H5Id ds(H5Dopen2(group, "weight", H5P_DEFAULT), H5Dclose);
    if (!ds.valid()) fail(gname + "/weight", "is not a dataset");
    H5Id space(H5Dget_space(ds.get()), H5Sclose);
    int rank = H5Sget_simple_extent_ndims(space.get());
    if (rank != 4) fail(gname + "/weight", "has rank " + std::to_string(rank) + ", expected 4 ([out,in,3,3])");
    hsize_t dims[4];
    H5Sget_simple_extent_dims(space.get(), dims, nullptr);
    if (dims[0] == 0 || dims[0] > 4096) fail(gname + "/weight", "has " + std::to_string(dims[0]) + " output channels");
    return dims[0];
  }

  Weights read() {
    silence_hdf5();
    H5Id f = open_file();
    Weights w;
    std::string format = string_attr(f.get(), "format");
    if (format != "nst-vgg19") fail("", "format is '" + format + "', expected 'nst-vgg19'");
    double version = number_attr(f.get(), "format_version", 1, true)[0];
    if (version != 1) fail("", "format_version is " + std::to_string(long(version)) + ", this build reads version 1");
    w.source_model = string_attr(f.get(), "source_model");
    w.source_sha256 = string_attr(f.get(), "source_sha256");
    std::string order = string_attr(f.get(), "input_channel_order");
    if (order != "RGB" && order != "BGR") fail("", "input_channel_order is '" + order + "', expected RGB or BGR");
    w.norm.bgr = order == "BGR";
    double scale = number_attr(f.get(), "input_scale", 1, false)[0];
    if (scale != 1 && scale != 255) fail("", "input_scale is " + num_str(scale) + ", expected 1 or 255");
    w.norm.scale = scale;
    auto mean = number_attr(f.get(), "mean", 3, false);
    auto stdv = number_attr(f.get(), "std", 3, false);
    for (int c = 0; c < 3; ++c) {
      if (!(stdv[c] > 0)) fail("", "std[" + std::to_string(c) + "] is " + num_str(stdv[c]) + ", expected > 0");
      w.norm.mean[c] = mean[c];
      w.norm.std[c] = stdv[c];
    }
    hsize_t in = 3;
    for (std::size_t i = 0; i < 16; ++i) {
      std::string g = vgg19_conv_names()[i];
      if (H5Lexists(f.get(), g.c_str(), H5P_DEFAULT) <= 0) fail("", "missing group '" + g + "'");
      H5Id grp(H5Gopen2(f.get(), g.c_str(), H5P_DEFAULT), H5Gclose);
      if (!grp.valid()) fail(g, "is not a group");
      hsize_t out = out_channels(grp.get(), g);
      ConvWeights& cw = w.convs[i];
      cw.weight = dataset(grp.get(), g, "weight", {out, in, 3, 3});
      cw.bias = dataset(grp.get(), g, "bias", {out});
      cw.out = int(out);
      cw.in = int(in);
      in = out;
    }
    return w;
  }

 private:
  std::string path_;
};

// splitmix64: a tiny generator whose output is the same on every platform (std::normal_distribution is not).
struct Rng {
  std::uint64_t s;
  std::uint64_t next() {
    std::uint64_t z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  double uniform() { return (double(next() >> 11) + 0.5) * 0x1.0p-53; }  // (0,1)
  double normal() { return std::sqrt(-2 * std::log(uniform())) * std::cos(6.283185307179586 * uniform()); }
};

}  // namespace

Weights load_weights(const std::string& path) { return Reader(path).read(); }

void save_weights(const std::string& path, const Weights& w) {
  write_atomically(path, "weights file", [&](hid_t f) {
    write_string_attr(f, "format", "nst-vgg19");
    std::int32_t version = 1;
    write_number_attr(f, "format_version", H5T_STD_I32LE, H5T_NATIVE_INT32, &version, 1, true);
    write_string_attr(f, "source_model", w.source_model);
    write_string_attr(f, "source_sha256", w.source_sha256);
    write_string_attr(f, "input_channel_order", w.norm.bgr ? "BGR" : "RGB");
    // SPEC §1: the writer stores the floats as float32 (HDF5 rounds the doubles on writing).
    write_number_attr(f, "input_scale", H5T_IEEE_F32LE, H5T_NATIVE_DOUBLE, &w.norm.scale, 1, true);
    write_number_attr(f, "mean", H5T_IEEE_F32LE, H5T_NATIVE_DOUBLE, w.norm.mean, 3, false);
    write_number_attr(f, "std", H5T_IEEE_F32LE, H5T_NATIVE_DOUBLE, w.norm.std, 3, false);
    for (std::size_t i = 0; i < 16; ++i) {
      const ConvWeights& cw = w.convs[i];
      NST_ASSERT(cw.weight.size() == std::size_t(cw.out) * cw.in * 9 && cw.bias.size() == std::size_t(cw.out),
                 std::string("weights of ") + vgg19_conv_names()[i] + " do not match their shape");
      H5Id g(H5Gcreate2(f, vgg19_conv_names()[i], H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose);
      NST_H5_CHECK(g.get());
      write_dataset(g.get(), "weight", cw.weight, {hsize_t(cw.out), hsize_t(cw.in), 3, 3});
      write_dataset(g.get(), "bias", cw.bias, {hsize_t(cw.out)});
    }
  });
}

Normalization torchvision_normalization() {
  Normalization n;
  n.bgr = false;
  n.scale = 1;
  const double mean[3] = {0.485, 0.456, 0.406}, stdv[3] = {0.229, 0.224, 0.225};
  for (int c = 0; c < 3; ++c) n.mean[c] = mean[c], n.std[c] = stdv[c];
  return n;
}

Normalization caffe_normalization() {
  Normalization n;
  n.bgr = true;
  n.scale = 255;
  const double mean[3] = {103.939, 116.779, 123.68};
  for (int c = 0; c < 3; ++c) n.mean[c] = mean[c], n.std[c] = 1;
  return n;
}

Weights synthetic_weights(const std::array<int, 5>& widths, std::uint64_t seed, const Normalization& norm) {
  Weights w;
  std::ostringstream model;
  model << "synthetic VGG19 widths " << widths[0] << "," << widths[1] << "," << widths[2] << "," << widths[3] << ","
        << widths[4] << " seed " << seed;
  w.source_model = model.str();
  w.norm = norm;
  Rng rng{seed};
  int in = 3;
  for (std::size_t i = 0; i < 16; ++i) {
    int block = vgg19_conv_names()[i][4] - '1';
    int out = widths[block];
    if (out <= 0) throw UsageError("synthetic weights: block width " + std::to_string(out) + " must be positive");
    ConvWeights& cw = w.convs[i];
    cw.out = out;
    cw.in = in;
    cw.weight.resize(std::size_t(out) * in * 9);
    cw.bias.resize(out);
    double sd = std::sqrt(2.0 / (9.0 * in));  // He initialisation keeps activations O(1) through 16 ReLU convs
    for (float& v : cw.weight) v = float(sd * rng.normal());
    for (float& v : cw.bias) v = float(0.01 * rng.normal());
    in = out;
  }
  return w;
}

}  // namespace nst
