// The zip reader of zip.h. Every field of the end records and the central directory comes from the file,
// so each is checked against the file's (or the directory's) extent before it is followed.
#include "zip.h"

#include <array>
#include <optional>

#include "nst/error.h"

namespace nst::convert {
namespace {

std::uint32_t crc32(Bytes b) {
  static const auto table = [] {
    std::array<std::uint32_t, 256> t{};
    for (std::uint32_t i = 0; i < 256; ++i) {
      std::uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  std::uint32_t c = 0xffffffffu;
  for (std::uint8_t x : b) c = table[(c ^ x) & 0xff] ^ (c >> 8);
  return c ^ 0xffffffffu;
}

}  // namespace

Zip::Zip(const std::string& file, Bytes b) : file_(file), b_(b) {
  const std::uint64_t n = b.size();
  // The end-of-central-directory record: 22 bytes and a comment of up to 65535 at the very end.
  std::optional<std::uint64_t> eocd;
  if (n >= 22) {
    const std::uint64_t lowest = n - 22 > 65535 ? n - 22 - 65535 : 0;
    for (std::uint64_t p = n - 22 + 1; p-- > lowest;) {
      if (le(b, p, 4) == 0x06054b50 && p + 22 + le(b, p + 20, 2) == n) {
        eocd = p;
        break;
      }
    }
  }
  if (!eocd) fail("truncated or corrupt zip archive (no end-of-central-directory record)");
  const std::uint64_t e = *eocd;
  if (le(b, e + 4, 2) != 0 || le(b, e + 6, 2) != 0) fail("multi-disk zip archives are not supported");
  std::uint64_t count = le(b, e + 10, 2), cd_size = le(b, e + 12, 4), cd = le(b, e + 16, 4);
  // torch writes the zip64 records even for small files; they override the 16/32-bit fields.
  if (e >= 20 && le(b, e - 20, 4) == 0x07064b50) {
    const std::uint64_t z = le(b, e - 20 + 8, 8);
    if (!fits(z, 56, n) || le(b, z, 4) != 0x06064b50) fail("corrupt zip64 end-of-central-directory record");
    count = le(b, z + 32, 8);
    cd_size = le(b, z + 40, 8);
    cd = le(b, z + 48, 8);
  }
  if (!fits(cd, cd_size, n)) fail("truncated zip archive (central directory outside the file)");
  std::uint64_t p = cd;
  for (std::uint64_t i = 0; i < count; ++i) {
    if (!fits(p, 46, cd + cd_size) || le(b, p, 4) != 0x02014b50) fail("corrupt zip central directory");
    ZipEntry z;
    z.flags = static_cast<std::uint16_t>(le(b, p + 8, 2));
    z.method = static_cast<std::uint16_t>(le(b, p + 10, 2));
    z.crc = static_cast<std::uint32_t>(le(b, p + 16, 4));
    z.csize = le(b, p + 20, 4);
    z.usize = le(b, p + 24, 4);
    const std::uint64_t name_len = le(b, p + 28, 2), extra_len = le(b, p + 30, 2), comment_len = le(b, p + 32, 2);
    z.local = le(b, p + 42, 4);
    if (!fits(p + 46, name_len + extra_len + comment_len, cd + cd_size)) fail("corrupt zip central directory");
    std::string name(reinterpret_cast<const char*>(b.data() + p + 46), name_len);
    // The zip64 extended-information field holds the 64-bit values of the fields saturated above.
    for (std::uint64_t x = p + 46 + name_len, end = x + extra_len; x + 4 <= end;) {
      const std::uint64_t id = le(b, x, 2), len = le(b, x + 2, 2);
      if (x + 4 + len > end) fail("corrupt zip extra field in entry '" + name + "'");
      if (id == 0x0001) {
        std::uint64_t q = x + 4;
        for (std::uint64_t* f : {&z.usize, &z.csize, &z.local}) {
          if (*f != 0xffffffffu) continue;
          if (q + 8 > x + 4 + len) fail("corrupt zip64 extra field in entry '" + name + "'");
          *f = le(b, q, 8);
          q += 8;
        }
      }
      x += 4 + len;
    }
    entries_[name] = z;
    p += 46 + name_len + extra_len + comment_len;
  }
}

Bytes Zip::read(const std::string& name) const {
  auto it = entries_.find(name);
  if (it == entries_.end()) fail("missing zip entry '" + name + "'");
  const ZipEntry& z = it->second;
  if (z.flags & 1) fail("zip entry '" + name + "' is encrypted");
  if (z.method != 0)
    fail("zip entry '" + name + "' is compressed (method " + std::to_string(z.method) +
         "); torch.save writes stored (uncompressed) entries, so this file was repacked: save it again with "
         "torch.save");
  if (z.csize != z.usize) fail("zip entry '" + name + "' has different stored and uncompressed sizes");
  if (!fits(z.local, 30, b_.size()) || le(b_, z.local, 4) != 0x04034b50)
    fail("zip entry '" + name + "': no local header at byte " + std::to_string(z.local));
  const std::uint64_t data = z.local + 30 + le(b_, z.local + 26, 2) + le(b_, z.local + 28, 2);
  if (!fits(data, z.usize, b_.size())) fail("truncated zip entry '" + name + "'");
  Bytes bytes = b_.subspan(data, z.usize);
  if (crc32(bytes) != z.crc) fail("zip entry '" + name + "' is corrupt (CRC-32 mismatch)");
  return bytes;
}

void Zip::fail(const std::string& msg) const { throw Error(file_ + ": " + msg); }

}  // namespace nst::convert
