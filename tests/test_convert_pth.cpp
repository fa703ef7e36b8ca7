// read_pth: both torch.save serialisations give the fixture's weights bit for bit; malformed, foreign and
// hostile files give an nst::Error that names the file and the problem, and nothing in a pickle runs.
// Fixtures: tests/fixtures/make_pth_fixtures.py (outputs in tests/fixtures/pth/).
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include "convert/convert.h"
#include "nst/error.h"
#include "nst/weights.h"
#include "test_util.h"

namespace {

using namespace std::string_literals;

std::string fixture(const std::string& name) { return std::string(NST_FIXTURES) + "/pth/" + name; }

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  REQUIRE(out);
}

// The message of the nst::Error that read_pth throws (fails the test when it throws nothing).
std::string error_of(const std::string& path) {
  try {
    nst::read_pth(path);
  } catch (const nst::Error& e) {
    return e.what();
  }
  FAIL("read_pth(" << path << ") did not throw");
  return "";
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

}  // namespace

TEST_CASE("read_pth reads legacy and zip state dicts bit for bit", "[convert][pth]") {
  const nst::Weights expected = nst::load_weights(fixture("mini_expected.h5"));
  for (const char* name : {"mini_legacy.pth", "mini_legacy_2017.pth", "mini_zip.pth", "mini_zip_p4.pth"}) {
    INFO(name);
    const nst::VggConvs got = nst::read_pth(fixture(name));
    for (std::size_t i = 0; i < 16; ++i) {
      INFO(nst::vgg19_conv_names()[i]);
      CHECK(got[i].out == expected.convs[i].out);
      CHECK(got[i].in == expected.convs[i].in);
      CHECK(same_bits(got[i].weight, expected.convs[i].weight));
      CHECK(same_bits(got[i].bias, expected.convs[i].bias));
    }
  }
  // The fixture's widths, so a reader that confused layers could not pass by luck.
  CHECK(expected.convs[0].in == 3);
  CHECK(expected.convs[0].out == 2);
  CHECK(expected.convs[15].out == 6);
}

TEST_CASE("read_pth rejects malformed and foreign files with a message naming the file", "[convert][pth]") {
  struct Case {
    const char* file;
    std::string message;  // after "<path>: "
  };
  const Case cases[] = {
      {"truncated_legacy.pth", "truncated (storage 37 of 38, key '"},
      {"truncated_zip.pth", "truncated or corrupt zip archive (no end-of-central-directory record)"},
      {"vgg16.pth", "missing features.16.weight (not VGG19?)"},
      {"float64.pth", "features.0.weight is float64 (torch.DoubleStorage), expected float32"},
      {"bad_chain.pth", "features.10.weight is [1,2,3,3], expected in=1"},
      {"compressed_zip.pth", "zip entry 'compressed_zip/data.pkl' is compressed (method 8)"},
      {"not_a_pickle.pth", "not a PyTorch file (neither a zip archive nor a pickle stream)"},
      {"mini_expected.h5", "not a PyTorch file (neither a zip archive nor a pickle stream)"},
      {"no_such_file.pth", "cannot open (No such file or directory)"},
  };
  for (const Case& c : cases) {
    const std::string path = fixture(c.file);
    const std::string msg = error_of(path);
    INFO(msg);
    CHECK(msg.rfind(path + ": " + c.message, 0) == 0);
  }
  CHECK(error_of(fixture("truncated_legacy.pth")).find("has 2 of ") != std::string::npos);
}

