#!/bin/bash
# Smoke test of //runtime/bench:bench: quick mode (tiny N, CPython 3.13 of
# `pyenv root` included; without it the test fails, tools/testing/require.sh)
# must exit 0, run every workload on the runtime, the floor and CPython, and
# print the table and the targets.
set -uo pipefail
source tools/testing/require.sh
py=$(pyenv_python 3.13.0) || require_or_skip "CPython 3.13.0 is not installed under \$(pyenv root)"
bench="runtime/bench/bench"
out="$("$bench" --quick --reps=1 --python="$py" 2>&1)"
rc=$?
echo "$out"
fail() { echo "FAIL: $*" >&2; exit 1; }
[[ $rc -eq 0 ]] || fail "bench exited with $rc"
grep -q '^=== ns per task' <<<"$out" || fail "no table header"
for w in spawn_join switch_one switch_rr cancel_storm gather; do
  # A table row has a number in the runtime and floor columns.
  grep -Eq "^$w +[0-9]+\.[0-9] +[0-9]+\.[0-9] " <<<"$out" || fail "no table row with numbers for $w"
done
grep -q '^=== targets' <<<"$out" || fail "no targets section"
grep -q 'coroutine frame (promise operator new size): [1-9]' <<<"$out" || fail "no memory measurement"
grep -Eq '^spawn_join( +[0-9.]+){4} ' <<<"$out" || fail "CPython columns missing for spawn_join"
grep -q '^bench: done' <<<"$out" || fail "did not finish"
echo PASS
