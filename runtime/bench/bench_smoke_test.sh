#!/bin/bash
# Smoke test of //runtime/bench:bench: quick mode (tiny N, CPython included
# when /root/.pyenv's 3.13 is there) must exit 0, run every workload on the
# runtime and the floor, and print the table and the targets.
set -uo pipefail
bench="runtime/bench/bench"
out="$("$bench" --quick --reps=1 2>&1)"
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
if [[ -x /root/.pyenv/versions/3.13.0/bin/python3 ]]; then
  grep -Eq '^spawn_join( +[0-9.]+){4} ' <<<"$out" || fail "CPython columns missing for spawn_join"
fi
grep -q '^bench: done' <<<"$out" || fail "did not finish"
echo PASS
