"""What a test does when an interpreter or package it needs is missing.

It fails, naming what is missing and how to install it (tools/setup.sh),
so that `bazel test //...` never reports PASSED for a check that did not
run. Outside CI (`CI` unset or not "true"), ASYNCSPEC_ALLOW_SKIP=1 turns the
failure into a loud SKIP line and a skipped test (`bazel test` passes the
two variables through, .bazelrc).
"""
import os
import sys
import unittest


def skip_allowed():
    """True when a missing interpreter may skip instead of fail."""
    if os.environ.get("CI", "").lower() == "true":
        return False
    return os.environ.get("ASYNCSPEC_ALLOW_SKIP") == "1"


def require(available, what):
    """Raises unittest.SkipTest (skip allowed) or AssertionError unless
    `available`; `what` names the missing thing and how to get it."""
    if available:
        return
    if skip_allowed():
        line = "SKIP (ASYNCSPEC_ALLOW_SKIP=1): %s" % what
        print("=" * len(line) + "\n" + line + "\n" + "=" * len(line), file=sys.stderr)
        raise unittest.SkipTest(what)
    raise AssertionError("%s; install it (tools/setup.sh), or set ASYNCSPEC_ALLOW_SKIP=1 outside CI to skip" % what)


def pyenv_roots():
    """Where pyenv may keep its interpreters: PYENV_ROOT (what `pyenv root`
    prints when set; .bazelrc passes it to tests), then ~/.pyenv of the
    user running the test (from the password database: Bazel changes HOME)."""
    roots = []
    if os.environ.get("PYENV_ROOT"):
        roots.append(os.environ["PYENV_ROOT"])
    try:
        import pwd
        roots.append(os.path.join(pwd.getpwuid(os.getuid()).pw_dir, ".pyenv"))
    except (ImportError, KeyError):
        pass
    return roots


def pyenv_python(version):
    """The path of CPython `version` (X.Y.Z) under the pyenv root, or the
    path where it was looked for first when it is not installed."""
    candidates = [os.path.join(r, "versions", version, "bin", "python3") for r in pyenv_roots()]
    for c in candidates:
        if os.access(c, os.X_OK):
            return c
    return candidates[0] if candidates else "$(pyenv root)/versions/%s/bin/python3" % version
