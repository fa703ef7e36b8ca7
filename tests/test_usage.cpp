// What a newcomer runs into (issue 23): parsing a user can follow, and nothing the user gave overwritten.
// Each case checks the exit status, the one-line message and that no input was touched.
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "nst/checkpoint.h"
#include "nst/image.h"
#include "stylize_fixture.h"

using Catch::Contains;
using nst::test::Run;
using nst::test::run;
using nst::test::StylizeFixture;

namespace {

const std::string kNst = NST_BIN;

std::size_t lines(const std::string& s) { return std::size_t(std::count(s.begin(), s.end(), '\n')); }

std::string read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

}  // namespace

TEST_CASE("a flag missing its value is named, not fed the next flag", "[usage]") {
  StylizeFixture fx;
  Run r = run(fx.base + " --output " + fx.out() + " --log --print-every 5");
  CHECK(r.status == 2);
  CHECK(r.err == "nst: --log needs a value (FILE.csv), not the flag --print-every\n");
  CHECK_FALSE(std::filesystem::exists(fx.out()));
  // A negative number is still a value (and then judged as one).
  r = run(fx.base + " --output " + fx.out() + " --lr -1");
  CHECK(r.status == 2);
  CHECK_THAT(r.err, Contains("--lr: must be positive"));
}

TEST_CASE("unknown flags and commands get a did-you-mean from the known ones", "[usage]") {
  StylizeFixture fx;
  struct Case {
    std::string args, message;
  };
  const Case cases[] = {
      // our name with underscores or one dash, as jcjohnson/neural-style spells it
      {" --style_weight 10", "stylize: unknown option '--style_weight'; did you mean --style-weight? (see nst stylize --help)"},
      {" -style_weight 10", "unknown option '-style_weight'; did you mean --style-weight?"},
      {" -tv_weight 0", "did you mean --tv-weight?"},
      // the peers' own names
      {" -image_size 256", "did you mean --size?"},
      {" -num_iterations 5", "did you mean --iterations?"},
      {" -learning_rate 1", "did you mean --lr?"},
      {" -print_iter 5", "did you mean --print-every?"},
      {" -gpu 0", "did you mean --device?"},
      // near misses
      {" --itertions 5", "did you mean --iterations?"},
      {" --style-wieght 5", "did you mean --style-weight?"},
      // and nothing suggested where nothing is near
      {" --frobnicate 3", "stylize: unknown option '--frobnicate' (see nst stylize --help)"},
  };
  for (const Case& c : cases) {
    INFO(c.args);
    Run r = run(fx.base + " --output " + fx.out() + c.args);
    CHECK(r.status == 2);
    CHECK(lines(r.err) == 1);
    CHECK_THAT(r.err, Contains(c.message));
  }
  // batch knows stylize's flags as well as its own
  Run b = run(kNst + " batch --output-dir " + fx.path("b") + " --manifset m.csv");
  CHECK(b.status == 2);
  CHECK_THAT(b.err, Contains("batch: unknown option '--manifset'; did you mean --manifest?"));
  b = run(kNst + " batch --output-dir " + fx.path("b") + " --manifest m.csv --style_weight 3");
  CHECK(b.status == 2);
  CHECK_THAT(b.err, Contains("did you mean --style-weight?"));

  Run c = run(kNst + " stylise --help");
  CHECK(c.status == 2);
  CHECK(c.err == "nst: unknown command 'stylise'; did you mean nst stylize? (see nst --help)\n");
  c = run(kNst + " bnech");
  CHECK(c.status == 2);
  CHECK_THAT(c.err, Contains("did you mean nst bench?"));
  c = run(kNst + " frobnicate");
  CHECK(c.status == 2);
  CHECK(c.err == "nst: unknown command 'frobnicate' (see nst --help)\n");
}

TEST_CASE("a bare command prints its usage on stderr and exits 2", "[usage]") {
  for (const char* command : {"stylize", "batch"}) {
    INFO(command);
    Run r = run(kNst + " " + command);
    CHECK(r.status == 2);
    CHECK(r.out.empty());
    CHECK_THAT(r.err, Contains(std::string("usage: nst ") + command) && Contains("--help, -h"));
  }
}

