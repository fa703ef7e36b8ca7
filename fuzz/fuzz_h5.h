// For the targets whose parser uses HDF5: after each input, every identifier the parser opened must be
// closed again. A leaked file identifier would also keep the file open, and HDF5 would then serve the next
// input's open from the stale file it still holds.
#pragma once
#include <hdf5.h>

#include <cstdio>
#include <cstdlib>

namespace nst::fuzz {

inline void check_no_hdf5_leaks() {
  ssize_t open = H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL);
  if (open != 0) {
    std::fprintf(stderr, "NST_FUZZ_LEAK: %zd HDF5 identifiers left open after the parser returned\n", open);
    std::abort();
  }
}

}  // namespace nst::fuzz
