// Reading what real photos carry (SPEC §3): EXIF orientation, progressive JPEGs, Adobe CMYK, 16-bit,
// palette and grey+alpha PNGs, Adam7 interlacing; against files Pillow checked (tests/fixtures/
// make_image_fixtures.py), files libpng writes here, and real photos and artworks from Debian packages
// (tools/real_images.sh) against Pillow's reading of them. Also what a corrupt file may cost: bounded
// time, bounded memory, one line naming the file.
// jpeglib.h needs FILE and size_t declared before it.
#include <cstddef>
#include <cstdio>
// (kept apart so that include sorting leaves them first)
#include <jpeglib.h>
#include <png.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "nst/error.h"
#include "nst/image.h"
#include "test_util.h"

namespace {

using nst::Tensor;
namespace fs = std::filesystem;

std::string fixture(const std::string& name) { return std::string(NST_FIXTURES) + "/images/" + name; }

std::string read_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary).write(bytes.data(), std::streamsize(bytes.size()));
}

// The largest |a - b| over all elements, with both images' shapes required equal.
double max_abs_diff(const Tensor& a, const Tensor& b) {
  REQUIRE(a.shape().h == b.shape().h);
  REQUIRE(a.shape().w == b.shape().w);
  REQUIRE(a.numel() == b.numel());
  double worst = 0;
  for (std::size_t i = 0; i < a.numel(); ++i) worst = std::max(worst, double(std::abs(a.data()[i] - b.data()[i])));
  return worst;
}

std::string load_error(const std::string& path) {
  try {
    nst::load_image(path);
  } catch (const nst::Error& e) {
    return e.what();
  }
  return "(loaded)";
}

// The process's resident memory now and its peak since the last reset_peak(), in bytes (Linux).
long long status_kib(const char* key) {
  std::ifstream f("/proc/self/status");
  for (std::string line; std::getline(f, line);)
    if (line.rfind(key, 0) == 0) return std::stoll(line.substr(std::string(key).size()));
  return -1;
}
bool reset_peak() { return static_cast<bool>(std::ofstream("/proc/self/clear_refs") << "5"); }

// Under AddressSanitizer every allocation carries shadow memory and redzones: the process's peak says
// nothing about the decoder's, so the memory checks run in the plain build only.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kPlainMemory = false;
#else
constexpr bool kPlainMemory = true;
#endif

// The extra memory load_image(path) needs at its peak, beyond what the process held before, in bytes.
long long load_peak_bytes(const std::string& path, Tensor& out) {
  REQUIRE(reset_peak());
  const long long before = status_kib("VmRSS:");
  out = nst::load_image(path);
  return (status_kib("VmHWM:") - before) * 1024;
}

}  // namespace

TEST_CASE("a JPEG with each EXIF orientation 1-8 loads upright, in either byte order", "[images]") {
  const Tensor upright = nst::load_image(fixture("upright.png"));
  REQUIRE(upright.shape().h == 16);
  REQUIRE(upright.shape().w == 32);
  for (int n = 1; n <= 8; ++n) {
    INFO("orientation " << n);
    const Tensor t = nst::load_image(fixture("orient_" + std::to_string(n) + ".jpg"));
    // Quality 100, 4:4:4, flat 8x8 blocks: Pillow measured at most 2/255 from the PNG.
    CHECK(max_abs_diff(t, upright) <= 3.0 / 255);
  }
}

TEST_CASE("a malformed Exif payload leaves the image as stored, never read past its end", "[images]") {
  const std::string good = read_bytes(fixture("orient_6.jpg"));  // stored 16 wide, 32 high
  const std::size_t exif = good.find("Exif");
  REQUIRE(exif != std::string::npos);
  const std::size_t tiff = exif + 6;  // big-endian ("MM") for even orientations
  REQUIRE(good.substr(tiff, 2) == "MM");
  nst::test::TempDir dir("images");
  struct Case {
    const char* what;
    std::size_t at;
    std::string bytes;
  };
  const Case cases[] = {
      {"IFD0 offset past the payload", tiff + 4, std::string("\x7f\xff\xff\xff", 4)},
      {"no entries", tiff + 8, std::string("\x00\x00", 2)},
      // The APP1 segment ends inside the entry (libjpeg then skips the rest as stray bytes).
      {"the payload cut inside the entry", exif - 2, std::string("\x00\x14", 2)},
      {"orientation of type LONG", tiff + 12, std::string("\x00\x04", 2)},
      {"orientation 9", tiff + 18, std::string("\x00\x09", 2)},
      {"not a TIFF header", tiff, std::string("XX", 2)},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    std::string bad = good;
    bad.replace(c.at, c.bytes.size(), c.bytes);
    write_bytes(dir.file("bad.jpg"), bad);
    const Tensor t = nst::load_image(dir.file("bad.jpg"));
    CHECK(t.shape().h == 32);
    CHECK(t.shape().w == 16);
  }
  // And the untouched file, turned upright: the cases above changed only the payload.
  CHECK(nst::load_image(fixture("orient_6.jpg")).shape().w == 32);
}

