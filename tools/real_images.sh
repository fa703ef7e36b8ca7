#!/usr/bin/env bash
# Puts real photos, artworks and oddly-made image files from three Debian packages into DIR (default
# build/real-images) for tests/test_images.cpp: mate-backgrounds (large progressive and baseline photos
# with Exif, grey+alpha and RGBA PNGs), desktop-base (a progressive JPEG with Exif and an ICC profile) and
# python3-skimage's data (16-bit, palette, 1-bit and RGBA PNGs, Adobe and ICC JPEGs, a truncated JPEG).
# The packages are fetched with apt-get download and unpacked there, not installed (python3-skimage would
# pull in SciPy). Run by .ci/run with the other installs; safe to re-run; the tests skip, saying so, when
# DIR is missing.
set -euo pipefail
dir=${1:-build/real-images}
files=(
  mate-backgrounds:usr/share/backgrounds/mate/abstract/Elephants_5640x3172.jpg
  mate-backgrounds:usr/share/backgrounds/mate/abstract/Elephants.jpg
  mate-backgrounds:usr/share/backgrounds/mate/nature/Wood.jpg
  mate-backgrounds:usr/share/backgrounds/mate/nature/FreshFlower.jpg
  mate-backgrounds:usr/share/backgrounds/mate/desktop/Stripes.png
  mate-backgrounds:usr/share/backgrounds/mate/desktop/Float-into-MATE.png
  desktop-base:usr/share/plasma/look-and-feel/org.debian.desktop/contents/previews/fullscreenpreview.jpg
  python3-skimage:usr/lib/python3/dist-packages/skimage/data/chessboard_RGB.png
  python3-skimage:usr/lib/python3/dist-packages/skimage/data/palette_color.png
  python3-skimage:usr/lib/python3/dist-packages/skimage/data/green_palette.png
  python3-skimage:usr/lib/python3/dist-packages/skimage/data/checker_bilevel.png
  python3-skimage:usr/lib/python3/dist-packages/skimage/data/logo.png
  python3-skimage:usr/lib/python3/dist-packages/skimage/data/camera.png
  python3-skimage:usr/lib/python3/dist-packages/skimage/data/rocket.jpg
  python3-skimage:usr/lib/python3/dist-packages/skimage/data/hubble_deep_field.jpg
  python3-skimage:usr/lib/python3/dist-packages/skimage/data/truncated.jpg
)
if [ -f "$dir/.complete" ]; then exit 0; fi
mkdir -p "$dir/debs"
cd "$dir/debs"
packages=$(printf '%s\n' "${files[@]}" | cut -d: -f1 | sort -u)
# apt-get download as root warns that its sandbox user cannot write here; the download itself works.
# Where the package lists were never fetched (every build package was already there), fetch them first.
download() { apt-get download $packages 2>&1 | grep -v "^W: Download is performed unsandboxed"; }
if ! download; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -qq
  download
fi
cd ..
for f in "${files[@]}"; do
  deb=$(ls debs/"${f%%:*}"_*.deb)
  dpkg-deb --fsys-tarfile "$deb" | tar -xO "./${f#*:}" > "$(basename "${f#*:}").part"
  mv "$(basename "${f#*:}").part" "$(basename "${f#*:}")"
done
rm -rf debs
touch .complete
echo "real test images in $dir: $(ls | wc -l) files"
