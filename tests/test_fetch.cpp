// nst weights fetch without a network: digests against the standard vectors and the system's sha256sum /
// md5sum, the manifest parser, verification of downloads, and fetch_weights with NST_FETCH_CMD standing in
// for curl (a `cp` from a local file, or `false` for an offline machine).
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>

#include "convert/convert.h"
#include "nst/error.h"
#include "convert/fetch.h"
#include "nst/weights.h"
#include "run_util.h"
#include "test_util.h"

namespace fs = std::filesystem;
using nst::test::quote;
using nst::test::run;
using nst::test::TempDir;

namespace {

void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary);
  f.write(bytes.data(), std::streamsize(bytes.size()));
  REQUIRE(f.good());
}

std::string read_text(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

// The first word of `TOOL FILE`'s output: what coreutils says the digest is.
std::string shell_digest(const std::string& tool, const std::string& path) {
  auto r = run(tool + " " + quote(path));
  REQUIRE(r.status == 0);
  return r.out.substr(0, r.out.find(' '));
}

std::string random_bytes(std::size_t n, std::uint32_t seed) {
  std::mt19937 gen(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(gen() & 0xff);
  return s;
}

// Sets an environment variable for one scope, restoring what was there.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    const char* old = std::getenv(name);
    had_ = old != nullptr;
    if (had_) old_ = old;
    ::setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (had_) ::setenv(name_, old_.c_str(), 1);
    else ::unsetenv(name_);
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
  bool had_ = false;
  std::string old_;
};

// Captures what this process writes to one of its file descriptors (stdout, stderr) during a scope,
// including what child processes started with system() write there.
class CaptureFd {
 public:
  CaptureFd(int fd, const std::string& file) : fd_(fd), file_(file) {
    std::fflush(nullptr);
    saved_ = ::dup(fd);
    int f = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    REQUIRE(f >= 0);
    ::dup2(f, fd);
    ::close(f);
  }
  std::string text() {
    restore();
    return read_text(file_);
  }
  ~CaptureFd() { restore(); }
  CaptureFd(const CaptureFd&) = delete;
  CaptureFd& operator=(const CaptureFd&) = delete;

 private:
  void restore() {
    if (saved_ < 0) return;
    std::fflush(nullptr);
    ::dup2(saved_, fd_);
    ::close(saved_);
    saved_ = -1;
  }
  int fd_, saved_ = -1;
  std::string file_;
};

const char* const kHeader = "name,url,file,size,sha256,md5,sha256_prefix,license,preprocessing\n";

// A manifest with one source `name` for `file`, its checksums filled by what sha256sum/md5sum say unless
// given.
struct LocalSource {
  std::string url, sha256, md5;
  std::uint64_t size = 0;
};

LocalSource local_source(const std::string& path) {
  return {path, shell_digest("sha256sum", path), shell_digest("md5sum", path), fs::file_size(path)};
}

std::string manifest_row(const std::string& name, const LocalSource& s, const std::string& file,
                         const std::string& preprocessing) {
  return name + "," + s.url + "," + file + "," + std::to_string(s.size) + "," + s.sha256 + "," + s.md5 + "," +
         s.sha256.substr(0, 8) + ",test," + preprocessing + "\n";
}

}  // namespace

