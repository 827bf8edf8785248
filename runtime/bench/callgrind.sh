#!/bin/bash
# Instructions per task of the runtime and of the floor, counted by valgrind's
# callgrind over the last repetition only (bench.cc toggles collection around
# it), for spawn_join, switch_one, switch_rr, cancel_storm and gather.
#
#   bazel run -c opt //runtime/bench:callgrind [-- N [OUTDIR]]
#   BENCH=bazel-out/k8-opt/bin/runtime/bench/bench runtime/bench/callgrind.sh
#
# N defaults to 100000. The callgrind.out files are kept in OUTDIR (default
# /tmp/asyncspec-callgrind) for callgrind_annotate, e.g.
#   callgrind_annotate --inclusive=yes OUTDIR/runtime.spawn.out | head -40
set -euo pipefail
n="${1:-100000}"
out="${2:-/tmp/asyncspec-callgrind}"
# The bench binary: $BENCH, else beside this script (bazel run), else in runfiles.
bench="${BENCH:-$(dirname "$0")/bench}"
[[ -x "$bench" ]] || bench="${RUNFILES_DIR:-$0.runfiles}/asyncspec/runtime/bench/bench"
[[ -x "$bench" ]] || { echo "bench binary not found (set BENCH=...)" >&2; exit 1; }
command -v valgrind >/dev/null || { echo "valgrind is not installed" >&2; exit 1; }
mkdir -p "$out"
printf '%-13s %14s %14s %10s\n' workload runtime_Ir/task floor_Ir/task rt/floor
for w in spawn switch_one switch_rr cancel gather; do
  declare -A per=()
  for impl in runtime floor; do
    f="$out/$impl.$w.out"
    valgrind --tool=callgrind --collect-atstart=no --callgrind-out-file="$f" \
      "$bench" --workload="$w" --impl="$impl" --n="$n" --reps=1 --rr_tasks=100 >/dev/null 2>"$f.log"
    ir=$(callgrind_annotate "$f" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1; exit}')
    per[$impl]=$(awk -v ir="$ir" -v n="$n" 'BEGIN { printf "%.1f", ir / n }')
  done
  printf '%-13s %14s %14s %10s\n' "$w" "${per[runtime]}" "${per[floor]}" \
    "$(awk -v a="${per[runtime]}" -v b="${per[floor]}" 'BEGIN { printf "%.2f", a / b }')"
done
echo "callgrind outputs: $out/{runtime,floor}.<workload>.out"
