#include "nst/checkpoint.h"

#include <cstdio>
#include <filesystem>

#include "h5.h"

namespace nst {
namespace {

using namespace nst::h5;

constexpr const char* kFormat = "nst-checkpoint";
constexpr int kVersion = 1;

void write_int(hid_t obj, const char* name, int v) {
  std::int32_t x = v;
  write_number_attr(obj, name, H5T_STD_I32LE, H5T_NATIVE_INT32, &x, 1, true);
}

void write_tensor(hid_t group, const std::string& name, const Tensor& t) {
  const Shape& s = t.shape();
  write_dataset(group, name.c_str(), t.to_vector(), {hsize_t(s.n), hsize_t(s.c), hsize_t(s.h), hsize_t(s.w)});
}

class Reader {
 public:
  explicit Reader(std::string path) : path_(std::move(path)) {}
  [[noreturn]] void fail(const std::string& what) const { throw Error(path_ + ": " + what); }

  int integer(hid_t obj, const char* name) const {
    H5Id a(H5Aopen(obj, name, H5P_DEFAULT), H5Aclose);
    if (!a.valid()) fail(std::string("missing attribute '") + name + "'");
    std::int64_t v = 0;
    if (H5Aread(a.get(), H5T_NATIVE_INT64, &v) < 0) fail(std::string("attribute '") + name + "' is not an integer");
    return int(v);
  }

  std::string string(hid_t obj, const char* name) const {
    H5Id a(H5Aopen(obj, name, H5P_DEFAULT), H5Aclose);
    if (!a.valid()) fail(std::string("missing attribute '") + name + "'");
    H5Id type(H5Aget_type(a.get()), H5Tclose);
    if (H5Tget_class(type.get()) != H5T_STRING || H5Tis_variable_str(type.get()) > 0) fail(std::string("attribute '") + name + "' is not a string");
    std::string buf(H5Tget_size(type.get()) + 1, '\0');
    if (H5Aread(a.get(), type.get(), buf.data()) < 0) fail(std::string("attribute '") + name + "' cannot be read");
    return buf.c_str();
  }

