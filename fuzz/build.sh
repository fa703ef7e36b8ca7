#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/*.cpp) with clang: nst_core and nst_convert compiled with
# -fsanitize=fuzzer-no-link,address,undefined, each target linked with -fsanitize=fuzzer,address,undefined.
# usage: fuzz/build.sh [BUILD_DIR]   (default: build-fuzz, next to build/)
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build-fuzz}
# -Wno-unknown-warning-option: the main build's warning list names GCC-only options (-Wno-restrict).
# -Wno-pass-failed: under the sanitizers clang cannot vectorise the `#pragma omp simd` loops, and says so.
flags="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g"
flags="$flags -Wno-unknown-warning-option -Wno-pass-failed"
CC=clang CXX=clang++ cmake -S fuzz -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DNST_CUDA=OFF -DNST_BUILD_TESTS=OFF \
  -DCMAKE_C_FLAGS="$flags" -DCMAKE_CXX_FLAGS="$flags" >/dev/null
cmake --build "$dir" -j"$(nproc)" --target fuzz_image fuzz_weights fuzz_pth fuzz_caffemodel fuzz_keras fuzz_checkpoint fuzz_manifest
echo "built: $dir/fuzz_{image,weights,pth,caffemodel,keras,checkpoint,manifest}"
