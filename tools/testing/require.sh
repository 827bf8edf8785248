# What a shell test does when an interpreter it needs is missing; source it
# and call `require_or_skip "<what is missing>"`. It exits 1 naming what is
# missing, so that `bazel test //...` never reports PASSED for a check that
# did not run. Outside CI (CI unset or not "true"), ASYNCSPEC_ALLOW_SKIP=1
# makes it print a loud SKIP line and exit 0 instead (.bazelrc passes both
# variables to tests).
require_or_skip() {
  if [ "${CI:-}" != "true" ] && [ "${ASYNCSPEC_ALLOW_SKIP:-}" = "1" ]; then
    echo "=================================================================="
    echo "SKIP (ASYNCSPEC_ALLOW_SKIP=1): $*"
    echo "=================================================================="
    exit 0
  fi
  echo "FAIL: $*; install it (tools/setup.sh), or set ASYNCSPEC_ALLOW_SKIP=1 outside CI to skip"
  exit 1
}

# The CPython X.Y.Z that pyenv installed, or nothing: under PYENV_ROOT (what
# `pyenv root` prints; .bazelrc passes it to tests), `pyenv root` itself, then
# ~/.pyenv of the user from the password database (Bazel changes HOME).
pyenv_python() {
  local v="$1" root home
  home=$(getent passwd "$(id -u)" | cut -d: -f6)
  for root in "${PYENV_ROOT:-}" "$(pyenv root 2>/dev/null)" "${home:+$home/.pyenv}"; do
    if [ -n "$root" ] && [ -x "$root/versions/$v/bin/python3" ]; then
      echo "$root/versions/$v/bin/python3"
      return 0
    fi
  done
  return 1
}
