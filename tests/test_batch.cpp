// nst batch: failures stay in their row, re-runs resume, shards and Slurm arrays split the rows exactly,
// style Grams are computed once per style and size, and warm-started frames converge sooner.
#include <algorithm>
#include <fstream>
#include <set>

#include "nst/backend.h"
#include "nst/image.h"
#include "run_util.h"

using Catch::Contains;
using nst::test::Run;
using nst::test::run;
using nst::test::TempDir;
namespace fs = std::filesystem;

namespace {

const std::string kNst = NST_BIN;

struct BatchFixture {
  TempDir dir{"batch"};
  std::string base;
  BatchFixture() {
    REQUIRE(run(std::string(NST_MAKE_DEMO) + " " + dir.path.string()).status == 0);
    REQUIRE(run(std::string(NST_MAKE_WEIGHTS) + " " + dir.file("w.h5") + " --widths 4,8,8,16,16").status == 0);
    std::ofstream(dir.file("bad.png")) << "not an image";
    std::ofstream m(dir.file("rows.csv"));
    m << "content,style,output,size\n"
         "content.png,style.png,out0.png,\n"
         "content.png,content.png,out1.png,\n"
         "style.png,style.png,out2.png,\n"
         "bad.png,style.png,out3.png,\n"
         "style.png,content.png,out4.png,48\n"
         "content.png,style.png;content.png,out5.png,\n";
    base = kNst + " batch --manifest " + dir.file("rows.csv") + " --device cpu --weights " + dir.file("w.h5") +
           " --size 64 --iterations 3 --print-every 0";
  }
  std::string slurp(const std::string& path) const {
    std::ifstream in(path, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), {});
  }
};

}  // namespace

TEST_CASE("a batch with one corrupt input: five outputs, one failure with its reason, and a re-run resumes", "[batch]") {
  BatchFixture fx;
  std::string out = fx.dir.file("out");
  Run r = run(fx.base + " --output-dir " + out);
  CHECK(r.status == 1);
  CHECK_THAT(r.err, Contains("nst: batch: 5 done, 0 skipped, 1 failed") && Contains("failed row 3 (bad.png): ") &&
                        Contains("bad.png: not a readable image"));
  // Grams: style.png at 64 (rows 0, 2, 5), content.png at 64 (rows 1, 5), content.png at 48 (row 4).
  CHECK_THAT(r.err, Contains("style Grams computed 3, reused 3"));
  for (int i : {0, 1, 2, 4, 5}) CHECK(std::filesystem::exists(out + "/out" + std::to_string(i) + ".png"));
  CHECK_FALSE(std::filesystem::exists(out + "/out3.png"));
  CHECK(nst::load_image(out + "/out4.png").shape().w == 48);  // the row's override

  Run again = run(fx.base + " --output-dir " + out);
  CHECK(again.status == 1);
  CHECK_THAT(again.err, Contains("nst: batch: 0 done, 5 skipped, 1 failed"));
}

TEST_CASE("shards 0/3, 1/3, 2/3 and a Slurm array give exactly the unsharded outputs, each row once", "[batch]") {
  BatchFixture fx;
  const std::string all = fx.dir.file("all"), sharded = fx.dir.file("sharded"), slurm = fx.dir.file("slurm");
  run(fx.base + " --output-dir " + all);
  std::set<std::string> seen;
  for (int k = 0; k < 3; ++k) {
    Run r = run(fx.base + " --output-dir " + sharded + " --shard " + std::to_string(k) + "/3");
    CHECK_THAT(r.err, Contains(k == 0 ? "1 done, 0 skipped, 1 failed" : "2 done, 0 skipped, 0 failed"));  // row 3 is in shard 0
    run("SLURM_ARRAY_TASK_ID=" + std::to_string(k + 5) + " SLURM_ARRAY_TASK_MIN=5 SLURM_ARRAY_TASK_COUNT=3 " + fx.base +
        " --output-dir " + slurm);
  }
  for (int i : {0, 1, 2, 4, 5}) {
    std::string name = "/out" + std::to_string(i) + ".png";
    CHECK(fx.slurp(all + name) == fx.slurp(sharded + name));
    CHECK(fx.slurp(all + name) == fx.slurp(slurm + name));
    CHECK(!fx.slurp(all + name).empty());
  }
  Run bad = run(fx.base + " --output-dir " + sharded + " --shard 3/3");
  CHECK(bad.status == 2);
  CHECK_THAT(bad.err, Contains("--shard: expected K/N with 0 <= K < N, got '3/3'"));
}

