// The converter's Caffe and Keras readers (tools/convert/caffemodel.cpp, keras.cpp) against the fixtures
// of tests/fixtures/make_caffe_keras_fixtures.py: every good file gives the tensors of mini_expected.h5 bit
// for bit, every malformed one its one-line error. Variants that need no committed file (a full-model
// Keras save, files without weight_names, cuts at every offset, corrupted bytes, odd protobuf messages)
// are made here.
#include <hdf5.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "convert/convert.h"
#include "nst/error.h"
#include "nst/weights.h"
#include "test_util.h"

using namespace nst;

namespace {

using nst::test::TempDir;

std::string fx(const std::string& name) { return std::string(NST_FIXTURES) + "/caffe_keras/" + name; }

const Weights& expected() {
  static const Weights w = load_weights(fx("mini_expected.h5"));
  return w;
}

void check_same(const VggConvs& got) {
  const Weights& want = expected();
  for (std::size_t i = 0; i < 16; ++i) {
    INFO(vgg19_conv_names()[i]);
    CHECK(got[i].out == want.convs[i].out);
    CHECK(got[i].in == want.convs[i].in);
    REQUIRE(got[i].weight.size() == want.convs[i].weight.size());
    REQUIRE(got[i].bias.size() == want.convs[i].bias.size());
    CHECK(std::memcmp(got[i].weight.data(), want.convs[i].weight.data(), 4 * got[i].weight.size()) == 0);
    CHECK(std::memcmp(got[i].bias.data(), want.convs[i].bias.data(), 4 * got[i].bias.size()) == 0);
  }
}

// The message of the nst::Error that f throws; any other exception fails the test.
template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void write_all(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), std::streamsize(bytes.size()));
  REQUIRE(out.good());
}

// A protobuf message, written the way the fixture script writes them.
struct Pb {
  std::string b;
  Pb& varint(std::uint64_t v) {
    do {
      b += char((v & 0x7F) | (v > 0x7F ? 0x80 : 0));
      v >>= 7;
    } while (v);
    return *this;
  }
  Pb& key(int field, int wire) { return varint(std::uint64_t(field) << 3 | std::uint64_t(wire)); }
  Pb& u(int field, std::uint64_t v) { return key(field, 0).varint(v); }
  Pb& bytes(int field, const std::string& s) {
    key(field, 2).varint(s.size());
    b += s;
    return *this;
  }
  Pb& msg(int field, const Pb& m) { return bytes(field, m.b); }
  Pb& floats(int field, const std::vector<float>& v) {
    return bytes(field, std::string(reinterpret_cast<const char*>(v.data()), 4 * v.size()));
  }
};

// BlobProto with a BlobShape and packed float data.
Pb shape_blob(const std::vector<std::uint64_t>& dims, std::size_t n) {
  Pb shape;
  for (std::uint64_t d : dims) shape.u(1, d);
  return Pb().floats(5, std::vector<float>(n, 0.5f)).msg(7, shape);
}

// A LayerParameter (`layer`, field 100 of NetParameter).
Pb layer(const std::string& name, const std::string& type, const std::vector<Pb>& blobs) {
  Pb l;
  l.bytes(1, name).bytes(2, type);
  for (const Pb& blob : blobs) l.msg(7, blob);
  return l;
}

Pb conv1_1(const std::string& type = "Convolution") {
  return layer("conv1_1", type, {shape_blob({2, 3, 3, 3}, 54), shape_blob({2}, 2)});
}

Pb net(const std::vector<Pb>& layers) {
  Pb n;
  n.bytes(1, "test");
  for (const Pb& l : layers) n.msg(100, l);
  return n;
}

// Closes an HDF5 identifier at the end of the scope.
struct H5Handle {
  hid_t id;
  herr_t (*close)(hid_t);
  H5Handle(hid_t i, herr_t (*c)(hid_t)) : id(i), close(c) { REQUIRE(id >= 0); }
  ~H5Handle() { close(id); }
  H5Handle(const H5Handle&) = delete;
  H5Handle& operator=(const H5Handle&) = delete;
};

const char* const kKerasConvs[16] = {"block1_conv1", "block1_conv2", "block2_conv1", "block2_conv2",
                                     "block3_conv1", "block3_conv2", "block3_conv3", "block3_conv4",
                                     "block4_conv1", "block4_conv2", "block4_conv3", "block4_conv4",
                                     "block5_conv1", "block5_conv2", "block5_conv3", "block5_conv4"};