TEST_CASE("read_pth refuses hostile pickles by name and runs nothing", "[convert][pth]") {
  // Both fixtures would `touch` this file if their pickle were executed.
  const std::string marker = "/tmp/nst_pth_evil_marker";
  std::filesystem::remove(marker);
  const std::string legacy = fixture("evil_global.pth");
  CHECK(error_of(legacy).rfind(legacy + ": refusing pickle global 'os system' at byte ", 0) == 0);
  const std::string zip = fixture("evil_zip.pth");
  CHECK(error_of(zip).rfind(zip + ": refusing pickle global 'builtins eval' at byte ", 0) == 0);
  CHECK_FALSE(std::filesystem::exists(marker));

  // Hand-made first pickles of a legacy stream: each is refused before anything else is read.
  nst::test::TempDir dir("pth");
  struct Case {
    const char* what;
    std::string pickle;
    std::string message;
  };
  const Case cases[] = {
      {"INST imports and calls in one opcode", "\x80\x02(X\x05\x00\x00\x00touch"s + "ios\nsystem\n.",
       "unsupported pickle opcode 0x69 (INST)"},
      {"OBJ", "\x80\x02(ccollections\nOrderedDict\no."s, "unsupported pickle opcode 0x6f (OBJ)"},
      {"NEWOBJ", "\x80\x02" "ccollections\nOrderedDict\n)\x81."s, "unsupported pickle opcode 0x81 (NEWOBJ)"},
      {"EXT1 (the copyreg extension registry)", "\x80\x02\x82\x01."s, "unsupported pickle opcode 0x82 (EXT1)"},
      {"text-protocol PERSID", "\x80\x02P0\n."s, "unsupported pickle opcode 0x50 (PERSID)"},
      {"an unknown opcode", "\x80\x02\xff."s, "unsupported pickle opcode 0xff at byte 2"},
      {"another torch function", "\x80\x02" "ctorch\nload\n."s, "refusing pickle global 'torch load'"},
      {"a parameter rebuild", "\x80\x02" "ctorch._utils\n_rebuild_parameter\n."s,
       "refusing pickle global 'torch._utils _rebuild_parameter'"},
      {"a near miss", "\x80\x02" "ccollections\nOrderedDict \n."s, "refusing pickle global 'collections OrderedDict '"},
      {"calling a storage type", "\x80\x02" "ctorch\nFloatStorage\n)R."s, "refusing to call pickle global 'torch FloatStorage'"},
      {"a non-storage persistent id", "\x80\x02X\x06\x00\x00\x00moduleQ."s, "refusing pickle persistent id"},
      {"BUILD on a list", "\x80\x02]}b."s, "refusing pickle BUILD on a list"},
      {"stack underflow", "\x80\x02s."s, "malformed pickle: stack underflow"},
      {"popping below a MARK", "\x80\x02N(\x85."s, "malformed pickle: stack underflow"},
      {"an undefined memo entry", "\x80\x02h\x05."s, "malformed pickle: memo entry 5 used before it is set"},
      {"a string longer than the file", "\x80\x02X\xff\xff\xff\x7f" "ab"s, "truncated pickle"},
      {"a pickle without STOP", "\x80\x02N"s, "truncated pickle"},
      {"protocol 6", "\x80\x06N."s, "unsupported pickle protocol 6"},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    const std::string path = dir.file("hostile.pth");
    write_bytes(path, c.pickle);
    const std::string msg = error_of(path);
    INFO(msg);
    CHECK(msg.rfind(path + ": " + c.message, 0) == 0);
  }
  CHECK_FALSE(std::filesystem::exists(marker));
}

TEST_CASE("read_pth survives cycles and deep nesting", "[convert][pth]") {
  // Neither is torch's magic number, so both are rejected, but only after being built and then freed
  // without recursion or leaks (the values live in an arena).
  nst::test::TempDir dir("pth");
  const std::string path = dir.file("nested.pth");
  write_bytes(path, "\x80\x02]q\x00h\x00" "a."s);  // a list that contains itself
  CHECK(error_of(path) == path + ": not a PyTorch file (a pickle, but without torch.save's magic number)");
  const std::size_t depth = 200000;
  write_bytes(path, "\x80\x02"s + std::string(depth, ']') + std::string(depth - 1, 'a') + ".");
  CHECK(error_of(path) == path + ": not a PyTorch file (a pickle, but without torch.save's magic number)");
}

TEST_CASE("read_pth rejects every truncation and survives corruption", "[convert][pth]") {
  nst::test::TempDir dir("pth");
  const std::string path = dir.file("cut.pth");
  for (const char* name : {"mini_legacy_2017.pth", "mini_zip.pth"}) {
    INFO(name);
    const std::string full = read_bytes(fixture(name));
    // Every 7th length, and every one of the last 100 (the end of the data and the zip's end records).
    for (std::size_t n = 0; n < full.size(); n += (n + 100 >= full.size() ? 1 : 7)) {
      INFO("first " << n << " bytes");
      write_bytes(path, full.substr(0, n));
      CHECK_THROWS_AS(nst::read_pth(path), nst::Error);
    }
    // Random byte changes: either the file still reads (a changed weight value in a legacy file) or it is
    // an nst::Error; anything else (a crash, another exception) fails the test.
    std::mt19937 gen(1234);
    int errors = 0;
    for (int trial = 0; trial < 300; ++trial) {
      std::string bytes = full;
      for (int k = 0; k < 3; ++k) bytes[gen() % bytes.size()] = static_cast<char>(gen());
      write_bytes(path, bytes);
      try {
        nst::read_pth(path);
      } catch (const nst::Error&) {
        ++errors;
      }
    }
    CHECK(errors > 0);
  }
}