TEST_CASE("batch --devices runs one worker per device and together they do every row once", "[batch]") {
  BatchFixture fx;
  const std::string out = fx.dir.file("workers");
  Run r = run(fx.base + " --output-dir " + out + " --devices cpu,cpu");
  CHECK(r.status == 1);  // the corrupt row fails in its worker
  CHECK_THAT(r.err, Contains("nst: batch: 2 workers, 1 reported failures"));
  for (int i : {0, 1, 2, 4, 5}) CHECK(std::filesystem::exists(out + "/out" + std::to_string(i) + ".png"));
}

TEST_CASE("video frames: a frame warm-started from the previous result reaches the cold loss in fewer iterations", "[batch][frames]") {
  BatchFixture fx;
  // Four frames: the demo content panning right by 3 pixels a frame.
  auto be = nst::make_cpu_backend();
  nst::Tensor content = nst::load_image(fx.dir.file("content.png"));
  const int H = content.shape().h, W = content.shape().w;
  std::filesystem::create_directories(fx.dir.path / "frames");
  for (int k = 0; k < 4; ++k) {
    nst::Tensor f = nst::Tensor::host(content.shape());
    for (int c = 0; c < 3; ++c)
      for (int i = 0; i < H; ++i)
        for (int j = 0; j < W; ++j) f.data()[(c * H + i) * W + j] = content.data()[(c * H + i) * W + std::min(W - 1, j + 3 * k)];
    std::vector<std::uint8_t> rgb(std::size_t(H) * W * 3);
    be->to_rgb8(f, rgb.data());
    nst::save_image((fx.dir.path / "frames" / ("f" + std::to_string(k) + ".png")).string(), rgb, H, W);
  }
  const std::string common = kNst + " stylize --device cpu --weights " + fx.dir.file("w.h5") + " --style " +
                             fx.dir.file("style.png") + " --size 96 --optimizer lbfgs --print-every 0";
  using nst::test::log_totals;
  const std::string f1 = (fx.dir.path / "frames" / "f1.png").string(), f2 = (fx.dir.path / "frames" / "f2.png").string();
  REQUIRE(run(common + " --content " + f1 + " --iterations 30 --output " + fx.dir.file("r1.png")).status == 0);
  REQUIRE(run(common + " --content " + f2 + " --iterations 60 --output " + fx.dir.file("cold.png") + " --log " + fx.dir.file("cold.csv")).status == 0);
  REQUIRE(run(common + " --content " + f2 + " --iterations 30 --init " + fx.dir.file("r1.png") + " --output " +
              fx.dir.file("warm.png") + " --log " + fx.dir.file("warm.csv")).status == 0);
  std::vector<double> cold = log_totals(fx.dir.file("cold.csv")), warm = log_totals(fx.dir.file("warm.csv"));
  REQUIRE(cold.size() == 61);
  REQUIRE(warm.size() == 31);
  // The warm start begins far below the cold one (frame 1's result already carries the style), so "reaches
  // the cold run's final loss" would hold at row 0. The target is instead 0.7 of the warm start's own first
  // loss: below where it starts, and the cold run must get there too; the warm run must get there sooner.
  const double target = 0.7 * warm[0];
  auto reach = [target](const std::vector<double>& t) {
    for (std::size_t i = 0; i < t.size(); ++i)
      if (t[i] <= target) return i;
    return t.size();
  };
  const std::size_t warm_reach = reach(warm), cold_reach = reach(cold);
  WARN("frame 2: target " << target << " (0.7 of the warm start's " << warm[0] << "); the cold start (from " << cold[0]
                          << ") reaches it in " << cold_reach << " iterations, the warm start in " << warm_reach);
  CHECK(warm_reach > 0);
  CHECK(cold_reach < cold.size());
  CHECK(warm_reach < cold_reach);

  // The batch does the chaining itself: frame k starts from frame k-1's output.
  Run b = run(kNst + " batch --frames " + (fx.dir.path / "frames").string() + " --output-dir " + fx.dir.file("video") +
              " --device cpu --weights " + fx.dir.file("w.h5") + " --style " + fx.dir.file("style.png") +
              " --size 64 --iterations 6 --frame-iterations 2 --print-every 0");
  CHECK(b.status == 0);
  CHECK_THAT(b.err, Contains("4 done, 0 skipped, 0 failed") && Contains("after 6 iterations") && Contains("after 2 iterations"));
  for (int k = 0; k < 4; ++k) CHECK(std::filesystem::exists(fx.dir.file("video/f" + std::to_string(k) + ".png")));
}

