#!/usr/bin/env bash
# Installs what nst needs from Debian 12's packages (non-interactive, safe to re-run) and builds it into
# build/, the CUDA backend too wherever nvcc is. Used by .ci/run and tools/demo.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

export DEBIAN_FRONTEND=noninteractive
packages=(build-essential cmake pkg-config libhdf5-dev catch2 libopenblas-openmp-dev libdnnl-dev libstb-dev libjpeg62-turbo-dev libpng-dev)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# nvcc is not always on PATH where the toolkit is installed.
if ! command -v nvcc >/dev/null && [ -x /usr/local/cuda/bin/nvcc ]; then export PATH=/usr/local/cuda/bin:$PATH; fi
if command -v nvcc >/dev/null; then cuda=ON; else cuda=OFF; fi
echo "setup: CUDA backend: $cuda"

cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DNST_CUDA=$cuda
cmake --build build -j"$(nproc)"
