#!/usr/bin/env bash
# ctest: installs the build into a temporary prefix and runs the installed programs from a folder that is
# not a checkout, with HOME and XDG_DATA_HOME of their own. Fails on the first check that does not hold.
# usage: tests/install_test.sh BUILD_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
tmp=$(mktemp -d /tmp/nst_install_XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "install test: $*" >&2; exit 1; }

cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
for f in bin/nst bin/nst_make_weights bin/nst_make_demo share/nst/manifest.csv share/nst/README.md; do
  [ -e "$tmp/prefix/$f" ] || fail "$f was not installed"
done
mkdir -p "$tmp/work" "$tmp/home"
cd "$tmp/work"
export HOME=$tmp/home XDG_DATA_HOME=$tmp/data NST_WEIGHTS=
nst=$tmp/prefix/bin/nst

# No weights anywhere: info says where it looked.
out=$("$nst" info)
grep -q "weights: none found (\$NST_WEIGHTS is not set, and neither weights/vgg19.h5 nor $tmp/data/nst/vgg19.h5 exists)" <<<"$out" ||
  fail "info without weights said: $out"
# fetch's default output is the data folder outside a checkout (offline here: NST_FETCH_CMD=false).
err=$(NST_FETCH_CMD=false "$nst" weights fetch 2>&1 >/dev/null || true)
grep -q "nst weights convert '$tmp/data/nst/downloads/vgg19-dcbb9e9d.pth' '$tmp/data/nst/vgg19.h5'" <<<"$err" ||
  fail "fetch offline said: $err"
[ ! -e "$tmp/data/nst/vgg19.h5" ] || fail "a failed fetch left a weights file"

# Weights in the data folder are the default for info and stylize.
"$tmp/prefix/bin/nst_make_weights" "$tmp/data/nst/vgg19.h5" --widths 4,8,8,16,16 >/dev/null
out=$("$nst" info)
grep -q "weights: $tmp/data/nst/vgg19.h5 is the default (found in your data folder)" <<<"$out" || fail "info said: $out"
"$tmp/prefix/bin/nst_make_demo" demo >/dev/null
"$nst" stylize --device cpu --content demo/content.png --style demo/style.png --output out.png --size 48 \
  --iterations 2 --print-every 0 2>"$tmp/err" || fail "stylize failed: $(cat "$tmp/err")"
grep -q "weights $tmp/data/nst/vgg19.h5" "$tmp/err" || fail "stylize did not use the data folder's weights: $(cat "$tmp/err")"
[ -s out.png ] || fail "no out.png"
echo "install test: installed under $tmp/prefix; info, fetch's default and stylize use $tmp/data/nst"