TEST_CASE("batch: every output stays inside --output-dir, escapes, symlinks out and collisions stop it before any work", "[batch]") {
  BatchFixture fx;
  namespace fs = std::filesystem;
  const std::string out = fx.dir.file("contained"), outside = fx.dir.file("outside");
  fs::create_directories(out);
  fs::create_directories(outside);
  fs::create_directory_symlink(outside, out + "/away");  // a folder inside that leads outside
  fs::create_directories(out + "/real");
  fs::create_directory_symlink(out + "/real", out + "/alias");  // one that stays inside
  const std::string cmd = kNst + " batch --manifest " + fx.dir.file("m.csv") + " --output-dir " + out + " --device cpu --weights " +
                          fx.dir.file("w.h5") + " --size 32 --iterations 1 --print-every 0";
  auto manifest = [&](const std::string& rows) { std::ofstream(fx.dir.file("m.csv")) << "content,style,output,log\n" << rows; };
  struct Case {
    std::string rows, message;
  };
  const Case refused[] = {
      {"content.png,style.png,ok.png,\ncontent.png,style.png,../escaped.png,\n", "m.csv:3: output '../escaped.png' leaves --output-dir"},
      {"content.png,style.png,ok.png,\ncontent.png,style.png," + fx.dir.file("abs.png") + ",\n", "is an absolute path"},
      {"content.png,style.png,ok.png,\ncontent.png,style.png,sub/../../e.png,\n", "output 'sub/../../e.png' leaves --output-dir"},
      {"content.png,style.png,ok.png,\ncontent.png,style.png,away/x.png,\n",
       "output 'away/x.png' leads out of --output-dir through a symbolic link"},
      {"content.png,style.png,ok.png,\ncontent.png,style.png,a\tb.png,\n", "output 'a\\x09b.png' has a control character"},
      {"content.png,style.png,ok.png,\ncontent.png,style.png,./ok.png,\n", "m.csv:3 both write './ok.png'"},
      {"content.png,style.png,ok.png,\ncontent.png,style.png,real/x.png,\ncontent.png,style.png,alias/x.png,\n",
       "m.csv:4 both write 'alias/x.png'"},
      {"content.png,style.png,ok.png,../log.csv\n", "m.csv:2: output '../log.csv' leaves --output-dir"},
  };
  for (const Case& c : refused) {
    INFO(c.rows);
    manifest(c.rows);
    Run r = run(cmd);
    CHECK(r.status == 2);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    CHECK_THAT(r.err, Contains(c.message));
    CHECK_FALSE(fs::exists(out + "/ok.png"));  // checked before any row ran
    CHECK(fs::is_empty(outside));
    CHECK_FALSE(fs::exists(fx.dir.file("escaped.png")));
    CHECK_FALSE(fs::exists(fx.dir.file("log.csv")));
  }
  // Names made from input files: a frame whose name holds a newline is refused in one line, nothing run.
  fs::create_directories(fx.dir.file("frames"));
  fs::copy_file(fx.dir.file("content.png"), fx.dir.file("frames/a.png"));
  fs::copy_file(fx.dir.file("content.png"), fx.dir.file("frames/b\n.png"));
  Run frames = run(kNst + " batch --frames " + fx.dir.file("frames") + " --style " + fx.dir.file("style.png") + " --output-dir " + out +
                   " --device cpu --weights " + fx.dir.file("w.h5") + " --size 32 --iterations 1");
  CHECK(frames.status == 2);
  CHECK(std::count(frames.err.begin(), frames.err.end(), '\n') == 1);
  CHECK_THAT(frames.err, Contains("row 1 (b\\n.png): output 'b\\n.png' has a control character"));
  CHECK_FALSE(fs::exists(out + "/a.png"));

  // Subfolders, through a link that stays inside too, are created inside the folder.
  manifest("content.png,style.png,portraits/a.png,logs/a.csv\ncontent.png,style.png,alias/b.png,\n");
  Run r = run(cmd);
  CHECK(r.status == 0);
  CHECK(fs::exists(out + "/portraits/a.png"));
  CHECK(fs::exists(out + "/logs/a.csv"));
  CHECK(fs::exists(out + "/real/b.png"));
  CHECK(fs::is_empty(outside));
}