TEST_CASE("no output may be an input or another output, an existing file is replaced only when it is ours by name", "[usage]") {
  StylizeFixture fx;
  const std::string content = fx.path("content.png"), weights = fx.path("w.h5");
  std::filesystem::copy_file(content, fx.path("same.png"));
  std::filesystem::copy_file(weights, fx.path("other.h5"));
  { std::ofstream(fx.path("notes.txt")) << "my notes\n"; }
  { std::ofstream(fx.path("page.html")) << "<p>an old report</p>\n"; }
  std::filesystem::copy_file(content, fx.path("out_iter2.png"));
  const std::string before_content = read(content), before_weights = read(weights), before_notes = read(fx.path("notes.txt"));
  struct Case {
    std::string args, message;
  };
  const std::string o = " --output " + fx.out();
  const Case cases[] = {
      {o + " --log " + content, "--log: " + content + " is the --content file; nst never writes over its inputs"},
      {" --output " + fx.path("r4.png") + " --report " + fx.path("r4.png"), "--report: " + fx.path("r4.png") + " is also --output"},
      {" --output " + content, "--output: " + content + " is the --content file"},
      {o + " --checkpoint " + weights, "--checkpoint: " + weights + " is the --weights file"},
      {o + " --log " + fx.path("./x/../content.png"), "is the --content file"},  // the same file by another path
      {o + " --log " + fx.path("notes.txt"), "--log: " + fx.path("notes.txt") + " exists and is not a .csv file"},
      {o + " --report " + fx.path("notes.txt"), "--report: " + fx.path("notes.txt") + " exists and is not an .html file"},
      {o + " --checkpoint " + fx.path("other.h5"), "--checkpoint: " + fx.path("other.h5") + " exists and is not an nst checkpoint"},
      {o + " --log " + fx.out(), "--log: " + fx.out() + " is also --output"},
      {o + " --init " + fx.path("out_iter2.png") + " --save-every 2", "--save-every: the snapshots of --output " + fx.out() +
                                                                      " would write over the --init file"},
      {" --output " + fx.path("same.partial.png") + " --init " + fx.path("same.png") + " --log " + fx.path("l.csv"), ""},  // fine
  };
  std::filesystem::create_directories(fx.path("x"));
  for (const Case& c : cases) {
    INFO(c.args);
    Run r = run(fx.base + c.args);
    if (c.message.empty()) {
      CHECK(r.status == 0);
      continue;
    }
    CHECK(r.status == 2);
    CHECK(lines(r.err) == 1);
    CHECK_THAT(r.err, Contains(c.message));
    CHECK_FALSE(std::filesystem::exists(fx.out()));
  }
  CHECK(read(content) == before_content);
  CHECK(read(weights) == before_weights);
  CHECK(read(fx.path("notes.txt")) == before_notes);
  CHECK(read(fx.path("same.png")) == before_content);
  // An existing report of ours is replaced, as is a log.
  Run ok = run(fx.base + o + " --report " + fx.path("page.html") + " --log " + fx.path("l.csv"));
  CHECK(ok.status == 0);
  CHECK_THAT(read(fx.path("page.html")), Contains("<!DOCTYPE html>"));
}

namespace {

// Rows of a CSV log, header first.
std::vector<std::string> log_rows(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> rows;
  for (std::string line; std::getline(in, line);) rows.push_back(line);
  return rows;
}

// Runs `cmd` in the background and sends it `signal` once it has printed its second iteration (so the
// handler is surely installed and the run under way; never on a timer, which a loaded machine outruns).
Run interrupt(const std::string& cmd, const std::string& dir, const char* signal = "INT") {
  const std::string err = dir + "/interrupt.err";
  return run(cmd + " --print-every 1 2>" + err + " & pid=$!; for i in $(seq 3000); do grep -q 'iteration 2/' " + err +
             " && break; sleep 0.1; done; kill -" + signal + " $pid; wait $pid; s=$?; cat " + err + " >&2; exit $s");
}

}  // namespace

