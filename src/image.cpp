#include "nst/image.h"

#include <stb/stb_image_resize.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "nst/error.h"

namespace nst {

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

Tensor noise_image(int h, int w, unsigned long long seed) {
  Tensor t = Tensor::host(Shape{1, 3, h, w});
  std::uint64_t s = seed;
  for (std::size_t i = 0; i < t.numel(); ++i) {
    std::uint64_t z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    t.data()[i] = float(double((z ^ (z >> 31)) >> 40) * 0x1.0p-24);
  }
  return t;
}

void to_rgb8(const Tensor& X, std::uint8_t* out) {
  const Shape& s = X.shape();
  NST_ASSERT(X.device() == Device::Host && s.n == 1 && s.c == 3, "to_rgb8 needs a 1x3xHxW host image");
  const std::size_t plane = std::size_t(s.h) * s.w;
  for (std::size_t i = 0; i < plane; ++i)
    for (int c = 0; c < 3; ++c) {
      float v = std::clamp(X.data()[c * plane + i], 0.f, 1.f);  // NaN would pass clamp: map it to 0
      out[i * 3 + c] = std::uint8_t(v == v ? std::floor(v * 255.f + 0.5f) : 0.f);
    }
}

std::vector<std::uint8_t> to_rgb8(const Tensor& X) {
  std::vector<std::uint8_t> out(X.numel());
  to_rgb8(X, out.data());
  return out;
}

}  // namespace nst