TEST_CASE("progressive and Adobe CMYK JPEGs read as Pillow reads them", "[images]") {
  CHECK(max_abs_diff(nst::load_image(fixture("progressive.jpg")), nst::load_image(fixture("upright.png"))) <= 3.0 / 255);
  CHECK(max_abs_diff(nst::load_image(fixture("cmyk.jpg")), nst::load_image(fixture("cmyk_expected.png"))) <= 3.0 / 255);
}

TEST_CASE("a YCCK JPEG with Adobe's inverted inks converts to RGB", "[images]") {
  // Written here by libjpeg, as Photoshop writes them: CMYK samples inverted (255 = no ink), stored as YCCK,
  // with the Adobe marker. Colours where K = 0 or C = M = Y = 0, as in cmyk.jpg, over 8x8 blocks.
  const unsigned char inks[4][4] = {{255, 0, 0, 0}, {0, 128, 255, 0}, {0, 0, 0, 200}, {0, 0, 0, 0}};
  const int w = 32, h = 8;
  std::vector<unsigned char> cmyk(std::size_t(w) * h * 4);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int c = 0; c < 4; ++c) cmyk[(std::size_t(y) * w + x) * 4 + c] = (unsigned char)(255 - inks[x / 8][c]);
  nst::test::TempDir dir("images");
  const std::string path = dir.file("ycck.jpg");
  std::FILE* f = std::fopen(path.c_str(), "wb");
  REQUIRE(f);
  jpeg_compress_struct cinfo{};
  jpeg_error_mgr err{};
  cinfo.err = jpeg_std_error(&err);
  jpeg_create_compress(&cinfo);
  jpeg_stdio_dest(&cinfo, f);
  cinfo.image_width = w;
  cinfo.image_height = h;
  cinfo.input_components = 4;
  cinfo.in_color_space = JCS_CMYK;
  jpeg_set_defaults(&cinfo);
  jpeg_set_colorspace(&cinfo, JCS_YCCK);
  jpeg_set_quality(&cinfo, 100, TRUE);
  for (int c = 0; c < 4; ++c) cinfo.comp_info[c].h_samp_factor = cinfo.comp_info[c].v_samp_factor = 1;
  jpeg_start_compress(&cinfo, TRUE);
  while (cinfo.next_scanline < cinfo.image_height) {
    JSAMPROW row = &cmyk[std::size_t(cinfo.next_scanline) * w * 4];
    jpeg_write_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_compress(&cinfo);
  jpeg_destroy_compress(&cinfo);
  std::fclose(f);
  const Tensor t = nst::load_image(path);
  REQUIRE(t.shape().h == h);
  REQUIRE(t.shape().w == w);
  const std::size_t plane = std::size_t(w) * h;
  double worst = 0;
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) {
        const unsigned char* ink = inks[x / 8];
        const double want = (255 - ink[c]) * (255 - ink[3]) / 255.0 / 255.0;  // (1 - C)(1 - K)
        worst = std::max(worst, std::abs(double(t.data()[c * plane + std::size_t(y) * w + x]) - want));
      }
  CHECK(worst <= 3.0 / 255);
}

TEST_CASE("16-bit PNGs scale to [0,1] by 65535, grey and palette PNGs become RGB, alpha is dropped", "[images]") {
  auto sample = [](int x, int y, int c) { return float((x * 4099 + y * 30011 + c * 12345) % 65536) / 65535.f; };
  const Tensor rgb = nst::load_image(fixture("rgb16.png"));
  const Tensor ga = nst::load_image(fixture("greya16.png"));
  REQUIRE(rgb.shape().h == 5);
  REQUIRE(rgb.shape().w == 7);
  REQUIRE(ga.shape().h == 5);
  REQUIRE(ga.shape().w == 7);
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < 5; ++y)
      for (int x = 0; x < 7; ++x) {
        INFO("x " << x << " y " << y << " c " << c);
        CHECK(rgb.data()[(c * 5 + y) * 7 + x] == sample(x, y, c));
        CHECK(ga.data()[(c * 5 + y) * 7 + x] == sample(x, y, 0));  // grey in every channel; alpha (c = 1) gone
      }
  CHECK(max_abs_diff(nst::load_image(fixture("palette_trns.png")), nst::load_image(fixture("palette_expected.png"))) == 0);
  CHECK(max_abs_diff(nst::load_image(fixture("greya8.png")), nst::load_image(fixture("greya8_expected.png"))) == 0);
}

