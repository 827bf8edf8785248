#!/usr/bin/env bash
# The check against one local CPython: usage
#   cpython_version_test.sh VERSION [check flags...]
# 1. Under the model's profile of that version (3.11.7 -> 3.11): every
#    program must pass, or fail as conformance/expectations/cpython-3.X.json
#    expects.
# 2. For 3.11 and 3.12, also against the 3.13 rules (--profile=3.13): the
#    version's known deviations (RULES.md "Where 3.11 / 3.12 differ") are
#    expected failures, accepted only where the outcome is exactly the
#    model's under the version's own profile (the file's as_profile entry);
#    a program the profiles disagree on that passes is an unexpected pass.
# Fails when the interpreter is not installed (tools/testing/require.sh).
# Each shard checks its share of the programs (check.cc reads
# TEST_TOTAL_SHARDS).
set -uo pipefail
V="$1"
shift
MINOR="${V%.*}"
source "$TEST_SRCDIR/asyncspec/tools/testing/require.sh"
PY=$(pyenv_python "$V") || require_or_skip "CPython $V is not installed under \$(pyenv root)"
CHECK="$TEST_SRCDIR/asyncspec/conformance/check"
OUT="${TEST_UNDECLARED_OUTPUTS_DIR:-$TEST_TMPDIR}"
rc=0
echo "== CPython $V ($PY) under the $MINOR profile"
"$CHECK" --runtime=cpython --python="$PY" --quiet --out="$OUT/profile-$MINOR" "$@"
r=$?
[ "$r" -eq 0 ] || { echo "FAIL: check exited $r; see $OUT/profile-$MINOR/report.md"; head -60 "$OUT/profile-$MINOR/report.md"; rc=1; }
if [ "$MINOR" != "3.13" ]; then
  echo "== CPython $V against the 3.13 rules (known deviations expected)"
  "$CHECK" --runtime=cpython --python="$PY" --profile=3.13 --quiet --out="$OUT/profile-3.13" "$@" 2>&1 \
    | grep -v "version differences will show as failures"
  r=${PIPESTATUS[0]}
  [ "$r" -eq 0 ] || { echo "FAIL: check exited $r; see $OUT/profile-3.13/report.md"; head -60 "$OUT/profile-3.13/report.md"; rc=1; }
  # The deviations must actually show: a run where none was expected-and-seen
  # would not test the expectations at all.
  grep -q "(of these 0 as expected" "$OUT/profile-3.13/report.md" \
    && { echo "FAIL: no known $MINOR deviation was seen against the 3.13 rules"; rc=1; }
fi
exit "$rc"
