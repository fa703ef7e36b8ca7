// Every file of the fuzzers' corpora (fuzz/corpus/<target>/: the seeds and the regress_* inputs that once
// crashed a parser) through the parser its target calls, in every ctest run: a fuzz finding, once fixed,
// stays fixed without anyone running libFuzzer, and under .ci/run's AddressSanitizer build as well.
// The rule is the fuzzers' own (fuzz/README.md): a parser returns or throws nst::Error, whose message is
// one line naming the file; anything else fails here.
#include <filesystem>
#include <functional>
#include <map>

#include "commands.h"
#include "convert/convert.h"
#include "nst/checkpoint.h"
#include "nst/error.h"
#include "nst/image.h"
#include "nst/weights.h"
#include "test_util.h"

namespace fs = std::filesystem;

TEST_CASE("every fuzz corpus file, regress seeds included, gives a result or one nst::Error line", "[fuzz]") {
  const std::map<std::string, std::function<void(const std::string&)>> parsers = {
      {"fuzz_image", [](const std::string& p) { nst::load_image(p); }},
      {"fuzz_weights", [](const std::string& p) { nst::load_weights(p); }},
      {"fuzz_pth", [](const std::string& p) { nst::read_pth(p); }},
      {"fuzz_caffemodel", [](const std::string& p) { nst::read_caffemodel(p); }},
      {"fuzz_keras", [](const std::string& p) { nst::read_keras_h5(p); }},
      {"fuzz_checkpoint", [](const std::string& p) { nst::load_checkpoint(p); }},
      {"fuzz_manifest", [](const std::string& p) { nst::app::parse_manifest(p, NST_SOURCE_DIR "/fuzz"); }},
  };
  const fs::path corpus = fs::path(NST_SOURCE_DIR) / "fuzz" / "corpus";
  int files = 0, regress = 0, refused = 0;
  for (const auto& target : fs::directory_iterator(corpus)) {
    const std::string name = target.path().filename().string();
    INFO("target " << name);
    REQUIRE(parsers.count(name) == 1);  // a new fuzz target needs its parser here
    for (const auto& f : fs::directory_iterator(target.path())) {
      const std::string path = f.path().string();
      INFO(path);
      ++files;
      const bool is_regress = f.path().filename().string().rfind("regress_", 0) == 0;
      regress += is_regress;
      try {
        parsers.at(name)(path);
      } catch (const nst::Error& e) {
        ++refused;
        const std::string what = e.what();
        CHECK(what.find('\n') == std::string::npos);
        CHECK(what.find(f.path().filename().string()) != std::string::npos);
      }
    }
  }
  WARN(files << " corpus files, " << regress << " regress seeds, " << refused << " refused with nst::Error");
  CHECK(files >= 30);
  CHECK(regress >= 6);
}