TEST_CASE("an Adam7-interlaced PNG, 8 and 16 bits, reads exactly", "[images]") {
  nst::test::TempDir dir("images");
  for (int depth : {8, 16}) {
    INFO("depth " << depth);
    const int w = 13, h = 9, bytes = depth / 8;
    const std::string path = dir.file("adam7_" + std::to_string(depth) + ".png");
    auto value = [&](int x, int y, int c) { return (x * 37 + y * 101 + c * 53) % (depth == 8 ? 256 : 65536); };
    std::vector<unsigned char> image(std::size_t(w) * h * 3 * bytes);
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x)
        for (int c = 0; c < 3; ++c) {
          unsigned char* p = &image[((std::size_t(y) * w + x) * 3 + c) * bytes];
          if (depth == 8) p[0] = (unsigned char)value(x, y, c);
          else p[0] = (unsigned char)(value(x, y, c) >> 8), p[1] = (unsigned char)value(x, y, c);
        }
    std::FILE* f = std::fopen(path.c_str(), "wb");
    REQUIRE(f);
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
    png_infop info = png_create_info_struct(png);
    REQUIRE(!setjmp(png_jmpbuf(png)));
    png_init_io(png, f);
    png_set_IHDR(png, info, w, h, depth, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_ADAM7, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    std::vector<png_bytep> rows(h);
    for (int y = 0; y < h; ++y) rows[y] = &image[std::size_t(y) * w * 3 * bytes];
    png_set_rows(png, info, rows.data());
    png_write_png(png, info, PNG_TRANSFORM_IDENTITY, nullptr);
    png_destroy_write_struct(&png, &info);
    std::fclose(f);
    const Tensor t = nst::load_image(path);
    REQUIRE(t.shape().h == h);
    REQUIRE(t.shape().w == w);
    double worst = 0;
    for (int c = 0; c < 3; ++c)
      for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x)
          worst = std::max(worst, std::abs(double(t.data()[(c * h + y) * w + x]) - value(x, y, c) / (depth == 8 ? 255.0 : 65535.0)));
    CHECK(worst < 1e-7);
  }
}

TEST_CASE("written PNGs read back exactly, JPEGs by their quality, and no .tmp is left", "[images]") {
  nst::test::TempDir dir("images");
  const Tensor up = nst::load_image(fixture("upright.png"));
  const std::vector<std::uint8_t> rgb = nst::to_rgb8(up);
  nst::save_image(dir.file("a.png"), rgb, 16, 32);
  CHECK(max_abs_diff(nst::load_image(dir.file("a.png")), up) == 0);
  nst::save_image(dir.file("q95.jpg"), rgb, 16, 32);
  nst::save_image(dir.file("q20.JPEG"), rgb, 16, 32, 20);
  CHECK(max_abs_diff(nst::load_image(dir.file("q95.jpg")), up) <= 3.0 / 255);  // flat blocks, 4:4:4 from 90 up
  const double q20 = max_abs_diff(nst::load_image(dir.file("q20.JPEG")), up);
  CHECK(q20 > 3.0 / 255);  // the quality reached the encoder: 4:2:0 and coarse steps blur the block edges
  CHECK(fs::file_size(dir.file("q20.JPEG")) < fs::file_size(dir.file("q95.jpg")));
  int files = 0;
  for (const auto& e : fs::directory_iterator(dir.path)) files += e.path().extension() != ".tmp";
  CHECK(files == 3);
}

