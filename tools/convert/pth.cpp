// read_pth: VGG19's 16 convolutions from a PyTorch state-dict file, without Python and without executing
// anything. A .pth file is a pickle, and unpickling is running a program (any global may be imported and
// called), so the pickle is read by a small interpreter that knows only the opcodes a state dict of
// tensors needs and only the handful of globals torch.save writes for one; the globals are never called:
// "reducing" a tensor only records its storage key, offset, size and stride. Everything else, and any
// other global ('os system', 'builtins eval', ...), is refused by name.
//
// Two serialisations, told apart by the first bytes:
//  - zip (torch >= 1.6, "PK\3\4"): <archive>/data.pkl holds the pickle, whose persistent ids are
//    ('storage', storage_type, key, location, numel); <archive>/data/<key> holds each storage's raw
//    little-endian bytes. torch writes stored (uncompressed) entries, with data descriptors (the local
//    headers carry zero sizes, so sizes come from the central directory), 64-byte alignment padding in
//    the local extra fields and zip64 end records even for small files.
//  - legacy (torch < 1.6, a PROTO byte 0x80 first): a sequence of pickles (magic number, protocol
//    version, sys_info, the state dict with persistent ids ('storage', storage_type, key, location,
//    numel, view_metadata), the list of storage keys), then for each key in that list an 8-byte
//    little-endian element count and the raw data. torchvision's vgg19-dcbb9e9d.pth and jcjohnson's
//    vgg19-d01eb7cb.pth (2017, torch 0.1.12-0.3) rebuild tensors with torch._utils._rebuild_tensor; newer
//    files with _rebuild_tensor_v2.
//
// The file is mapped read-only; every offset and size read from it is checked against its length before
// use, and arithmetic on them is checked for overflow, so a hostile or truncated file gives an nst::Error.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <deque>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "nst/convert.h"
#include "nst/error.h"

namespace nst {
namespace {

using Bytes = std::span<const std::uint8_t>;

// ---------------------------------------------------------------------------------------------------------
// The file, mapped read-only.

class MappedFile {
 public:
  explicit MappedFile(const std::string& path) {
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) throw Error(path + ": cannot open (" + std::strerror(errno) + ")");
    struct stat st {};
    if (::fstat(fd_, &st) != 0 || !S_ISREG(st.st_mode)) {
      ::close(fd_);
      throw Error(path + ": not a regular file");
    }
    size_ = static_cast<std::size_t>(st.st_size);
    if (size_ > 0) {
      void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd_, 0);
      if (p == MAP_FAILED) {
        ::close(fd_);
        throw Error(path + ": cannot map (" + std::strerror(errno) + ")");
      }
      data_ = static_cast<const std::uint8_t*>(p);
    }
  }
  ~MappedFile() {
    if (data_) ::munmap(const_cast<std::uint8_t*>(data_), size_);
    if (fd_ >= 0) ::close(fd_);
  }
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  Bytes bytes() const { return {data_, size_}; }

 private:
  int fd_ = -1;
  const std::uint8_t* data_ = nullptr;
  std::size_t size_ = 0;
};

std::uint64_t le(Bytes b, std::size_t pos, int n) {
  std::uint64_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = (v << 8) | b[pos + static_cast<std::size_t>(i)];
  return v;
}

// a*b and a+b, or nothing when they overflow.
std::optional<std::uint64_t> mul(std::uint64_t a, std::uint64_t b) {
  std::uint64_t r;
  if (__builtin_mul_overflow(a, b, &r)) return std::nullopt;
  return r;
}
std::optional<std::uint64_t> add(std::uint64_t a, std::uint64_t b) {
  std::uint64_t r;
  if (__builtin_add_overflow(a, b, &r)) return std::nullopt;
  return r;
}

// [pos, pos + n) lies inside a buffer of `size` bytes.
bool fits(std::uint64_t pos, std::uint64_t n, std::uint64_t size) { return pos <= size && n <= size - pos; }

