// nst_make_demo: draws the two demo images that the README's main command stylises, so the project ships
// free-to-use inputs without binary provenance questions: a content "photo" (sky, sun, hills, a house,
// a lake) and a style "painting" (bold swirls and brush-like stripes). Deterministic.
#include <stb/stb_image_write.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

namespace {

struct Rgb {
  float r, g, b;
};

Rgb mix(Rgb a, Rgb b, float t) { return {a.r + (b.r - a.r) * t, a.g + (b.g - a.g) * t, a.b + (b.b - a.b) * t}; }

float hash(int x, int y) {
  unsigned h = unsigned(x) * 374761393u + unsigned(y) * 668265263u;
  h = (h ^ (h >> 13)) * 1274126177u;
  return float(h ^ (h >> 16)) / 4294967295.f;
}

Rgb content_pixel(float u, float v) {  // u, v in [0,1), v down
  Rgb sky = mix({0.45f, 0.65f, 0.95f}, {0.95f, 0.75f, 0.55f}, v / 0.6f);
  Rgb c = sky;
  float sun = std::hypot((u - 0.75f) * 1.5f, v - 0.22f);  // 1.5: the image is 3:2, keep the sun round
  if (sun < 0.08f) c = {1.f, 0.92f, 0.6f};
  float hill1 = 0.55f + 0.08f * std::sin(u * 7.f), hill2 = 0.62f + 0.05f * std::sin(u * 11.f + 1.f);
  if (v > hill1) c = mix({0.25f, 0.5f, 0.2f}, {0.15f, 0.35f, 0.12f}, (v - hill1) * 3.f);
  if (v > hill2) c = {0.35f, 0.55f, 0.25f};
  if (v > 0.78f) c = mix({0.2f, 0.4f, 0.6f}, {0.1f, 0.25f, 0.45f}, (v - 0.78f) * 4.f);  // lake
  if (u > 0.2f && u < 0.38f && v > 0.5f && v < 0.66f) c = {0.85f, 0.8f, 0.7f};        // house
  if (v > 0.38f && v <= 0.5f && std::abs(u - 0.29f) < (v - 0.38f) * 0.9f) c = {0.6f, 0.2f, 0.15f};  // roof
  if (u > 0.27f && u < 0.31f && v > 0.58f && v < 0.66f) c = {0.35f, 0.22f, 0.12f};     // door
  float n = 0.03f * (hash(int(u * 997), int(v * 991)) - 0.5f);
  return {c.r + n, c.g + n, c.b + n};
}

Rgb style_pixel(float u, float v) {
  float x = u - 0.5f, y = v - 0.5f, r = std::hypot(x, y), a = std::atan2(y, x);
  float swirl = std::sin(18.f * r - 3.f * a + 4.f * std::sin(5.f * u));
  float stripes = std::sin(40.f * (u + 0.3f * v) + 3.f * std::sin(9.f * v));
  Rgb deep = {0.08f, 0.12f, 0.35f}, gold = {0.95f, 0.75f, 0.15f}, teal = {0.1f, 0.55f, 0.6f}, red = {0.75f, 0.15f, 0.1f};
  Rgb c = mix(deep, teal, 0.5f + 0.5f * swirl);
  if (stripes > 0.6f) c = mix(c, gold, (stripes - 0.6f) * 2.5f);
  if (swirl > 0.85f && r < 0.3f) c = mix(c, red, 0.7f);
  float n = 0.08f * (hash(int(u * 613), int(v * 617)) - 0.5f);
  return {c.r + n, c.g + n, c.b + n};
}

bool write(const std::string& path, int w, int h, Rgb (*pixel)(float, float)) {
  std::vector<unsigned char> px(std::size_t(w) * h * 3);
  auto byte = [](float f) { return (unsigned char)std::lround(std::fmin(1.f, std::fmax(0.f, f)) * 255.f); };
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      Rgb c = pixel((x + 0.5f) / w, (y + 0.5f) / h);
      unsigned char* p = &px[(std::size_t(y) * w + x) * 3];
      p[0] = byte(c.r), p[1] = byte(c.g), p[2] = byte(c.b);
    }
  return stbi_write_png(path.c_str(), w, h, 3, px.data(), w * 3) != 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir = argc > 1 ? argv[1] : ".";
  if (argc > 2 || dir == "--help") {
    std::fprintf(stderr, "usage: nst_make_demo [DIR]   writes DIR/content.png (384x256) and DIR/style.png (256x256)\n");
    return 2;
  }
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);  // the folder is made if need be, as an output folder is
  if (!write(dir + "/content.png", 384, 256, content_pixel) || !write(dir + "/style.png", 256, 256, style_pixel)) {
    std::fprintf(stderr, "nst_make_demo: cannot write into %s\n", dir.c_str());
    return 1;
  }
  return 0;
}
