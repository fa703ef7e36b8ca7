// nst::read_pth on arbitrary bytes: PyTorch's zip and legacy pickle serialisations.
#include "fuzz_common.h"
#include "convert/convert.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return nst::fuzz::run_one(data, size, [](const std::string& path) { nst::read_pth(path); });
}