// ---------------------------------------------------------------------------------------------------------
// Storage types. They appear as globals inside persistent ids; they are inert markers (never called), and
// the ones other than FloatStorage are known only to name the dtype in the error.

struct StorageType {
  const char* name;   // after "torch "
  const char* dtype;  // as torch prints it
  int size;           // bytes per element
};

constexpr std::array<StorageType, 12> kStorageTypes = {{
    {"FloatStorage", "float32", 4},
    {"DoubleStorage", "float64", 8},
    {"HalfStorage", "float16", 2},
    {"BFloat16Storage", "bfloat16", 2},
    {"LongStorage", "int64", 8},
    {"IntStorage", "int32", 4},
    {"ShortStorage", "int16", 2},
    {"CharStorage", "int8", 1},
    {"ByteStorage", "uint8", 1},
    {"BoolStorage", "bool", 1},
    {"ComplexFloatStorage", "complex64", 8},
    {"ComplexDoubleStorage", "complex128", 16},
}};
constexpr int kFloatStorage = 0;

// ---------------------------------------------------------------------------------------------------------
// Pickle values. They live in an arena (a deque never moves its elements) and point at each other with
// plain pointers: a hostile pickle can build cycles (a list appended to itself through the memo) or deep
// nesting, and neither may leak or overflow the stack when the values are destroyed. Nothing walks them
// recursively.

enum class Kind { None, Bool, Int, BigInt, Str, Tuple, List, Dict, Global, Storage, Tensor };
enum class Callable { OrderedDict, RebuildTensor, RebuildTensorV2, StorageType };

struct Value {
  Kind kind = Kind::None;
  bool flag = false;        // Bool: its value; Dict: an OrderedDict
  std::int64_t i = 0;       // Int
  std::string s;            // Str; BigInt: little-endian two's complement bytes; Storage: its key
  std::vector<Value*> items;  // Tuple, List; Dict: key, value, key, value, ...
  Callable callable = Callable::OrderedDict;  // Global
  int storage_type = 0;     // Global (StorageType), Storage: index into kStorageTypes
  std::uint64_t numel = 0;  // Storage: elements of the root storage
  std::uint64_t view_offset = 0, view_numel = 0;  // Storage: the part of the root storage it views
  Value* storage = nullptr;  // Tensor
  std::uint64_t offset = 0;  // Tensor: storage offset, in elements of the view
  std::vector<std::int64_t> size, stride;  // Tensor
};

const char* kind_name(Kind k) {
  switch (k) {
    case Kind::None: return "None";
    case Kind::Bool: return "a bool";
    case Kind::Int: return "an int";
    case Kind::BigInt: return "a long int";
    case Kind::Str: return "a string";
    case Kind::Tuple: return "a tuple";
    case Kind::List: return "a list";
    case Kind::Dict: return "a dict";
    case Kind::Global: return "a global";
    case Kind::Storage: return "a storage";
    case Kind::Tensor: return "a tensor";
  }
  return "?";
}

