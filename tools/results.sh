#!/usr/bin/env bash
# Regenerates the conformance results: runs the check (-c opt build) on each
# runtime with the settings of conformance/RESULTS.md (golden cases + 3000
# random trees, seed 1, one job), writes every report and reproducer to
# results-out/<runtime>/ (ignored by git), then updates from those reports
# the matrix of conformance/RESULTS.md and conformance/results/<runtime>/
# findings.md (each failure's rule, shrunk program and replay command).
#
#   tools/results.sh                  # every runtime: CPython 3.10-3.13 of
#                                     # `pyenv root`, Debian's python3.11, and
#                                     # each runtime `check --list` registers
#   tools/results.sh trio cpython-3.12.1    # only these
#   tools/results.sh --list           # the runtime names it knows
#
# A whole run takes most of an hour on a 2-core machine (uvloop runs on a
# real clock); one runtime takes seconds to minutes.
set -uo pipefail
cd "$(dirname "$0")/.."
TREES="${TREES:-3000}"
OUT="results-out"

# COMPILATION_MODE=fastbuild reuses a development build (the counts are the
# same; only the speed figures of the reports differ).
MODE="${COMPILATION_MODE:-opt}"
bazel build -c "$MODE" //conformance:check || exit 2
CHECK="$(bazel info -c "$MODE" bazel-bin 2>/dev/null)/conformance/check"
root="$(pyenv root 2>/dev/null || echo "${PYENV_ROOT:-$HOME/.pyenv}")"

# name -> check flags, separated by "|" (an --adapter value has spaces)
declare -A FLAGS
names=()
for v in 3.10.13 3.11.7 3.12.1 3.13.0; do
  if [ -x "$root/versions/$v/bin/python3" ]; then
    names+=("cpython-$v")
    if [ "$v" = 3.10.13 ]; then
      # No registered profile for 3.10: through the driver as an adapter.
      FLAGS["cpython-$v"]="--adapter=$root/versions/$v/bin/python3 -I $PWD/conformance/adapters/cpython/driver.py"
    else
      FLAGS["cpython-$v"]="--runtime=cpython|--python=$root/versions/$v/bin/python3"
    fi
  fi
done
if [ -x /usr/bin/python3.11 ]; then
  names+=("cpython-3.11.2")
  FLAGS["cpython-3.11.2"]="--adapter=/usr/bin/python3.11 -I $PWD/conformance/adapters/cpython/driver.py"
fi
# Every registered runtime but the built-in ones covered above.
while read -r name _; do
  case "$name" in ""|cpython|model) continue ;; esac
  names+=("$name")
  FLAGS["$name"]="--runtime=$name"
done < <("$CHECK" --list 2>/dev/null | sed -n 's/^\([a-z][a-z0-9._-]*\) .*/\1/p')

if [ "${1:-}" = "--list" ]; then
  printf '%s\n' "${names[@]}"
  exit 0
fi
wanted=("$@")
[ "${#wanted[@]}" -gt 0 ] || wanted=("${names[@]}")

mkdir -p "$OUT"
fail=0
for n in "${wanted[@]}"; do
  if [ -z "${FLAGS[$n]+x}" ]; then
    echo "results: unknown runtime '$n' (tools/results.sh --list)"
    fail=1
    continue
  fi
  rm -rf "${OUT:?}/$n"
  IFS='|' read -r -a args <<<"${FLAGS[$n]}"
  echo "== $n: check ${args[*]} --trees=$TREES"
  "$CHECK" "${args[@]}" --trees="$TREES" --seed=1 --jobs=1 --quiet --out="$OUT/$n"
  rc=$?
  # 0: no new failure, 1: new failures (findings), 3: adapter errors only.
  case "$rc" in 0|1|3) ;; *) echo "results: $n: check exited $rc"; fail=1; continue ;; esac
  python3 tools/results_md.py "$OUT/$n/report.json" "$n" || fail=1
done
exit "$fail"