void write_vlen_strings(hid_t obj, const char* name, const std::vector<std::string>& v) {
  H5Handle type(H5Tcopy(H5T_C_S1), H5Tclose);
  REQUIRE(H5Tset_size(type.id, H5T_VARIABLE) >= 0);
  hsize_t n = v.size();
  H5Handle space(H5Screate_simple(1, &n, nullptr), H5Sclose);
  H5Handle a(H5Acreate2(obj, name, type.id, space.id, H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
  std::vector<const char*> p;
  for (const std::string& s : v) p.push_back(s.c_str());
  REQUIRE(H5Awrite(a.id, type.id, p.data()) >= 0);
}

}  // namespace

TEST_CASE("caffemodel: V1 layers form with legacy blob dimensions", "[convert]") {
  check_same(read_caffemodel(fx("mini_v1.caffemodel")));
}

TEST_CASE("caffemodel: new layer form with BlobShape and unpacked fields and blobs before the name", "[convert]") {
  check_same(read_caffemodel(fx("mini_v2.caffemodel")));
}

TEST_CASE("keras: Keras 1 names with weight_names (the published notop layout)", "[convert]") {
  check_same(read_keras_h5(fx("mini_keras.h5")));
}

TEST_CASE("keras: Keras 2 nested names", "[convert]") { check_same(read_keras_h5(fx("mini_keras_nested.h5"))); }

TEST_CASE("keras: a full-model save keeps the weights in model_weights", "[convert]") {
  TempDir dir("convert_keras");
  std::string path = dir.file("full.h5");
  {
    H5Handle src(H5Fopen(fx("mini_keras.h5").c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
    H5Handle dst(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), H5Fclose);
    H5Handle mw(H5Gcreate2(dst.id, "model_weights", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose);
    for (const char* layer : kKerasConvs) REQUIRE(H5Ocopy(src.id, layer, mw.id, layer, H5P_DEFAULT, H5P_DEFAULT) >= 0);
    H5Handle opt(H5Gcreate2(dst.id, "optimizer_weights", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose);
  }
  check_same(read_keras_h5(path));
}

TEST_CASE("keras: without weight_names both naming schemes are found and chunked vlen weight_names are read",
          "[convert]") {
  TempDir dir("convert_keras");
  for (const char* name : {"mini_keras.h5", "mini_keras_nested.h5"}) {
    INFO(name);
    std::string path = dir.file(name);
    std::filesystem::copy_file(fx(name), path);
    {
      H5Handle f(H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT), H5Fclose);
      for (const char* layer : kKerasConvs) {
        H5Handle g(H5Gopen2(f.id, layer, H5P_DEFAULT), H5Gclose);
        REQUIRE(H5Adelete(g.id, "weight_names") >= 0);
      }
    }
    check_same(read_keras_h5(path));
  }
  // Keras splits an attribute that would not fit an object header into NAME0, NAME1, ...
  std::string path = dir.file("chunked.h5");
  std::filesystem::copy_file(fx("mini_keras_nested.h5"), path);
  {
    H5Handle f(H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT), H5Fclose);
    for (const char* layer : kKerasConvs) {
      H5Handle g(H5Gopen2(f.id, layer, H5P_DEFAULT), H5Gclose);
      REQUIRE(H5Adelete(g.id, "weight_names") >= 0);
      write_vlen_strings(g.id, "weight_names0", {std::string(layer) + "/kernel:0"});
      write_vlen_strings(g.id, "weight_names1", {std::string(layer) + "/bias:0"});
    }
  }
  check_same(read_keras_h5(path));
}

TEST_CASE("caffemodel: malformed fixtures", "[convert]") {
  auto err = [](const std::string& name) { return error_of([&] { read_caffemodel(fx(name)); }); };
  CHECK(err("truncated.caffemodel") == fx("truncated.caffemodel") + ": truncated inside layer 7 (conv2_1, field 6)");
  CHECK(err("missing_conv5_4.caffemodel") == fx("missing_conv5_4.caffemodel") + ": no layer conv5_4 (not VGG19?)");
  CHECK(err("bad_conv3_2.caffemodel") ==
        fx("bad_conv3_2.caffemodel") + ": conv3_2 has weights [2,1,3,3], expected in=2");
  CHECK(err("random.caffemodel") ==
        fx("random.caffemodel") +
            ": not a Caffe model (field 262 with wire type 0 at byte 0 is not a NetParameter field)");
  CHECK(err("no_such.caffemodel") == fx("no_such.caffemodel") + ": no such file");
  // Other formats are told apart by their first bytes.
  CHECK(err("mini_keras.h5") ==
        fx("mini_keras.h5") +
            ": not a Caffe model (field 1153 with wire type 1 at byte 0 is not a NetParameter field)");
}

TEST_CASE("keras: malformed fixtures and other files", "[convert]") {
  auto err = [](const std::string& name) { return error_of([&] { read_keras_h5(fx(name)); }); };
  CHECK(err("keras_missing_layer.h5") == fx("keras_missing_layer.h5") + ": no layer block4_conv2 (not VGG19?)");
  CHECK(err("keras_bad_kernel.h5") == fx("keras_bad_kernel.h5") + ": block3_conv2 has kernel [3,3,1,2], expected in=2");
  CHECK(err("mini_v1.caffemodel") ==
        fx("mini_v1.caffemodel") + ": not an HDF5 file (expected a Keras .h5 weights file)");
  CHECK(err("mini_expected.h5") == fx("mini_expected.h5") + ": no layer block1_conv1 (not VGG19?)");
  CHECK(err("no_such.h5") == fx("no_such.h5") + ": no such file");
}

TEST_CASE("keras: broken weight_names and datasets", "[convert]") {
  TempDir dir("convert_keras");
  std::string path = dir.file("k.h5");
  auto edit = [&](auto&& f) {
    std::filesystem::remove(path);
    std::filesystem::copy_file(fx("mini_keras.h5"), path);
    H5Handle file(H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT), H5Fclose);
    H5Handle g(H5Gopen2(file.id, "block2_conv1", H5P_DEFAULT), H5Gclose);
    f(g.id);
  };
  auto err = [&] { return error_of([&] { read_keras_h5(path); }); };

  edit([](hid_t g) {
    REQUIRE(H5Adelete(g, "weight_names") >= 0);
    write_vlen_strings(g, "weight_names", {"block2_conv1_W_1:0"});
  });
  CHECK(err() == path + ": block2_conv1 lists 1 weights in weight_names, expected 2 (kernel, bias)");

  edit([](hid_t g) {
    REQUIRE(H5Adelete(g, "weight_names") >= 0);
    write_vlen_strings(g, "weight_names", {"block2_conv1_W_1:0", "nope/bias:0"});
  });
  CHECK(err() == path + ": block2_conv1 lists 'nope/bias:0' in weight_names, but has no such dataset");

  edit([](hid_t g) {
    REQUIRE(H5Adelete(g, "weight_names") >= 0);
    REQUIRE(H5Ldelete(g, "block2_conv1_b_1:0", H5P_DEFAULT) >= 0);
  });
  CHECK(err() == path +
                     ": block2_conv1 has no weight_names attribute and neither block2_conv1_W_1:0 nor "
                     "block2_conv1/kernel:0");

  // A float64 kernel of the right shape.
  edit([](hid_t g) {
    REQUIRE(H5Ldelete(g, "block2_conv1_W_1:0", H5P_DEFAULT) >= 0);
    hsize_t dims[4] = {3, 3, 2, 4};
    std::vector<double> v(72, 0.25);
    H5Handle space(H5Screate_simple(4, dims, nullptr), H5Sclose);
    H5Handle ds(H5Dcreate2(g, "block2_conv1_W_1:0", H5T_IEEE_F64LE, space.id, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                H5Dclose);
    REQUIRE(H5Dwrite(ds.id, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()) >= 0);
  });
  CHECK(err() == path + ": block2_conv1/block2_conv1_W_1:0 is float64, expected float32");

  // A Theano-ordered (OIHW) kernel.
  edit([](hid_t g) {
    REQUIRE(H5Ldelete(g, "block2_conv1_W_1:0", H5P_DEFAULT) >= 0);
    hsize_t dims[4] = {4, 2, 3, 3};
    std::vector<float> v(72, 0.25f);
    H5Handle space(H5Screate_simple(4, dims, nullptr), H5Sclose);
    H5Handle ds(H5Dcreate2(g, "block2_conv1_W_1:0", H5T_IEEE_F32LE, space.id, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                H5Dclose);
    REQUIRE(H5Dwrite(ds.id, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()) >= 0);
  });
  CHECK(err() == path + ": block2_conv1 has kernel [4,2,3,3], expected [3,3,2,out] (HWIO)");
}

TEST_CASE("caffemodel: odd messages", "[convert]") {
  TempDir dir("convert_caffe");
  std::string path = dir.file("m.caffemodel");
  auto err = [&](const Pb& file) {
    write_all(path, file.b);
    return error_of([&] { read_caffemodel(path); });
  };
  Pb conv_double =
      layer("conv1_1", "Convolution", {Pb().u(1, 2).u(2, 3).u(3, 3).u(4, 3).bytes(8, std::string(8, '\0'))});
  CHECK(err(net({conv_double})) == path + ": conv1_1 holds double_data (float64), expected float32 data");
  CHECK(err(net({conv1_1("ReLU")})) == path + ": conv1_1 is not a convolution ('ReLU')");
  CHECK(err(net({layer("conv1_1", "Convolution", {shape_blob({2, 3, 3, 3}, 54)})})) ==
        path + ": conv1_1 has 1 blob, expected 2 (weights and bias)");
  CHECK(err(net({layer("conv1_1", "Convolution", {shape_blob({2, 3, 3, 3}, 53), shape_blob({2}, 2)})})) ==
        path + ": conv1_1 weights hold 53 values, expected 54 for [2,3,3,3]");
  CHECK(err(net({layer("conv1_1", "Convolution", {shape_blob({2, 3, 5, 5}, 150), shape_blob({2}, 2)})})) ==
        path + ": conv1_1 has weights [2,3,5,5], expected [out,3,3,3]");
  CHECK(err(net({layer("conv1_1", "Convolution", {shape_blob({2, 3, 3, 3}, 54), shape_blob({3}, 3)})})) ==
        path + ": conv1_1 has bias [3], expected [2]");
  CHECK(err(net({conv1_1(), conv1_1()})) == path + ": conv1_1 appears twice (layers 1 and 2)");
  CHECK(err(net({conv1_1()})) == path + ": no layer conv1_2 (not VGG19?)");
  CHECK(err(net({})) == path + ": not a Caffe model (no layers)");
  CHECK(err(Pb()) == path + ": not a Caffe model (empty file)");
  // A blob whose length runs past its layer (but not past the file).
  Pb long_blob;
  long_blob.bytes(1, "conv1_1").key(7, 2).varint(50);
  Pb tail = net({conv1_1()});
  CHECK(err(Pb().msg(100, long_blob).bytes(1, tail.b)) ==
        path + ": corrupt layer 1 (conv1_1, field 7): a length runs past the end of its message");
  // Groups (wire type 3) are not protobuf that Caffe writes.
  Pb group_field;
  group_field.bytes(1, "conv1_1").key(9, 3);
  CHECK(err(net({group_field})) ==
        path + ": corrupt layer 1 (conv1_1): field 9 at byte 18 has wire type 3, which Caffe does not write");
  // A packed float field whose length is not a multiple of 4.
  Pb odd_blob = layer("conv1_1", "Convolution", {Pb().bytes(5, "abc")});
  CHECK(err(net({odd_blob})) == path + ": corrupt layer 1 (conv1_1, field 7): packed float data of 3 bytes");
  // A varint that never ends.
  CHECK(err(Pb().bytes(1, "x").key(100, 2).varint(2).key(3, 0)) == path + ": truncated inside layer 1 (field 3)");
  Pb endless;
  endless.b = std::string("\x0a\x01x") + std::string(12, '\xff');
  CHECK(err(endless) == path + ": not a Caffe model (varint at byte 3 overflows 64 bits)");
}

TEST_CASE("caffemodel: a cut at any offset is an error or past conv5_4 the same weights", "[convert]") {
  TempDir dir("convert_caffe");
  std::string path = dir.file("cut.caffemodel");
  for (const char* name : {"mini_v1.caffemodel", "mini_v2.caffemodel"}) {
    std::string bytes = read_all(fx(name));
    int errors = 0;
    for (std::size_t cut = 0; cut < bytes.size(); cut += cut < 2000 ? 1 : 17) {
      write_all(path, bytes.substr(0, cut));
      std::string what;
      try {
        check_same(read_caffemodel(path));
        continue;
      } catch (const Error& e) {
        what = e.what();
      }
      ++errors;
      INFO(name << " cut at " << cut << ": " << what);
      bool known = what.rfind(path + ": truncated inside layer ", 0) == 0 ||
                   what.rfind(path + ": truncated after layer ", 0) == 0 ||
                   what.rfind(path + ": not a Caffe model (", 0) == 0 || what.rfind(path + ": no layer conv", 0) == 0;
      CHECK(known);
    }
    CHECK(errors > 2000);
  }
}

TEST_CASE("caffemodel: corrupted bytes give an error or weights but never a crash", "[convert]") {
  TempDir dir("convert_caffe");
  std::string path = dir.file("fuzz.caffemodel");
  std::mt19937 gen(42);
  for (const char* name : {"mini_v1.caffemodel", "mini_v2.caffemodel"}) {
    std::string bytes = read_all(fx(name));
    // Mostly in the first kilobytes, where the structure (not float data) is dense.
    std::uniform_int_distribution<std::size_t> head(0, 3000), any(0, bytes.size() - 1);
    std::uniform_int_distribution<int> byte(0, 255), count(1, 4);
    for (int iter = 0; iter < 400; ++iter) {
      std::string b = bytes;
      for (int k = count(gen); k > 0; --k) b[iter % 2 ? head(gen) : any(gen)] = char(byte(gen));
      write_all(path, b);
      try {
        VggConvs w = read_caffemodel(path);
        CHECK(w[15].out > 0);
      } catch (const Error& e) {
        CHECK(std::string(e.what()).rfind(path + ": ", 0) == 0);
      }
    }
  }
}
