// nst::read_caffemodel on arbitrary bytes: the protobuf wire format of a Caffe NetParameter.
#include "fuzz_common.h"
#include "convert/convert.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return nst::fuzz::run_one(data, size, [](const std::string& path) { nst::read_caffemodel(path); });
}
