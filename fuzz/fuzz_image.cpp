// nst::load_image on arbitrary bytes: libjpeg-turbo, libpng, stb_image's BMP/TGA, and our EXIF parser.
#include <cmath>
#include <cstring>

#include "fuzz_common.h"
#include "nst/image.h"

namespace {

unsigned be(const std::uint8_t* d, std::size_t n, std::size_t at, int bytes) {
  unsigned v = 0;
  for (int i = 0; i < bytes; ++i) v = v << 8 | (at + i < n ? d[at + i] : 0);
  return v;
}

unsigned le(const std::uint8_t* d, std::size_t n, std::size_t at, int bytes) {
  unsigned v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = v << 8 | (at + i < n ? d[at + i] : 0);
  return v;
}

// Width x height from a JPEG's frame header, walking the marker segments; 0 if there is none.
double jpeg_pixels(const std::uint8_t* d, std::size_t n) {
  for (std::size_t p = 0; p + 9 < n;) {
    if (d[p] != 0xFF) return 0;
    std::uint8_t m = d[p + 1];
    if (m == 0xFF || m == 0xD8 || m == 0x01 || (m >= 0xD0 && m <= 0xD7)) {
      p += m == 0xFF ? 1 : 2;  // a fill byte, or a marker without a length
      continue;
    }
    if (m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC)
      return double(be(d, n, p + 5, 2)) * be(d, n, p + 7, 2);
    if (m == 0xD9 || m == 0xDA) return 0;  // end of image, or a scan before any frame header
    p += 2 + be(d, n, p + 2, 2);
  }
  return 0;
}

// The pixels the header declares (in double: two 32-bit sides overflow 64 bits), read here rather than by
// stbi_info: stb's header parsers are part of what is being fuzzed, and load_image must run them first.
// TGA has no signature: the rest is read as one.
double declared_pixels(const std::uint8_t* d, std::size_t n) {
  if (n >= 1 && d[0] == 0xFF) return jpeg_pixels(d, n);
  if (n >= 8 && std::memcmp(d, "\x89PNG", 4) == 0) return double(be(d, n, 16, 4)) * be(d, n, 20, 4);
  if (n >= 2 && d[0] == 'B' && d[1] == 'M') {
    if (le(d, n, 14, 4) == 12) return double(le(d, n, 18, 2)) * le(d, n, 20, 2);
    return std::abs(double(int(le(d, n, 18, 4))) * int(le(d, n, 22, 4)));
  }
  return double(le(d, n, 12, 2)) * le(d, n, 14, 2);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // An image that declares millions of pixels is legal (load_image takes up to 2^28) but makes every
  // iteration allocate gigabytes, which libFuzzer would report as out-of-memory: skip those; the ones
  // above load_image's own limit still go in, as they are refused before anything is allocated.
  const double pixels = declared_pixels(data, size);
  if (pixels > 0x1p22 && pixels <= 0x1p28) return 0;
  return nst::fuzz::run_one(data, size, [](const std::string& path) { nst::load_image(path); });
}