// Opcode names, for error messages only (every opcode of pickle protocols 0-5).
const char* opcode_name(std::uint8_t op) {
  switch (op) {
    case '(': return "MARK";
    case '.': return "STOP";
    case '0': return "POP";
    case '1': return "POP_MARK";
    case '2': return "DUP";
    case 'F': return "FLOAT";
    case 'I': return "INT";
    case 'J': return "BININT";
    case 'K': return "BININT1";
    case 'L': return "LONG";
    case 'M': return "BININT2";
    case 'N': return "NONE";
    case 'P': return "PERSID";
    case 'Q': return "BINPERSID";
    case 'R': return "REDUCE";
    case 'S': return "STRING";
    case 'T': return "BINSTRING";
    case 'U': return "SHORT_BINSTRING";
    case 'V': return "UNICODE";
    case 'X': return "BINUNICODE";
    case 'a': return "APPEND";
    case 'b': return "BUILD";
    case 'c': return "GLOBAL";
    case 'd': return "DICT";
    case '}': return "EMPTY_DICT";
    case 'e': return "APPENDS";
    case 'g': return "GET";
    case 'h': return "BINGET";
    case 'i': return "INST";
    case 'j': return "LONG_BINGET";
    case 'l': return "LIST";
    case ']': return "EMPTY_LIST";
    case 'o': return "OBJ";
    case 'p': return "PUT";
    case 'q': return "BINPUT";
    case 'r': return "LONG_BINPUT";
    case 's': return "SETITEM";
    case 't': return "TUPLE";
    case ')': return "EMPTY_TUPLE";
    case 'u': return "SETITEMS";
    case 'G': return "BINFLOAT";
    case 0x80: return "PROTO";
    case 0x81: return "NEWOBJ";
    case 0x82: return "EXT1";
    case 0x83: return "EXT2";
    case 0x84: return "EXT4";
    case 0x85: return "TUPLE1";
    case 0x86: return "TUPLE2";
    case 0x87: return "TUPLE3";
    case 0x88: return "NEWTRUE";
    case 0x89: return "NEWFALSE";
    case 0x8a: return "LONG1";
    case 0x8b: return "LONG4";
    case 'B': return "BINBYTES";
    case 'C': return "SHORT_BINBYTES";
    case 0x8c: return "SHORT_BINUNICODE";
    case 0x8d: return "BINUNICODE8";
    case 0x8e: return "BINBYTES8";
    case 0x8f: return "EMPTY_SET";
    case 0x90: return "ADDITEMS";
    case 0x91: return "FROZENSET";
    case 0x92: return "NEWOBJ_EX";
    case 0x93: return "STACK_GLOBAL";
    case 0x94: return "MEMOIZE";
    case 0x95: return "FRAME";
    case 0x96: return "BYTEARRAY8";
    case 0x97: return "NEXT_BUFFER";
    case 0x98: return "READONLY_BUFFER";
    default: return nullptr;
  }
}

std::string hex2(std::uint8_t b) {
  const char* digits = "0123456789abcdef";
  return std::string("0x") + digits[b >> 4] + digits[b & 15];
}

// The whitelist interpreter. One instance reads one pickle, starting at `pos` of `data`, and leaves `pos`
// just past its STOP.
class Unpickler {
 public:
  Unpickler(const std::string& file, const std::string& what, Bytes data, std::size_t pos,
            std::deque<Value>& arena)
      : file_(file), what_(what), data_(data), pos_(pos), arena_(arena) {}