  Tensor tensor(hid_t group, const std::string& name) const {
    H5Id ds(H5Dopen2(group, name.c_str(), H5P_DEFAULT), H5Dclose);
    if (!ds.valid()) fail("missing dataset '" + name + "'");
    H5Id space(H5Dget_space(ds.get()), H5Sclose);
    hsize_t d[4] = {0, 0, 0, 0};
    if (H5Sget_simple_extent_ndims(space.get()) != 4) fail("dataset '" + name + "' is not 4-D");
    H5Sget_simple_extent_dims(space.get(), d, nullptr);
    if (d[0] != 1 || d[1] != 3 || d[2] == 0 || d[3] == 0 || d[2] > 65536 || d[3] > 65536) fail("dataset '" + name + "' is not a 1x3xHxW image");
    Tensor t = Tensor::host(Shape{1, 3, int(d[2]), int(d[3])});
    if (H5Dread(ds.get(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, t.data()) < 0) fail("dataset '" + name + "' cannot be read (truncated?)");
    return t;
  }

 private:
  std::string path_;
};

}  // namespace

void save_checkpoint(const std::string& path, const Checkpoint& c) {
  write_atomically(path, "checkpoint", [&](hid_t f) {
    write_string_attr(f, "format", kFormat);
    write_int(f, "format_version", kVersion);
    write_int(f, "stage", c.stage);
    write_int(f, "iteration", c.iteration);
    write_int(f, "done", c.done);
    write_int(f, "adam_step", c.optimizer.step);
    write_tensor(f, "X", c.X);
    H5Id opts(H5Gcreate2(f, "options", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose);
    NST_H5_CHECK(opts.get());
    for (const auto& [k, v] : c.options) write_string_attr(opts.get(), k.c_str(), v);
    H5Id state(H5Gcreate2(f, "optimizer", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose);
    NST_H5_CHECK(state.get());
    write_int(state.get(), "count", int(c.optimizer.tensors.size()));
    for (std::size_t i = 0; i < c.optimizer.tensors.size(); ++i) {
      write_string_attr(state.get(), ("name" + std::to_string(i)).c_str(), c.optimizer.tensors[i].first);
      write_tensor(state.get(), "t" + std::to_string(i), c.optimizer.tensors[i].second);
    }
    // The log so far: N x 6 doubles (stage, iteration, total, content, style, tv), bit-exact for the CSV.
    std::vector<double> rows;
    for (const LossRow& r : c.history) rows.insert(rows.end(), {double(r.stage), double(r.iteration), r.v.total, r.v.content, r.v.style, r.v.tv});
    const hsize_t dims[2] = {hsize_t(c.history.size()), 6};
    H5Id space(H5Screate_simple(2, dims, nullptr), H5Sclose);
    H5Id ds(H5Dcreate2(f, "history", H5T_IEEE_F64LE, space.get(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Dclose);
    NST_H5_CHECK(ds.get());
    if (!rows.empty()) NST_H5_CHECK(H5Dwrite(ds.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, rows.data()));
  });
}

bool is_checkpoint(const std::string& path) {
  silence_hdf5();
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec) || H5Fis_hdf5(path.c_str()) <= 0) return false;
  H5Id f(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  if (!f.valid() || H5Aexists(f.get(), "format") <= 0) return false;
  try {
    return Reader(path).string(f.get(), "format") == kFormat;
  } catch (const Error&) {
    return false;
  }
}

Checkpoint load_checkpoint(const std::string& path) {
  silence_hdf5();
  Reader r(path);
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) r.fail("no such checkpoint");
  if (H5Fis_hdf5(path.c_str()) <= 0) r.fail("not a checkpoint (not an HDF5 file)");
  H5Id f(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  if (!f.valid()) r.fail("cannot be opened (truncated or corrupt)");
  if (H5Aexists(f.get(), "format") <= 0 || r.string(f.get(), "format") != kFormat)
    r.fail("not an nst checkpoint (an HDF5 file without nst's format attribute: weights, or another program's)");
  if (int v = r.integer(f.get(), "format_version"); v != kVersion) r.fail("checkpoint version " + std::to_string(v) + ", this build reads " + std::to_string(kVersion));
  Checkpoint c;
  c.stage = r.integer(f.get(), "stage");
  c.iteration = r.integer(f.get(), "iteration");
  c.done = r.integer(f.get(), "done");
  c.optimizer.step = r.integer(f.get(), "adam_step");
  c.X = r.tensor(f.get(), "X");
  H5Id opts(H5Gopen2(f.get(), "options", H5P_DEFAULT), H5Gclose);
  if (!opts.valid()) r.fail("missing group 'options'");
  H5O_info_t info;
  NST_H5_CHECK(H5Oget_info(opts.get(), &info));
  for (hsize_t i = 0; i < info.num_attrs; ++i) {
    char name[256] = {};
    if (H5Aget_name_by_idx(opts.get(), ".", H5_INDEX_CRT_ORDER, H5_ITER_INC, i, name, sizeof name, H5P_DEFAULT) < 0 &&
        H5Aget_name_by_idx(opts.get(), ".", H5_INDEX_NAME, H5_ITER_INC, i, name, sizeof name, H5P_DEFAULT) < 0)
      r.fail("options cannot be read");
    c.options.push_back({name, r.string(opts.get(), name)});
  }
  H5Id state(H5Gopen2(f.get(), "optimizer", H5P_DEFAULT), H5Gclose);
  if (!state.valid()) r.fail("missing group 'optimizer'");
  int count = r.integer(state.get(), "count");
  if (count < 0 || count > 20000) r.fail("implausible optimizer state");
  for (int i = 0; i < count; ++i) {
    const std::string name = r.string(state.get(), ("name" + std::to_string(i)).c_str()), t = "t" + std::to_string(i);
    // Adam's m, v; or L-BFGS's pairs s0, y0, s1, y1, ... oldest first (what Optimizer::state() writes).
    const bool adam = count == 2 && name == (i == 0 ? "m" : "v");
    const bool lbfgs = count % 2 == 0 && name == (i % 2 == 0 ? "s" : "y") + std::to_string(i / 2);
    if (!adam && !lbfgs) r.fail("optimizer state '" + name + "' (" + t + ") is neither Adam's m, v nor L-BFGS's s/y pairs");
    Tensor x = r.tensor(state.get(), t);
    if (x.shape() != c.X.shape()) r.fail("optimizer state '" + name + "' is " + x.shape().str() + ", the image is " + c.X.shape().str());
    c.optimizer.tensors.push_back({name, std::move(x)});
  }
  // The log's rows (absent from checkpoints of earlier builds: the resumed log then starts where they left off).
  if (H5Lexists(f.get(), "history", H5P_DEFAULT) > 0) {
    H5Id ds(H5Dopen2(f.get(), "history", H5P_DEFAULT), H5Dclose);
    H5Id space(H5Dget_space(ds.get()), H5Sclose);
    hsize_t d[2] = {0, 0};
    if (!ds.valid() || H5Sget_simple_extent_ndims(space.get()) != 2) r.fail("dataset 'history' is not N x 6");
    H5Sget_simple_extent_dims(space.get(), d, nullptr);
    if (d[1] != 6 || d[0] > (1u << 26)) r.fail("dataset 'history' is not N x 6");
    std::vector<double> rows(d[0] * 6);
    if (d[0] > 0 && H5Dread(ds.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, rows.data()) < 0)
      r.fail("dataset 'history' cannot be read (truncated?)");
    for (std::size_t i = 0; i < d[0]; ++i) {
      const double* x = &rows[i * 6];
      if (!(x[0] >= 0 && x[0] < 100 && x[1] >= 0 && x[1] <= 1e9)) r.fail("dataset 'history' has a row that is not a stage and iteration");
      c.history.push_back({int(x[0]), int(x[1]), LossValues{x[2], x[3], x[4], x[5]}});
    }
  }
  return c;
}

}  // namespace nst
