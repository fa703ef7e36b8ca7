#include "nst/tensor.h"

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <new>

#include "nst/error.h"

namespace nst {

std::string Shape::str() const {
  return "[" + std::to_string(n) + "," + std::to_string(c) + "," + std::to_string(h) + "," +
         std::to_string(w) + "]";
}

Tensor::Tensor(Shape shape, Device device, float* data, std::size_t capacity,
               std::function<void(float*)> free)
    : shape_(shape), device_(device), storage_(data, std::move(free)), capacity_(capacity) {
  static std::atomic<std::uint64_t> next_id{1};
  id_ = next_id.fetch_add(1, std::memory_order_relaxed);
  NST_ASSERT(shape.numel() <= capacity, "tensor shape exceeds its allocation");
}

Tensor Tensor::host(Shape shape) {
  std::size_t n = shape.numel();
  // 64-byte alignment for AVX-512 loads; calloc-like zeroing so no op reads garbage.
  std::size_t bytes = ((n * sizeof(float) + 63) / 64) * 64;
  if (bytes == 0) bytes = 64;
  void* p = std::aligned_alloc(64, bytes);
  if (!p) throw Error("out of host memory allocating " + std::to_string(bytes >> 20) + " MiB for a " + shape.str() + " tensor");
  std::memset(p, 0, bytes);
  return Tensor(shape, Device::Host, static_cast<float*>(p), n, [](float* q) { std::free(q); });
}

Tensor Tensor::host(Shape shape, const std::vector<float>& values) {
  NST_ASSERT(values.size() == shape.numel(), "value count does not match the shape");
  Tensor t = host(shape);
  std::memcpy(t.data(), values.data(), values.size() * sizeof(float));
  return t;
}

Tensor Tensor::view(Shape shape) const {
  NST_ASSERT(shape.numel() <= capacity_, "view " + shape.str() + " exceeds the allocation");
  Tensor t = *this;
  t.shape_ = shape;
  return t;
}

std::vector<float> Tensor::to_vector() const {
  NST_ASSERT(device_ == Device::Host, "to_vector() on a device tensor");
  return std::vector<float>(data(), data() + numel());
}

}  // namespace nst
