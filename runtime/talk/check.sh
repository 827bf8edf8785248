#!/bin/bash
# Test: every talk program still prints its recorded .expected text on each
# local CPython 3.11/3.12/3.13 (guards the recording and the reconstruction).
# An interpreter that is absent fails the test (tools/testing/require.sh).
# Run by //runtime:talk_python_test (cwd = runfiles root) or by hand.
set -uo pipefail
dir="runtime/talk"
[[ -d "$dir" ]] || dir="$(dirname "$0")"
req="tools/testing/require.sh"
[[ -f "$req" ]] || req="$(dirname "$0")/../../tools/testing/require.sh"
source "$req"
fail=0; ran=0
for v in 3.11.7 3.12.1 3.13.0; do
  py=$(pyenv_python "$v") || require_or_skip "CPython $v is not installed under \$(pyenv root)"
  for src in "$dir"/[0-9]_*.py; do
    exp="${src%.py}.expected"
    got=$("$py" "$src" 2>&1; echo "rc=$?")
    want=$(cat "$exp"; echo "rc=0")
    ran=$((ran+1))
    if [[ "$got" != "$want" ]]; then
      echo "FAIL $(basename "$src") on $v"; diff <(echo "$want") <(echo "$got"); fail=1
    else
      echo "ok   $(basename "$src") on $v"
    fi
  done
done
exit $fail