TEST_CASE("an interrupted run writes OUT.partial.png and a checkpoint, names the resume command, and that command finishes the run", "[usage][resume]") {
  StylizeFixture fx;
  const std::string log = fx.path("log.csv"), ck = fx.out() + ".checkpoint.h5", partial = fx.path("out.partial.png");
  const std::string cmd = fx.base + " --iterations 100000 --optimizer adam --output " + fx.out() + " --log " + log;
  Run r = interrupt(cmd, fx.dir.string());
  CHECK(r.status == 130);
  INFO(r.err);
  CHECK_FALSE(std::filesystem::exists(fx.out()));  // the final name holds a complete result only
  CHECK(std::filesystem::exists(partial));
  REQUIRE(std::filesystem::exists(ck));  // no --checkpoint given: next to the output
  const auto at = r.err.find("to continue: nst stylize ");
  REQUIRE(at != std::string::npos);
  CHECK_THAT(r.err, Contains("wrote " + partial + " and the checkpoint " + ck));
  std::string resume = r.err.substr(at + std::string("to continue: ").size());
  resume = resume.substr(0, resume.find('\n'));
  CHECK_THAT(resume, Contains("--resume " + ck));
  const std::vector<std::string> first = log_rows(log);
  REQUIRE(first.size() >= 3);

  // The printed command, run as it is (but with a bound on the iterations, through a second --iterations
  // that the table applies last), continues the same run to the end.
  const std::string nst_cmd = resume.replace(0, 3, kNst) + " --iterations " + std::to_string(first.size() + 1);
  Run c = run(nst_cmd);
  INFO(c.err);
  REQUIRE(c.status == 0);
  CHECK(std::filesystem::exists(fx.out()));
  CHECK_FALSE(std::filesystem::exists(partial));  // superseded by the complete result
  const std::vector<std::string> whole = log_rows(log);
  REQUIRE(whole.size() == first.size() + 3);  // the header and rows 0..N+3, where the first run logged 0..N
  for (std::size_t i = 0; i < first.size(); ++i) CHECK(whole[i] == first[i]);  // the earlier rows, bit for bit
  for (std::size_t i = 1; i < whole.size(); ++i) CHECK(whole[i].rfind(std::to_string(i - 1) + ",", 0) == 0);
}

TEST_CASE("SIGTERM ends a run as SIGINT does, with status 143, and a given --checkpoint gets the checkpoint", "[usage][resume]") {
  StylizeFixture fx;
  const std::string ck = fx.path("mine.h5");
  Run r = interrupt(fx.base + " --iterations 100000 --output " + fx.out() + " --checkpoint " + ck, fx.dir.string(), "TERM");
  CHECK(r.status == 143);
  CHECK_THAT(r.err, Contains("the checkpoint " + ck + ";"));
  CHECK(std::filesystem::exists(fx.path("out.partial.png")));
  CHECK_FALSE(std::filesystem::exists(fx.out()));
  CHECK_FALSE(std::filesystem::exists(fx.out() + ".checkpoint.h5"));
  const nst::Checkpoint c = nst::load_checkpoint(ck);
  CHECK(c.iteration >= 2);
  CHECK(c.history.size() == std::size_t(c.iteration) + 1);
}

