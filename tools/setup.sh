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
)

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

if [ "${#missing[@]}" -eq 0 ]; then
  echo "setup: all ${#PACKAGES[@]} packages already installed"
  exit 0
fi

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq || echo "setup: apt-get update failed; trying the cached lists"
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "setup: done"
