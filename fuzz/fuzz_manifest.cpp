// nst::app::parse_manifest on arbitrary bytes: the batch manifest (SPEC §5), which may come from someone
// else — its CSV fields, the stylize overrides named in its header, and the output paths that must stay
// inside --output-dir (a fresh empty folder here; nothing is written).
#include <cstdlib>
#include <string>

#include "commands.h"
#include "fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string out = [] {
    char dir[] = "/tmp/nst_fuzz_manifest_XXXXXX";
    if (!::mkdtemp(dir)) std::abort();
    return std::string(dir);
  }();
  nst::fuzz::run_one(data, size, [](const std::string& path) { nst::app::parse_manifest(path, out); });
  return 0;
}
