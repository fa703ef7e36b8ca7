#!/usr/bin/env bash
# The README's main command: installs and builds nst, draws the demo images and stylises them into
# demo/result.png. Uses weights/vgg19.h5 (or $NST_WEIGHTS) when present; otherwise writes seeded synthetic
# weights, with which the pipeline runs end to end but the result shows no real style.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
mkdir -p demo
./build/nst_make_demo demo
weights=${NST_WEIGHTS:-weights/vgg19.h5}
if [ ! -f "$weights" ]; then
  weights=demo/synthetic-vgg19.h5
  [ -f "$weights" ] || ./build/nst_make_weights "$weights"
  echo "demo: no real VGG19 weights (weights/vgg19.h5): using synthetic ones, so the result shows no real style." >&2
  echo "demo: README.md (Weights) says how to get the real ones." >&2
fi
# On a CPU a 256-pixel result with 150 L-BFGS iterations takes a minute or two; a GPU can afford more.
./build/nst stylize --content demo/content.png --style demo/style.png --output demo/result.png \
  --weights "$weights" --size "${NST_DEMO_SIZE:-256}" --iterations "${NST_DEMO_ITERATIONS:-150}" --print-every 25 "$@"
