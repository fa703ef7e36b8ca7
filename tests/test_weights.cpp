// The weights file of SPEC §1: writer/reader round trip, the committed fixtures (both attribute flavours),
// and one test per way a file can be malformed, each checking the exact one-line error.
#include <fcntl.h>
#include <hdf5.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <limits>
#include <string>
#include <vector>

#include "nst/error.h"
#include "nst/weights.h"
#include "test_util.h"

using namespace nst;

namespace {

namespace fs = std::filesystem;

constexpr std::array<int, 5> kMini = {4, 8, 16, 32, 32};

using nst::test::TempDir;

// Closes an HDF5 identifier at the end of the scope.
struct H5Handle {
  hid_t id;
  herr_t (*close)(hid_t);
  H5Handle(hid_t i, herr_t (*c)(hid_t)) : id(i), close(c) { REQUIRE(id >= 0); }
  ~H5Handle() { close(id); }
  H5Handle(const H5Handle&) = delete;
  H5Handle& operator=(const H5Handle&) = delete;
};

struct RwFile : H5Handle {
  explicit RwFile(const std::string& path) : H5Handle(H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT), H5Fclose) {}
};

// A valid mini-VGG19 file (4,8,16,32,32, torchvision normalisation), to be broken by the test.
std::string write_mini(const TempDir& dir, const std::string& name = "w.h5") {
  std::string p = dir.file(name);
  save_weights(p, synthetic_weights(kMini, 7, torchvision_normalization()));
  return p;
}

void delete_attr(const std::string& path, const char* name) {
  RwFile f(path);
  REQUIRE(H5Adelete(f.id, name) >= 0);
}