TEST_CASE("a resumed run goes on checkpointing to its file, and the log continues rows 0..N across resumes", "[usage][resume]") {
  StylizeFixture fx;
  const std::string ck = fx.path("ck.h5"), log_a = fx.path("a.csv"), log_b = fx.path("b.csv");
  const std::string common = fx.base + " --optimizer lbfgs --output " + fx.out();
  // The run never interrupted, for reference.
  REQUIRE(run(common + " --iterations 16 --log " + log_a).status == 0);
  REQUIRE(run(common + " --iterations 10 --save-every 4 --checkpoint " + ck).status == 0);  // checkpoints at 4, 8
  // Resumed without --checkpoint: checkpoints at 10, 12, 14 go to ck.h5 itself.
  Run r = run(common + " --iterations 14 --save-every 2 --resume " + ck);
  REQUIRE(r.status == 0);
  CHECK_THAT(r.err, Contains("resumed at iteration 8"));
  Run again = run(common + " --iterations 16 --save-every 2 --resume " + ck + " --log " + log_b);
  REQUIRE(again.status == 0);
  CHECK_THAT(again.err, Contains("resumed at iteration 14"));  // not 8: no work lost
  // The log of the twice-resumed run is the uninterrupted run's log, rows 0..16.
  CHECK(log_rows(log_b) == log_rows(log_a));
  CHECK(log_rows(log_b).size() == 18);
}

TEST_CASE("a multi-scale run logs and reports every stage, names snapshots by stage, and reports values used", "[usage]") {
  StylizeFixture fx;
  const std::string log = fx.path("log.csv"), report = fx.path("r.html");
  Run r = run(fx.base + " --scales 2 --iterations 3 --save-every 2 --output " + fx.out() + " --log " + log + " --report " + report);
  REQUIRE(r.status == 0);
  const std::vector<std::string> rows = log_rows(log);
  REQUIRE(rows.size() == 9);
  CHECK(rows[0] == "iteration,total,content,style,tv,stage");
  for (int i = 0; i < 8; ++i) {
    CHECK(rows[std::size_t(i) + 1].rfind(std::to_string(i % 4) + ",", 0) == 0);
    CHECK(rows[std::size_t(i) + 1].substr(rows[std::size_t(i) + 1].rfind(',')) == "," + std::to_string(i / 4 + 1));
  }
  // Snapshots at iterations 2 and 4 of the 6 in all: stage 1's second, stage 2's first.
  CHECK(std::filesystem::exists(fx.path("out_stage1_iter2.png")));
  CHECK(std::filesystem::exists(fx.path("out_stage2_iter1.png")));
  const std::string page = read(report);
  CHECK_THAT(page, Contains("stage 2, iteration 1") && Contains(">stage 2</text>") && Contains("iteration (all stages)"));
  CHECK_THAT(page, Contains("<td>--lr</td><td>1</td>"));  // L-BFGS's default, as a value
  CHECK(page.find("default") == std::string::npos);
}

TEST_CASE("L-BFGS that cannot take a first step fails with a suggestion and keeps the image", "[usage]") {
  StylizeFixture fx;
  Run r = run(fx.base + " --optimizer lbfgs --lr 1e30 --output " + fx.out());
  CHECK(r.status == 1);
  CHECK_THAT(r.err, Contains("L-BFGS found no step that lowers the loss in the first iteration") && Contains("lower --lr (now 1e+30)"));
  CHECK_FALSE(std::filesystem::exists(fx.out()));
  CHECK(std::filesystem::exists(fx.path("out.partial.png")));
}

TEST_CASE("flags that do not apply to the device are said once, wrong weights formats name the convert command", "[usage]") {
  StylizeFixture fx;
  Run r = run(fx.base + " --precision tf32 --output " + fx.out());
  CHECK(r.status == 0);
  CHECK_THAT(r.err, Contains("--precision tf32 applies to CUDA devices; the CPU backend computes in fp32"));
  std::filesystem::copy_file(fx.path("w.h5"), fx.path("vgg19.pth"));  // any bytes: the name says .pth
  { std::ofstream(fx.path("vgg19.pth"), std::ios::trunc) << "PK\x03\x04 a zip"; }
  r = run(fx.base + " --output " + fx.out() + " --weights " + fx.path("vgg19.pth"));
  CHECK(r.status == 1);
  CHECK_THAT(r.err, Contains("convert it first: nst weights convert " + fx.path("vgg19.pth") + " OUT.h5"));
  { std::ofstream(fx.path("empty.h5")); }
  r = run(fx.base + " --output " + fx.out() + " --weights " + fx.path("empty.h5"));
  CHECK(r.status == 1);
  CHECK_THAT(r.err, Contains("empty.h5: empty file"));
}

