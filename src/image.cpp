#include "nst/image.h"

#include <stb/stb_image.h>
#include <stb/stb_image_resize.h>
#include <stb/stb_image_write.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <vector>

#include "nst/atomic_file.h"
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

// stb_image 2.27 (Debian 12's libstb) writes past its Huffman tables when a JPEG's DHT segment gives one
// table more than 256 codes (fuzz/README.md; fixed upstream in 2.28). Such a file is corrupt, so it is
// refused before stb reads it. Every FF C4 in the file is looked at, as stb also reads DHT segments
// between scans, and bytes past the end count as 0, as they do for stb.
bool jpeg_huffman_overflow(std::FILE* f) {
  int first = std::fgetc(f);
  if (first != 0xFF) return false;  // stb's JPEG reader needs FF D8, after any number of FF fill bytes
  std::vector<unsigned char> b(1, 0xFF);
  unsigned char buf[1 << 16];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) b.insert(b.end(), buf, buf + n);
  auto at = [&](std::size_t i) -> long { return i < b.size() ? b[i] : 0; };
  for (std::size_t p = 0; p + 1 < b.size(); ++p) {
    if (b[p] != 0xFF || b[p + 1] != 0xC4) continue;
    std::size_t q = p + 4;
    for (long left = (at(p + 2) << 8 | at(p + 3)) - 2; left > 0;) {  // the tables of one DHT segment
      if ((at(q) >> 4) > 1 || (at(q) & 15) > 3) break;               // stb refuses the segment itself
      long codes = 0;
      for (int i = 1; i <= 16; ++i) codes += at(q + i);
      if (codes > 256) return true;
      q += std::size_t(17 + codes);
      left -= 17 + codes;
    }
  }
  return false;
}

// stb_image 2.27 allocates an IDAT chunk's declared length (up to 2 GiB) before it reads the chunk, so a
// corrupt PNG of 100 bytes can ask for gigabytes (fuzz/README.md). A PNG with a chunk that runs past the
// end of the file is refused first; stb would fail on it anyway, as it never reaches IEND.
bool png_chunk_past_end(std::FILE* f) {
  unsigned char head[8];
  if (std::fread(head, 1, 8, f) != 8 || std::memcmp(head, "\x89PNG\r\n\x1a\n", 8) != 0) return false;
  if (std::fseek(f, 0, SEEK_END) != 0) return false;
  const long long size = std::ftell(f);
  for (long long at = 8; std::fseek(f, long(at), SEEK_SET) == 0 && std::fread(head, 1, 8, f) == 8;) {
    long long length = (long long)head[0] << 24 | head[1] << 16 | head[2] << 8 | head[3];
    if (length > size - at - 8) return true;
    if (std::memcmp(head + 4, "IEND", 4) == 0) return false;
    at += 12 + length;  // length, type, data, CRC
  }
  return false;
}

// stb_image also reads GIF, PSD, PIC, PNM and HDR files, which SPEC §3 does not support, and its 2.27
// decoders for them are where fuzzing found more bugs (a 16-bit PGM is read past the end of its buffer).
// Refused by their signatures before stb sees them; none of these can begin a TGA, the one format stb
// recognises without a signature.
const char* unsupported_format(std::FILE* f) {
  char h[4] = {};
  const std::size_t n = std::fread(h, 1, sizeof h, f);
  const std::string s(h, n);
  if (s.rfind("GIF8", 0) == 0) return "GIF";
  if (s == "8BPS") return "Photoshop";
  if (s == "\x53\x80\xF6\x34") return "Softimage PIC";
  if (s.rfind("P5", 0) == 0 || s.rfind("P6", 0) == 0) return "PNM";
  if (s.rfind("#?", 0) == 0) return "Radiance HDR";
  return nullptr;
}

// The files above, refused with one line each; the file is left at its start for stb.
void refuse_what_stb_mishandles(std::FILE* f, const std::string& path) {
  if (const char* format = unsupported_format(f))
    throw Error(path + ": a " + format + " image; PNG, JPEG, BMP and TGA are supported");
  std::rewind(f);
  if (jpeg_huffman_overflow(f)) throw Error(path + ": corrupt JPEG (a Huffman table of more than 256 codes)");
  std::rewind(f);
  if (png_chunk_past_end(f)) throw Error(path + ": truncated or corrupt PNG (a chunk runs past the end of the file)");
  std::rewind(f);
}

}  // namespace

Tensor load_image(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) throw Error(path + ": no such file");
  if (std::filesystem::is_directory(path, ec)) throw Error(path + ": is a directory, not an image");
  // Opened here, not by stb, whose "can't fopen" would read as "not a readable image" of an unsupported type.
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!file) throw Error(path + ": cannot be read (" + std::strerror(errno) + ")");
  refuse_what_stb_mishandles(file.get(), path);
  int w = 0, h = 0, channels = 0;
  if (!stbi_info_from_file(file.get(), &w, &h, &channels))
    throw Error(path + ": not a readable image (" + stbi_failure_reason() + "); PNG, JPEG, BMP and TGA are supported");
  if (w <= 0 || h <= 0 || (long long)w * h > kMaxPixels)
    throw Error(path + ": image of " + std::to_string(w) + "x" + std::to_string(h) + " pixels is too large");
  // req_comp = 3: stb replicates grey to RGB and drops alpha, as SPEC §3 asks.
  unsigned char* px = stbi_load_from_file(file.get(), &w, &h, &channels, 3);
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

bool writable_image_extension(const std::string& path) {
  std::string e = lower_extension(path);
  return e == ".png" || e == ".jpg" || e == ".jpeg";
}

void save_image(const std::string& path, const std::vector<std::uint8_t>& rgb, int h, int w) {
  NST_ASSERT(rgb.size() == std::size_t(h) * w * 3, "save_image byte count");
  if (!writable_image_extension(path)) throw UsageError(path + ": the output must end in .png, .jpg or .jpeg");
  AtomicFile file(path);
  bool ok = lower_extension(path) == ".png" ? stbi_write_png(file.tmp().c_str(), w, h, 3, rgb.data(), w * 3) != 0
                                            : stbi_write_jpg(file.tmp().c_str(), w, h, 3, rgb.data(), 95) != 0;
  if (!ok) throw Error(path + ": cannot write it (is the folder writable? is the disk full?)");
  file.commit();
}

}  // namespace nst
