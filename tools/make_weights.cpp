// nst_make_weights: writes a seeded synthetic weights file in the SPEC §1 format: a mini-VGG19 for tests
// or a full-width VGG19 for benchmarks and for running without the real weights.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "nst/error.h"
#include "nst/weights.h"

namespace {

const char* kUsage =
    "usage: nst_make_weights OUT.h5 [--widths A,B,C,D,E] [--seed N] [--normalization torchvision|caffe]\n"
    "  --widths         channels of the five VGG19 blocks (default 64,128,256,512,512, the real VGG19;\n"
    "                   tests use a mini-VGG19 such as 4,8,16,32,32)\n"
    "  --seed           generator seed (default 1); the same seed gives the same file everywhere\n"
    "  --normalization  input normalisation stored in the file (default torchvision)\n";

int to_int(const std::string& s, const std::string& flag) {
  char* end = nullptr;
  long v = std::strtol(s.c_str(), &end, 10);
  if (s.empty() || *end || v < 0 || v > 1 << 20) throw nst::UsageError(flag + ": '" + s + "' is not a valid number");
  return int(v);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    std::string out;
    std::array<int, 5> widths = {64, 128, 256, 512, 512};
    unsigned long long seed = 1;
    nst::Normalization norm = nst::torchvision_normalization();
    for (int i = 1; i < argc; ++i) {
      std::string a = argv[i];
      auto value = [&]() -> std::string {
        if (i + 1 >= argc) throw nst::UsageError(a + " needs a value");
        return argv[++i];
      };
      if (a == "--help" || a == "-h") {
        std::fputs(kUsage, stdout);
        return 0;
      } else if (a == "--widths") {
        std::string v = value();
        std::size_t pos = 0;
        for (int k = 0; k < 5; ++k) {
          std::size_t end = v.find(',', pos);
          if ((k < 4) != (end != std::string::npos)) throw nst::UsageError("--widths needs five comma-separated numbers");
          widths[k] = to_int(v.substr(pos, end == std::string::npos ? std::string::npos : end - pos), "--widths");
          pos = end + 1;
        }
      } else if (a == "--seed") {
        seed = std::strtoull(value().c_str(), nullptr, 10);
      } else if (a == "--normalization") {
        std::string v = value();
        if (v == "torchvision") norm = nst::torchvision_normalization();
        else if (v == "caffe") norm = nst::caffe_normalization();
        else throw nst::UsageError("--normalization: expected torchvision or caffe, got '" + v + "'");
      } else if (!a.empty() && a[0] == '-') {
        throw nst::UsageError("unknown option " + a);
      } else if (out.empty()) {
        out = a;
      } else {
        throw nst::UsageError("unexpected argument " + a);
      }
    }
    if (out.empty()) throw nst::UsageError("no output file given");
    nst::save_weights(out, nst::synthetic_weights(widths, seed, norm));
    return 0;
  } catch (const nst::UsageError& e) {
    std::fprintf(stderr, "nst_make_weights: %s\n%s", e.what(), kUsage);
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "nst_make_weights: %s\n", e.what());
    return 1;
  }
}
