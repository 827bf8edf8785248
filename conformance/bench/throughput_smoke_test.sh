#!/usr/bin/env bash
# A tiny run of the throughput benchmark prints a rate for every stage
# (CPython's row may say "skipped" with a reason when 3.13 is absent).
set -euo pipefail
bin="$TEST_SRCDIR/asyncspec/conformance/bench/throughput"
out=$("$bin" --trees=40 --reps=1 --cpython_trees=10)
echo "$out"
for row in "generate" "model alone" "reference alone" "check: model as runtime" \
           "check: reference, in process" "whole check: reference, in process" \
           "whole check: reference, 1 worker" "whole check: reference, 2 workers" \
           "check: reference, a fork per program" "check: cpython"; do
  grep -q "^$row" <<<"$out" || { echo "FAIL: no row '$row'"; exit 1; }
done
# The per-CPU-second column (the "per core" figure) is there.
grep -q "per CPU s" <<<"$out" || { echo "FAIL: no per CPU s column"; exit 1; }
# Every checked tree passed on the reference runtime and the model.
grep -q "checks that did not pass: 0;" <<<"$out" || { echo "FAIL: some checks did not pass"; exit 1; }
echo "PASS"