  Value* load() {
    for (;;) {
      op_pos_ = pos_;
      const std::uint8_t op = u(1);
      switch (op) {
        case 0x80: {  // PROTO
          const auto v = u(1);
          if (v > 5) fail("unsupported pickle protocol " + std::to_string(v));
          break;
        }
        case 0x95: {  // FRAME: a length hint for buffered readers; the data is all here
          const auto n = u(8);
          if (n > data_.size() - pos_) truncated();
          break;
        }
        case '.': {  // STOP
          if (!marks_.empty() || stack_.size() != 1)
            fail("malformed pickle: STOP with " + std::to_string(stack_.size()) + " values on the stack");
          return stack_.back();
        }
        case '(': marks_.push_back(stack_.size()); break;  // MARK
        case '}': push(make(Kind::Dict)); break;            // EMPTY_DICT
        case ']': push(make(Kind::List)); break;            // EMPTY_LIST
        case ')': push(make(Kind::Tuple)); break;           // EMPTY_TUPLE
        case 'X': push(str(u(4))); break;                   // BINUNICODE
        case 0x8c: push(str(u(1))); break;                  // SHORT_BINUNICODE
        case 0x8d: push(str(u(8))); break;                  // BINUNICODE8
        // Python 2's str: torch files written under Python 2 carry their keys this way.
        case 'U': push(str(u(1))); break;  // SHORT_BINSTRING
        case 'T': {                        // BINSTRING
          const auto n = static_cast<std::int32_t>(u(4));
          if (n < 0) fail("malformed pickle: negative BINSTRING length");
          push(str(static_cast<std::uint64_t>(n)));
          break;
        }
        case 'J': push(integer(static_cast<std::int32_t>(u(4)))); break;  // BININT
        case 'K': push(integer(static_cast<std::int64_t>(u(1)))); break;  // BININT1
        case 'M': push(integer(static_cast<std::int64_t>(u(2)))); break;  // BININT2
        case 0x8a: push(long1()); break;                                   // LONG1
        case 't': {  // TUPLE
          Value* t = make(Kind::Tuple);
          t->items = pop_mark();
          push(t);
          break;
        }
        case 0x85:  // TUPLE1
        case 0x86:  // TUPLE2
        case 0x87: {  // TUPLE3
          const std::size_t n = op - 0x84u;
          need(n);
          Value* t = make(Kind::Tuple);
          t->items.assign(stack_.end() - static_cast<std::ptrdiff_t>(n), stack_.end());
          stack_.resize(stack_.size() - n);
          push(t);
          break;
        }
        case 's': {  // SETITEM
          need(3);
          Value* v = pop();
          Value* k = pop();
          Value* d = top();
          if (d->kind != Kind::Dict) fail(std::string("malformed pickle: SETITEM on ") + kind_name(d->kind));
          d->items.push_back(k);
          d->items.push_back(v);
          break;
        }
        case 'u': {  // SETITEMS
          std::vector<Value*> kv = pop_mark();
          need(1);
          Value* d = top();
          if (d->kind != Kind::Dict) fail(std::string("malformed pickle: SETITEMS on ") + kind_name(d->kind));
          if (kv.size() % 2 != 0) fail("malformed pickle: SETITEMS with an odd number of values");
          d->items.insert(d->items.end(), kv.begin(), kv.end());
          break;
        }
        case 'a': {  // APPEND
          need(2);
          Value* v = pop();
          Value* l = top();
          if (l->kind != Kind::List) fail(std::string("malformed pickle: APPEND to ") + kind_name(l->kind));
          l->items.push_back(v);
          break;
        }
        case 'e': {  // APPENDS
          std::vector<Value*> vs = pop_mark();
          need(1);
          Value* l = top();
          if (l->kind != Kind::List) fail(std::string("malformed pickle: APPENDS to ") + kind_name(l->kind));
          l->items.insert(l->items.end(), vs.begin(), vs.end());
          break;
        }
        case 'q': put(u(1)); break;            // BINPUT
        case 'r': put(u(4)); break;            // LONG_BINPUT
        case 0x94: put(memo_.size()); break;   // MEMOIZE
        case 'h': push(get(u(1))); break;      // BINGET
        case 'j': push(get(u(4))); break;      // LONG_BINGET
        case 0x89: push(boolean(false)); break;  // NEWFALSE
        case 0x88: push(boolean(true)); break;   // NEWTRUE
        case 'N': push(make(Kind::None)); break;  // NONE
        case 'Q': {  // BINPERSID
          need(1);
          push(persistent(pop()));
          break;
        }
        case 'c': {  // GLOBAL
          const std::string module = line();
          const std::string name = line();
          push(global(module, name));
          break;
        }
        case 0x93: {  // STACK_GLOBAL
          need(2);
          Value* name = pop();
          Value* module = pop();
          if (module->kind != Kind::Str || name->kind != Kind::Str)
            fail("malformed pickle: STACK_GLOBAL needs two strings");
          push(global(module->s, name->s));
          break;
        }
        case 'R': {  // REDUCE
          need(2);
          Value* args = pop();
          Value* fn = pop();
          push(reduce(fn, args));
          break;
        }
        case 'b': {  // BUILD: only an OrderedDict's instance dict (a state dict's _metadata), dropped
          need(2);
          Value* state = pop();
          Value* obj = top();
          if (obj->kind != Kind::Dict || !obj->flag)
            fail(std::string("refusing pickle BUILD on ") + kind_name(obj->kind));
          if (state->kind != Kind::Dict && state->kind != Kind::None)
            fail(std::string("refusing pickle BUILD with ") + kind_name(state->kind) + " state");
          break;
        }
        default: {
          const char* name = opcode_name(op);
          fail("unsupported pickle opcode " + hex2(op) + (name ? std::string(" (") + name + ")" : std::string()));
        }
      }
    }
  }

