// `nst stylize` on bad inputs, as a user meets them: images that are missing, empty, truncated, corrupt or
// not images at all; weights that are not ours or are broken inside; sizes the network or the memory cannot
// take; output folders that cannot be written. Each must end with one line on stderr naming the culprit,
// the right exit status, and no output file. (Flag errors are test_cli's.)
#include <hdf5.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "h5.h"
#include "nst/image.h"
#include "run_util.h"

using Catch::Contains;
using nst::h5::H5Id;
using nst::test::quote;
using nst::test::Run;
using nst::test::run;

namespace {

namespace fs = std::filesystem;

const std::string kNst = NST_BIN, kMake = NST_MAKE_WEIGHTS;

std::size_t lines(const std::string& s) { return std::size_t(std::count(s.begin(), s.end(), '\n')); }

void write_file(const fs::path& p, const std::string& bytes) {
  std::ofstream(p, std::ios::binary) << bytes;
  REQUIRE(fs::file_size(p) == bytes.size());
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

// A smooth RGB test pattern, so that JPEG has real data to code.
std::vector<std::uint8_t> pattern(int h, int w) {
  std::vector<std::uint8_t> rgb(std::size_t(h) * w * 3);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int c = 0; c < 3; ++c) rgb[(std::size_t(y) * w + x) * 3 + c] = std::uint8_t((x * 5 + y * 3 + c * 80) % 256);
  return rgb;
}

// A BMP file header and BITMAPINFOHEADER that declare a w x h 24-bit image, and no pixels. (A PNG header
// would not do: stb refuses a PNG of over 2^30 bytes itself, before nst's own limit is asked.)
std::string bmp_header_only(std::uint32_t w, std::uint32_t h) {
  auto le = [](std::uint32_t v, int bytes) {
    std::string s;
    for (int i = 0; i < bytes; ++i) s += char(v >> (8 * i) & 0xff);
    return s;
  };
  return "BM" + le(54, 4) + le(0, 4) + le(54, 4) +                    // file size (a lie), reserved, pixel offset
         le(40, 4) + le(w, 4) + le(h, 4) + le(1, 2) + le(24, 2) +     // header size, width, height, planes, bpp
         le(0, 4) + le(0, 4) + le(2835, 4) + le(2835, 4) + le(0, 4) + le(0, 4);  // BI_RGB, sizes, resolution, palette
}

// HDF5 edits of a valid weights file, as tests/test_weights.cpp makes them.
struct RwFile {
  H5Id f;
  explicit RwFile(const std::string& path) : f(H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT), H5Fclose) { REQUIRE(f.valid()); }
};

