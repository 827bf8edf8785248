#!/usr/bin/env bash
# Measures a cold CI run: a fresh clone of this repository's HEAD in a
# temporary directory, `.ci/run` there with Bazel on an empty output base
# and without the disk cache (nothing built before is reused). Prints the
# wall time of each stage (`bazel test //...` is the README's test command)
# and of the whole run, and exits with .ci/run's status.
#
#   tools/ci_time.sh           # measures HEAD
#   tools/ci_time.sh --keep    # keeps the clone, the output base and the log
#
# It keeps both cores busy for 20-40 minutes.
set -uo pipefail
keep=0
[ "${1:-}" = "--keep" ] && keep=1
src="$(cd "$(dirname "$0")/.." && pwd)"
tmp="$(mktemp -d)"
real_bazel="$(command -v bazel)"
cleanup() {
  "$real_bazel" --output_base="$tmp/out" shutdown >/dev/null 2>&1 || true
  if [ "$keep" = 1 ]; then
    echo "ci_time: kept $tmp (log: $tmp/ci.log)"
  else
    chmod -R u+w "$tmp" 2>/dev/null || true
    rm -rf "$tmp"
  fi
}
trap cleanup EXIT
git clone -q --no-hardlinks "$src" "$tmp/clone" || exit 2

# `bazel` on PATH for .ci/run: the temporary output base, and an empty
# --disk_cache on the commands that build (overriding ~/.bazelrc's).
mkdir -p "$tmp/bin"
cat > "$tmp/bin/bazel" <<WRAP
#!/usr/bin/env bash
cmd="\$1"; shift
case "\$cmd" in
  build|test|run|coverage) exec "$real_bazel" --output_base="$tmp/out" "\$cmd" --disk_cache= "\$@" ;;
  *) exec "$real_bazel" --output_base="$tmp/out" "\$cmd" "\$@" ;;
esac
WRAP
chmod +x "$tmp/bin/bazel"

cd "$tmp/clone"
start=$(date +%s)
last=$start
stage="setup"
# Each "== stage" line of .ci/run ends the stage before it.
PATH="$tmp/bin:$PATH" .ci/run 2>&1 | tee "$tmp/ci.log" | {
  while IFS= read -r line; do
    case "$line" in
      "== "*)
        now=$(date +%s)
        echo "ci_time: stage '$stage': $((now - last)) s"
        stage="${line#== }"
        last=$now
        ;;
      *"FAILED"*|*"FAIL:"*|"Executed "*) echo "$line" ;;
    esac
  done
  echo "ci_time: stage '$stage': $(($(date +%s) - last)) s"
}
rc=${PIPESTATUS[0]}
end=$(date +%s)
echo "ci_time: whole cold .ci/run: $((end - start)) s, exit $rc" \
     "(commit $(git rev-parse --short HEAD), $(nproc) cores, load at the end $(cut -d' ' -f1-3 /proc/loadavg))"
exit "$rc"