  std::size_t pos() const { return pos_; }

 private:
  [[noreturn]] void fail(const std::string& msg) const {
    throw Error(file_ + ": " + msg + " at byte " + std::to_string(op_pos_) + " (" + what_ + ")");
  }
  [[noreturn]] void truncated() const { fail("truncated pickle"); }

  std::uint64_t u(int n) {
    if (static_cast<std::size_t>(n) > data_.size() - pos_) truncated();
    const std::uint64_t v = le(data_, pos_, n);
    pos_ += static_cast<std::size_t>(n);
    return v;
  }

  Value* make(Kind k) {
    arena_.emplace_back();
    arena_.back().kind = k;
    return &arena_.back();
  }
  Value* str(std::uint64_t n) {
    if (n > data_.size() - pos_) truncated();
    Value* v = make(Kind::Str);
    v->s.assign(reinterpret_cast<const char*>(data_.data() + pos_), static_cast<std::size_t>(n));
    pos_ += static_cast<std::size_t>(n);
    return v;
  }
  Value* integer(std::int64_t i) {
    Value* v = make(Kind::Int);
    v->i = i;
    return v;
  }
  Value* boolean(bool b) {
    Value* v = make(Kind::Bool);
    v->flag = b;
    return v;
  }
  Value* long1() {
    const auto n = static_cast<std::size_t>(u(1));
    if (n > data_.size() - pos_) truncated();
    Bytes b = data_.subspan(pos_, n);
    pos_ += n;
    if (n > 8) {  // kept as bytes: only torch's magic number is that long
      Value* v = make(Kind::BigInt);
      v->s.assign(reinterpret_cast<const char*>(b.data()), n);
      return v;
    }
    std::uint64_t x = n ? le(b, 0, static_cast<int>(n)) : 0;
    if (n > 0 && n < 8 && (b[n - 1] & 0x80)) x |= ~std::uint64_t(0) << (8 * n);  // sign-extend
    return integer(static_cast<std::int64_t>(x));
  }
  std::string line() {
    // GLOBAL's module and name: newline-terminated; real ones are short.
    const std::size_t start = pos_;
    const std::size_t end = std::min(data_.size(), start + 256);
    for (std::size_t p = start; p < end; ++p) {
      if (data_[p] == '\n') {
        pos_ = p + 1;
        return std::string(reinterpret_cast<const char*>(data_.data() + start), p - start);
      }
    }
    if (end == data_.size()) truncated();
    fail("malformed pickle: GLOBAL name longer than 255 bytes");
  }

  std::size_t available() const { return stack_.size() - (marks_.empty() ? 0 : marks_.back()); }
  void need(std::size_t n) const {
    if (available() < n) fail("malformed pickle: stack underflow");
  }
  void push(Value* v) { stack_.push_back(v); }
  Value* pop() {
    Value* v = stack_.back();
    stack_.pop_back();
    return v;
  }
  Value* top() const { return stack_.back(); }
  std::vector<Value*> pop_mark() {
    if (marks_.empty()) fail("malformed pickle: no MARK");
    const std::size_t m = marks_.back();
    marks_.pop_back();
    std::vector<Value*> items(stack_.begin() + static_cast<std::ptrdiff_t>(m), stack_.end());
    stack_.resize(m);
    return items;
  }
  void put(std::uint64_t idx) {
    need(1);
    memo_[idx] = top();
  }
  Value* get(std::uint64_t idx) {
    auto it = memo_.find(idx);
    if (it == memo_.end()) fail("malformed pickle: memo entry " + std::to_string(idx) + " used before it is set");
    return it->second;
  }

