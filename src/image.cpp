#include "nst/image.h"

#include <stb/stb_image.h>
#include <stb/stb_image_resize.h>
#include <stb/stb_image_write.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "nst/error.h"

namespace nst {
namespace {

std::string lower_extension(const std::string& path) {
  std::string e = std::filesystem::path(path).extension().string();
  std::transform(e.begin(), e.end(), e.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  return e;
}

// Beyond this many pixels an image is refused before decoding (a 16k x 16k photo is 256M pixels).
constexpr long long kMaxPixels = 1LL << 28;

}  // namespace

Tensor load_image(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) throw Error(path + ": no such file");
  if (std::filesystem::is_directory(path, ec)) throw Error(path + ": is a directory, not an image");
  int w = 0, h = 0, channels = 0;
  if (!stbi_info(path.c_str(), &w, &h, &channels))
    throw Error(path + ": not a readable image (" + stbi_failure_reason() + "); PNG, JPEG, BMP and TGA are supported");
  if (w <= 0 || h <= 0 || (long long)w * h > kMaxPixels)
    throw Error(path + ": image of " + std::to_string(w) + "x" + std::to_string(h) + " pixels is too large");
  // req_comp = 3: stb replicates grey to RGB and drops alpha, as SPEC §3 asks.
  unsigned char* px = stbi_load(path.c_str(), &w, &h, &channels, 3);
  if (!px) throw Error(path + ": cannot decode image (" + std::string(stbi_failure_reason()) + ")");
  Tensor t = Tensor::host(Shape{1, 3, h, w});
  std::size_t plane = std::size_t(h) * w;
  for (std::size_t i = 0; i < plane; ++i)
    for (int c = 0; c < 3; ++c) t.data()[c * plane + i] = float(px[i * 3 + c]) / 255.f;
  stbi_image_free(px);
  return t;
}

std::pair<int, int> fit_long_side(int h, int w, int size) {
  if (h >= w) return {size, std::max(1, int(std::floor(double(w) * size / h + 0.5)))};
  return {std::max(1, int(std::floor(double(h) * size / w + 0.5))), size};
}

Tensor resize_image(const Tensor& image, int h, int w) {
  const Shape& s = image.shape();
  NST_ASSERT(s.n == 1 && h > 0 && w > 0, "resize_image needs a 1xCxHxW image and a positive size");
  if (s.h == h && s.w == w) return Tensor::host(s, image.to_vector());
  Tensor out = Tensor::host(Shape{1, s.c, h, w});
  for (int c = 0; c < s.c; ++c) {
    const float* src = image.data() + std::size_t(c) * s.h * s.w;
    float* dst = out.data() + std::size_t(c) * h * w;
    if (!stbir_resize_float(src, s.w, s.h, 0, dst, w, h, 0, 1)) throw Error("image resize failed");
  }
  return out;
}

bool writable_image_extension(const std::string& path) {
  std::string e = lower_extension(path);
  return e == ".png" || e == ".jpg" || e == ".jpeg";
}

void save_image(const std::string& path, const std::vector<std::uint8_t>& rgb, int h, int w) {
  NST_ASSERT(rgb.size() == std::size_t(h) * w * 3, "save_image byte count");
  if (!writable_image_extension(path)) throw UsageError(path + ": the output must end in .png, .jpg or .jpeg");
  std::string tmp = path + ".tmp";
  bool ok = lower_extension(path) == ".png" ? stbi_write_png(tmp.c_str(), w, h, 3, rgb.data(), w * 3) != 0
                                            : stbi_write_jpg(tmp.c_str(), w, h, 3, rgb.data(), 95) != 0;
  std::string why = ok ? "" : "cannot write it (is the folder writable? is the disk full?)";
  std::error_code ec;
  if (ok) std::filesystem::rename(tmp, path, ec);
  if (ec) why = "cannot write it: " + ec.message();
  if (!why.empty()) {
    std::filesystem::remove(tmp, ec);
    throw Error(path + ": " + why);
  }
}

}  // namespace nst
