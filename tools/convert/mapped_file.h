// The .pth file, mapped read-only, and the checked arithmetic its readers (pickle.cpp, zip.cpp, pth.cpp)
// apply to it. They never copy the file: zip entries, pickles and storages are spans of the mapping. Every
// offset and size they take from it is untrusted, so each one goes through fits/add/mul before it is used,
// and a hostile or truncated file gives an nst::Error instead of a read outside the mapping.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

namespace nst::convert {

using Bytes = std::span<const std::uint8_t>;

class MappedFile {
 public:
  explicit MappedFile(const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  Bytes bytes() const { return {data_, size_}; }

 private:
  int fd_ = -1;
  const std::uint8_t* data_ = nullptr;
  std::size_t size_ = 0;
};

// Inline: the zip reader calls it for every byte of up to 64 KiB when it looks for the end record.
inline std::uint64_t le(Bytes b, std::size_t pos, int n) {
  std::uint64_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = (v << 8) | b[pos + static_cast<std::size_t>(i)];
  return v;
}

// a*b and a+b, or nothing when they overflow.
inline std::optional<std::uint64_t> mul(std::uint64_t a, std::uint64_t b) {
  std::uint64_t r;
  if (__builtin_mul_overflow(a, b, &r)) return std::nullopt;
  return r;
}
inline std::optional<std::uint64_t> add(std::uint64_t a, std::uint64_t b) {
  std::uint64_t r;
  if (__builtin_add_overflow(a, b, &r)) return std::nullopt;
  return r;
}

// [pos, pos + n) lies inside a buffer of `size` bytes.
inline bool fits(std::uint64_t pos, std::uint64_t n, std::uint64_t size) { return pos <= size && n <= size - pos; }

}  // namespace nst::convert
