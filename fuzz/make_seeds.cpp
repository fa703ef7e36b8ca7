// fuzz_make_seeds DIR: writes the image seeds of fuzz/corpus/fuzz_image/ (tiny PNG, JPEG, BMP, TGA, HDR and
// PNM files, each a few hundred bytes, in every channel count stb writes), so the seeds' provenance is
// this file. Deterministic.
#include <stb/stb_image_write.h>

#include <cstdio>
#include <string>
#include <vector>

namespace {

std::vector<unsigned char> pattern(int w, int h, int comp) {
  std::vector<unsigned char> px(std::size_t(w) * h * comp);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int c = 0; c < comp; ++c) px[(std::size_t(y) * w + x) * comp + c] = (unsigned char)((x * 37 + y * 91 + c * 53) & 0xff);
  return px;
}

bool write_raw(const std::string& path, const std::string& bytes) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return false;
  bool ok = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
  return std::fclose(f) == 0 && ok;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: fuzz_make_seeds DIR\n");
    return 2;
  }
  const std::string d = std::string(argv[1]) + "/";
  bool ok = true;
  for (int comp = 1; comp <= 4; ++comp) {
    auto px = pattern(7, 5, comp);
    ok &= stbi_write_png((d + "c" + std::to_string(comp) + "_7x5.png").c_str(), 7, 5, comp, px.data(), 7 * comp) != 0;
  }
  auto rgb = pattern(16, 9, 3), grey = pattern(8, 8, 1), rgba = pattern(5, 3, 4);
  ok &= stbi_write_jpg((d + "rgb_16x9_q90.jpg").c_str(), 16, 9, 3, rgb.data(), 90) != 0;
  ok &= stbi_write_jpg((d + "grey_8x8_q40.jpg").c_str(), 8, 8, 1, grey.data(), 40) != 0;
  ok &= stbi_write_bmp((d + "rgb_16x9.bmp").c_str(), 16, 9, 3, rgb.data()) != 0;
  ok &= stbi_write_bmp((d + "rgba_5x3.bmp").c_str(), 5, 3, 4, rgba.data()) != 0;
  ok &= stbi_write_tga((d + "rgb_16x9_rle.tga").c_str(), 16, 9, 3, rgb.data()) != 0;
  stbi_write_tga_with_rle = 0;
  ok &= stbi_write_tga((d + "rgba_5x3_raw.tga").c_str(), 5, 3, 4, rgba.data()) != 0;
  std::vector<float> hdr(4 * 3 * 3);
  for (std::size_t i = 0; i < hdr.size(); ++i) hdr[i] = float(i) / 7.f;
  ok &= stbi_write_hdr((d + "rgb_4x3.hdr").c_str(), 4, 3, 3, hdr.data()) != 0;
  std::string ppm = "P6\n4 3\n255\n", pgm = "P5 3 2 255\n";
  for (int i = 0; i < 4 * 3 * 3; ++i) ppm += char(i * 7);
  for (int i = 0; i < 3 * 2; ++i) pgm += char(i * 40);
  ok &= write_raw(d + "rgb_4x3.ppm", ppm);
  ok &= write_raw(d + "grey_3x2.pgm", pgm);
  if (!ok) std::fprintf(stderr, "fuzz_make_seeds: cannot write into %s\n", argv[1]);
  return ok ? 0 : 1;
}
