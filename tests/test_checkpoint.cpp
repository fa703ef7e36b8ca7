// Checkpoints (src/checkpoint.cpp): a save/load round trip keeps every field bit for bit, and each way a
// checkpoint can be wrong (not one, another version, edited, cut short) is refused by load_checkpoint
// with one line naming the file and what is wrong. The files are edited with HDF5's C API, as a damaged
// or hand-edited file would be.
#include <hdf5.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>

#include "nst/checkpoint.h"
#include "nst/error.h"
#include "test_util.h"

using namespace nst;
namespace fs = std::filesystem;

namespace {

Checkpoint sample(const std::vector<std::string>& names) {
  Checkpoint c;
  c.stage = 1;
  c.iteration = 7;
  c.done = 17;
  c.options = {{"content", "a.png"}, {"optimizer", "lbfgs"}, {"size", "64"}};
  c.X = test::random_tensor({1, 3, 5, 6}, 1);
  c.optimizer.step = 3;
  for (std::size_t i = 0; i < names.size(); ++i) c.optimizer.tensors.push_back({names[i], test::random_tensor({1, 3, 5, 6}, 10 + unsigned(i))});
  c.history = {{0, 0, {10.5, 1, 9, 0.5}}, {0, 10, {5.25, 1, 4, 0.25}}, {1, 0, {7, 2, 4.5, 0.5}}, {1, 7, {3.125, 1, 2, 0.125}}};
  return c;
}

// Opens the file read-write, runs `edit` on it, closes it.
void edit(const std::string& path, const std::function<void(hid_t)>& edit) {
  hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  REQUIRE(f >= 0);
  edit(f);
  REQUIRE(H5Fclose(f) >= 0);
}

void set_int(hid_t obj, const char* name, long long v) {
  if (H5Aexists(obj, name) > 0) REQUIRE(H5Adelete(obj, name) >= 0);
  hid_t space = H5Screate(H5S_SCALAR);
  hid_t a = H5Acreate2(obj, name, H5T_STD_I64LE, space, H5P_DEFAULT, H5P_DEFAULT);
  REQUIRE(H5Awrite(a, H5T_NATIVE_LLONG, &v) >= 0);
  H5Aclose(a);
  H5Sclose(space);
}

void set_string(hid_t obj, const char* name, const std::string& v) {
  if (H5Aexists(obj, name) > 0) REQUIRE(H5Adelete(obj, name) >= 0);
  hid_t type = H5Tcopy(H5T_C_S1);
  H5Tset_size(type, v.size());
  hid_t space = H5Screate(H5S_SCALAR);
  hid_t a = H5Acreate2(obj, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
  REQUIRE(H5Awrite(a, type, v.data()) >= 0);
  H5Aclose(a);
  H5Sclose(space);
  H5Tclose(type);
}

void replace_dataset(hid_t loc, const char* name, std::vector<hsize_t> dims, const std::vector<double>& values) {
  if (H5Lexists(loc, name, H5P_DEFAULT) > 0) REQUIRE(H5Ldelete(loc, name, H5P_DEFAULT) >= 0);
  hid_t space = H5Screate_simple(int(dims.size()), dims.data(), nullptr);
  hid_t ds = H5Dcreate2(loc, name, H5T_IEEE_F64LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  REQUIRE(ds >= 0);
  REQUIRE(H5Dwrite(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()) >= 0);
  H5Dclose(ds);
  H5Sclose(space);
}

std::string load_error(const std::string& path) {
  try {
    load_checkpoint(path);
  } catch (const Error& e) {
    return e.what();
  }
  return "(loaded)";
}

}  // namespace

TEST_CASE("a checkpoint round trip keeps every field bit for bit, Adam and L-BFGS", "[checkpoint]") {
  test::TempDir dir("checkpoint");
  for (const auto& names : {std::vector<std::string>{"m", "v"}, std::vector<std::string>{"s0", "y0", "s1", "y1"},
                            std::vector<std::string>{}}) {
    INFO(names.size() << " optimizer tensors");
    const Checkpoint c = sample(names);
    save_checkpoint(dir.file("c.h5"), c);
    CHECK(is_checkpoint(dir.file("c.h5")));
    const Checkpoint d = load_checkpoint(dir.file("c.h5"));
    CHECK(d.stage == c.stage);
    CHECK(d.iteration == c.iteration);
    CHECK(d.done == c.done);
    CHECK(d.options == c.options);
    CHECK(d.X.shape() == c.X.shape());
    CHECK(d.X.to_vector() == c.X.to_vector());
    CHECK(d.optimizer.step == c.optimizer.step);
    REQUIRE(d.optimizer.tensors.size() == c.optimizer.tensors.size());
    for (std::size_t i = 0; i < c.optimizer.tensors.size(); ++i) {
      CHECK(d.optimizer.tensors[i].first == c.optimizer.tensors[i].first);
      CHECK(d.optimizer.tensors[i].second.to_vector() == c.optimizer.tensors[i].second.to_vector());
    }
    REQUIRE(d.history.size() == c.history.size());
    for (std::size_t i = 0; i < c.history.size(); ++i) {
      CHECK(d.history[i].stage == c.history[i].stage);
      CHECK(d.history[i].iteration == c.history[i].iteration);
      CHECK(d.history[i].v.total == c.history[i].v.total);
      CHECK(d.history[i].v.tv == c.history[i].v.tv);
    }
  }
}

TEST_CASE("every malformed checkpoint is refused with one line naming the file and what is wrong", "[checkpoint]") {
  test::TempDir dir("checkpoint");
  const std::string good = dir.file("good.h5");
  save_checkpoint(good, sample({"s0", "y0", "s1", "y1"}));
  struct Case {
    const char* what;
    std::function<void(const std::string&)> make;  // writes the bad file at the path given
    std::string message;
  };
  auto edited = [&](std::function<void(hid_t)> e) {
    return [&good, e](const std::string& p) {
      fs::copy_file(good, p, fs::copy_options::overwrite_existing);
      edit(p, e);
    };
  };
  const Case cases[] = {
      {"missing", [](const std::string&) {}, "no such checkpoint"},
      {"a text file", [](const std::string& p) { std::ofstream(p) << "iteration,total\n"; }, "not a checkpoint (not an HDF5 file)"},
      {"cut in half",
       [&good](const std::string& p) { fs::copy_file(good, p, fs::copy_options::overwrite_existing), fs::resize_file(p, fs::file_size(good) / 2); },
       "cannot be opened (truncated or corrupt)"},
      {"an HDF5 file of another kind", edited([](hid_t f) { REQUIRE(H5Adelete(f, "format") >= 0); }), "not an nst checkpoint"},
      {"another format name", edited([](hid_t f) { set_string(f, "format", "nst-vgg19"); }), "not an nst checkpoint"},
      {"version 99", edited([](hid_t f) { set_int(f, "format_version", 99); }), "checkpoint version 99, this build reads 1"},
      {"iteration as text", edited([](hid_t f) { set_string(f, "iteration", "seven"); }), "attribute 'iteration' is not an integer"},
      {"no stage", edited([](hid_t f) { REQUIRE(H5Adelete(f, "stage") >= 0); }), "missing attribute 'stage'"},
      {"no image", edited([](hid_t f) { REQUIRE(H5Ldelete(f, "X", H5P_DEFAULT) >= 0); }), "missing dataset 'X'"},
      {"a 4-channel image", edited([](hid_t f) { replace_dataset(f, "X", {1, 4, 5, 6}, std::vector<double>(120, 0.5)); }),
       "dataset 'X' is not a 1x3xHxW image"},
      {"a 2-D image", edited([](hid_t f) { replace_dataset(f, "X", {5, 6}, std::vector<double>(30, 0.5)); }), "dataset 'X' is not 4-D"},
      {"no options", edited([](hid_t f) { REQUIRE(H5Ldelete(f, "options", H5P_DEFAULT) >= 0); }), "missing group 'options'"},
      {"no optimizer state", edited([](hid_t f) { REQUIRE(H5Ldelete(f, "optimizer", H5P_DEFAULT) >= 0); }), "missing group 'optimizer'"},
      {"30000 optimizer tensors", edited([](hid_t f) {
         hid_t g = H5Gopen2(f, "optimizer", H5P_DEFAULT);
         set_int(g, "count", 30000);
         H5Gclose(g);
       }),
       "implausible optimizer state"},
      {"an optimizer tensor missing", edited([](hid_t f) { REQUIRE(H5Ldelete(f, "optimizer/t3", H5P_DEFAULT) >= 0); }), "missing dataset 't3'"},
      {"an optimizer tensor of another size", edited([](hid_t f) {
         hid_t g = H5Gopen2(f, "optimizer", H5P_DEFAULT);
         replace_dataset(g, "t2", {1, 3, 6, 5}, std::vector<double>(90, 0.5));
         H5Gclose(g);
       }),
       "optimizer state 's1' is [1,3,6,5], the image is [1,3,5,6]"},
      {"an optimizer tensor misnamed", edited([](hid_t f) {
         hid_t g = H5Gopen2(f, "optimizer", H5P_DEFAULT);
         set_string(g, "name1", "m");
         H5Gclose(g);
       }),
       "optimizer state 'm' (t1) is neither Adam's m, v nor L-BFGS's s/y pairs"},
      {"a log of 5 columns", edited([](hid_t f) { replace_dataset(f, "history", {2, 5}, std::vector<double>(10, 1)); }),
       "dataset 'history' is not N x 6"},
      {"a log row of stage -1", edited([](hid_t f) { replace_dataset(f, "history", {1, 6}, {-1, 0, 1, 1, 1, 1}); }),
       "dataset 'history' has a row that is not a stage and iteration"},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    const std::string path = dir.file(std::string("bad_") + std::to_string(&c - cases) + ".h5");
    c.make(path);
    const std::string e = load_error(path);
    CHECK(e.rfind(path + ": ", 0) == 0);
    CHECK(e.find(c.message) != std::string::npos);
    CHECK(e.find('\n') == std::string::npos);
    if (c.message.rfind("not a", 0) == 0) CHECK_FALSE(is_checkpoint(path));  // what output-path checks ask
  }
  // The good file still loads: every case above broke a copy of it.
  CHECK(load_checkpoint(good).optimizer.tensors.size() == 4);
}
