// A buffer for a kernel to write into, with guard values on each side that the kernel must leave alone.
#pragma once
#include <algorithm>
#include <cstddef>
#include <vector>

#include "common.cuh"

namespace nst::test {

constexpr float kGuard = 12345.f;  // the guard value unless a test picks another

template <typename T>
class Guarded {
 public:
  // n values, each the guard itself (so a value the kernel fails to write shows), with `width` guards on
  // each side.
  explicit Guarded(std::size_t n, T guard = T(kGuard), std::size_t width = 1)
      : Guarded(std::vector<T>(n, guard), guard, width) {}

  // `values` (what the kernel reads or adds into), with `width` guards on each side.
  explicit Guarded(const std::vector<T>& values, T guard = T(kGuard), std::size_t width = 1)
      : guard_(guard), width_(width), buf_(values.size() + 2 * width, guard) {
    std::copy(values.begin(), values.end(), buf_.begin() + width);
  }

  T* data() { return buf_.data() + width_; }  // the first real value, to hand to the kernel
  const T* data() const { return buf_.data() + width_; }
  std::size_t size() const { return buf_.size() - 2 * width_; }
  std::vector<T> values() const { return {buf_.begin() + width_, buf_.end() - width_}; }

  bool guards_intact() const {
    auto is_guard = [&](T v) { return v == guard_; };
    return std::all_of(buf_.begin(), buf_.begin() + width_, is_guard) &&
           std::all_of(buf_.end() - width_, buf_.end(), is_guard);
  }

  // For a partials buffer: the values after the first `used` still hold the guard (the kernel wrote no more
  // partials than it said).
  bool unused_intact(std::size_t used) const {
    return used <= size() && std::all_of(data() + used, data() + size(), [&](T v) { return v == guard_; });
  }

  // For a partials buffer: the first `used` values added up as CudaBackend adds them (kernels::add_partials).
  double sum(std::size_t used) const { return ::nst::kernels::add_partials(data(), unsigned(used)); }

 private:
  T guard_;
  std::size_t width_;
  std::vector<T> buf_;
};

}  // namespace nst::test
