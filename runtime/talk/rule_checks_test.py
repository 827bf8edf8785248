"""The CPython evidence of the runtime's rule tests still holds.

runtime/talk/rule_checks/X.py are the CPython programs whose output the
rule tests of runtime/*_test.cc quote (rule_checks/README.md), and
X.3.13.0.out their recorded stdout. This runs each program again on CPython
3.13.0 of `pyenv root` (a missing interpreter fails the test,
tools/testing/require.py), on asyncio with a virtual clock (vclock.py: no
wall-clock dependence), and compares with the recording:
- file paths compare by their last component (recordings hold no machine
  paths);
- numbers with a decimal point are times: the recordings were made on the
  real clock and are late by up to a few milliseconds, so they compare
  within 0.1 s;
- in rt.py the order in which asyncio.run cancels the leftover tasks is the
  iteration order of a set, which RULES.md leaves free (RT-2): its lines
  compare as a multiset.
"""
import glob
import os
import re
import subprocess
import unittest

from require import pyenv_python, require

HERE = os.path.join(os.environ.get("TEST_SRCDIR", ""), os.environ.get("TEST_WORKSPACE", "asyncspec"),
                    "runtime", "talk", "rule_checks")
if not os.path.isdir(HERE):
    HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "rule_checks")
VERSION = "3.13.0"
FREE_ORDER = {"rt": "RT-2"}
PATH = re.compile(r"(?:\$\(pyenv root\)|/)[^\s:'\"<>]*/([^/\s:'\"<>]+)")
NUMBER = re.compile(r"-?\d+\.\d+")


def tokens(line):
    """The line with paths cut to their file name, split at numbers."""
    line = PATH.sub(r"\1", line)
    return NUMBER.split(line), [float(x) for x in NUMBER.findall(line)]


def same_line(got, want):
    (gt, gn), (wt, wn) = tokens(got), tokens(want)
    return gt == wt and len(gn) == len(wn) and all(abs(a - b) <= 0.1 for a, b in zip(gn, wn))


class RuleChecksTest(unittest.TestCase):
    def test_each_program_prints_its_recording(self):
        python = pyenv_python(VERSION)
        require(os.path.exists(python), "CPython %s is not installed at %s" % (VERSION, python))
        outs = sorted(glob.glob(os.path.join(HERE, "*.%s.out" % VERSION)))
        self.assertGreaterEqual(len(outs), 16, "recordings missing from the runfiles: %s" % HERE)
        for out in outs:
            name = os.path.basename(out)[: -len(".%s.out" % VERSION)]
            with self.subTest(program=name):
                p = subprocess.run([python, os.path.join(HERE, "vclock.py"), name + ".py"], cwd=HERE,
                                   capture_output=True, text=True, timeout=120)
                self.assertEqual(p.returncode, 0, p.stderr[-2000:])
                got = p.stdout.splitlines()
                with open(out) as f:
                    want = f.read().splitlines()
                if name in FREE_ORDER:
                    got, want = sorted(got), sorted(want)
                self.assertEqual(len(got), len(want), "%s.py: %d lines, recorded %d:\n%s"
                                 % (name, len(got), len(want), p.stdout))
                for g, w in zip(got, want):
                    self.assertTrue(same_line(g, w), "%s.py (the evidence of rules in %s):\n  now:      %s\n"
                                    "  recorded: %s" % (name, "rule_checks/README.md", g, w))


if __name__ == "__main__":
    unittest.main()
