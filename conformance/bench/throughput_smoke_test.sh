#!/usr/bin/env bash
# A tiny run of the throughput benchmark prints a rate for every stage,
# CPython 3.13's included (a missing interpreter fails the test,
# tools/testing/require.sh).
set -euo pipefail
source "$TEST_SRCDIR/asyncspec/tools/testing/require.sh"
py=$(pyenv_python 3.13.0) || require_or_skip "CPython 3.13.0 is not installed under \$(pyenv root)"
bin="$TEST_SRCDIR/asyncspec/conformance/bench/throughput"
out=$("$bin" --trees=40 --reps=1 --cpython_trees=10 --python="$py")
echo "$out"
for row in "generate" "model alone" "reference alone" "check: model as runtime" \
           "check: reference, in process" "whole check: reference, in process" \
           "whole check: reference, 1 worker" "whole check: reference, 2 workers" \
           "check: reference, a fork per program" "check: cpython"; do
  grep -q "^$row" <<<"$out" || { echo "FAIL: no row '$row'"; exit 1; }
done
grep -q "^check: cpython 3\.13[.0-9]* driver" <<<"$out" || { echo "FAIL: no CPython 3.13 row"; exit 1; }
# The per-CPU-second column (the "per core" figure) is there.
grep -q "per CPU s" <<<"$out" || { echo "FAIL: no per CPU s column"; exit 1; }
# Every checked tree passed on the reference runtime and the model.
grep -q "checks that did not pass: 0;" <<<"$out" || { echo "FAIL: some checks did not pass"; exit 1; }
echo "PASS"
