"""Driver-versus-golden-cases test.

For every CPython of VERSIONS under `pyenv root` (a missing one fails the
test; tools/testing/require.py says when it may skip instead) it runs conformance/adapters/cpython/driver.py over every case file
of spec/cases/ and checks that the outcome equals the recorded one: the
"expected" outcome (CPython 3.13.0), or the version's own entry under
"versions" when that is not "same". The recorded outcomes came from real
CPython (record.py); this test is what catches a driver change, or an
interpreter update, that would make them stale. Failure messages name the
case and the rules it stands for (spec/RULES.md).

It also checks the files themselves: names, rule IDs, that they were
recorded from the programs now in authoring.py, and that no recorded
outcome is an error line.
"""

import json
import os
import re
import subprocess
import sys
import unittest

from require import pyenv_python, require

VERSIONS = {"3.11": "3.11.7", "3.12": "3.12.1", "3.13": "3.13.0"}
RULE_ID = re.compile(r"^(SCHED|CX|TG|GA|TO|WF|SH|EG|RT|INV)-[0-9]+$")


def _root():
    srcdir = os.environ.get("TEST_SRCDIR")
    if srcdir:
        ws = os.environ.get("TEST_WORKSPACE", "asyncspec")
        return os.path.join(srcdir, ws)
    return os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


ROOT = _root()
CASES_DIR = os.path.join(ROOT, "spec", "cases")
DRIVER = os.path.join(ROOT, "conformance", "adapters", "cpython", "driver.py")


def load_cases():
    cases = []
    for fn in sorted(os.listdir(CASES_DIR)):
        if fn.endswith(".json"):
            with open(os.path.join(CASES_DIR, fn)) as f:
                cases.append((fn, json.load(f)))
    return cases


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


class CaseFilesTest(unittest.TestCase):
    def test_there_are_cases(self):
        self.assertGreaterEqual(len(load_cases()), 50, "spec/cases/ lost its case files")

    def test_case_files_are_well_formed(self):
        for fn, c in load_cases():
            with self.subTest(case=fn):
                self.assertEqual(fn, c["name"] + ".json", "file name must be the case name")
                self.assertEqual(c["program"].get("name"), c["name"])
                self.assertTrue(c["rules"], "%s cites no rule of spec/RULES.md" % c["name"])
                for r in c["rules"]:
                    self.assertRegex(r, RULE_ID, "%s cites a malformed rule ID" % c["name"])
                self.assertTrue(c["description"])
                self.assertNotIn("error", c["expected"],
                                 "%s: the recorded 3.13 outcome is a driver error line" % c["name"])
                # 3.14 and 3.15 are recorded through Pyodide (record.py);
                # conformance/adapters/pyodide:golden_test re-runs them.
                self.assertEqual(set(c["versions"]), {"3.11", "3.12", "3.14", "3.15"})
                for v, o in c["versions"].items():
                    if o != "same":
                        self.assertNotEqual(o, c["expected"],
                                            "%s: %s equal to 3.13 must be recorded as 'same'" % (c["name"], v))
                        self.assertNotIn("error", o)

    def test_recorded_from_current_authoring(self):
        path = os.path.join(CASES_DIR, "authoring.py")
        if not os.path.exists(path):
            self.skipTest("authoring.py is not in the runfiles")
        sys.path.insert(0, CASES_DIR)
        try:
            import authoring
        finally:
            sys.path.pop(0)
        authored = {c["name"]: c for c in authoring.CASES}
        files = {c["name"]: c for _, c in load_cases()}
        self.assertEqual(sorted(authored), sorted(files),
                         "case files and authoring.py disagree: run python3 spec/cases/record.py")
        for name, c in authored.items():
            with self.subTest(case=name):
                self.assertEqual(c["program"], files[name]["program"],
                                 "%s: program changed in authoring.py since recording; run record.py" % name)
                self.assertEqual(c["rules"], files[name]["rules"])


class DriverMatchesCasesTest(unittest.TestCase):
    def check_version(self, short):
        full = VERSIONS[short]
        python = pyenv_python(full)
        require(os.path.exists(python), "CPython %s is not installed at %s" % (full, python))
        cases = load_cases()
        text = "".join(json.dumps(c["program"]) + "\n" for _, c in cases)
        proc = subprocess.run([python, "-I", DRIVER], input=text, capture_output=True, text=True,
                              cwd="/", timeout=600)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        lines = proc.stdout.splitlines()
        hello = json.loads(lines[0])["hello"]
        self.assertEqual(hello["version"], full)
        self.assertEqual(len(lines) - 1, len(cases), "one outcome line per program")
        failures = []
        for (fn, c), line in zip(cases, lines[1:]):
            got = json.loads(line)
            want = c["expected"] if short == "3.13" or c["versions"][short] == "same" else c["versions"][short]
            if got != want:
                failures.append("case %s (rules %s) on CPython %s: outcome differs from the recording at %s"
                                % (c["name"], ", ".join(c["rules"]), full, ", ".join(diff_paths(want, got))))
        self.assertEqual(failures, [], "\n".join(failures))
        print("CPython %s: %d cases match" % (full, len(cases)))

    def test_cpython_3_11(self):
        self.check_version("3.11")

    def test_cpython_3_12(self):
        self.check_version("3.12")

    def test_cpython_3_13(self):
        self.check_version("3.13")


if __name__ == "__main__":
    unittest.main(verbosity=2)