TEST_CASE("sha256 of the FIPS 180-4 vectors", "[fetch][digest]") {
  TempDir tmp("fetch");
  struct Vec {
    std::string in, sha256;
  } vecs[] = {
      {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
      {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
      {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
      {std::string(1000000, 'a'), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"},
  };
  for (const Vec& v : vecs) {
    INFO("message of " << v.in.size() << " bytes");
    write_file(tmp.file("m"), v.in);
    CHECK(nst::sha256_file(tmp.file("m")) == v.sha256);
  }
}

TEST_CASE("md5 of the RFC 1321 test suite", "[fetch][digest]") {
  TempDir tmp("fetch");
  struct Vec {
    std::string in, md5;
  } vecs[] = {
      {"", "d41d8cd98f00b204e9800998ecf8427e"},
      {"a", "0cc175b9c0f1b6a831c399e269772661"},
      {"abc", "900150983cd24fb0d6963f7d28e17f72"},
      {"message digest", "f96b697d7cb7938d525a2f31aaf161d0"},
      {"abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"},
      {"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", "d174ab98d277d9f5a5611c2c9f419d9f"},
      {"12345678901234567890123456789012345678901234567890123456789012345678901234567890",
       "57edf4a22be3c955ac49da2e2107b67a"},
  };
  for (const Vec& v : vecs) {
    INFO("message '" << v.in << "'");
    write_file(tmp.file("m"), v.in);
    CHECK(nst::md5_file(tmp.file("m")) == v.md5);
  }
}

TEST_CASE("digests agree with sha256sum and md5sum at padding boundaries and across chunks", "[fetch][digest]") {
  TempDir tmp("fetch");
  // 55/56 and 63/64/65 bytes change how the length field is padded; the large ones span several 1 MiB reads
  // (with a partial block at the end of one read) and end off a block boundary.
  for (std::size_t n : {std::size_t(1), std::size_t(55), std::size_t(56), std::size_t(63), std::size_t(64),
                        std::size_t(65), std::size_t(119), std::size_t(120), std::size_t(1) << 20,
                        (std::size_t(1) << 20) + 1, 3 * (std::size_t(1) << 20) + 4093}) {
    INFO(n << " bytes");
    std::string path = tmp.file("r" + std::to_string(n));
    write_file(path, random_bytes(n, std::uint32_t(n)));
    CHECK(nst::sha256_file(path) == shell_digest("sha256sum", path));
    CHECK(nst::md5_file(path) == shell_digest("md5sum", path));
  }
}

TEST_CASE("a digest of a missing file is an error naming it", "[fetch][digest]") {
  TempDir tmp("fetch");
  CHECK_THROWS_WITH(nst::sha256_file(tmp.file("none.pth")), Catch::Contains("none.pth") && Catch::Contains("cannot open"));
  CHECK_THROWS_AS(nst::md5_file(tmp.file("none.pth")), nst::Error);
}

TEST_CASE("read_manifest parses the sources", "[fetch][manifest]") {
  TempDir tmp("fetch");
  std::string sha(64, 'a');
  write_file(tmp.file("m.csv"),
             std::string("# a comment\n\n") + kHeader +
                 "one,https://example.org/a.pth,a.pth,123," + sha + ",,AAAA,BSD-3-Clause,torchvision\r\n"
                 "two,\"http://x/b,c\",b.bin,,,0123456789ABCDEF0123456789abcdef,,\"a \"\"quoted\"\", licence\",caffe\n");
  auto m = nst::read_manifest(tmp.file("m.csv"));
  REQUIRE(m.size() == 2);
  CHECK(m[0].name == "one");
  CHECK(m[0].url == "https://example.org/a.pth");
  CHECK(m[0].file == "a.pth");
  CHECK(m[0].size == 123);
  CHECK(m[0].sha256 == sha);
  CHECK(m[0].md5.empty());
  CHECK(m[0].sha256_prefix == "aaaa");  // lower-cased, as the digests are
  CHECK(m[0].preprocessing == "torchvision");  // no '\r' left from a CRLF line
  CHECK(m[1].url == "http://x/b,c");
  CHECK(m[1].size == 0);
  CHECK(m[1].md5 == "0123456789abcdef0123456789abcdef");
  CHECK(m[1].license == "a \"quoted\", licence");
  CHECK(m[1].preprocessing == "caffe");

  // Columns are found by the header, in any order.
  write_file(tmp.file("r.csv"), "preprocessing,license,sha256_prefix,md5,sha256,size,file,url,name\nkeras,MIT,,,,7,k.h5,u,k\n");
  auto r = nst::read_manifest(tmp.file("r.csv"));
  REQUIRE(r.size() == 1);
  CHECK(r[0].name == "k");
  CHECK(r[0].size == 7);
  CHECK(r[0].preprocessing == "keras");
}

TEST_CASE("a malformed manifest is an error naming the file and line", "[fetch][manifest]") {
  TempDir tmp("fetch");
  std::string good = "ok,u,f.pth,1,,,,,torchvision\n";
  struct Bad {
    std::string row, says;
  } bads[] = {
      {"x,u,f.pth,1,,,,torchvision\n", "8 fields, expected 9"},
      {"x,u,f.pth,12ab,,,,,torchvision\n", "size '12ab'"},
      {"x,u,f.pth,1,abc,,,,torchvision\n", "sha256 'abc' is not 64 hex digits"},
      {"x,u,f.pth,1,," + std::string(32, 'g') + ",,,torchvision\n", "is not 32 hex digits"},
      {"x,u,f.pth,1,,,xyz,,torchvision\n", "sha256_prefix 'xyz'"},
      {"x,u,f.pth,1," + std::string(64, 'a') + ",,bb,,torchvision\n", "does not start with sha256_prefix"},
      {"ok,u,g.pth,1,,,,,torchvision\n", "listed twice"},
      {",u,f.pth,1,,,,,torchvision\n", "empty name"},
      {"x,,f.pth,1,,,,,torchvision\n", "no url"},
      {"x,u,../f.pth,1,,,,,torchvision\n", "not a plain file name"},
      {"x,\"u,f.pth,1,,,,,torchvision\n", "unterminated quoted field"},
  };
  for (const Bad& b : bads) {
    INFO(b.row);
    write_file(tmp.file("bad.csv"), std::string(kHeader) + good + b.row);
    CHECK_THROWS_WITH(nst::read_manifest(tmp.file("bad.csv")),
                      Catch::Contains("bad.csv:3:") && Catch::Contains(b.says));
  }
  write_file(tmp.file("hdr.csv"), "name,url,file,size,sha256,md5,license,preprocessing\n" + good);
  CHECK_THROWS_WITH(nst::read_manifest(tmp.file("hdr.csv")), Catch::Contains("hdr.csv:1:") && Catch::Contains("sha256_prefix"));
  write_file(tmp.file("empty.csv"), "# nothing\n");
  CHECK_THROWS_WITH(nst::read_manifest(tmp.file("empty.csv")), Catch::Contains("no header"));
  write_file(tmp.file("norows.csv"), kHeader);
  CHECK_THROWS_WITH(nst::read_manifest(tmp.file("norows.csv")), Catch::Contains("no sources"));
  CHECK_THROWS_WITH(nst::read_manifest(tmp.file("missing.csv")), Catch::Contains("missing.csv") && Catch::Contains("cannot open"));
}

TEST_CASE("weights/manifest.csv lists the three sources, and nst's built-in copy agrees", "[fetch][manifest]") {
  auto file = nst::read_manifest(NST_FIXTURES "/../../weights/manifest.csv");
  auto builtin = nst::builtin_manifest();
  REQUIRE(file.size() == builtin.size());
  for (std::size_t i = 0; i < file.size(); ++i) {
    INFO(file[i].name);
    CHECK(file[i].name == builtin[i].name);
    CHECK(file[i].url == builtin[i].url);
    CHECK(file[i].file == builtin[i].file);
    CHECK(file[i].size == builtin[i].size);
    CHECK(file[i].sha256 == builtin[i].sha256);
    CHECK(file[i].md5 == builtin[i].md5);
    CHECK(file[i].sha256_prefix == builtin[i].sha256_prefix);
    CHECK(file[i].license == builtin[i].license);
    CHECK(file[i].preprocessing == builtin[i].preprocessing);
    CHECK_NOTHROW(nst::parse_source(file[i].preprocessing));
  }
  REQUIRE(file.size() == 3);
  CHECK(file[0].name == "torchvision");
  CHECK(file[1].name == "caffe");
  CHECK(file[2].name == "keras");
  // torch.hub's check: the sha256 starts with the 8 hex digits in the file name.
  CHECK(file[0].file == "vgg19-" + file[0].sha256_prefix + ".pth");
}

TEST_CASE("verify_download accepts the right file and removes a wrong one", "[fetch][verify]") {
  TempDir tmp("fetch");
  std::string path = tmp.file("w.pth");
  std::string bytes = random_bytes(5000, 7);
  write_file(path, bytes);
  LocalSource l = local_source(path);
  nst::SourceInfo s;
  s.name = "test";
  s.url = "https://example.org/w.pth";
  s.file = "w.pth";

  SECTION("right size and checksums") {
    s.size = l.size;
    s.sha256 = l.sha256;
    s.md5 = l.md5;
    s.sha256_prefix = l.sha256.substr(0, 8);
    CHECK_NOTHROW(nst::verify_download(path, s));
    CHECK(fs::exists(path));
    s.sha256.clear();  // the prefix alone
    s.md5.clear();
    CHECK_NOTHROW(nst::verify_download(path, s));
  }
  SECTION("no checksum: the size only, with a warning") {
    s.size = l.size;
    CaptureFd err(2, tmp.file("err"));
    CHECK_NOTHROW(nst::verify_download(path, s));
    CHECK_THAT(err.text(), Catch::Contains("warning: no checksum") && Catch::Contains("size only"));
    CHECK(fs::exists(path));
  }
  std::string expected, actual;
  SECTION("wrong size") {
    s.size = l.size + 1;
    s.sha256 = l.sha256;
    expected = std::to_string(l.size + 1) + " bytes", actual = std::to_string(l.size) + " bytes";
  }
  SECTION("wrong sha256") {
    s.size = l.size;
    s.sha256 = std::string(64, '0');
    s.md5 = l.md5;
    expected = s.sha256, actual = l.sha256;
  }
  SECTION("wrong sha256 prefix") {
    s.sha256_prefix = l.sha256[0] == 'f' ? "0f" : "f0";
    expected = "one starting with " + s.sha256_prefix, actual = l.sha256;
  }
  SECTION("wrong md5") {
    s.size = l.size;
    s.sha256 = l.sha256;
    s.md5 = std::string(32, 'e');
    expected = s.md5, actual = l.md5;
  }
  if (!expected.empty()) {
    CHECK_THROWS_WITH(nst::verify_download(path, s),
                      Catch::Contains("w.pth") && Catch::Contains("expected " + expected) &&
                          Catch::Contains("is " + actual) && Catch::Contains("removed"));
    CHECK_FALSE(fs::exists(path));
  }
}

TEST_CASE("fetch_weights offline: one line saying so, the URL and the commands to run by hand", "[fetch]") {
  TempDir tmp("fetch");
  write_file(tmp.file("src.pth"), random_bytes(3000, 3));
  LocalSource l = local_source(tmp.file("src.pth"));
  write_file(tmp.file("m.csv"), kHeader + manifest_row("caffe", l, "model.caffemodel", "caffe"));
  std::string out = tmp.file("w/vgg19.h5");
  ScopedEnv cmd("NST_FETCH_CMD", "false {url} {out}");
  CaptureFd err(2, tmp.file("err"));
  CaptureFd stdout_(1, tmp.file("out"));
  int rc = nst::fetch_weights("caffe", out, tmp.file("m.csv"));
  std::string text = err.text();
  CHECK(rc == 1);
  INFO(text);
  std::string dl = tmp.file("w/downloads/model.caffemodel");
  CHECK_THAT(text, Catch::StartsWith("nst: could not download the caffe weights from " + l.url));
  CHECK_THAT(text, Catch::Contains("curl -fL -C - -o " + quote(dl) + " " + quote(l.url)));
  CHECK_THAT(text, Catch::Contains("nst weights convert " + quote(dl) + " " + quote(out) + " --source caffe"));
  CHECK_FALSE(fs::exists(out));
  CHECK_FALSE(fs::exists(dl));
}

TEST_CASE("fetch_weights: a download that fails verification is an error and is removed", "[fetch]") {
  TempDir tmp("fetch");
  write_file(tmp.file("src.pth"), random_bytes(3000, 4));
  LocalSource l = local_source(tmp.file("src.pth"));
  l.sha256 = std::string(64, 'a');  // what the manifest claims, not what the file is
  write_file(tmp.file("m.csv"), kHeader + manifest_row("torchvision", l, "v.pth", "torchvision"));
  std::string out = tmp.file("vgg19.h5");
  ScopedEnv cmd("NST_FETCH_CMD", "cp {url} {out}");
  CaptureFd stdout_(1, tmp.file("out"));
  CHECK_THROWS_WITH(nst::fetch_weights("torchvision", out, tmp.file("m.csv")),
                    Catch::Contains("sha256") && Catch::Contains("expected " + l.sha256));
  CHECK_FALSE(fs::exists(tmp.file("downloads/v.pth.part")));
  CHECK_FALSE(fs::exists(tmp.file("downloads/v.pth")));
  CHECK_FALSE(fs::exists(out));
}

TEST_CASE("fetch_weights: a complete part is verified without downloading again, a bad one is replaced",
          "[fetch]") {
  TempDir tmp("fetch");
  write_file(tmp.file("src.pth"), random_bytes(3000, 5));
  LocalSource l = local_source(tmp.file("src.pth"));
  write_file(tmp.file("m.csv"), kHeader + manifest_row("torchvision", l, "v.pth", "torchvision"));
  fs::create_directories(tmp.file("downloads"));
  std::string part = tmp.file("downloads/v.pth.part");
  CaptureFd stdout_(1, tmp.file("out"));
  {
    // As long as the real file but other bytes: nothing is downloaded (the command would fail), the part
    // fails verification and is gone, so the next run starts afresh.
    write_file(part, random_bytes(3000, 6));
    ScopedEnv cmd("NST_FETCH_CMD", "false");
    CHECK_THROWS_WITH(nst::fetch_weights("torchvision", tmp.file("vgg19.h5"), tmp.file("m.csv")),
                      Catch::Contains("v.pth.part") && Catch::Contains("sha256"));
    CHECK_FALSE(fs::exists(part));
  }
  {
    // Longer than the real file: junk, removed before the download, which the command then shows as absent.
    write_file(part, random_bytes(4000, 6));
    ScopedEnv cmd("NST_FETCH_CMD", "test ! -e {out} && cp {url} {out} && false");
    CaptureFd err(2, tmp.file("err"));
    CHECK(nst::fetch_weights("torchvision", tmp.file("vgg19.h5"), tmp.file("m.csv")) == 1);
    CHECK(read_text(part) == read_text(tmp.file("src.pth")));  // the command ran on a fresh part
  }
}

TEST_CASE("fetch_weights: an unknown source is a usage error listing the known ones", "[fetch]") {
  TempDir tmp("fetch");
  write_file(tmp.file("m.csv"), std::string(kHeader) + "torchvision,u,a.pth,1,,,,,torchvision\ncaffe,u,b,1,,,,,caffe\n");
  CHECK_THROWS_AS(nst::fetch_weights("vgg16", tmp.file("o.h5"), tmp.file("m.csv")), nst::UsageError);
  CHECK_THROWS_WITH(nst::fetch_weights("vgg16", tmp.file("o.h5"), tmp.file("m.csv")),
                    Catch::Contains("'vgg16'") && Catch::Contains("torchvision, caffe"));
}

// --- Through convert_weights: the Keras readers' mini-VGG19 fixture, "downloaded" with cp or curl. ---

namespace {

const char* const kMiniKeras = NST_FIXTURES "/caffe_keras/mini_keras.h5";
const char* const kMiniExpected = NST_FIXTURES "/caffe_keras/mini_expected.h5";

// The converted file holds the fixture's weights (bit for bit), Keras's preprocessing and its source's sha256.
void check_converted(const std::string& out, const std::string& sha256) {
  nst::Weights w = nst::load_weights(out), e = nst::load_weights(kMiniExpected);
  CHECK(w.source_sha256 == sha256);
  CHECK(w.norm.bgr);
  CHECK(w.norm.scale == 255.f);
  for (std::size_t i = 0; i < w.convs.size(); ++i) {
    INFO(nst::vgg19_conv_names()[i]);
    CHECK(w.convs[i].in == e.convs[i].in);
    CHECK(w.convs[i].out == e.convs[i].out);
    CHECK(w.convs[i].weight == e.convs[i].weight);
    CHECK(w.convs[i].bias == e.convs[i].bias);
  }
}

}  // namespace

TEST_CASE("fetch_weights downloads, verifies, converts, and reuses a verified download", "[fetch][convert]") {
  TempDir tmp("fetch");
  LocalSource l = local_source(kMiniKeras);
  write_file(tmp.file("m.csv"), kHeader + manifest_row("keras", l, "vgg19_notop.h5", "keras"));
  std::string out = tmp.file("weights/vgg19.h5");
  std::string dl = tmp.file("weights/downloads/vgg19_notop.h5");
  {
    ScopedEnv cmd("NST_FETCH_CMD", "cp {url} {out}");
    CaptureFd stdout_(1, tmp.file("out"));
    REQUIRE(nst::fetch_weights("keras", out, tmp.file("m.csv")) == 0);
    std::string said = stdout_.text();
    INFO(said);
    CHECK_THAT(said, Catch::Contains("wrote " + out) && Catch::Contains("--weights " + out));
  }
  CHECK(read_text(dl) == read_text(kMiniKeras));
  CHECK_FALSE(fs::exists(dl + ".part"));
  check_converted(out, l.sha256);

  // A second run finds the verified download: no download (the command would fail), the same result.
  fs::remove(out);
  ScopedEnv cmd("NST_FETCH_CMD", "false");
  CaptureFd stdout_(1, tmp.file("out2"));
  REQUIRE(nst::fetch_weights("keras", out, tmp.file("m.csv")) == 0);
  CHECK_THAT(stdout_.text(), Catch::Contains("using the verified download"));
  check_converted(out, l.sha256);
}

TEST_CASE("fetch_weights with the real curl resumes a partial download (file:// URL)", "[fetch][convert]") {
  if (run("command -v curl").status != 0) NST_SKIP("curl is not on PATH");
  TempDir tmp("fetch");
  LocalSource l = local_source(kMiniKeras);
  l.url = "file://" + fs::absolute(kMiniKeras).lexically_normal().string();
  write_file(tmp.file("m.csv"), kHeader + manifest_row("keras", l, "notop.h5", "keras"));
  // The first half already there, as an interrupted curl leaves it; a wrong byte in it would fail the sha256.
  fs::create_directories(tmp.file("downloads"));
  std::string bytes = read_text(kMiniKeras);
  write_file(tmp.file("downloads/notop.h5.part"), bytes.substr(0, bytes.size() / 2));
  ScopedEnv cmd("NST_FETCH_CMD", "");  // empty: the default downloader
  CaptureFd err(2, tmp.file("err"));
  CaptureFd stdout_(1, tmp.file("out"));
  REQUIRE(nst::fetch_weights("keras", tmp.file("vgg19.h5"), tmp.file("m.csv")) == 0);
  CHECK(read_text(tmp.file("downloads/notop.h5")) == bytes);
  check_converted(tmp.file("vgg19.h5"), l.sha256);
}

// --- nst weights fetch over real HTTP: tests/http_server.py on 127.0.0.1, the real curl, the program. ---

namespace {

// The server, started for one test and stopped (SIGTERM) at its end; its port and request log.
class HttpServer {
 public:
  explicit HttpServer(const TempDir& tmp) : log_(tmp.file("requests.log")) {
    const std::string port_file = tmp.file("port");
    auto r = run("python3 " + quote(std::string(NST_SOURCE_DIR) + "/tests/http_server.py") + " --root " +
                 quote(tmp.file("www")) + " --port-file " + quote(port_file) + " --log " + quote(log_) +
                 " >/dev/null 2>&1 & echo $!");
    pid_ = std::stoi(r.out);
    for (int i = 0; i < 200 && !fs::exists(port_file); ++i) ::usleep(25000);
    REQUIRE(fs::exists(port_file));
    port_ = std::stoi(read_text(port_file));
  }
  ~HttpServer() { ::kill(pid_, SIGTERM); }
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;
  std::string url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(port_) + path; }
  std::string requests() const { return read_text(log_); }

 private:
  std::string log_;
  int pid_ = 0, port_ = 0;
};

const char* const kMiniPth = NST_FIXTURES "/pth/mini_zip.pth";  // torchvision's layout, mini widths

// What the run left in the weights folder besides `keep`: no half-written weights file, no .tmp.
std::vector<std::string> files_in(const std::string& dir) {
  std::vector<std::string> v;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) v.push_back(e.path().filename().string());
  std::sort(v.begin(), v.end());
  return v;
}

}  // namespace

TEST_CASE("nst weights fetch over HTTP on 127.0.0.1: download, resume, wrong checksum, 404, refused", "[fetch][http]") {
  if (run("command -v curl").status != 0) NST_SKIP("curl is not on PATH");
  if (run("command -v python3").status != 0) NST_SKIP("python3 is not on PATH (the test's HTTP server)");
  TempDir tmp("http");
  fs::create_directories(tmp.file("www"));
  fs::copy_file(kMiniPth, tmp.file("www/vgg19-mini.pth"));
  HttpServer server(tmp);
  LocalSource l = local_source(kMiniPth);
  const std::string nst = std::string(NST_BIN) + " weights fetch ";
  const nst::Weights expected = nst::load_weights(NST_FIXTURES "/pth/mini_expected.h5");
  auto check_weights = [&](const std::string& path) {
    const nst::Weights w = nst::load_weights(path);
    CHECK(w.source_sha256 == l.sha256);
    CHECK_FALSE(w.norm.bgr);  // torchvision's preprocessing
    for (std::size_t i = 0; i < w.convs.size(); ++i) CHECK(w.convs[i].weight == expected.convs[i].weight);
  };
  auto manifest = [&](const std::string& name, const std::string& url, const std::string& sha256) {
    LocalSource s = l;
    s.url = url;
    s.sha256 = sha256;
    const std::string path = tmp.file(name + ".csv");
    write_file(path, kHeader + manifest_row("torchvision", s, "vgg19-mini.pth", "torchvision"));
    return path;
  };

  SECTION("a complete download converts and verifies; progress is quiet when stderr is not a terminal") {
    auto r = run(nst + "--manifest " + manifest("ok", server.url("/files/vgg19-mini.pth"), l.sha256) + " --output " + tmp.file("w/vgg19.h5"));
    INFO(r.out << r.err);
    REQUIRE(r.status == 0);
    check_weights(tmp.file("w/vgg19.h5"));
    CHECK(r.err.find('\r') == std::string::npos);  // no progress meter in a log
    CHECK(files_in(tmp.file("w")) == std::vector<std::string>{"downloads", "vgg19.h5"});
    CHECK(files_in(tmp.file("w/downloads")) == std::vector<std::string>{"vgg19-mini.pth"});
  }
  SECTION("a download cut off halfway fails, and the next fetch resumes it with a Range request") {
    const std::string m = manifest("cut", server.url("/cut/vgg19-mini.pth"), l.sha256);
    auto r = run(nst + "--manifest " + m + " --output " + tmp.file("w/vgg19.h5"));
    INFO(r.out << r.err);
    CHECK(r.status == 1);
    CHECK_THAT(r.err, Catch::Contains("could not download the torchvision weights from " + server.url("/cut/vgg19-mini.pth")));
    const std::uintmax_t half = fs::file_size(tmp.file("w/downloads/vgg19-mini.pth.part"));
    CHECK(half == l.size / 2);
    CHECK(files_in(tmp.file("w")) == std::vector<std::string>{"downloads"});  // no weights file, no .tmp
    r = run(nst + "--manifest " + m + " --output " + tmp.file("w/vgg19.h5"));
    INFO(r.out << r.err);
    REQUIRE(r.status == 0);
    check_weights(tmp.file("w/vgg19.h5"));
    CHECK_THAT(server.requests(), Catch::Contains("GET /cut/vgg19-mini.pth bytes=" + std::to_string(half) + "-"));
  }
  SECTION("a wrong checksum removes the download and names both digests") {
    const std::string wrong(64, 'a');
    auto r = run(nst + "--manifest " + manifest("bad", server.url("/files/vgg19-mini.pth"), wrong) + " --output " + tmp.file("w/vgg19.h5"));
    INFO(r.out << r.err);
    CHECK(r.status == 1);
    CHECK_THAT(r.err, Catch::Contains("sha256 is " + l.sha256 + ", expected " + wrong));
    CHECK(files_in(tmp.file("w/downloads")).empty());
    CHECK(files_in(tmp.file("w")) == std::vector<std::string>{"downloads"});
  }
  SECTION("a 404 and a refused connection each exit 1, leaving no weights file") {
    // A port nothing listens on: the server's own, once it is stopped, is not known to be free; take one
    // from the kernel and close it.
    int s = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    socklen_t len = sizeof a;
    REQUIRE(::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len) == 0);
    ::close(s);
    const std::string refused = "http://127.0.0.1:" + std::to_string(ntohs(a.sin_port)) + "/files/vgg19-mini.pth";
    for (const std::string& url : {server.url("/files/missing.pth"), refused}) {
      INFO(url);
      auto r = run(nst + "--manifest " + manifest("gone", url, l.sha256) + " --output " + tmp.file("w/vgg19.h5"));
      CHECK(r.status == 1);
      CHECK_THAT(r.err, Catch::Contains("nst: could not download the torchvision weights from " + url + " (curl exit status "));
      CHECK_FALSE(fs::exists(tmp.file("w/vgg19.h5")));
      CHECK(files_in(tmp.file("w")) == std::vector<std::string>{"downloads"});
    }
  }
}
