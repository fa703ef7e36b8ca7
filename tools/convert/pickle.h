// The pickle half of a .pth file: the values a torch.save state dict unpickles to, and the interpreter that
// builds them (pickle.cpp). Unpickling is running a program (any global may be imported and called), so
// the interpreter knows only the opcodes a state dict of tensors needs and only the handful of globals
// torch.save writes for one, and never calls them: "reducing" a tensor only records its storage key,
// offset, size and stride. Everything else, and any other global ('os system', 'builtins eval', ...), is
// refused by name with an nst::Error.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "mapped_file.h"

namespace nst::convert {

// ---------------------------------------------------------------------------------------------------------
// Storage types. They appear as globals inside persistent ids; they are inert markers (never called), and
// the ones other than FloatStorage are known only to name the dtype in pth.cpp's error.

struct StorageType {
  const char* name;   // after "torch "
  const char* dtype;  // as torch prints it
  int size;           // bytes per element
};

inline constexpr std::array<StorageType, 12> kStorageTypes = {{
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
inline constexpr int kFloatStorage = 0;

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

const char* kind_name(Kind k);  // "a tensor", ...: for error messages

// Reads one pickle of `data`, starting at `pos`, and leaves `pos` just past its STOP (a legacy file is
// several pickles in a row). Its values are added to `arena`, which owns them; errors name `file`, the
// offending opcode's byte offset and `what` (the pickle: "data.pkl", "state dict pickle", ...).
Value* unpickle(const std::string& file, const std::string& what, Bytes data, std::size_t& pos,
                std::deque<Value>& arena);

}  // namespace nst::convert