TEST_CASE("a corrupt file costs bounded time and memory, and one line naming it", "[images]") {
  nst::test::TempDir dir("images");
  const std::string jpg = read_bytes(fixture("progressive.jpg"));
  SECTION("a JPEG frame of 60000x60000 pixels is refused from its header") {
    std::string big = read_bytes(fixture("orient_1.jpg"));
    const std::size_t sof = big.find("\xFF\xC0");
    REQUIRE(sof != std::string::npos);
    big.replace(sof + 5, 4, "\xEA\x60\xEA\x60");
    write_bytes(dir.file("big.jpg"), big);
    CHECK(load_error(dir.file("big.jpg")) == dir.file("big.jpg") + ": image of 60000x60000 pixels is too large");
  }
  SECTION("a progressive JPEG with more than 500 scans stops at the 501st") {
    // Its last scan, from the last SOS to EOI, repeated 600 times: libjpeg would pass over the whole
    // coefficient buffer for each one.
    const std::size_t last_sos = jpg.rfind("\xFF\xDA"), eoi = jpg.rfind("\xFF\xD9");
    REQUIRE(last_sos < eoi);
    std::string many = jpg.substr(0, last_sos);
    for (int i = 0; i < 600; ++i) many += jpg.substr(last_sos, eoi - last_sos);
    write_bytes(dir.file("scans.jpg"), many + "\xFF\xD9");
    CHECK(load_error(dir.file("scans.jpg")) ==
          dir.file("scans.jpg") + ": corrupt or truncated JPEG (libjpeg: more than 500 progressive scans)");
  }
  SECTION("a PNG whose IDAT ends early names it") {
    const std::string png = read_bytes(fixture("rgb16.png"));
    write_bytes(dir.file("cut.png"), png.substr(0, png.size() - 30));
    CHECK(load_error(dir.file("cut.png")) ==
          dir.file("cut.png") + ": corrupt or truncated PNG (libpng: the file ends before the image does)");
  }
  SECTION("a PNG with a bad CRC in its header names libpng's reason") {
    std::string png = read_bytes(fixture("rgb16.png"));
    png[29] = char(png[29] ^ 1);  // IHDR's CRC
    write_bytes(dir.file("crc.png"), png);
    CHECK(load_error(dir.file("crc.png")) == dir.file("crc.png") + ": corrupt or truncated PNG (libpng: IHDR: CRC error)");
  }
}

TEST_CASE("a 50-megapixel JPEG decodes with no full-size copy beside its tensor", "[images]") {
  nst::test::TempDir dir("images");
  const int h = 6144, w = 8192;  // 50.3 MP
  {
    std::vector<std::uint8_t> rgb(std::size_t(h) * w * 3);
    for (std::size_t i = 0; i < rgb.size(); ++i) rgb[i] = std::uint8_t((i * 2654435761u) >> 24);
    nst::save_image(dir.file("big.jpg"), rgb, h, w);
  }
  Tensor t;
  const long long extra = load_peak_bytes(dir.file("big.jpg"), t);
  REQUIRE(t.shape().h == h);
  const long long tensor = (long long)t.numel() * 4, copy8 = (long long)h * w * 3;
  INFO("peak beyond the process before: " << extra / 1048576 << " MiB; tensor " << tensor / 1048576 << " MiB");
  // The tensor and libjpeg's row buffers; an 8-bit copy of the whole image (150 MiB) would break this.
  if (kPlainMemory) CHECK(extra < tensor + copy8 / 2);
}

