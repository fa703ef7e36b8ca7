// The engine's Stylization without the program: errors name the option (as StylizeOptions calls it) and
// never a flag; the observer hears every loss row and iteration, and a stop request ends the run.
#include <cmath>
#include <filesystem>
#include <memory>

#include "nst/error.h"
#include "nst/image.h"
#include "nst/network.h"
#include "nst/stylizer.h"
#include "nst/weights.h"
#include "test_util.h"

using namespace nst;
namespace fs = std::filesystem;

namespace {

struct Files {
  fs::path dir = fs::temp_directory_path() / ("nst_stylizer_" + std::to_string(::getpid()));
  Files() {
    fs::create_directories(dir);
    save_weights(path("w.h5"), synthetic_weights({4, 8, 8, 16, 16}, 3, torchvision_normalization()));
    save_image(path("content.png"), to_rgb8(noise_image(40, 60, 1)), 40, 60);
    save_image(path("style.png"), to_rgb8(noise_image(48, 48, 2)), 48, 48);
  }
  ~Files() { fs::remove_all(dir); }
  std::string path(const std::string& name) const { return (dir / name).string(); }
  StylizeOptions options() const {
    StylizeOptions o;
    o.content = path("content.png");
    o.styles = {path("style.png")};
    o.weights = path("w.h5");
    o.size = 32;
    o.iterations = 3;
    o.optimizer = OptimizerKind::Adam;
    return o;
  }
};

// The option an engine error is about, and that its message names no flag.
std::string option_of(Session& session, const StylizeOptions& o) {
  try {
    Stylization s(session, o);
    s.plan();
  } catch (const Error& e) {
    CHECK(std::string(e.what()).find("--") == std::string::npos);
    return e.option();
  }
  return "(no error)";
}

struct Recorder : StylizeObserver {
  std::vector<int> rows, iterations;
  int stop_after = -1;
  void loss(const LossRow& row) override { rows.push_back(row.iteration); }
  void iteration(const IterationEvent& e) override {
    iterations.push_back(e.iteration);
    CHECK(e.image().shape() == Shape{1, 3, 21, 32});
    CHECK(e.checkpoint().iteration == e.iteration);
  }
  bool stop_requested() override { return int(iterations.size()) == stop_after; }
};

}  // namespace

TEST_CASE("stylizer: an error about one option names it as StylizeOptions does, never a flag", "[stylizer]") {
  Files f;
  Session session([] { return make_cpu_backend(); });
  StylizeOptions o = f.options();
  o.size = 20;
  o.style_layers = {vgg19_layer_index("relu5_1")};
  CHECK(option_of(session, o) == "size");  // too small for relu5_1
  o = f.options();
  o.style_blend = {1, 2};
  CHECK(option_of(session, o) == "style_blend");
  o = f.options();
  o.scales = 2;
  o.start_size = 40;
  CHECK(option_of(session, o) == "start_size");
  o = f.options();
  o.history = 0;
  CHECK(option_of(session, o) == "history");
  CHECK(option_of(session, f.options()) == "(no error)");
}

TEST_CASE("stylizer: the observer hears rows 0..N and each iteration, a stop request ends the run after it", "[stylizer]") {
  Files f;
  Session session([] { return make_cpu_backend(); });
  {
    Stylization s(session, f.options());
    Recorder r;
    StylizeResult res = s.run(r);
    CHECK(res.end == StylizeResult::End::Done);
    CHECK(res.done == 3);
    CHECK(r.rows == std::vector<int>{0, 1, 2, 3});
    CHECK(r.iterations == std::vector<int>{1, 2, 3});
    CHECK(res.image.shape() == Shape{1, 3, 21, 32});
    CHECK(std::isfinite(res.last.total));
  }
  {
    Stylization s(session, f.options());
    Recorder r;
    r.stop_after = 1;
    StylizeResult res = s.run(r);
    CHECK(res.end == StylizeResult::End::Stopped);
    CHECK(res.done == 1);
    CHECK(r.iterations == std::vector<int>{1});
    // The result carries the checkpoint to continue from, with the log's rows so far.
    REQUIRE(res.checkpoint);
    CHECK(res.checkpoint->iteration == 1);
    REQUIRE(res.checkpoint->history.size() == 2);
    CHECK(res.checkpoint->history[1].iteration == 1);
    CHECK(res.checkpoint->history[1].v.total == res.last.total);
  }
  {
    // Stopped before the first iteration (a signal during setup): no iteration runs, and still a checkpoint.
    Stylization s(session, f.options());
    Recorder r;
    r.stop_after = 0;
    StylizeResult res = s.run(r);
    CHECK(res.end == StylizeResult::End::Stopped);
    CHECK(res.done == 0);
    CHECK(r.iterations.empty());
    CHECK(r.rows == std::vector<int>{0});
    REQUIRE(res.checkpoint);
    CHECK(res.checkpoint->iteration == 0);
    CHECK(res.checkpoint->history.size() == 1);
  }
}
