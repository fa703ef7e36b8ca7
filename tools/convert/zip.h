// Zip archives, the subset that torch.save (torch >= 1.6) writes: one disk, stored (uncompressed) entries,
// zip64 records. Entries are spans of the mapped file, checked against their CRC-32 and never inflated:
// torch does not compress, so a compressed entry means a repacked file, which is refused with a hint
// rather than decompressed. torch also writes data descriptors (its local headers carry zero sizes), so
// sizes come from the central directory, and pads the local extra fields for 64-byte alignment, so an
// entry's data is found through its own local header.
#pragma once
#include <cstdint>
#include <map>
#include <string>

#include "mapped_file.h"

namespace nst::convert {

struct ZipEntry {
  std::uint16_t flags = 0, method = 0;
  std::uint32_t crc = 0;
  std::uint64_t csize = 0, usize = 0, local = 0;
};

// The central directory is read, and checked against the file's length, on construction. `file` names the
// archive in errors and must outlive the Zip.
class Zip {
 public:
  Zip(const std::string& file, Bytes b);

  bool has(const std::string& name) const { return entries_.count(name) != 0; }
  const std::map<std::string, ZipEntry>& entries() const { return entries_; }

  // The bytes of a stored entry, checked against its CRC-32.
  Bytes read(const std::string& name) const;

 private:
  [[noreturn]] void fail(const std::string& msg) const;

  const std::string& file_;
  Bytes b_;
  std::map<std::string, ZipEntry> entries_;
};

}  // namespace nst::convert