TEST_CASE("nst info says which weights file stylize would use, or that there is none", "[usage]") {
  StylizeFixture fx;
  Run r = run("cd " + fx.dir.string() + " && NST_WEIGHTS= " + kNst + " info");
  CHECK(r.status == 0);
  CHECK_THAT(r.out, Contains("weights: none found") && Contains("nst weights fetch"));
  r = run("cd " + fx.dir.string() + " && NST_WEIGHTS=" + fx.path("w.h5") + " " + kNst + " info");
  CHECK(r.status == 0);
  CHECK_THAT(r.out, Contains("weights: " + fx.path("w.h5") + " is the default ($NST_WEIGHTS)") && Contains("parameters:"));
}

TEST_CASE("nst_make_demo makes its folder", "[usage]") {
  StylizeFixture fx;
  Run r = run(std::string(NST_MAKE_DEMO) + " " + fx.path("new/demo"));
  CHECK(r.status == 0);
  CHECK(std::filesystem::exists(fx.path("new/demo/content.png")));
}

TEST_CASE("stylize --jpeg-quality sets a .jpg output's quality and a JPEG content photo is read upright", "[usage][images]") {
  StylizeFixture fx;
  // The content as an upright-looking JPEG stored sideways (EXIF orientation 6): the output keeps the
  // upright aspect (32 wide, 16 high, so 64x32 at --size 64).
  const std::string content = std::string(NST_FIXTURES) + "/images/orient_6.jpg";
  const std::string base = fx.base + " --content " + content;
  Run r = run(base + " --output " + fx.path("q95.jpg"));
  REQUIRE(r.status == 0);
  r = run(base + " --output " + fx.path("q10.jpg") + " --jpeg-quality 10");
  REQUIRE(r.status == 0);
  const nst::Tensor q95 = nst::load_image(fx.path("q95.jpg"));
  CHECK(q95.shape().w == 64);
  CHECK(q95.shape().h == 32);
  CHECK(std::filesystem::file_size(fx.path("q10.jpg")) < std::filesystem::file_size(fx.path("q95.jpg")) / 2);
  for (const char* bad : {" --jpeg-quality 0", " --jpeg-quality 101", " --jpeg-quality high"}) {
    INFO(bad);
    r = run(base + " --output " + fx.path("bad.jpg") + bad);
    CHECK(r.status == 2);
    CHECK_THAT(r.err, Contains("--jpeg-quality"));
    CHECK_FALSE(std::filesystem::exists(fx.path("bad.jpg")));
  }
}

TEST_CASE("the report is written at each snapshot while the run goes on, reloading itself, and ends as a still page", "[usage][report]") {
  StylizeFixture fx;
  const std::string report = fx.path("r.html"), live = fx.path("live.html"), err = fx.path("live.err");
  // In the background with a snapshot every 2 iterations; once the page says it is running, keep a copy of
  // it and interrupt the run: its last page is the partial result's, without the reload.
  Run r = run(fx.base + " --iterations 100000 --optimizer adam --save-every 2 --report " + report + " --output " + fx.out() +
              " --print-every 1 2>" + err + " & pid=$!; for i in $(seq 3000); do grep -q 'running: iteration' " + report +
              " 2>/dev/null && break; sleep 0.1; done; cp " + report + " " + live + "; kill -INT $pid; wait $pid");
  CHECK(r.status == 130);
  std::ifstream a(live), b(report);
  const std::string during((std::istreambuf_iterator<char>(a)), {}), after((std::istreambuf_iterator<char>(b)), {});
  CHECK_THAT(during, Contains("<meta http-equiv=\"refresh\" content=\"10\">") && Contains("running: iteration ") &&
                         Contains("latest: iteration ") && Contains("<svg") && Contains("</html>"));
  CHECK_THAT(after, Contains("partial result: ") && Contains("</html>"));
  CHECK(after.find("http-equiv=\"refresh\"") == std::string::npos);
  CHECK_FALSE(std::filesystem::exists(report + ".tmp"));
}
