// What the CPU can run, asked once: the AVX-512 kernels in src/cpu/ (compiled with target("avx512f") into
// a baseline x86-64 build) are chosen at run time on it.
#pragma once

namespace nst::cpu {

inline bool has_avx512f() {
  static const bool yes = __builtin_cpu_supports("avx512f");
  return yes;
}

}  // namespace nst::cpu