// Real photos and artworks: each file's size as a viewer shows it and its mean R, G, B, from Pillow
// (tests/fixtures/real_images_reference.py). Pillow reads 16-bit RGB PNGs as 8-bit and its JPEG IDCT may
// differ in the last bit: means agree to 0.002.
TEST_CASE("real photos and artworks from Debian packages load as Pillow reads them", "[images]") {
  const char* env = std::getenv("NST_REAL_IMAGES");
  const std::string folder = env && *env ? env : NST_REAL_IMAGES;
  if (!fs::exists(folder + "/.complete")) NST_SKIP("real images not installed: run bash tools/real_images.sh " + folder);
  struct Row {
    const char* name;
    int w, h;
    double r, g, b;
  };
  const Row rows[] = {
      {"Elephants.jpg", 1920, 1080, 0.4235, 0.5187, 0.6080},            // progressive
      {"Elephants_5640x3172.jpg", 5640, 3172, 0.4229, 0.5182, 0.6075},  // progressive, Exif, 17.9 MP
      {"Float-into-MATE.png", 1440, 900, 0.2221, 0.4120, 0.5932},       // RGBA
      {"FreshFlower.jpg", 1600, 1203, 0.6895, 0.1855, 0.0169},          // progressive
      {"Stripes.png", 1920, 1200, 0.3261, 0.3261, 0.3261},              // grey+alpha
      {"Wood.jpg", 2560, 1920, 0.8204, 0.8377, 0.7127},                 // baseline, Exif without JFIF
      {"camera.png", 512, 512, 0.5061, 0.5061, 0.5061},                 // grey
      {"checker_bilevel.png", 10, 10, 0.5000, 0.5000, 0.5000},          // 1-bit grey
      {"chessboard_RGB.png", 200, 200, 0.5000, 0.5000, 0.5000},         // 16-bit RGB
      {"fullscreenpreview.jpg", 1920, 1080, 0.3613, 0.5109, 0.5386},    // progressive, Exif, ICC
      {"green_palette.png", 320, 240, 0.0036, 0.0040, 0.0036},          // palette
      {"hubble_deep_field.jpg", 1000, 872, 0.0729, 0.0776, 0.0749},     // Adobe APP14, Exif, ICC
      {"logo.png", 500, 500, 0.8445, 0.7831, 0.5067},                   // RGBA
      {"palette_color.png", 10, 10, 0.4560, 0.4480, 0.4860},            // palette
      {"rocket.jpg", 640, 427, 0.2050, 0.2404, 0.3226},                 // ICC
  };
  for (const Row& row : rows) {
    INFO(row.name);
    const std::string path = folder + "/" + row.name;
    Tensor t;
    const long long extra = load_peak_bytes(path, t);
    REQUIRE(t.shape().w == row.w);
    REQUIRE(t.shape().h == row.h);
    const std::size_t plane = std::size_t(row.w) * row.h;
    const double want[3] = {row.r, row.g, row.b};
    for (int c = 0; c < 3; ++c) {
      double sum = 0;
      for (std::size_t i = 0; i < plane; ++i) sum += t.data()[c * plane + i];
      INFO("channel " << c);
      CHECK(std::abs(sum / plane - want[c]) < 0.002);
    }
    // The tensor, plus for a progressive JPEG libjpeg's coefficients of the whole image (2 bytes a
    // sample), plus row buffers.
    INFO("peak beyond the process before: " << extra / 1048576 << " MiB");
    if (kPlainMemory) CHECK(extra < (long long)plane * (12 + 6) + (32ll << 20));
  }
  CHECK(load_error(folder + "/truncated.jpg") ==
        folder + "/truncated.jpg: corrupt or truncated JPEG (libjpeg: Premature end of JPEG file)");
}

TEST_CASE("resize_image: bit-exact at the same size, constant stays constant, no aliasing when shrinking", "[images]") {
  const Tensor noise = nst::noise_image(37, 53, 5);
  CHECK(nst::resize_image(noise, 37, 53).to_vector() == noise.to_vector());
  for (auto [h, w] : {std::pair{9, 13}, std::pair{80, 111}, std::pair{37, 20}}) {
    INFO(h << "x" << w);
    Tensor flat = Tensor::host({1, 3, 37, 53});
    for (std::size_t i = 0; i < flat.numel(); ++i) flat.data()[i] = 0.25f + 0.25f * float(i / (37 * 53));  // per channel
    const Tensor r = nst::resize_image(flat, h, w);
    REQUIRE(r.shape().h == h);
    REQUIRE(r.shape().w == w);
    const std::size_t plane = std::size_t(h) * w;
    for (int c = 0; c < 3; ++c) {
      INFO("channel " << c);
      double worst = 0;
      for (std::size_t i = 0; i < plane; ++i) worst = std::max(worst, std::abs(double(r.data()[c * plane + i]) - (0.25 + 0.25 * c)));
      CHECK(worst < 1e-5);
    }
  }
  // A one-pixel checkerboard shrunk 4x: an area or antialiasing filter gives its mean, 0.5, everywhere;
  // nearest neighbour or plain bilinear would give 0s and 1s (aliasing).
  Tensor checker = Tensor::host({1, 3, 64, 64});
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < 64; ++y)
      for (int x = 0; x < 64; ++x) checker.data()[(c * 64 + y) * 64 + x] = float((x + y) % 2);
  const Tensor small = nst::resize_image(checker, 16, 16);
  double worst = 0;
  for (std::size_t i = 0; i < small.numel(); ++i) worst = std::max(worst, std::abs(double(small.data()[i]) - 0.5));
  INFO("largest distance from 0.5: " << worst);
  CHECK(worst < 0.05);
  // Enlarging keeps a smooth ramp's values between its neighbours' (no ringing beyond a few percent).
  Tensor ramp = Tensor::host({1, 3, 8, 8});
  for (std::size_t i = 0; i < ramp.numel(); ++i) ramp.data()[i] = float(i % 8) / 7.f;
  const Tensor big = nst::resize_image(ramp, 8, 29);
  for (std::size_t i = 0; i < big.numel(); ++i) {
    CHECK(big.data()[i] >= -0.03f);
    CHECK(big.data()[i] <= 1.03f);
  }
}
