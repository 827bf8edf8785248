#!/usr/bin/env bash
# Installs every Debian package asyncspec needs, and nothing else.
# Idempotent: a second run installs nothing and exits 0.
# Needs root (or sudo) and Debian 12's package archive; no other network.
set -euo pipefail

PACKAGES=(
  bazel-bootstrap        # Bazel 4.2.3, WORKSPACE mode
  bazel-rules-java       # @rules_java, which Bazel's default WORKSPACE asks for
  bazel-platforms        # @platforms
  g++                    # C++20 coroutines (gcc 12)
  clang-14 libclang-rt-14-dev  # libFuzzer and the sanitizers (--config=fuzz)
  libgtest-dev libgmock-dev
  librapidcheck-dev
  libabsl-dev
  nlohmann-json3-dev     # JSON forms of programs and outcomes
  libboost1.81-dev       # Boost.Asio >= 1.80 (parallel_group), conformance/adapters/asio
  libbenchmark-dev       # runtime benchmark
  valgrind               # instruction counts for speed claims
  libxml2-utils          # xmllint: report.xml must be well-formed (conformance tests)
  python3                # tools/ scripts
  python3-uvloop python3-trio python3-anyio  # third-party adapters (conformance/adapters/)
  pypy3                  # the CPython driver on PyPy (conformance/adapters/pypy3)
  libhttp-parser-dev     # the runtime's HTTP client (runtime/http_client.h)
  python3-httpx          # the talk appendix's Python original (runtime/talk/)
  nodejs                 # Node (>= 18) runs Pyodide: CPython 3.14/3.15 (conformance/adapters/pyodide)
)

# CPython 3.14 and 3.15 have no build for this machine; Pyodide's WebAssembly
# builds of them run under Node (conformance/adapters/pyodide/README.md).
# Pinned npm versions, installed outside the source tree, in
# ${ASYNCSPEC_PYODIDE_HOME:-~/.cache/asyncspec/pyodide}/<version>/ of the user
# who runs the tests (SUDO_USER under sudo), each with its boot snapshot
# (made once, 20-70 s; the adapter restores it in seconds). Needs npm and its
# registry (or a mirror of it); nothing else from the network.
PYODIDE_VERSIONS=(314.0.8 315.0.0-alpha.2)  # CPython 3.14.2, 3.15.0rc1
as_user() {
  if [ "$(id -u)" -eq 0 ] && [ -n "${SUDO_USER:-}" ]; then sudo -u "$SUDO_USER" -H "$@"; else "$@"; fi
}
install_pyodide() {
  local home v dir here
  here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  if ! command -v npm >/dev/null 2>&1; then
    echo "setup: installing npm (for Pyodide)"
    ${SUDO:-} apt-get install -y -qq --no-install-recommends npm || true
  fi
  if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "setup: NOT FOUND: node or npm; the Pyodide tests (CPython 3.14/3.15) fail" \
         "(ASYNCSPEC_ALLOW_SKIP=1 outside CI skips them)"
    return 0
  fi
  home="${ASYNCSPEC_PYODIDE_HOME:-$(as_user sh -c 'echo "$HOME"')/.cache/asyncspec/pyodide}"
  for v in "${PYODIDE_VERSIONS[@]}"; do
    dir="$home/$v"
    if [ ! -f "$dir/node_modules/pyodide/pyodide.mjs" ]; then
      echo "setup: installing pyodide@$v into $dir (npm)"
      as_user mkdir -p "$dir"
      [ -f "$dir/package.json" ] || echo '{"private": true}' | as_user tee "$dir/package.json" >/dev/null
      if ! as_user npm install --prefix "$dir" --no-audit --no-fund --ignore-scripts "pyodide@$v" >/dev/null; then
        echo "setup: npm could not install pyodide@$v; the cpython-${v:0:1}.${v:1:2} tests fail"
        continue
      fi
    fi
    if ! ls "$dir"/boot-snapshot-*.bin >/dev/null 2>&1; then
      echo "setup: making Pyodide $v's boot snapshot (once, 20-70 s)"
      ASYNCSPEC_PYODIDE_HOME="$home" as_user node "$here/conformance/adapters/pyodide/bridge.mjs" \
        "--pyodide=$v" --make-snapshot || echo "setup: the boot snapshot of Pyodide $v failed"
    fi
  done
  echo "setup: Pyodide ${PYODIDE_VERSIONS[*]} under $home"
}

# The CPython parts (the golden cases' recordings, the CPython driver's
# tests, the check against each CPython, the talk and rule-check programs,
# the benchmarks' CPython columns) need CPython 3.10.13, 3.11.7, 3.12.1 and
# 3.13.0 under `pyenv root` (pyenv is not a Debian package; install them with
# `pyenv install 3.11.7` etc.). Without one, the tests that need it fail
# naming it; outside CI, ASYNCSPEC_ALLOW_SKIP=1 makes them skip with a SKIP
# line instead (tools/testing/require.py). This script only reports them.
report_pyenv() {
  local root v absent=()
  root="$(pyenv root 2>/dev/null || echo "${PYENV_ROOT:-$HOME/.pyenv}")"
  for v in 3.10.13 3.11.7 3.12.1 3.13.0; do
    [ -x "$root/versions/$v/bin/python3" ] || absent+=("$v")
  done
  if [ "${#absent[@]}" -eq 0 ]; then
    echo "setup: CPython 3.10.13 3.11.7 3.12.1 3.13.0 found under $root"
  else
    echo "setup: NOT FOUND under $root: CPython ${absent[*]} (pyenv install ...);" \
         "the tests that need them fail (ASYNCSPEC_ALLOW_SKIP=1 outside CI skips them)"
  fi
}
report_pyenv

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
if [ "${#missing[@]}" -eq 0 ]; then
  echo "setup: all ${#PACKAGES[@]} packages already installed"
  install_pyodide
  exit 0
fi

echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq || echo "setup: apt-get update failed; trying the cached lists"
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
install_pyodide
echo "setup: done"
