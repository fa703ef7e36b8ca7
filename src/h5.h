// Small owners and writers over the HDF5 C API, shared by the weights file and the checkpoints.
#pragma once
#include <hdf5.h>

#include <cstdio>
#include <filesystem>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "nst/atomic_file.h"
#include "nst/error.h"

// Wraps one HDF5 call whose failure is a bug or an I/O error, not a malformed file.
#define NST_H5_CHECK(call)                                                                    \
  do {                                                                                        \
    if ((call) < 0) throw ::nst::Error(std::string("HDF5 call failed: " #call " at ") +      \
                                       ::nst::source_location(__FILE__, __LINE__));           \
  } while (0)

namespace nst::h5 {

// Move-only owner of an HDF5 identifier and the function that closes it.
class H5Id {
 public:
  H5Id() = default;
  H5Id(hid_t id, herr_t (*close)(hid_t)) : id_(id), close_(close) {}
  H5Id(H5Id&& o) noexcept : id_(o.id_), close_(o.close_) { o.id_ = -1; }
  H5Id& operator=(H5Id&& o) noexcept {
    std::swap(id_, o.id_);
    std::swap(close_, o.close_);
    return *this;
  }
  H5Id(const H5Id&) = delete;
  H5Id& operator=(const H5Id&) = delete;
  ~H5Id() {
    if (id_ >= 0 && close_) close_(id_);
  }
  hid_t get() const { return id_; }
  bool valid() const { return id_ >= 0; }

 private:
  hid_t id_ = -1;
  herr_t (*close_)(hid_t) = nullptr;
};

// HDF5 prints a stack of errors to stderr by default; we report one line of our own instead.
inline void silence_hdf5() { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); }


inline void write_string_attr(hid_t obj, const char* name, const std::string& value) {
  H5Id type(H5Tcopy(H5T_C_S1), H5Tclose);
  NST_H5_CHECK(H5Tset_size(type.get(), value.size() + 1));
  NST_H5_CHECK(H5Tset_strpad(type.get(), H5T_STR_NULLTERM));
  NST_H5_CHECK(H5Tset_cset(type.get(), H5T_CSET_ASCII));
  H5Id space(H5Screate(H5S_SCALAR), H5Sclose);
  H5Id a(H5Acreate2(obj, name, type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
  NST_H5_CHECK(a.get());
  NST_H5_CHECK(H5Awrite(a.get(), type.get(), value.c_str()));
}

template <typename T>
inline void write_number_attr(hid_t obj, const char* name, hid_t file_type, hid_t mem_type, const T* values, hsize_t n, bool scalar) {
  H5Id space(scalar ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &n, nullptr), H5Sclose);
  H5Id a(H5Acreate2(obj, name, file_type, space.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
  NST_H5_CHECK(a.get());
  NST_H5_CHECK(H5Awrite(a.get(), mem_type, values));
}

inline void write_dataset(hid_t group, const char* name, const std::vector<float>& v, const std::vector<hsize_t>& dims) {
  H5Id space(H5Screate_simple(int(dims.size()), dims.data(), nullptr), H5Sclose);
  H5Id ds(H5Dcreate2(group, name, H5T_IEEE_F32LE, space.get(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Dclose);
  NST_H5_CHECK(ds.get());
  NST_H5_CHECK(H5Dwrite(ds.get(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()));
}

// An HDF5 file written whole or not at all (include/nst/atomic_file.h): `fill` writes into the open
// temporary file; a failure at any point leaves an existing PATH untouched. `what` names the file in messages.
inline void write_atomically(const std::string& path, const std::string& what, const std::function<void(hid_t)>& fill) {
  silence_hdf5();
  AtomicFile file(path);
  {
    H5Id f(H5Fcreate(file.tmp().c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), H5Fclose);
    if (!f.valid()) throw Error(path + ": cannot write the " + what + " (is the folder writable?)");
    fill(f.get());
    NST_H5_CHECK(H5Fflush(f.get(), H5F_SCOPE_GLOBAL));
  }
  file.commit();
}

}  // namespace nst::h5