  Value* global(const std::string& module, const std::string& name) {
    Value* v = make(Kind::Global);
    if (module == "collections" && name == "OrderedDict") {
      v->callable = Callable::OrderedDict;
    } else if (module == "torch._utils" && name == "_rebuild_tensor_v2") {
      v->callable = Callable::RebuildTensorV2;
    } else if (module == "torch._utils" && name == "_rebuild_tensor") {
      v->callable = Callable::RebuildTensor;
    } else {
      const auto* t = module == "torch" ? std::find_if(kStorageTypes.begin(), kStorageTypes.end(),
                                                        [&](const StorageType& st) { return name == st.name; })
                                        : kStorageTypes.end();
      if (t == kStorageTypes.end()) fail("refusing pickle global '" + printable(module + " " + name) + "'");
      v->callable = Callable::StorageType;
      v->storage_type = static_cast<int>(t - kStorageTypes.begin());
    }
    return v;
  }

  static std::string printable(const std::string& s) {
    std::string r;
    for (char c : s.substr(0, 120)) r += (c >= 0x20 && c < 0x7f) ? c : '?';
    return r;
  }

  // ('storage', storage_type, key, location, numel) in zip files; legacy files add view_metadata: None or
  // (view_key, offset, size), a view into the root storage (torch < 0.4 could save those).
  Value* persistent(Value* pid) {
    const auto& t = pid->items;
    if (pid->kind != Kind::Tuple || t.empty() || t[0]->kind != Kind::Str || t[0]->s != "storage")
      fail("refusing pickle persistent id that is not a ('storage', ...) tuple");
    if (t.size() != 5 && t.size() != 6)
      fail("malformed storage persistent id (" + std::to_string(t.size()) + " fields)");
    if (t[1]->kind != Kind::Global || t[1]->callable != Callable::StorageType)
      fail("malformed storage persistent id: no storage type");
    if (t[2]->kind != Kind::Str || t[3]->kind != Kind::Str || t[4]->kind != Kind::Int || t[4]->i < 0)
      fail("malformed storage persistent id");
    Value* st = make(Kind::Storage);
    st->storage_type = t[1]->storage_type;
    st->s = t[2]->s;
    st->numel = static_cast<std::uint64_t>(t[4]->i);
    st->view_offset = 0;
    st->view_numel = st->numel;
    if (t.size() == 6 && t[5]->kind != Kind::None) {
      const Value* vm = t[5];
      if (vm->kind != Kind::Tuple || vm->items.size() != 3 || vm->items[1]->kind != Kind::Int ||
          vm->items[2]->kind != Kind::Int || vm->items[1]->i < 0 || vm->items[2]->i < 0)
        fail("malformed storage view metadata");
      st->view_offset = static_cast<std::uint64_t>(vm->items[1]->i);
      st->view_numel = static_cast<std::uint64_t>(vm->items[2]->i);
      const auto end = add(st->view_offset, st->view_numel);
      if (!end || *end > st->numel) fail("storage view outside its storage");
    }
    return st;
  }

  static bool int_tuple(const Value* v, std::vector<std::int64_t>& out) {
    if (v->kind != Kind::Tuple) return false;
    out.clear();
    for (const Value* x : v->items) {
      if (x->kind != Kind::Int || x->i < 0) return false;
      out.push_back(x->i);
    }
    return true;
  }