TEST_CASE("batch --contents --styles writes every content in every style as <content>__<style>.png", "[batch]") {
  BatchFixture fx;
  const fs::path contents = fx.dir.path / "contents", styles = fx.dir.path / "styles";
  fs::create_directories(contents);
  fs::create_directories(styles);
  fs::copy_file(fx.dir.file("content.png"), contents / "a.png");
  fs::copy_file(fx.dir.file("style.png"), contents / "b.PNG");  // extensions in any case
  fs::copy_file(std::string(NST_FIXTURES) + "/images/orient_6.jpg", contents / "c.jpeg");  // shown 32x16
  std::ofstream(contents / "notes.txt") << "not an image, not a row";
  fs::copy_file(fx.dir.file("style.png"), styles / "s1.png");
  fs::copy_file(fx.dir.file("content.png"), styles / "s2.png");
  const std::string tail = " --device cpu --weights " + fx.dir.file("w.h5") + " --size 32 --iterations 2 --print-every 0";
  const std::string out = fx.dir.file("grid");
  Run r = run(kNst + " batch --contents " + contents.string() + " --styles " + styles.string() + " --output-dir " + out + tail);
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK_THAT(r.err, Contains("6 done, 0 skipped, 0 failed"));
  for (const char* c : {"a", "b", "c"})
    for (const char* s : {"s1", "s2"}) {
      const std::string path = out + "/" + c + "__" + s + ".png";
      INFO(path);
      REQUIRE(fs::exists(path));
      const nst::Tensor t = nst::load_image(path);
      CHECK(t.shape().w == 32);  // the long side; c.jpeg is landscape once its EXIF orientation is applied
    }
  CHECK(nst::load_image(out + "/c__s1.png").shape().h == 16);
  int files = 0;
  for (const auto& e : fs::directory_iterator(out)) files += e.path().extension() == ".png";
  CHECK(files == 6);
  // Run again: every output exists, so every row is skipped and nothing is redone.
  r = run(kNst + " batch --contents " + contents.string() + " --styles " + styles.string() + " --output-dir " + out + tail);
  CHECK(r.status == 0);
  CHECK_THAT(r.err, Contains("0 done, 6 skipped, 0 failed"));

  struct Case {
    std::string args, message;
    int status;
  };
  fs::create_directories(fx.dir.path / "empty");
  const Case errors[] = {
      {" --contents " + contents.string(), "batch: --contents needs --styles DIR", 2},
      {" --contents " + contents.string() + " --styles " + styles.string() + " --manifest " + fx.dir.file("rows.csv"),
       "batch: give exactly one of --manifest FILE.csv, --contents DIR --styles DIR, or --frames DIR", 2},
      {" --contents " + fx.dir.file("no_such") + " --styles " + styles.string(), fx.dir.file("no_such") + ": not a folder", 1},
      {" --contents " + contents.string() + " --styles " + (fx.dir.path / "empty").string(),
       (fx.dir.path / "empty").string() + ": no images (.png, .jpg, .bmp, .tga) in it", 1},
  };
  for (const Case& c : errors) {
    INFO(c.args);
    r = run(kNst + " batch --output-dir " + fx.dir.file("never") + c.args + tail);
    CHECK(r.status == c.status);
    CHECK_THAT(r.err, Contains(c.message));
    CHECK_FALSE(fs::exists(fx.dir.file("never")));
  }
}

TEST_CASE("batch without any weights stops before the first row with one line, not once per row", "[batch]") {
  BatchFixture fx;
  const std::string out = fx.dir.file("noweights");
  // From a folder with no weights/, with no $NST_WEIGHTS and an empty data folder.
  Run r = run("cd " + fx.dir.path.string() + " && NST_WEIGHTS= XDG_DATA_HOME=" + fx.dir.file("xdg") + " " + kNst +
              " batch --manifest " + fx.dir.file("rows.csv") + " --output-dir " + out + " --device cpu --size 32 --iterations 1");
  CHECK(r.status == 1);
  CHECK(r.err.rfind("nst: no weights file: pass --weights FILE.h5 or set NST_WEIGHTS", 0) == 0);
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  CHECK_FALSE(fs::exists(out));
}
