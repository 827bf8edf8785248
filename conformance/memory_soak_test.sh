#!/usr/bin/env bash
# Memory stays flat in --trees in the default, forked-worker path: runs this
# shard's share of a reference-runtime soak (default 5,000,000 trees,
# --jobs=2) under /usr/bin/time and fails if any process of the run (the
# check or one of its forked workers: time's maximum resident set size is
# the largest of the process and the descendants it waited for) reached
# --max_rss_mb (default 100), or if the check itself failed.
#
#   bazel test //conformance:reference_memory_soak_test                   # the 5M-tree soak
#   bazel test //conformance:reference_memory_soak_test --test_arg=--trees=100000
set -uo pipefail
CHECK="$TEST_SRCDIR/asyncspec/conformance/check"
OUT="${TEST_UNDECLARED_OUTPUTS_DIR:-$TEST_TMPDIR}/report"
max_mb=100
args=()
for a in "$@"; do
  case "$a" in
    --max_rss_mb=*) max_mb="${a#--max_rss_mb=}" ;;
    *) args+=("$a") ;;
  esac
done
# This script honours sharding (check.cc splits the trees by the same
# variables and touches the file too).
[ -n "${TEST_SHARD_STATUS_FILE:-}" ] && touch "$TEST_SHARD_STATUS_FILE"
/usr/bin/time -f "%M" -o "$TEST_TMPDIR/maxrss" \
  "$CHECK" --runtime=reference --nocases --jobs=2 --quiet --out="$OUT" "${args[@]}"
rc=$?
maxrss_kb=$(tail -1 "$TEST_TMPDIR/maxrss")
echo "shard ${TEST_SHARD_INDEX:-0}/${TEST_TOTAL_SHARDS:-1}: check exited $rc, max RSS of any process ${maxrss_kb} kB (limit ${max_mb} MB)"
[ "$rc" -eq 0 ] || { echo "FAIL: check exited $rc; see $OUT/report.md"; head -40 "$OUT/report.md" 2>/dev/null; exit 1; }
[[ "$maxrss_kb" =~ ^[0-9]+$ ]] || { echo "FAIL: no max RSS from /usr/bin/time: '$maxrss_kb'"; exit 1; }
[ "$maxrss_kb" -lt $((max_mb * 1024)) ] || { echo "FAIL: a process of the run reached ${maxrss_kb} kB (>= ${max_mb} MB)"; exit 1; }
echo PASS
