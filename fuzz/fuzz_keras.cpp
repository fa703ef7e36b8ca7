// nst::read_keras_h5 on arbitrary bytes: Keras 1/2 weight files in HDF5.
#include "fuzz_common.h"
#include "fuzz_h5.h"
#include "convert/convert.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  nst::fuzz::run_one(data, size, [](const std::string& path) { nst::read_keras_h5(path); });
  nst::fuzz::check_no_hdf5_leaks();
  return 0;
}
