#include "nst/error.h"

namespace nst {

std::string source_location(const char* file, int line) {
  std::string f = file;
  // Keep the path from the repository's top folder on, not the build machine's prefix.
  for (const char* top : {"/src/", "/include/", "/kernels/", "/tests/", "/tools/", "/bench/"}) {
    auto pos = f.rfind(top);
    if (pos != std::string::npos) {
      f = f.substr(pos + 1);
      break;
    }
  }
  return f + ":" + std::to_string(line);
}

}  // namespace nst
