// A folder with the demo images and mini-VGG19 weights for the command-line tests, removed at the end.
#pragma once
#include <filesystem>
#include <string>

#include "run_util.h"

namespace nst::test {

struct StylizeFixture {
  std::filesystem::path dir = std::filesystem::temp_directory_path() / ("nst_stylize_" + std::to_string(::getpid()));
  std::string base;  // nst stylize on the CPU, 64 px, 3 iterations; add --output and more
  StylizeFixture() {
    std::filesystem::create_directories(dir);
    REQUIRE(run(std::string(NST_MAKE_DEMO) + " " + dir.string()).status == 0);
    REQUIRE(run(std::string(NST_MAKE_WEIGHTS) + " " + (dir / "w.h5").string() + " --widths 4,8,8,16,16").status == 0);
    base = std::string(NST_BIN) + " stylize --device cpu --weights " + (dir / "w.h5").string() + " --content " +
           (dir / "content.png").string() + " --style " + (dir / "style.png").string() + " --size 64 --iterations 3";
  }
  ~StylizeFixture() { std::filesystem::remove_all(dir); }
  std::string out() const { return (dir / "out.png").string(); }
  std::string path(const std::string& name) const { return (dir / name).string(); }
};

}  // namespace nst::test