void set_format(const std::string& path, const std::string& value) {
  RwFile rw(path);
  REQUIRE(H5Adelete(rw.f.get(), "format") >= 0);
  H5Id type(H5Tcopy(H5T_C_S1), H5Tclose);
  REQUIRE(H5Tset_size(type.get(), value.size() + 1) >= 0);
  H5Id space(H5Screate(H5S_SCALAR), H5Sclose);
  H5Id a(H5Acreate2(rw.f.get(), "format", type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
  REQUIRE(H5Awrite(a.get(), type.get(), value.c_str()) >= 0);
}

void delete_link(const std::string& path, const char* name) {
  RwFile rw(path);
  REQUIRE(H5Ldelete(rw.f.get(), name, H5P_DEFAULT) >= 0);
}

void replace_dataset(const std::string& path, const char* name, const std::vector<hsize_t>& dims) {
  RwFile rw(path);
  REQUIRE(H5Ldelete(rw.f.get(), name, H5P_DEFAULT) >= 0);
  std::size_t n = 1;
  for (hsize_t d : dims) n *= d;
  std::vector<float> v(n, 0.01f);
  H5Id space(H5Screate_simple(int(dims.size()), dims.data(), nullptr), H5Sclose);
  H5Id ds(H5Dcreate2(rw.f.get(), name, H5T_IEEE_F32LE, space.get(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Dclose);
  REQUIRE(H5Dwrite(ds.get(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()) >= 0);
}

void poke(const std::string& path, const char* name, std::size_t index, float value) {
  RwFile rw(path);
  H5Id ds(H5Dopen2(rw.f.get(), name, H5P_DEFAULT), H5Dclose);
  H5Id space(H5Dget_space(ds.get()), H5Sclose);
  std::vector<float> v(std::size_t(H5Sget_simple_extent_npoints(space.get())));
  REQUIRE(index < v.size());
  REQUIRE(H5Dread(ds.get(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()) >= 0);
  v[index] = value;
  REQUIRE(H5Dwrite(ds.get(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()) >= 0);
}

// The demo images, mini-VGG19 weights, and one broken file per way a file can be broken.
struct BadInputs {
  fs::path dir = fs::temp_directory_path() / ("nst_bad_input_" + std::to_string(::getpid()));
  std::string weights, content, style, out;

  BadInputs() {
    fs::remove_all(dir);
    fs::create_directories(dir);
    REQUIRE(run(std::string(NST_MAKE_DEMO) + " " + quote(dir.string())).status == 0);
    weights = f("w.h5"), content = f("content.png"), style = f("style.png"), out = f("out.png");
    REQUIRE(run(kMake + " " + quote(weights) + " --widths 4,8,8,16,16").status == 0);

    const std::string png = read_file(content);
    nst::save_image(f("small.jpg"), pattern(48, 64), 48, 64);
    const std::string jpg = read_file(f("small.jpg"));
    write_file(f("empty.png"), "");
    write_file(f("truncated.png"), png.substr(0, png.size() / 2));
    write_file(f("truncated.jpg"), jpg.substr(0, jpg.size() / 2));
    // The first Huffman table's last two code counts set to 255: over 256 codes, which stb 2.27 writes past.
    std::string huffman = jpg;
    std::size_t dht = huffman.find("\xFF\xC4");
    REQUIRE(dht != std::string::npos);
    huffman[dht + 5 + 14] = huffman[dht + 5 + 15] = char(0xFF);
    write_file(f("huffman.jpg"), huffman);
    std::string garbage(3000, '\0');
    for (std::size_t i = 0; i < garbage.size(); ++i) garbage[i] = char((i * 2654435761u) >> 13);
    write_file(f("corrupt.png"), png.substr(0, 8) + garbage);
    write_file(f("text.png"), "this is a text file, not an image\n");
    write_file(f("grey16.pgm"), std::string("P5 3 2 65535\n") + std::string(12, '\x7f'));  // stb 2.27 overreads it
    write_file(f("huge.bmp"), bmp_header_only(40000, 40000));
    fs::create_directories(f("folder.png"));
    fs::copy_file(content, f("unreadable.png"));
    fs::permissions(f("unreadable.png"), fs::perms::none);
    // 240x6: at --size 64 it is 64x2, far below the 16 pixels relu5_1 needs.
    nst::save_image(f("thin.png"), pattern(6, 240), 6, 240);

    write_file(f("junk.h5"), "not an HDF5 file\n");
    for (const char* name : {"format.h5", "no_conv3_2.h5", "shape.h5", "nan.h5"}) fs::copy_file(weights, f(name));
    set_format(f("format.h5"), "nst-resnet50");
    delete_link(f("no_conv3_2.h5"), "conv3_2");
    replace_dataset(f("shape.h5"), "conv3_2/weight", {8, 4, 3, 3});  // widths 4,8,8,16,16: expected [8,8,3,3]
    poke(f("nan.h5"), "conv4_1/bias", 2, std::numeric_limits<float>::quiet_NaN());

    fs::create_directories(f("readonly"));
    fs::permissions(f("readonly"), fs::perms::owner_read | fs::perms::owner_exec);
    // Run as root, the permission cases run as user nobody, who must be able to write their output here.
    fs::permissions(dir, fs::perms::all);
  }
  ~BadInputs() {
    std::error_code ec;
    fs::permissions(dir / "readonly", fs::perms::owner_all, ec);
    fs::remove_all(dir, ec);
  }
  std::string f(const std::string& name) const { return (dir / name).string(); }
};

}  // namespace

TEST_CASE("nst stylize: every bad input is one line on stderr naming it, the right exit status, and no output", "[cli][stylize][bad_input]") {
  BadInputs fx;
  const bool root = ::geteuid() == 0;
  struct Case {
    std::string what;                                  // for the report
    std::string content, style, weights, output, extra;  // empty: the good one
    int status;
    std::string message;
    bool permissions = false;  // relies on file permissions, which do not bind root
  };
  std::vector<Case> cases;
  // The same broken image as the content and as a style.
  struct BadImage {
    std::string what, file, message;
    bool permissions = false;
  };
  const BadImage images[] = {
      {"missing", "missing.png", "missing.png: no such file"},
      {"unreadable (mode 000)", "unreadable.png", "unreadable.png: cannot be read (Permission denied)", true},
      {"zero bytes", "empty.png", "empty.png: empty file, not an image"},
      {"truncated PNG", "truncated.png", "truncated.png: corrupt or truncated PNG (libpng: the file ends before the image does)"},
      {"truncated JPEG", "truncated.jpg", "truncated.jpg: corrupt or truncated JPEG (libjpeg: Premature end of JPEG file)"},
      {"a JPEG Huffman table of over 256 codes", "huffman.jpg", "huffman.jpg: corrupt or truncated JPEG (libjpeg: Bogus Huffman table definition)"},
      {"garbage after a PNG signature", "corrupt.png", "corrupt.png: corrupt or truncated PNG (libpng: "},
      {"a text file named .png", "text.png", "text.png: not a readable image"},
      {"a 16-bit PGM (a format stb reads, we do not)", "grey16.pgm", "grey16.pgm: a PNM image; PNG, JPEG, BMP and TGA are supported"},
      {"a folder named .png", "folder.png", "folder.png: is a directory, not an image"},
      {"a BMP header declaring 40000x40000 pixels", "huge.bmp", "huge.bmp: image of 40000x40000 pixels is too large"},
  };
  for (const BadImage& b : images) {
    cases.push_back({"content: " + b.what, fx.f(b.file), "", "", "", "", 1, b.message, b.permissions});
    cases.push_back({"style: " + b.what, "", fx.f(b.file), "", "", "", 1, b.message, b.permissions});
  }
  cases.push_back({"second style: a text file", "", fx.style + "," + fx.f("text.png"), "", "", "", 1, "text.png: not a readable image"});
  cases.push_back({"init: a truncated PNG", "", "", "", "", " --init " + fx.f("truncated.png"), 1, "truncated.png: corrupt or truncated PNG"});
  const Case more[] = {
      {"weights: not HDF5", "", "", fx.f("junk.h5"), "", "", 1, "junk.h5: not an HDF5 file"},
      {"weights: a folder", "", "", fx.f("folder.png"), "", "", 1, "folder.png: is a directory, not a weights file"},
      {"weights: missing", "", "", fx.f("nope.h5"), "", "", 1, "nope.h5: no such file"},
      {"weights: unreadable (mode 000)", "", "", fx.f("unreadable.png"), "", "", 1, "unreadable.png: cannot be read (Permission denied)", true},
      {"weights: wrong format attribute", "", "", fx.f("format.h5"), "", "", 1, "format.h5: format is 'nst-resnet50', expected 'nst-vgg19'"},
      {"weights: a layer missing", "", "", fx.f("no_conv3_2.h5"), "", "", 1, "no_conv3_2.h5: missing group 'conv3_2'"},
      {"weights: a wrong shape", "", "", fx.f("shape.h5"), "", "", 1, "shape.h5: conv3_2/weight: is [8,4,3,3], expected [8,8,3,3]"},
      {"weights: NaN", "", "", fx.f("nan.h5"), "", "", 1, "nan.h5: conv4_1/bias: holds NaN or Inf at index 2"},
      {"content too thin for relu5_1", fx.f("thin.png"), "", "", "", "", 2,
       "--size: 64 is too small for layer relu5_1 (it needs 16 pixels on each side): the smallest that works is 620"},
      {"style too thin for relu5_1", "", fx.f("thin.png"), "", "", "", 2,
       "--size: 64 is too small for layer relu5_1 (it needs 16 pixels on each side): the smallest that works is 620"},
      // --history 1000: L-BFGS's history alone is then 4 TiB, more than any machine this runs on.
      {"memory: an absurd --size", "", "", "", "", " --size 16384 --history 1000", 1,
       "MiB are available: the largest that fits is"},
      {"output: a missing folder", "", "", "", fx.f("no/such/folder/out.png"), "", 1,
       "folder/out.png: cannot write there (" + fx.f("no/such/folder") + " is not a writable folder)"},
      {"output: under a file", "", "", "", fx.f("content.png/out.png"), "", 1,
       "content.png/out.png: cannot write there (" + fx.content + " is not a writable folder)"},
      {"output: a read-only folder", "", "", "", fx.f("readonly/out.png"), "", 1,
       "readonly/out.png: cannot write there (" + fx.f("readonly") + " is not a writable folder)", true},
  };
  cases.insert(cases.end(), std::begin(more), std::end(more));

  for (const Case& c : cases) {
    // File permissions do not bind root (CI runs as root): there, these cases run as user nobody.
    const std::string as = c.permissions && root ? "setpriv --reuid=65534 --regid=65534 --clear-groups " : "";
    const std::string output = c.output.empty() ? fx.out : c.output;
    const std::string cmd = as + kNst + " stylize --device cpu --size 64 --iterations 2" +
                            " --weights " + quote(c.weights.empty() ? fx.weights : c.weights) +
                            " --content " + quote(c.content.empty() ? fx.content : c.content) +
                            " --style " + quote(c.style.empty() ? fx.style : c.style) + " --output " + quote(output) + c.extra;
    INFO(c.what << "\n" << cmd);
    Run r = run(cmd);
    INFO("stderr: " << r.err);
    CHECK(r.status == c.status);
    CHECK(lines(r.err) == 1);
    CHECK_THAT(r.err, Contains(c.message));
    CHECK(r.err.rfind("nst: ", 0) == 0);
    for (const std::string& p : {output, fx.out})
      for (const std::string& leftover : {p, p + ".tmp"}) CHECK_FALSE(fs::exists(leftover));
  }
}
