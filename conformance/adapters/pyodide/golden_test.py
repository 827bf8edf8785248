"""The golden cases on CPython 3.14 and 3.15 (Pyodide), against their
recordings.

spec/cases/record.py recorded every case's outcome on these interpreters
(the case files' "versions" "3.14" and "3.15", or "same" as 3.13.0's
"expected"); this test runs the driver over every case again through the
manifest commands and requires the recorded outcome, so that a change of
the driver, the bridge or the prelude that alters what these releases are
seen to do fails here, naming the case and its rules (spec/RULES.md).
Without Node or a Pyodide package it fails naming what is missing;
ASYNCSPEC_ALLOW_SKIP=1 outside CI skips it with the reason printed.
"""

import json
import os
import shutil
import unittest

import testlib as T
from require import require

from adapter_test import VERSIONS, package_dir, pyodide_home


def cases_dir():
    srcdir = os.environ.get("TEST_SRCDIR")
    if srcdir:
        return os.path.join(srcdir, os.environ.get("TEST_WORKSPACE", "asyncspec"), "spec", "cases")
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "spec", "cases")


def load_cases():
    out = []
    for fn in sorted(os.listdir(cases_dir())):
        if fn.endswith(".json"):
            with open(os.path.join(cases_dir(), fn)) as f:
                out.append(json.load(f))
    return out


def diff_paths(a, b, path=""):
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                out.append(path + k)
            else:
                out += diff_paths(a[k], b[k], path + k + ".")
        return out
    return [] if a == b else [path.rstrip(".") or "<root>"]


class PyodideGoldenTest(unittest.TestCase):
    def check_version(self, runtime):
        short = runtime[len("cpython-"):]
        require(shutil.which("node") is not None, "no node on PATH (Node 20: tools/setup.sh)")
        require(os.path.exists(os.path.join(package_dir(VERSIONS[runtime]), "pyodide.mjs")),
                "no Pyodide %s under %s (tools/setup.sh installs it with npm)" % (VERSIONS[runtime], pyodide_home()))
        cases = load_cases()
        self.assertGreaterEqual(len(cases), 50, "spec/cases/ not found under " + cases_dir())
        hello, outs, _ = T.run(T.manifest_command("pyodide", runtime), [c["program"] for c in cases], timeout=600)
        self.assertEqual(hello["model"], short)
        failures = []
        for c, got in zip(cases, outs):
            rec = c["versions"][short]
            want = c["expected"] if rec == "same" else rec
            if got != want:
                failures.append("case %s (rules %s) on CPython %s: outcome differs from the recording at %s"
                                % (c["name"], ", ".join(c["rules"]), hello["version"], ", ".join(diff_paths(want, got))))
        self.assertEqual(failures, [], "\n".join(failures))
        print("CPython %s (Pyodide): %d cases match" % (hello["version"], len(cases)))

    def test_cpython_3_14(self):
        self.check_version("cpython-3.14")

    def test_cpython_3_15(self):
        self.check_version("cpython-3.15")


if __name__ == "__main__":
    unittest.main()
