// nst::load_checkpoint on arbitrary bytes: the HDF5 checkpoint a user may hand back to --resume (a file
// from another machine, a truncated copy, one edited by hand).
#include "fuzz_common.h"
#include "fuzz_h5.h"
#include "nst/checkpoint.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  nst::fuzz::run_one(data, size, [](const std::string& path) { nst::load_checkpoint(path); });
  nst::fuzz::check_no_hdf5_leaks();
  return 0;
}
