#!/usr/bin/env bash
# Runs each fuzz target for SECONDS (default 60), one after the other, on its committed seeds
# fuzz/corpus/<target>/, and prints the executions and crashes of each. The committed seeds are only read:
# what libFuzzer finds goes to BUILD_DIR/fuzz-work/<target>/corpus, crashes to .../crashes.
# usage: fuzz/run.sh [SECONDS] [TARGET..]      env: BUILD_DIR (default build-fuzz, made by fuzz/build.sh)
set -uo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(fuzz_image fuzz_weights fuzz_pth fuzz_caffemodel fuzz_keras fuzz_checkpoint fuzz_manifest)
build=${BUILD_DIR:-build-fuzz}
status=0
printf '%-16s %12s %9s %8s  %s\n' target executions exec/s crashes "other exceptions (not nst::Error)"
for t in "${targets[@]}"; do
  bin=$build/$t
  if [ ! -x "$bin" ]; then
    echo "$t: $bin not built; run fuzz/build.sh $build" >&2
    status=1
    continue
  fi
  work=$build/fuzz-work/$t
  mkdir -p "$work/corpus" "$work/crashes"
  # -timeout: an input that takes 10 s is a hang; -rss_limit_mb: a parser must not need gigabytes for a
  # small file (every reader checks sizes against the file before allocating).
  "$bin" "$work/corpus" "fuzz/corpus/$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$work/crashes/" >"$work/log" 2>&1
  rc=$?
  execs=$(awk '/^stat::number_of_executed_units:/ {v = $2} END {print v}' "$work/log")
  rate=$(awk '/^stat::average_exec_per_sec:/ {v = $2} END {print v}' "$work/log")
  crashes=$(find "$work/crashes" -type f | wc -l)
  others=$(grep -c '^NST_FUZZ_OTHER_EXCEPTION' "$work/log")
  printf '%-16s %12s %9s %8s  %s\n' "$t" "${execs:-?}" "${rate:-?}" "$crashes" "$others"
  grep '^NST_FUZZ_OTHER_EXCEPTION' "$work/log" | sed 's/^NST_FUZZ_OTHER_EXCEPTION /    /'
  if [ "$crashes" -gt 0 ] || [ "$rc" -ne 0 ]; then
    status=1
    find "$work/crashes" -type f | sed "s|^|    reproduce: $bin |"
    grep -m1 -E '^SUMMARY|ERROR: libFuzzer|==ERROR' "$work/log" | sed 's/^/    /'
    echo "    log: $work/log"
  fi
done
exit $status
