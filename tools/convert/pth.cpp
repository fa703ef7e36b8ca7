// read_pth: VGG19's 16 convolutions from a PyTorch state-dict file, without Python and without executing
// anything: the pickles are read by the whitelist interpreter of pickle.h, which never calls a global.
// This file tells the two serialisations apart and turns the unpickled state dict into convolutions.
//
// Two serialisations, told apart by the first bytes:
//  - zip (torch >= 1.6, "PK\3\4"): <archive>/data.pkl holds the pickle, whose persistent ids are
//    ('storage', storage_type, key, location, numel); <archive>/data/<key> holds each storage's raw
//    little-endian bytes. The archive is read by zip.h (stored entries, sizes from the central directory,
//    zip64 end records, which torch writes even for small files).
//  - legacy (torch < 1.6, a PROTO byte 0x80 first): a sequence of pickles (magic number, protocol
//    version, sys_info, the state dict with persistent ids ('storage', storage_type, key, location,
//    numel, view_metadata), the list of storage keys), then for each key in that list an 8-byte
//    little-endian element count and the raw data. torchvision's vgg19-dcbb9e9d.pth and jcjohnson's
//    vgg19-d01eb7cb.pth (2017, torch 0.1.12-0.3) rebuild tensors with torch._utils._rebuild_tensor; newer
//    files with _rebuild_tensor_v2.
//
// The file is mapped read-only (mapped_file.h); every offset and size read from it is checked against its
// length before use, and arithmetic on them is checked for overflow, so a hostile or truncated file gives
// an nst::Error.
#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <cstring>
#include <deque>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "convert/convert.h"
#include "mapped_file.h"
#include "nst/error.h"
#include "pickle.h"
#include "zip.h"

