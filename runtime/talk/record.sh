#!/bin/bash
# Records N_name.expected = stdout of N_name.py on real CPython. Runs every
# local 3.11/3.12/3.13 and refuses to record if their outputs differ (then
# the expected text would have to be per version; so far they agree).
# Usage: runtime/talk/record.sh   (from anywhere)
set -euo pipefail
cd "$(dirname "$0")"
ROOT_PY="$(pyenv root)/versions"
PYS=("$ROOT_PY/3.11.7/bin/python3" "$ROOT_PY/3.12.1/bin/python3" "$ROOT_PY/3.13.0/bin/python3")
for py in [0-9]_*.py; do
  ref=""
  for interp in "${PYS[@]}"; do
    out=$("$interp" "$py")
    if [[ -z "$ref" ]]; then ref="$out"; elif [[ "$out" != "$ref" ]]; then
      echo "$py: $interp prints something else; record per version" >&2; exit 1
    fi
  done
  printf '%s\n' "$ref" > "${py%.py}.expected"
  echo "recorded ${py%.py}.expected"
done