// Replaces (or adds) a root attribute; `dims` empty means a scalar.
void set_attr(const std::string& path, const char* name, hid_t file_type, hid_t mem_type, const void* data,
              const std::vector<hsize_t>& dims = {}) {
  RwFile f(path);
  if (H5Aexists(f.id, name) > 0) REQUIRE(H5Adelete(f.id, name) >= 0);
  H5Handle space(dims.empty() ? H5Screate(H5S_SCALAR) : H5Screate_simple(int(dims.size()), dims.data(), nullptr),
                 H5Sclose);
  H5Handle a(H5Acreate2(f.id, name, file_type, space.id, H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
  REQUIRE(H5Awrite(a.id, mem_type, data) >= 0);
}

// A fixed-length string attribute in the given character set, as the writer (ASCII) or another tool stores it.
void set_string_attr(const std::string& path, const char* name, const std::string& value,
                     H5T_cset_t cset = H5T_CSET_ASCII) {
  H5Handle type(H5Tcopy(H5T_C_S1), H5Tclose);
  REQUIRE(H5Tset_size(type.id, value.size() + 1) >= 0);
  REQUIRE(H5Tset_strpad(type.id, H5T_STR_NULLTERM) >= 0);
  REQUIRE(H5Tset_cset(type.id, cset) >= 0);
  set_attr(path, name, type.id, type.id, value.c_str());
}

void delete_link(const std::string& path, const char* name) {
  RwFile f(path);
  REQUIRE(H5Ldelete(f.id, name, H5P_DEFAULT) >= 0);
}

// Replaces dataset `name` (e.g. "conv2_1/weight") by one of another type or shape.
void replace_dataset(const std::string& path, const char* name, hid_t file_type, hid_t mem_type,
                     const std::vector<hsize_t>& dims, const void* data) {
  RwFile f(path);
  REQUIRE(H5Ldelete(f.id, name, H5P_DEFAULT) >= 0);
  H5Handle space(H5Screate_simple(int(dims.size()), dims.data(), nullptr), H5Sclose);
  H5Handle ds(H5Dcreate2(f.id, name, file_type, space.id, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Dclose);
  REQUIRE(H5Dwrite(ds.id, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) >= 0);
}

// Overwrites one element of a float32 dataset in place.
void poke(const std::string& path, const char* name, std::size_t index, float value) {
  RwFile f(path);
  H5Handle ds(H5Dopen2(f.id, name, H5P_DEFAULT), H5Dclose);
  H5Handle space(H5Dget_space(ds.id), H5Sclose);
  std::vector<float> v(std::size_t(H5Sget_simple_extent_npoints(space.id)));
  REQUIRE(index < v.size());
  REQUIRE(H5Dread(ds.id, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()) >= 0);
  v[index] = value;
  REQUIRE(H5Dwrite(ds.id, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()) >= 0);
}

// Keeps the first `size` bytes of a file.
void truncate_to(const std::string& path, std::uintmax_t size) {
  REQUIRE(size < fs::file_size(path));
  fs::resize_file(path, size);
  REQUIRE(fs::file_size(path) == size);
}

std::vector<float> floats(std::size_t n, float value) { return std::vector<float>(n, value); }

bool bitwise_equal(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
}

bool same_weights(const Weights& a, const Weights& b) {
  for (std::size_t i = 0; i < 16; ++i) {
    const ConvWeights &x = a.convs[i], &y = b.convs[i];
    if (x.out != y.out || x.in != y.in || !bitwise_equal(x.weight, y.weight) || !bitwise_equal(x.bias, y.bias))
      return false;
  }
  return true;
}

// x rounded to float32. Through a volatile: GCC 12.2's SLP vectorizer (-O2/-O3) drops the rounding of some
// elements of a loop of double(float(x)) over two arrays, as as_float32 below would be.
double f32(double x) {
  volatile float f = float(x);
  return f;
}

// What load_weights gives back for a normalisation that save_weights wrote: SPEC §1 stores the floats as
// float32, so each value comes back rounded to float.
Normalization as_float32(const Normalization& n) {
  Normalization r = n;
  r.scale = f32(n.scale);
  for (int c = 0; c < 3; ++c) {
    r.mean[c] = f32(n.mean[c]);
    r.std[c] = f32(n.std[c]);
  }
  return r;
}

void check_same_norm(const Normalization& a, const Normalization& b) {
  CHECK(a.bgr == b.bgr);
  CHECK(a.scale == b.scale);
  for (int c = 0; c < 3; ++c) {
    CHECK(a.mean[c] == b.mean[c]);
    CHECK(a.std[c] == b.std[c]);
  }
}

// `out` of each of the 16 convolutions for the given block widths; `in` is 3 and then the previous `out`.
void check_widths(const Weights& w, const std::array<int, 5>& widths) {
  int in = 3;
  for (std::size_t i = 0; i < 16; ++i) {
    const char* name = vgg19_conv_names()[i];
    INFO(name);
    int out = widths[std::size_t(name[4] - '1')];
    CHECK(w.convs[i].out == out);
    CHECK(w.convs[i].in == in);
    CHECK(w.convs[i].weight.size() == std::size_t(out) * std::size_t(in) * 9);
    CHECK(w.convs[i].bias.size() == std::size_t(out));
    in = out;
  }
}

// Runs `fn` with stderr (fd 2) sent to a file and returns what was written there.
std::string capture_stderr(const std::string& file, const std::function<void()>& fn) {
  std::fflush(stderr);
  int saved = ::dup(2);
  REQUIRE(saved >= 0);
  int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  REQUIRE(fd >= 0);
  ::dup2(fd, 2);
  ::close(fd);
  struct Restore {
    int saved_fd;
    ~Restore() {
      std::fflush(stderr);
      ::dup2(saved_fd, 2);
      ::close(saved_fd);
    }
  } restore{saved};
  fn();
  std::fflush(stderr);
  std::ifstream in(file);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

herr_t print_hdf5_stack(hid_t stack, void* stream) { return H5Eprint2(stack, static_cast<FILE*>(stream)); }

}  // namespace

// load_weights(path) throws nst::Error whose message is exactly "<path>: <what>".
#define CHECK_LOAD_ERROR(path, what)                                                        \
  do {                                                                                      \
    const std::string path_ = (path);                                                       \
    CHECK_THROWS_AS(load_weights(path_), ::nst::Error);                                     \
    CHECK_THROWS_WITH(load_weights(path_), Catch::Equals(path_ + ": " + std::string(what))); \
  } while (0)

// ---------------------------------------------------------------------------------------------------------
// Round trip and synthetic weights

TEST_CASE("weights round-trip through save_weights and load_weights", "[weights]") {
  TempDir dir;
  for (bool caffe : {false, true}) {
    DYNAMIC_SECTION((caffe ? "caffe" : "torchvision") << " normalisation") {
      Weights w = synthetic_weights(kMini, 11, caffe ? caffe_normalization() : torchvision_normalization());
      w.source_sha256 = "dcbb9e9dbf4e1ec0eb82cfb7ea7e0cfd5b6d8ee0a1bb09b3d7c4ab0a08e7fd69";
      std::string p = dir.file("rt.h5");
      save_weights(p, w);
      CHECK_FALSE(fs::exists(p + ".tmp"));
      Weights r = load_weights(p);
      CHECK(r.source_model == w.source_model);
      CHECK(r.source_model == "synthetic VGG19 widths 4,8,16,32,32 seed 11");
      CHECK(r.source_sha256 == w.source_sha256);
      check_same_norm(r.norm, as_float32(w.norm));
      check_widths(r, kMini);
      CHECK(same_weights(r, w));
    }
  }
}

TEST_CASE("synthetic weights depend only on the seed", "[weights]") {
  Weights a = synthetic_weights(kMini, 5, torchvision_normalization());
  Weights b = synthetic_weights(kMini, 5, torchvision_normalization());
  Weights c = synthetic_weights(kMini, 6, torchvision_normalization());
  check_widths(a, kMini);
  CHECK(same_weights(a, b));
  CHECK(a.source_model == b.source_model);
  for (std::size_t i = 0; i < 16; ++i) {
    INFO(vgg19_conv_names()[i]);
    CHECK_FALSE(bitwise_equal(a.convs[i].weight, c.convs[i].weight));
    CHECK_FALSE(bitwise_equal(a.convs[i].bias, c.convs[i].bias));
  }
  // He-normal: the sample std of conv1_1 (108 values, in = 3) is near sqrt(2/27) = 0.27.
  double ss = 0;
  for (float v : a.convs[0].weight) ss += double(v) * v;
  double sd = std::sqrt(ss / double(a.convs[0].weight.size()));
  CHECK(sd > 0.18);
  CHECK(sd < 0.36);
  CHECK_THROWS_AS(synthetic_weights({4, 8, 0, 32, 32}, 1, torchvision_normalization()), UsageError);
}

TEST_CASE("full-width VGG19 synthetic weights round-trip", "[weights]") {
  const std::array<int, 5> vgg19 = {64, 128, 256, 512, 512};
  TempDir dir;
  Weights w = synthetic_weights(vgg19, 3, caffe_normalization());
  check_widths(w, vgg19);
  std::string p = dir.file("vgg19.h5");
  save_weights(p, w);
  Weights r = load_weights(p);
  check_widths(r, vgg19);
  CHECK(r.convs[0].out == 64);
  CHECK(r.convs[0].in == 3);
  CHECK(r.convs[15].out == 512);
  CHECK(r.convs[15].in == 512);
  CHECK(same_weights(r, w));
  check_same_norm(r.norm, as_float32(w.norm));
  CHECK(r.source_model == w.source_model);
  CHECK(r.source_sha256.empty());
}

// ---------------------------------------------------------------------------------------------------------
// The committed fixtures: the two flavours of attribute storage the reader must accept

TEST_CASE("fixture mini_vgg19_rgb.h5 loads (fixed-length strings, int32, float32)", "[weights][fixture]") {
  Weights w = load_weights(NST_FIXTURES "/mini_vgg19_rgb.h5");
  check_widths(w, {4, 8, 8, 16, 16});
  CHECK_FALSE(w.norm.bgr);
  CHECK(w.norm.scale == 1);
  // float32 attributes: the values as stored, widened to double.
  const float mean[3] = {0.485f, 0.456f, 0.406f}, stdv[3] = {0.229f, 0.224f, 0.225f};
  for (int c = 0; c < 3; ++c) {
    CHECK(w.norm.mean[c] == double(mean[c]));
    CHECK(w.norm.std[c] == double(stdv[c]));
  }
  check_same_norm(w.norm, as_float32(torchvision_normalization()));
  CHECK(w.source_model == "synthetic mini-VGG19 (tests/fixtures/make_fixtures.py)");
  CHECK(w.source_sha256.empty());
}

TEST_CASE("fixture mini_vgg19_bgr.h5 loads (variable-length strings, int64, float64)", "[weights][fixture]") {
  Weights w = load_weights(NST_FIXTURES "/mini_vgg19_bgr.h5");
  check_widths(w, {4, 8, 8, 16, 16});
  CHECK(w.norm.bgr);
  CHECK(w.norm.scale == 255);
  // float64 attributes: the values exactly as written, not rounded through float.
  const double mean[3] = {103.939, 116.779, 123.68};
  for (int c = 0; c < 3; ++c) {
    CHECK(w.norm.mean[c] == mean[c]);
    CHECK(w.norm.std[c] == 1);
  }
  check_same_norm(w.norm, caffe_normalization());
  CHECK(w.source_model == "synthetic mini-VGG19 (tests/fixtures/make_fixtures.py)");
  CHECK(w.source_sha256.empty());
  // Different seeds from the RGB fixture: not the same weights.
  CHECK_FALSE(same_weights(w, load_weights(NST_FIXTURES "/mini_vgg19_rgb.h5")));
}

// Another tool may store the strings as fixed-length UTF-8 (SPEC §1: fixed- or variable-length strings).
TEST_CASE("fixed-length UTF-8 string attributes are accepted", "[weights]") {
  TempDir dir;
  std::string p = write_mini(dir);
  set_string_attr(p, "format", "nst-vgg19", H5T_CSET_UTF8);
  set_string_attr(p, "input_channel_order", "BGR", H5T_CSET_UTF8);
  set_string_attr(p, "source_model", "caf\xc3\xa9 VGG19", H5T_CSET_UTF8);
  Weights w = load_weights(p);
  CHECK(w.norm.bgr);
  CHECK(w.source_model == "caf\xc3\xa9 VGG19");
}

// ---------------------------------------------------------------------------------------------------------
// Files that are not weights files at all

TEST_CASE("malformed: missing file", "[weights][malformed]") {
  TempDir dir;
  CHECK_LOAD_ERROR(dir.file("nope.h5"), "no such file");
}

TEST_CASE("malformed: a directory", "[weights][malformed]") {
  TempDir dir;
  fs::create_directory(dir.file("sub.h5"));
  CHECK_LOAD_ERROR(dir.file("sub.h5"), "is a directory, not a weights file");
}

TEST_CASE("malformed: a text file", "[weights][malformed]") {
  TempDir dir;
  std::string p = dir.file("text.h5");
  std::ofstream(p) << "conv1_1 weights go here\n";
  CHECK_LOAD_ERROR(p, "not an HDF5 file (nst's weights are made by nst weights convert or nst weights fetch)");
}

TEST_CASE("malformed: truncated files", "[weights][malformed]") {
  TempDir dir;
  const std::string truncated = "cannot be opened as HDF5 (truncated or corrupt file)";
  const std::string not_hdf5 = "not an HDF5 file (nst's weights are made by nst weights convert or nst weights fetch)";
  std::string p = write_mini(dir);
  const std::uintmax_t size = fs::file_size(p);
  REQUIRE(size > 1000);
  struct Cut {
    const char* name;
    std::uintmax_t bytes;
    std::string what;
  };
  // Whenever the superblock survives, HDF5 sees the file is shorter than it says; with the signature cut, it
  // is not HDF5 at all.
  const Cut cuts[] = {{"90%", size * 9 / 10, truncated},
                      {"50%", size / 2, truncated},
                      {"100 bytes", 100, truncated},
                      {"4 bytes", 4, not_hdf5},
                      {"0 bytes", 0, "empty file (an interrupted download or copy?)"}};
  for (const Cut& cut : cuts) {
    DYNAMIC_SECTION("cut to " << cut.name) {
      std::string q = write_mini(dir, "cut.h5");
      truncate_to(q, cut.bytes);
      CHECK_LOAD_ERROR(q, cut.what);
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// Root attributes

TEST_CASE("malformed: wrong format string", "[weights][malformed]") {
  TempDir dir;
  std::string p = write_mini(dir);
  set_string_attr(p, "format", "nst-vgg16");
  CHECK_LOAD_ERROR(p, "format is 'nst-vgg16', expected 'nst-vgg19'");
}

TEST_CASE("malformed: format stored as an integer", "[weights][malformed]") {
  TempDir dir;
  std::string p = write_mini(dir);
  const std::int32_t v = 19;
  set_attr(p, "format", H5T_STD_I32LE, H5T_NATIVE_INT32, &v);
  CHECK_LOAD_ERROR(p, "attribute 'format' is not a string");
}

TEST_CASE("malformed: format_version 2", "[weights][malformed]") {
  TempDir dir;
  std::string p = write_mini(dir);
  const std::int32_t v = 2;
  set_attr(p, "format_version", H5T_STD_I32LE, H5T_NATIVE_INT32, &v);
  CHECK_LOAD_ERROR(p, "format_version is 2, this build reads version 1");
}

TEST_CASE("malformed: format_version stored as a float", "[weights][malformed]") {
  TempDir dir;
  std::string p = write_mini(dir);
  const double v = 1;
  set_attr(p, "format_version", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &v);
  CHECK_LOAD_ERROR(p, "attribute 'format_version' is not an integer");
}

TEST_CASE("malformed: a required root attribute is missing", "[weights][malformed]") {
  for (const char* name : {"format", "format_version", "source_model", "source_sha256", "input_channel_order",
                           "input_scale", "mean", "std"}) {
    DYNAMIC_SECTION("without " << name) {
      TempDir dir;
      std::string p = write_mini(dir);
      delete_attr(p, name);
      CHECK_LOAD_ERROR(p, std::string("missing attribute '") + name + "'");
    }
  }
}

TEST_CASE("malformed: input_channel_order GBR", "[weights][malformed]") {
  TempDir dir;
  std::string p = write_mini(dir);
  set_string_attr(p, "input_channel_order", "GBR");
  CHECK_LOAD_ERROR(p, "input_channel_order is 'GBR', expected RGB or BGR");
}

TEST_CASE("malformed: input_scale not 1 or 255", "[weights][malformed]") {
  TempDir dir;
  SECTION("256") {
    std::string p = write_mini(dir);
    const float v = 256.f;
    set_attr(p, "input_scale", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, &v);
    CHECK_LOAD_ERROR(p, "input_scale is 256, expected 1 or 255");
  }
  SECTION("almost 255, in float64") {
    std::string p = write_mini(dir);
    const double v = 255.0000001;
    set_attr(p, "input_scale", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &v);
    CHECK_LOAD_ERROR(p, "input_scale is 255.0000001, expected 1 or 255");
  }
}

TEST_CASE("malformed: mean with 2 values", "[weights][malformed]") {
  TempDir dir;
  std::string p = write_mini(dir);
  const float v[2] = {0.485f, 0.456f};
  set_attr(p, "mean", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, v, {2});
  CHECK_LOAD_ERROR(p, "attribute 'mean' has 2 values, expected 3");
}

TEST_CASE("malformed: mean holds NaN", "[weights][malformed]") {
  TempDir dir;
  std::string p = write_mini(dir);
  const float v[3] = {0.485f, std::numeric_limits<float>::quiet_NaN(), 0.406f};
  set_attr(p, "mean", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, v, {3});
  CHECK_LOAD_ERROR(p, "attribute 'mean' is not finite");
}

TEST_CASE("malformed: std with a zero", "[weights][malformed]") {
  TempDir dir;
  std::string p = write_mini(dir);
  const float v[3] = {0.229f, 0.f, 0.225f};
  set_attr(p, "std", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, v, {3});
  CHECK_LOAD_ERROR(p, "std[1] is 0, expected > 0");
}

TEST_CASE("malformed: std tiny and negative", "[weights][malformed]") {
  TempDir dir;
  std::string p = write_mini(dir);
  const double v[3] = {0.229, 0.224, -1e-9};
  set_attr(p, "std", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, v, {3});
  CHECK_LOAD_ERROR(p, "std[2] is -1e-09, expected > 0");
}

// ---------------------------------------------------------------------------------------------------------
// Groups and datasets

TEST_CASE("malformed: missing group", "[weights][malformed]") {
  TempDir dir;
  std::string p = write_mini(dir);
  delete_link(p, "conv3_2");
  CHECK_LOAD_ERROR(p, "missing group 'conv3_2'");
}

TEST_CASE("malformed: a convolution that is a dataset, not a group", "[weights][malformed]") {
  TempDir dir;
  std::string p = write_mini(dir);
  delete_link(p, "conv5_4");
  std::vector<float> v = floats(32, 0.f);
  RwFile f(p);
  hsize_t n = 32;
  H5Handle space(H5Screate_simple(1, &n, nullptr), H5Sclose);
  H5Handle ds(H5Dcreate2(f.id, "conv5_4", H5T_IEEE_F32LE, space.id, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Dclose);
  REQUIRE(H5Dwrite(ds.id, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()) >= 0);
  CHECK_LOAD_ERROR(p, "conv5_4: is not a group");
}

TEST_CASE("malformed: missing dataset", "[weights][malformed]") {
  TempDir dir;
  SECTION("bias") {
    std::string p = write_mini(dir);
    delete_link(p, "conv4_1/bias");
    CHECK_LOAD_ERROR(p, "conv4_1: missing dataset 'bias'");
  }
  SECTION("weight") {
    std::string p = write_mini(dir);
    delete_link(p, "conv1_1/weight");
    CHECK_LOAD_ERROR(p, "conv1_1: missing dataset 'weight'");
  }
}

TEST_CASE("malformed: weight stored as float64", "[weights][malformed]") {
  TempDir dir;
  std::string p = write_mini(dir);
  std::vector<double> v(8 * 4 * 9, 0.01);  // conv2_1 is [8,4,3,3]
  replace_dataset(p, "conv2_1/weight", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, {8, 4, 3, 3}, v.data());
  CHECK_LOAD_ERROR(p, "conv2_1/weight: is float64, expected float32");
}

TEST_CASE("malformed: weight stored as int32", "[weights][malformed]") {
  TempDir dir;
  std::string p = write_mini(dir);
  std::vector<std::int32_t> v(8 * 4 * 9, 1);
  replace_dataset(p, "conv2_1/weight", H5T_STD_I32LE, H5T_NATIVE_INT32, {8, 4, 3, 3}, v.data());
  CHECK_LOAD_ERROR(p, "conv2_1/weight: is integer, expected float32");
}

TEST_CASE("malformed: bias of rank 2", "[weights][malformed]") {
  TempDir dir;
  std::string p = write_mini(dir);
  std::vector<float> v = floats(4, 0.f);
  replace_dataset(p, "conv1_1/bias", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, {4, 1}, v.data());
  CHECK_LOAD_ERROR(p, "conv1_1/bias: is [4,1], expected [4]");
}

TEST_CASE("malformed: weight of rank 2", "[weights][malformed]") {
  TempDir dir;
  std::string p = write_mini(dir);
  std::vector<float> v = floats(8 * 36, 0.f);
  replace_dataset(p, "conv2_1/weight", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, {8, 36}, v.data());
  CHECK_LOAD_ERROR(p, "conv2_1/weight: has rank 2, expected 4 ([out,in,3,3])");
}

TEST_CASE("malformed: weight whose in does not match the previous out", "[weights][malformed]") {
  TempDir dir;
  std::string p = write_mini(dir);
  std::vector<float> v = floats(16 * 8 * 9, 0.01f);  // conv3_1 has out = 16, so conv3_2 must be [16,16,3,3]
  replace_dataset(p, "conv3_2/weight", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, {16, 8, 3, 3}, v.data());
  CHECK_LOAD_ERROR(p, "conv3_2/weight: is [16,8,3,3], expected [16,16,3,3]");
}

TEST_CASE("malformed: weight with a 5x5 kernel", "[weights][malformed]") {
  TempDir dir;
  std::string p = write_mini(dir);
  std::vector<float> v = floats(4 * 3 * 25, 0.01f);
  replace_dataset(p, "conv1_1/weight", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, {4, 3, 5, 5}, v.data());
  CHECK_LOAD_ERROR(p, "conv1_1/weight: is [4,3,5,5], expected [4,3,3,3]");
}

TEST_CASE("malformed: bias of the wrong length", "[weights][malformed]") {
  TempDir dir;
  std::string p = write_mini(dir);
  std::vector<float> v = floats(31, 0.f);  // conv4_1 has out = 32
  replace_dataset(p, "conv4_1/bias", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, {31}, v.data());
  CHECK_LOAD_ERROR(p, "conv4_1/bias: is [31], expected [32]");
}

TEST_CASE("malformed: NaN in a weight", "[weights][malformed]") {
  TempDir dir;
  std::string p = write_mini(dir);
  poke(p, "conv2_2/weight", 5, std::numeric_limits<float>::quiet_NaN());
  CHECK_LOAD_ERROR(p, "conv2_2/weight: holds NaN or Inf at index 5");
}

TEST_CASE("malformed: Inf in a bias", "[weights][malformed]") {
  TempDir dir;
  std::string p = write_mini(dir);
  poke(p, "conv5_4/bias", 31, -std::numeric_limits<float>::infinity());
  CHECK_LOAD_ERROR(p, "conv5_4/bias: holds NaN or Inf at index 31");
}

// ---------------------------------------------------------------------------------------------------------

// HDF5 prints its error stack to stderr by default; the reader must report one line of its own instead, even
// when printing has been switched (back) on.
TEST_CASE("load_weights never prints the HDF5 error stack", "[weights][malformed]") {
  TempDir dir;
  std::vector<std::string> bad;
  bad.push_back(dir.file("text.h5"));
  std::ofstream(bad.back()) << "not hdf5\n";
  bad.push_back(write_mini(dir, "cut.h5"));
  truncate_to(bad.back(), fs::file_size(bad.back()) / 2);
  bad.push_back(write_mini(dir, "nogroup.h5"));
  delete_link(bad.back(), "conv3_2");
  bad.push_back(write_mini(dir, "noattr.h5"));
  delete_attr(bad.back(), "mean");
  bad.push_back(write_mini(dir, "f64.h5"));
  std::vector<double> v(8 * 4 * 9, 0.01);
  replace_dataset(bad.back(), "conv2_1/weight", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, {8, 4, 3, 3}, v.data());

  struct Silence {
    ~Silence() { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); }
  } silence;
  H5Eset_auto2(H5E_DEFAULT, print_hdf5_stack, stderr);

  // The capture works: with printing on, a failing HDF5 call does print its stack.
  std::string control = capture_stderr(dir.file("stderr0.txt"), [&] {
    hid_t f = H5Fopen(bad[0].c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
    CHECK(f < 0);
  });
  CHECK(control.find("HDF5-DIAG") != std::string::npos);

  H5Eset_auto2(H5E_DEFAULT, print_hdf5_stack, stderr);
  std::string out = capture_stderr(dir.file("stderr1.txt"), [&] {
    for (const std::string& p : bad) CHECK_THROWS_AS(load_weights(p), Error);
  });
  CHECK(out == "");
}

TEST_CASE("malformed: a dataset that declares more values than the file holds", "[weights][malformed]") {
  // A never-written chunked dataset is tiny on disk but would read as millions of fill values: the reader
  // refuses it before allocating. Here conv5_4/weight claims [32,32,3,3] and holds nothing.
  TempDir dir;
  std::string p = write_mini(dir);
  {
    RwFile f(p);
    REQUIRE(H5Ldelete(f.id, "conv5_4/weight", H5P_DEFAULT) >= 0);
    const hsize_t dims[4] = {32, 32, 3, 3}, chunk[4] = {1, 32, 3, 3};
    H5Handle space(H5Screate_simple(4, dims, nullptr), H5Sclose);
    H5Handle dcpl(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
    REQUIRE(H5Pset_chunk(dcpl.id, 4, chunk) >= 0);
    H5Handle ds(H5Dcreate2(f.id, "conv5_4/weight", H5T_IEEE_F32LE, space.id, H5P_DEFAULT, dcpl.id, H5P_DEFAULT), H5Dclose);
  }
  CHECK_LOAD_ERROR(p, "conv5_4/weight: holds 0 bytes of data for 9216 values (truncated or never written)");
}