namespace nst {
namespace {

using convert::add;
using convert::Bytes;
using convert::fits;
using convert::kFloatStorage;
using convert::Kind;
using convert::kind_name;
using convert::kStorageTypes;
using convert::le;
using convert::MappedFile;
using convert::mul;
using convert::StorageType;
using convert::unpickle;
using convert::Value;
using convert::Zip;

// ---------------------------------------------------------------------------------------------------------
// From the state dict to the 16 convolutions.

constexpr std::array<int, 16> kConvIndex = {0, 2, 5, 7, 10, 12, 14, 16, 19, 21, 23, 25, 28, 30, 32, 34};

std::string shape_str(const std::vector<std::int64_t>& s) {
  std::string r = "[";
  for (std::size_t i = 0; i < s.size(); ++i) r += (i ? "," : "") + std::to_string(s[i]);
  return r + "]";
}

[[noreturn]] void fail_file(const std::string& file, const std::string& msg) { throw Error(file + ": " + msg); }

struct Tensors {
  std::array<const Value*, 16> weight{}, bias{};
};

// Strict: exactly torchvision's key names (no 'module.' prefix from DataParallel, no bare indices), every
// conv present, no other features.* key (vgg19_bn has batch norms there), classifier.* ignored.
Tensors find_convs(const std::string& file, const Value* sd) {
  auto fail = [&](const std::string& msg) { fail_file(file, msg); };
  if (sd->kind != Kind::Dict) fail(std::string("the pickle holds ") + kind_name(sd->kind) + ", not a state dict");
  std::map<std::string, const Value*> keys;  // later entries win, as in a Python dict
  for (std::size_t i = 0; i + 1 < sd->items.size(); i += 2) {
    const Value* k = sd->items[i];
    if (k->kind != Kind::Str) fail(std::string("state dict key is ") + kind_name(k->kind) + ", not a string");
    keys[k->s] = sd->items[i + 1];
  }
  Tensors t;
  std::map<std::string, bool> expected;
  for (std::size_t i = 0; i < 16; ++i) {
    for (const char* p : {"weight", "bias"}) {
      const std::string key = "features." + std::to_string(kConvIndex[i]) + "." + p;
      expected[key] = true;
      auto it = keys.find(key);
      if (it == keys.end()) {
        std::string hint;
        if (keys.count("module." + key)) hint = "; keys with DataParallel's 'module.' prefix are not accepted";
        fail("missing " + key + " (not VGG19?" + hint + ")");
      }
      if (it->second->kind != Kind::Tensor) fail(key + " is " + kind_name(it->second->kind) + ", not a tensor");
      (p[0] == 'w' ? t.weight : t.bias)[i] = it->second;
    }
  }
  for (const auto& [key, v] : keys) {
    if (expected.count(key) || key.rfind("classifier.", 0) == 0) continue;
    fail("unexpected key '" + key +
         "' (not plain VGG19: torchvision's vgg19 state dict has only features.* and classifier.*)");
  }
  return t;
}

bool contiguous(const Value* t) {
  std::int64_t expect = 1;
  for (std::size_t d = t->size.size(); d-- > 0;) {
    if (t->size[d] == 1) continue;  // a size-1 dimension's stride is never used
    if (t->stride[d] != expect) return false;
    expect *= t->size[d];
  }
  return true;
}

// Checks shapes, dtypes and layout against the chain 3 -> out1 -> out2 ...; returns nothing, throws.
void check_convs(const std::string& file, const Tensors& t) {
  auto fail = [&](const std::string& msg) { fail_file(file, msg); };
  std::int64_t in = 3;
  for (std::size_t i = 0; i < 16; ++i) {
    const std::string wk = "features." + std::to_string(kConvIndex[i]) + ".weight";
    const std::string bk = "features." + std::to_string(kConvIndex[i]) + ".bias";
    const Value* w = t.weight[i];
    const Value* b = t.bias[i];
    for (const auto& [key, v] : {std::pair{wk, w}, std::pair{bk, b}}) {
      const StorageType& st = kStorageTypes[static_cast<std::size_t>(v->storage->storage_type)];
      if (v->storage->storage_type != kFloatStorage)
        fail(key + " is " + st.dtype + " (torch." + st.name + "), expected float32");
    }
    const auto& ws = w->size;
    if (ws.size() != 4 || ws[2] != 3 || ws[3] != 3 || ws[0] < 1)
      fail(wk + " is " + shape_str(ws) + ", expected [out," + std::to_string(in) + ",3,3]");
    // VGG19's widest layer has 512 channels; the bound keeps every product below far from overflow.
    if (ws[0] > 65536) fail(wk + " is " + shape_str(ws) + ": implausibly wide");
    if (ws[1] != in) fail(wk + " is " + shape_str(ws) + ", expected in=" + std::to_string(in));
    if (b->size.size() != 1 || b->size[0] != ws[0])
      fail(bk + " is " + shape_str(b->size) + ", expected [" + std::to_string(ws[0]) + "]");
    if (!contiguous(w)) fail(wk + " is not contiguous (stride " + shape_str(w->stride) + ")");
    if (!contiguous(b)) fail(bk + " is not contiguous (stride " + shape_str(b->stride) + ")");
    for (const auto& [key, v] : {std::pair{wk, w}, std::pair{bk, b}}) {
      std::uint64_t n = 1;
      for (std::int64_t s : v->size) n *= static_cast<std::uint64_t>(s);
      const auto end = add(v->offset, n);
      if (!end || *end > v->storage->view_numel)
        fail(key + " needs elements [" + std::to_string(v->offset) + ", " + std::to_string(v->offset + n) +
             ") of storage '" + v->storage->s + "', which has " + std::to_string(v->storage->view_numel));
    }
    in = ws[0];
  }
}

// The raw bytes of each root storage, by key.
using StorageData = std::map<std::string, Bytes>;

std::vector<float> floats(Bytes storage, const Value* t) {
  std::size_t n = 1;
  for (std::int64_t s : t->size) n *= static_cast<std::size_t>(s);
  std::vector<float> v(n);
  const std::size_t first = static_cast<std::size_t>(t->storage->view_offset + t->offset);
  std::memcpy(v.data(), storage.data() + first * sizeof(float), n * sizeof(float));
  if constexpr (std::endian::native == std::endian::big) {
    for (float& x : v) x = std::bit_cast<float>(__builtin_bswap32(std::bit_cast<std::uint32_t>(x)));
  }
  return v;
}

VggConvs assemble(const Tensors& t, const StorageData& data) {
  VggConvs convs;
  for (std::size_t i = 0; i < 16; ++i) {
    for (const Value* v : {t.weight[i], t.bias[i]}) {
      const Value* st = v->storage;
      auto it = data.find(st->s);
      NST_ASSERT(it != data.end(), "storage of a checked tensor has no data");
      // Every storage's byte count was checked against its element count when the file was read.
      NST_ASSERT(it->second.size() >= st->numel * sizeof(float), "storage shorter than checked");
    }
    ConvWeights& c = convs[i];
    c.out = static_cast<int>(t.weight[i]->size[0]);
    c.in = static_cast<int>(t.weight[i]->size[1]);
    c.weight = floats(data.at(t.weight[i]->storage->s), t.weight[i]);
    c.bias = floats(data.at(t.bias[i]->storage->s), t.bias[i]);
  }
  return convs;
}

// Every storage persistent id the state dict uses, by key: one root storage may be declared many times
// (once per tensor), always with the same type and size.
std::map<std::string, const Value*> storages_of(const std::string& file, const std::deque<Value>& arena) {
  std::map<std::string, const Value*> out;
  for (const Value& v : arena) {
    if (v.kind != Kind::Storage) continue;
    auto [it, added] = out.emplace(v.s, &v);
    if (!added && (it->second->storage_type != v.storage_type || it->second->numel != v.numel))
      throw Error(file + ": storage '" + v.s + "' is declared with two different types or sizes");
  }
  return out;
}

VggConvs read_zip(const std::string& file, Bytes b) {
  Zip zip(file, b);
  // torch names every entry "<archive>/..." after the file it saved to; the pickle is <archive>/data.pkl.
  std::string prefix;
  for (const auto& [name, e] : zip.entries()) {
    const auto slash = name.find('/');
    if (slash != std::string::npos && name.substr(slash) == "/data.pkl") {
      if (!prefix.empty()) throw Error(file + ": zip archive holds more than one <name>/data.pkl");
      prefix = name.substr(0, slash + 1);
    }
  }
  if (prefix.empty()) throw Error(file + ": zip archive without a <name>/data.pkl entry (not a PyTorch file?)");
  if (zip.has(prefix + "byteorder")) {
    Bytes bo = zip.read(prefix + "byteorder");
    if (std::string(reinterpret_cast<const char*>(bo.data()), bo.size()) != "little")
      throw Error(file + ": written on a big-endian machine (byteorder '" +
                  std::string(reinterpret_cast<const char*>(bo.data()), std::min<std::size_t>(bo.size(), 16)) +
                  "'), not supported");
  }
  std::deque<Value> arena;
  std::size_t pos = 0;
  const Value* sd = unpickle(file, prefix + "data.pkl", zip.read(prefix + "data.pkl"), pos, arena);
  const Tensors t = find_convs(file, sd);
  check_convs(file, t);
  const auto storages = storages_of(file, arena);
  StorageData data;
  for (std::size_t i = 0; i < 16; ++i) {
    for (const Value* v : {t.weight[i], t.bias[i]}) {
      const Value* st = storages.at(v->storage->s);
      if (data.count(st->s)) continue;
      const std::string name = prefix + "data/" + st->s;
      Bytes bytes = zip.read(name);
      const auto want = mul(st->numel, 4);
      if (!want || bytes.size() != *want)
        throw Error(file + ": zip entry '" + name + "' has " + std::to_string(bytes.size()) + " bytes, expected " +
                    std::to_string(st->numel) + " float32 values (" + std::to_string(st->numel * 4) + " bytes)");
      data[st->s] = bytes;
    }
  }
  return assemble(t, data);
}

VggConvs read_legacy(const std::string& file, Bytes b) {
  std::deque<Value> arena;
  std::size_t pos = 0;
  auto next = [&](const char* what) -> const Value* { return unpickle(file, what, b, pos, arena); };
  // 0x1950a86a20f9469cfc6c as LONG1's little-endian bytes.
  static const std::string kMagic("\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19", 10);
  const Value* magic = next("magic number pickle");
  if (magic->kind != Kind::BigInt || magic->s != kMagic)
    throw Error(file + ": not a PyTorch file (a pickle, but without torch.save's magic number)");
  const Value* version = next("protocol version pickle");
  if (version->kind != Kind::Int || version->i != 1001)
    throw Error(file + ": unsupported legacy torch.save protocol version" +
                (version->kind == Kind::Int ? " " + std::to_string(version->i) : std::string()) + " (expected 1001)");
  const Value* sys_info = next("sys_info pickle");
  if (sys_info->kind == Kind::Dict) {
    for (std::size_t i = 0; i + 1 < sys_info->items.size(); i += 2) {
      const Value* k = sys_info->items[i];
      const Value* v = sys_info->items[i + 1];
      if (k->kind == Kind::Str && k->s == "little_endian" && v->kind == Kind::Bool && !v->flag)
        throw Error(file + ": written on a big-endian machine, not supported");
    }
  }
  const Value* sd = next("state dict pickle");
  const Value* keys = next("storage keys pickle");
  if (keys->kind != Kind::List) throw Error(file + ": malformed storage key list");

  const Tensors t = find_convs(file, sd);
  check_convs(file, t);
  const auto storages = storages_of(file, arena);

  // Storages follow in the order of the key list, each as an int64 element count and its data; the ones
  // not needed (the classifier's) are stepped over.
  StorageData data;
  const std::size_t total = keys->items.size();
  for (std::size_t i = 0; i < total; ++i) {
    const Value* k = keys->items[i];
    if (k->kind != Kind::Str) throw Error(file + ": malformed storage key list");
    auto it = storages.find(k->s);
    if (it == storages.end()) throw Error(file + ": storage '" + k->s + "' is listed but used by no tensor");
    const Value* st = it->second;
    const std::string which = "storage " + std::to_string(i) + " of " + std::to_string(total) + ", key '" + k->s + "',";
    if (!fits(pos, 8, b.size()))
      throw Error(file + ": truncated (" + which + " has no header: the file ends at byte " + std::to_string(b.size()) +
                  ")");
    const std::uint64_t count = le(b, pos, 8);
    if (count != st->numel)
      throw Error(file + ": " + which + " has " + std::to_string(count) + " elements, the pickle says " +
                  std::to_string(st->numel));
    const auto bytes =
        mul(count, static_cast<std::uint64_t>(kStorageTypes[static_cast<std::size_t>(st->storage_type)].size));
    if (!bytes || !fits(pos + 8, *bytes, b.size()))
      throw Error(file + ": truncated (" + which + " has " + std::to_string(b.size() - pos - 8) + " of " +
                  (bytes ? std::to_string(*bytes) : std::string("too many")) + " bytes)");
    data[k->s] = b.subspan(pos + 8, *bytes);
    pos += 8 + *bytes;
  }
  for (std::size_t i = 0; i < 16; ++i) {
    for (const Value* v : {t.weight[i], t.bias[i]}) {
      if (!data.count(v->storage->s))
        throw Error(file + ": storage '" + v->storage->s + "' is missing from the file's storage list");
    }
  }
  return assemble(t, data);
}

}  // namespace

VggConvs read_pth(const std::string& path) {
  MappedFile f(path);
  const Bytes b = f.bytes();
  if (b.empty()) throw Error(path + ": empty file");
  if (b.size() >= 4 && le(b, 0, 4) == 0x04034b50) return read_zip(path, b);
  if (b[0] == 0x80) return read_legacy(path, b);
  if (b.size() >= 262 && std::memcmp(b.data() + 257, "ustar", 5) == 0)
    throw Error(path +
                ": a tar archive (torch.save before 0.1.10 wrote those): not supported; load and save it again with a "
                "newer torch");
  throw Error(path + ": not a PyTorch file (neither a zip archive nor a pickle stream)");
}

}  // namespace nst
