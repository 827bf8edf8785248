#!/bin/bash
# Test: every talk program still prints its recorded .expected text on each
# local CPython 3.11/3.12/3.13 (guards the recording and the reconstruction).
# An interpreter that is absent is skipped with a printed reason.
# Run by //runtime:talk_python_test (cwd = runfiles root) or by hand.
set -uo pipefail
dir="runtime/talk"
[[ -d "$dir" ]] || dir="$(dirname "$0")"
fail=0; ran=0
for v in 3.11.7 3.12.1 3.13.0; do
  py="/root/.pyenv/versions/$v/bin/python3"
  if [[ ! -x "$py" ]]; then echo "SKIP CPython $v: $py not found"; continue; fi
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
if [[ $ran -eq 0 ]]; then echo "SKIP: no local CPython 3.11-3.13 found"; fi
exit $fail
