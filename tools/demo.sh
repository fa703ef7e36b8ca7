#!/usr/bin/env bash
# The README's main command: installs and builds nst, draws the demo images and stylises them into
# demo/result.png. Uses weights/vgg19.h5 (or $NST_WEIGHTS) when present, else fetches it when the network
# answers; offline it writes seeded synthetic weights, with which the pipeline runs end to end but the
# result shows no real style.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
mkdir -p demo
./build/nst_make_demo demo
weights=${NST_WEIGHTS:-weights/vgg19.h5}
# The real weights when they are missing and the network answers: torchvision's VGG19 (575 MB, BSD-3-Clause),
# checksum-verified and converted to weights/vgg19.h5, so the first result shows a real style. A second run
# reuses the file. NST_DEMO_FETCH=0 skips this.
url=https://download.pytorch.org/models/vgg19-dcbb9e9d.pth
said=""
if [ ! -f "$weights" ] && [ -z "${NST_WEIGHTS:-}" ] && [ "${NST_DEMO_FETCH:-1}" != 0 ]; then
  if command -v curl >/dev/null && curl -sfI --max-time 10 "$url" >/dev/null 2>&1; then
    echo "demo: fetching the real VGG19 weights once (575 MB): nst weights fetch" >&2
    ./build/nst weights fetch || { echo "demo: the download failed (see above): using synthetic weights, so the result shows no real style" >&2; said=1; }
  else
    echo "demo: offline (${url%%/models*} did not answer): using synthetic weights, so the result shows no real style; nst weights fetch gets the real ones" >&2
    said=1
  fi
fi
if [ ! -f "$weights" ]; then
  weights=demo/synthetic-vgg19.h5
  [ -f "$weights" ] || ./build/nst_make_weights "$weights"
  [ -n "$said" ] || echo "demo: no real VGG19 weights (weights/vgg19.h5): using synthetic ones, so the result shows no real style." >&2
fi
# On a CPU a 256-pixel result with 150 L-BFGS iterations takes a minute or two; a GPU can afford more.
./build/nst stylize --content demo/content.png --style demo/style.png --output demo/result.png \
  --weights "$weights" --size "${NST_DEMO_SIZE:-256}" --iterations "${NST_DEMO_ITERATIONS:-150}" --print-every 25 "$@"
