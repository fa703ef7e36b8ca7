// nst::load_weights on arbitrary bytes: the HDF5 weights file of SPEC §1.
#include "fuzz_common.h"
#include "fuzz_h5.h"
#include "nst/weights.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  nst::fuzz::run_one(data, size, [](const std::string& path) { nst::load_weights(path); });
  nst::fuzz::check_no_hdf5_leaks();
  return 0;
}
