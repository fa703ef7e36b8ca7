// A float32 NCHW tensor that owns (a share of) host or device memory.
//
// Copies are shallow: two Tensors may share one allocation, which is how an in-place ReLU keeps its
// output in the convolution's buffer. `view()` reinterprets a prefix of the allocation with another
// shape, which is how the network reuses one gradient buffer for every layer.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace nst {

enum class Device { Host, Cuda };

struct Shape {
  int n = 1, c = 1, h = 1, w = 1;
  std::size_t numel() const { return std::size_t(n) * c * h * w; }
  // Spelled out: nvcc compiles this header as C++17, which has no defaulted comparisons.
  bool operator==(const Shape& o) const { return n == o.n && c == o.c && h == o.h && w == o.w; }
  bool operator!=(const Shape& o) const { return !(*this == o); }
  std::string str() const;  // "[1,64,32,32]"
};

class Tensor {
 public:
  Tensor() = default;
  // Takes ownership of `data` (capacity floats); `free` releases it.
  Tensor(Shape shape, Device device, float* data, std::size_t capacity, std::function<void(float*)> free);

  // Zero-filled host tensor.
  static Tensor host(Shape shape);
  static Tensor host(Shape shape, const std::vector<float>& values);

  const Shape& shape() const { return shape_; }
  Device device() const { return device_; }
  std::size_t numel() const { return shape_.numel(); }
  std::size_t capacity() const { return capacity_; }
  bool empty() const { return !storage_; }
  float* data() { return storage_.get(); }
  const float* data() const { return storage_.get(); }
  bool shares_storage(const Tensor& other) const { return storage_ && storage_ == other.storage_; }
  // Names the allocation: copies and views share it, and no two allocations in one process ever get the
  // same one (unlike addresses, which the allocator reuses). A backend keys what it prepares from a frozen
  // weight tensor (the CPU's blocked copy for oneDNN) on it.
  std::uint64_t storage_id() const { return id_; }
  // Observes the allocation without keeping it alive: expired once every Tensor sharing it is gone.
  std::weak_ptr<const float> storage_watch() const { return storage_; }

  // Same storage, another shape; numel() must fit the capacity.
  Tensor view(Shape shape) const;

  // Host tensors only: element access for tests and tools.
  std::vector<float> to_vector() const;

 private:
  Shape shape_;
  Device device_ = Device::Host;
  std::shared_ptr<float> storage_;
  std::size_t capacity_ = 0;
  std::uint64_t id_ = 0;
};

}  // namespace nst
