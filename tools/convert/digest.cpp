// SHA-256 (FIPS 180-4) and MD5 (RFC 1321) of whole files, streamed in chunks: the Caffe VGG19 is 575 MB
// and the checksums we verify downloads against are published in these two forms (torch.hub's sha256
// prefix in the file name, Keras's md5 file_hash).
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "convert/convert.h"
#include "nst/error.h"

namespace nst {
namespace {

constexpr std::size_t kChunk = std::size_t(1) << 20;

std::uint32_t rotr(std::uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }
std::uint32_t rotl(std::uint32_t x, int n) { return (x << n) | (x >> (32 - n)); }

// Both hashes run the same Merkle–Damgård loop over 64-byte blocks; only the compression function, the
// byte order of words and of the length field differ.
class Sha256 {
 public:
  static constexpr bool kBigEndian = true;
  void block(const unsigned char* p) {
    static constexpr std::uint32_t k[64] = {
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};
    std::uint32_t w[64];
    for (int i = 0; i < 16; ++i)
      w[i] = std::uint32_t(p[4 * i]) << 24 | std::uint32_t(p[4 * i + 1]) << 16 | std::uint32_t(p[4 * i + 2]) << 8 |
             std::uint32_t(p[4 * i + 3]);
    for (int i = 16; i < 64; ++i) {
      std::uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
      std::uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
      w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    std::uint32_t a = h_[0], b = h_[1], c = h_[2], d = h_[3], e = h_[4], f = h_[5], g = h_[6], h = h_[7];
    for (int i = 0; i < 64; ++i) {
      std::uint32_t t1 = h + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + k[i] + w[i];
      std::uint32_t t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
      h = g, g = f, f = e, e = d + t1, d = c, c = b, b = a, a = t1 + t2;
    }
    h_[0] += a, h_[1] += b, h_[2] += c, h_[3] += d, h_[4] += e, h_[5] += f, h_[6] += g, h_[7] += h;
  }
  std::string hex() const { return words_hex(h_, 8, kBigEndian); }

  static std::string words_hex(const std::uint32_t* words, int n, bool big_endian) {
    static const char* digits = "0123456789abcdef";
    std::string s;
    for (int i = 0; i < n; ++i)
      for (int j = 0; j < 4; ++j) {
        unsigned byte = (words[i] >> (big_endian ? 24 - 8 * j : 8 * j)) & 0xff;
        s += digits[byte >> 4];
        s += digits[byte & 15];
      }
    return s;
  }

 private:
  std::uint32_t h_[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                         0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
};

class Md5 {
 public:
  static constexpr bool kBigEndian = false;
  void block(const unsigned char* p) {
    static constexpr int s[64] = {7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22,
                                  5, 9,  14, 20, 5, 9,  14, 20, 5, 9,  14, 20, 5, 9,  14, 20,
                                  4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23,
                                  6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21};
    // RFC 1321's table: floor(2^32 * |sin(i + 1)|).
    static constexpr std::uint32_t k[64] = {
        0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
        0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
        0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
        0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
        0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
        0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
        0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
        0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391};
    std::uint32_t m[16];
    for (int i = 0; i < 16; ++i)
      m[i] = std::uint32_t(p[4 * i]) | std::uint32_t(p[4 * i + 1]) << 8 | std::uint32_t(p[4 * i + 2]) << 16 |
             std::uint32_t(p[4 * i + 3]) << 24;
    std::uint32_t a = h_[0], b = h_[1], c = h_[2], d = h_[3];
    for (int i = 0; i < 64; ++i) {
      std::uint32_t f;
      int g;
      if (i < 16) f = (b & c) | (~b & d), g = i;
      else if (i < 32) f = (d & b) | (~d & c), g = (5 * i + 1) % 16;
      else if (i < 48) f = b ^ c ^ d, g = (3 * i + 5) % 16;
      else f = c ^ (b | ~d), g = (7 * i) % 16;
      std::uint32_t t = d;
      d = c, c = b, b = b + rotl(a + f + k[i] + m[g], s[i]), a = t;
    }
    h_[0] += a, h_[1] += b, h_[2] += c, h_[3] += d;
  }
  std::string hex() const { return Sha256::words_hex(h_, 4, kBigEndian); }

 private:
  std::uint32_t h_[4] = {0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476};
};

template <typename Hash>
std::string digest_file(const std::string& path) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(path.c_str(), "rb"), std::fclose);
  if (!f) throw Error(path + ": cannot open: " + std::strerror(errno));
  Hash hash;
  // The buffer holds whole 64-byte blocks; a partial block left at the end of a read moves to its front.
  std::vector<unsigned char> buf(kChunk + 64);
  std::size_t held = 0;
  std::uint64_t total = 0;
  for (;;) {
    std::size_t n = std::fread(buf.data() + held, 1, kChunk, f.get());
    if (n == 0) {
      if (std::ferror(f.get())) throw Error(path + ": read error: " + std::strerror(errno));
      break;
    }
    total += n;
    held += n;
    std::size_t full = held / 64 * 64;
    for (std::size_t i = 0; i < full; i += 64) hash.block(buf.data() + i);
    std::memmove(buf.data(), buf.data() + full, held - full);
    held -= full;
  }
  // Padding: 0x80, zeros up to 56 mod 64, then the length in bits (big-endian for SHA-256, little for MD5).
  buf[held++] = 0x80;
  std::size_t padded = held <= 56 ? 64 : 128;
  std::memset(buf.data() + held, 0, padded - held);
  std::uint64_t bits = total * 8;
  for (int i = 0; i < 8; ++i)
    buf[padded - 8 + i] = static_cast<unsigned char>(bits >> (Hash::kBigEndian ? 56 - 8 * i : 8 * i));
  for (std::size_t i = 0; i < padded; i += 64) hash.block(buf.data() + i);
  return hash.hex();
}

}  // namespace

std::string sha256_file(const std::string& path) { return digest_file<Sha256>(path); }
std::string md5_file(const std::string& path) { return digest_file<Md5>(path); }

}  // namespace nst