  // Builds the value a call would have returned; calls nothing.
  Value* reduce(Value* fn, Value* args) {
    if (fn->kind != Kind::Global) fail(std::string("refusing pickle REDUCE of ") + kind_name(fn->kind));
    if (args->kind != Kind::Tuple) fail("malformed pickle: REDUCE arguments are not a tuple");
    const auto& a = args->items;
    switch (fn->callable) {
      case Callable::OrderedDict: {
        // OrderedDict() (Python 3), or OrderedDict([[key, value], ...]) (Python 2's __reduce__).
        Value* d = make(Kind::Dict);
        d->flag = true;
        if (a.size() == 1 && a[0]->kind == Kind::List) {
          for (const Value* kv : a[0]->items) {
            if ((kv->kind != Kind::List && kv->kind != Kind::Tuple) || kv->items.size() != 2)
              fail("malformed OrderedDict items");
            d->items.push_back(kv->items[0]);
            d->items.push_back(kv->items[1]);
          }
        } else if (!a.empty()) {
          fail("malformed OrderedDict arguments");
        }
        return d;
      }
      case Callable::RebuildTensor:
      case Callable::RebuildTensorV2: {
        // _rebuild_tensor(storage, offset, size, stride);
        // _rebuild_tensor_v2(storage, offset, size, stride, requires_grad, backward_hooks[, metadata]).
        const bool v2 = fn->callable == Callable::RebuildTensorV2;
        const char* name = v2 ? "_rebuild_tensor_v2" : "_rebuild_tensor";
        if (v2 ? (a.size() != 6 && a.size() != 7) : a.size() != 4)
          fail(std::string("malformed ") + name + " call (" + std::to_string(a.size()) + " arguments)");
        Value* t = make(Kind::Tensor);
        if (a[0]->kind != Kind::Storage || a[1]->kind != Kind::Int || a[1]->i < 0 || !int_tuple(a[2], t->size) ||
            !int_tuple(a[3], t->stride) || t->size.size() != t->stride.size())
          fail(std::string("malformed ") + name + " arguments");
        if (v2 && (a[4]->kind != Kind::Bool || a[5]->kind != Kind::Dict || !a[5]->items.empty()))
          fail("refusing a tensor with backward hooks");
        t->storage = a[0];
        t->offset = static_cast<std::uint64_t>(a[1]->i);
        return t;
      }
      case Callable::StorageType: break;
    }
    fail(std::string("refusing to call pickle global 'torch ") +
         kStorageTypes[static_cast<std::size_t>(fn->storage_type)].name + "'");
  }

  const std::string& file_;
  std::string what_;
  Bytes data_;
  std::size_t pos_, op_pos_ = 0;
  std::deque<Value>& arena_;
  std::vector<Value*> stack_;
  std::vector<std::size_t> marks_;
  std::unordered_map<std::uint64_t, Value*> memo_;
};

// ---------------------------------------------------------------------------------------------------------
// Zip archives (the subset torch writes: one disk, stored entries, zip64 allowed).

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

struct ZipEntry {
  std::uint16_t flags = 0, method = 0;
  std::uint32_t crc = 0;
  std::uint64_t csize = 0, usize = 0, local = 0;
};

class Zip {
 public:
  Zip(const std::string& file, Bytes b) : file_(file), b_(b) {
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

  bool has(const std::string& name) const { return entries_.count(name) != 0; }
  const std::map<std::string, ZipEntry>& entries() const { return entries_; }

  // The bytes of a stored entry, checked against its CRC-32.
  Bytes read(const std::string& name) const {
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

 private:
  [[noreturn]] void fail(const std::string& msg) const { throw Error(file_ + ": " + msg); }

  const std::string& file_;
  Bytes b_;
  std::map<std::string, ZipEntry> entries_;
};

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
  Unpickler up(file, prefix + "data.pkl", zip.read(prefix + "data.pkl"), 0, arena);
  const Value* sd = up.load();
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
  auto next = [&](const char* what) {
    Unpickler up(file, what, b, pos, arena);
    const Value* v = up.load();
    pos = up.pos();
    return v;
  };
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
