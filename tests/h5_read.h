// Minimal HDF5 reading for test fixtures: whole datasets and scalar/array attributes, converted by HDF5.
#pragma once
#include <hdf5.h>

#include <stdexcept>
#include <string>
#include <vector>

namespace nst::test {

class H5File {
 public:
  explicit H5File(const std::string& path) : path_(path) {
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    id_ = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
    if (id_ < 0) throw std::runtime_error(path + ": cannot open");
  }
  ~H5File() { H5Fclose(id_); }
  H5File(const H5File&) = delete;
  H5File& operator=(const H5File&) = delete;

  bool has(const std::string& name) const { return H5Lexists(id_, name.c_str(), H5P_DEFAULT) > 0; }

  // Dataset values as doubles, and its dimensions.
  std::vector<double> dataset(const std::string& name, std::vector<hsize_t>* dims = nullptr) const {
    hid_t ds = H5Dopen2(id_, name.c_str(), H5P_DEFAULT);
    if (ds < 0) throw std::runtime_error(path_ + ": no dataset " + name);
    hid_t space = H5Dget_space(ds);
    int rank = H5Sget_simple_extent_ndims(space);
    std::vector<hsize_t> d(rank);
    H5Sget_simple_extent_dims(space, d.data(), nullptr);
    std::size_t n = 1;
    for (hsize_t x : d) n *= x;
    std::vector<double> v(n);
    herr_t rc = H5Dread(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data());
    H5Sclose(space);
    H5Dclose(ds);
    if (rc < 0) throw std::runtime_error(path_ + ": cannot read " + name);
    if (dims) *dims = d;
    return v;
  }

  std::vector<double> numbers(const std::string& attr) const {
    hid_t a = H5Aopen(id_, attr.c_str(), H5P_DEFAULT);
    if (a < 0) throw std::runtime_error(path_ + ": no attribute " + attr);
    hid_t space = H5Aget_space(a);
    std::vector<double> v(H5Sget_simple_extent_npoints(space));
    herr_t rc = H5Aread(a, H5T_NATIVE_DOUBLE, v.data());
    H5Sclose(space);
    H5Aclose(a);
    if (rc < 0) throw std::runtime_error(path_ + ": cannot read " + attr);
    return v;
  }
  double number(const std::string& attr) const { return numbers(attr).at(0); }

  std::string string(const std::string& attr) const {
    hid_t a = H5Aopen(id_, attr.c_str(), H5P_DEFAULT);
    if (a < 0) throw std::runtime_error(path_ + ": no attribute " + attr);
    hid_t type = H5Aget_type(a);
    std::string s;
    if (H5Tis_variable_str(type) > 0) {
      char* buf = nullptr;
      hid_t mem = H5Tcopy(H5T_C_S1);
      H5Tset_size(mem, H5T_VARIABLE);
      H5Aread(a, mem, &buf);
      s = buf ? buf : "";
      H5free_memory(buf);
      H5Tclose(mem);
    } else {
      std::vector<char> buf(H5Tget_size(type) + 1, '\0');
      H5Aread(a, type, buf.data());
      s = buf.data();
    }
    H5Tclose(type);
    H5Aclose(a);
    return s;
  }

 private:
  std::string path_;
  hid_t id_ = -1;
};

}  // namespace nst::test
