// The whitelist unpickler (pickle.h says why a whitelist): a stack machine over the pickle's bytes that
// builds Values in the caller's arena. Opcode names and the interpreter's own stack, mark and memo stay
// in this file; only the values and unpickle() are shared with the .pth reader.
#include "pickle.h"

#include <algorithm>
#include <unordered_map>

#include "nst/error.h"

namespace nst::convert {
namespace {

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

}  // namespace

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

Value* unpickle(const std::string& file, const std::string& what, Bytes data, std::size_t& pos,
                std::deque<Value>& arena) {
  Unpickler up(file, what, data, pos, arena);
  Value* v = up.load();
  pos = up.pos();
  return v;
}

}  // namespace nst::convert
