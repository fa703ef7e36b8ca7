// Keras .h5 reader: the layout that Keras 2's save_weights writes (and `model_weights` of a full-model
// save), as in vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5. One group per layer, named as the
// layer (block1_conv1 .. block5_conv4 for conv1_1 .. conv5_4); its `weight_names` attribute lists the
// paths of its datasets, relative to the group, in the order [kernel, bias]. Files without the attribute
// are read by the two names Keras has used: `block1_conv1_W_1:0` / `_b_1:0` (Keras 1, the published
// notop file) and `block1_conv1/kernel:0` / `bias:0` (Keras 2, nested one group deeper). Kernels are HWIO
// [3,3,in,out] (TensorFlow's cross-correlation, like ours), transposed here to OIHW.
#include <hdf5.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "h5.h"
#include "convert/convert.h"
#include "nst/error.h"

// Wraps one HDF5 call whose failure is a bug or an I/O error, not a malformed file.
#define NST_H5_CHECK(call)                                                                                             \
  do {                                                                                                                 \
    if ((call) < 0)                                                                                                    \
      throw ::nst::Error(std::string("HDF5 call failed: " #call " at ") + ::nst::source_location(__FILE__, __LINE__)); \
  } while (0)

namespace nst {

namespace {

constexpr hsize_t kMaxChannels = 4096;  // the limit nst::load_weights applies too

using h5::H5Id;  // src/h5.h

std::string dims_str(const std::vector<hsize_t>& d) {
  std::string s = "[";
  for (std::size_t i = 0; i < d.size(); ++i) s += (i ? "," : "") + std::to_string(d[i]);
  return s + "]";
}

// conv3_2 -> block3_conv2
std::string keras_name(const std::string& conv) { return std::string("block") + conv[4] + "_conv" + conv[6]; }

// Whether every link along a relative path exists (H5Lexists fails, rather than returning false, when
// a group in the middle is missing).
bool path_exists(hid_t loc, const std::string& rel) {
  for (std::size_t slash = rel.find('/');; slash = rel.find('/', slash + 1)) {
    std::string prefix = rel.substr(0, slash);
    if (H5Lexists(loc, prefix.c_str(), H5P_DEFAULT) <= 0) return false;
    if (slash == std::string::npos) return true;
  }
}

class KerasReader {
 public:
  explicit KerasReader(std::string path) : path_(std::move(path)) {}

  VggConvs read() {
    // HDF5 prints a stack of errors to stderr by default; we report one line of our own instead.
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    std::error_code ec;
    if (!std::filesystem::exists(path_, ec)) fail("no such file");
    if (std::filesystem::is_directory(path_, ec)) fail("is a directory, not a Keras weights file");
    if (H5Fis_hdf5(path_.c_str()) <= 0) fail("not an HDF5 file (expected a Keras .h5 weights file)");
    H5Id file(H5Fopen(path_.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
    if (!file.valid()) fail("cannot be opened as HDF5 (truncated or corrupt file)");
    // A full-model save (model.save) keeps the weights in `model_weights`; save_weights at the root.
    H5Id wrapper;
    hid_t root = file.get();
    if (H5Lexists(root, "model_weights", H5P_DEFAULT) > 0) {
      wrapper = H5Id(H5Gopen2(root, "model_weights", H5P_DEFAULT), H5Gclose);
      if (!wrapper.valid()) fail("model_weights is not a group");
      root = wrapper.get();
    }
    VggConvs out;
    hsize_t in = 3;
    for (std::size_t i = 0; i < 16; ++i) {
      std::string layer = keras_name(vgg19_conv_names()[i]);
      if (H5Lexists(root, layer.c_str(), H5P_DEFAULT) <= 0) fail("no layer " + layer + " (not VGG19?)");
      H5Id g(H5Gopen2(root, layer.c_str(), H5P_DEFAULT), H5Gclose);
      if (!g.valid()) fail(layer + " is not a group");
      auto [kernel_path, bias_path] = weight_paths(g.get(), layer);

      std::vector<hsize_t> k = shape(g.get(), layer, kernel_path);
      std::string expect = "[3,3," + std::to_string(in) + ",out]";
      if (k.size() != 4 || k[0] != 3 || k[1] != 3)
        fail(layer + " has kernel " + dims_str(k) + ", expected " + expect + " (HWIO)");
      if (k[2] != in) fail(layer + " has kernel " + dims_str(k) + ", expected in=" + std::to_string(in));
      hsize_t o = k[3];
      if (o < 1 || o > kMaxChannels)
        fail(layer + " has kernel " + dims_str(k) + ", expected 1.." + std::to_string(kMaxChannels) +
             " output channels");
      std::vector<hsize_t> b = shape(g.get(), layer, bias_path);
      if (b != std::vector<hsize_t>{o})
        fail(layer + " has bias " + dims_str(b) + ", expected [" + std::to_string(o) + "]");

      std::vector<float> hwio = values(g.get(), layer, kernel_path, "kernel", 9 * in * o);
      ConvWeights& cw = out[i];
      cw.out = int(o);
      cw.in = int(in);
      cw.bias = values(g.get(), layer, bias_path, "bias", o);
      cw.weight.resize(hwio.size());
      for (hsize_t oc = 0; oc < o; ++oc)
        for (hsize_t ic = 0; ic < in; ++ic)
          for (hsize_t t = 0; t < 9; ++t) cw.weight[(oc * in + ic) * 9 + t] = hwio[(t * in + ic) * o + oc];
      in = o;
    }
    return out;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const { throw Error(path_ + ": " + what); }

  // The group-relative paths of the kernel and the bias.
  std::pair<std::string, std::string> weight_paths(hid_t g, const std::string& layer) {
    if (std::optional<std::vector<std::string>> names = string_list(g, layer, "weight_names")) {
      if (names->size() != 2)
        fail(layer + " lists " + std::to_string(names->size()) + " weights in weight_names, expected 2 (kernel, bias)");
      for (const std::string& n : *names) {
        if (n.empty() || n.front() == '/' || n.back() == '/' || n.find("//") != std::string::npos)
          fail(layer + " lists '" + n + "' in weight_names, not a path inside the group");
        if (!path_exists(g, n)) fail(layer + " lists '" + n + "' in weight_names, but has no such dataset");
      }
      return {(*names)[0], (*names)[1]};
    }
    const std::pair<std::string, std::string> patterns[] = {{layer + "_W_1:0", layer + "_b_1:0"},
                                                            {layer + "/kernel:0", layer + "/bias:0"}};
    for (const auto& [k, b] : patterns)
      if (path_exists(g, k) && path_exists(g, b)) return {k, b};
    fail(layer + " has no weight_names attribute and neither " + patterns[0].first + " nor " + patterns[1].first);
  }

  // A string array attribute (fixed- or variable-length strings), or the chunks NAME0, NAME1, ... that
  // Keras writes when one attribute would exceed HDF5's 64 KiB object header. None if absent.
  std::optional<std::vector<std::string>> string_list(hid_t obj, const std::string& where, const std::string& name) {
    if (H5Aexists(obj, name.c_str()) > 0) return strings(obj, where, name);
    if (H5Aexists(obj, (name + "0").c_str()) <= 0) return std::nullopt;
    std::vector<std::string> all;
    for (int chunk = 0; H5Aexists(obj, (name + std::to_string(chunk)).c_str()) > 0; ++chunk) {
      std::vector<std::string> part = strings(obj, where, name + std::to_string(chunk));
      all.insert(all.end(), part.begin(), part.end());
    }
    return all;
  }

  std::vector<std::string> strings(hid_t obj, const std::string& where, const std::string& name) {
    std::string what = where + " attribute " + name;
    H5Id a(H5Aopen(obj, name.c_str(), H5P_DEFAULT), H5Aclose);
    if (!a.valid()) fail(what + " cannot be read");
    H5Id type(H5Aget_type(a.get()), H5Tclose);
    H5Id space(H5Aget_space(a.get()), H5Sclose);
    if (!type.valid() || !space.valid()) fail(what + " cannot be read");
    hssize_t n = H5Sget_simple_extent_npoints(space.get());
    if (n < 0) fail(what + " cannot be read");
    // Keras writes np.asarray([]), an empty float64 array, for a layer without weights.
    if (n == 0) return {};
    if (H5Tget_class(type.get()) != H5T_STRING) fail(what + " is not a list of strings");
    if (n > 1024) fail(what + " lists " + std::to_string(n) + " names");
    H5Id mem(H5Tcopy(H5T_C_S1), H5Tclose);
    NST_H5_CHECK(H5Tset_cset(mem.get(), H5Tget_cset(type.get())));
    std::vector<std::string> out;
    if (H5Tis_variable_str(type.get()) > 0) {
      NST_H5_CHECK(H5Tset_size(mem.get(), H5T_VARIABLE));
      std::vector<char*> buf(static_cast<std::size_t>(n), nullptr);
      herr_t r = H5Aread(a.get(), mem.get(), buf.data());
      for (char* s : buf) {
        if (r >= 0) out.emplace_back(s ? s : "");
        if (s) H5free_memory(s);
      }
      if (r < 0) fail(what + " cannot be read");
      return out;
    }
    std::size_t size = H5Tget_size(type.get());
    if (size == 0 || size > 4096) fail(what + " holds strings of " + std::to_string(size) + " bytes");
    NST_H5_CHECK(H5Tset_size(mem.get(), size));
    NST_H5_CHECK(H5Tset_strpad(mem.get(), H5T_STR_NULLPAD));
    std::vector<char> buf(size * static_cast<std::size_t>(n));
    if (H5Aread(a.get(), mem.get(), buf.data()) < 0) fail(what + " cannot be read");
    for (hssize_t k = 0; k < n; ++k) {
      const char* s = buf.data() + std::size_t(k) * size;
      out.emplace_back(s, std::find(s, s + size, '\0'));
    }
    return out;
  }

  H5Id open_dataset(hid_t g, const std::string& layer, const std::string& rel) {
    H5Id ds(H5Dopen2(g, rel.c_str(), H5P_DEFAULT), H5Dclose);
    if (!ds.valid()) fail(layer + "/" + rel + " is not a dataset");
    return ds;
  }

  std::vector<hsize_t> shape(hid_t g, const std::string& layer, const std::string& rel) {
    H5Id ds = open_dataset(g, layer, rel);
    H5Id space(H5Dget_space(ds.get()), H5Sclose);
    int rank = space.valid() ? H5Sget_simple_extent_ndims(space.get()) : -1;
    if (rank < 0) fail(layer + "/" + rel + " cannot be read");
    std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
    if (rank > 0) H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
    return dims;
  }

  // The n float32 values of a dataset whose shape has been checked.
  std::vector<float> values(hid_t g, const std::string& layer, const std::string& rel, const char* what, hsize_t n) {
    std::string where = layer + "/" + rel;
    H5Id ds = open_dataset(g, layer, rel);
    H5Id type(H5Dget_type(ds.get()), H5Tclose);
    H5T_class_t cls = H5Tget_class(type.get());
    std::size_t size = H5Tget_size(type.get());
    if (cls != H5T_FLOAT || size != 4) {
      std::string got = cls == H5T_FLOAT     ? "float" + std::to_string(8 * size)
                        : cls == H5T_INTEGER ? "integer"
                                             : "not a number";
      fail(where + " is " + got + ", expected float32");
    }
    // A dataset can declare more values than the file holds (never-written chunks read as fill values):
    // uncompressed data must occupy 4 bytes per value.
    H5Id dcpl(H5Dget_create_plist(ds.get()), H5Pclose);
    if (dcpl.valid() && H5Pget_nfilters(dcpl.get()) == 0 && H5Dget_storage_size(ds.get()) < n * sizeof(float))
      fail(where + " holds " + std::to_string(H5Dget_storage_size(ds.get())) + " bytes of data for " +
           std::to_string(n) + " values (truncated or never written)");
    std::vector<float> v(n);
    if (H5Dread(ds.get(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()) < 0)
      fail(where + " cannot be read (truncated or corrupt file)");
    for (std::size_t k = 0; k < v.size(); ++k)
      if (!std::isfinite(v[k])) fail(layer + " " + what + " holds NaN or Inf at index " + std::to_string(k));
    return v;
  }

  std::string path_;
};

}  // namespace

VggConvs read_keras_h5(const std::string& path) { return KerasReader(path).read(); }

}  // namespace nst
