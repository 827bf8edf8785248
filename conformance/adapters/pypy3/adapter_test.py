"""Tests of the PyPy adapter: the CPython driver on Debian's pypy3 (PyPy
7.3, Python 3.9), through the manifest command.

Expected outcomes are asyncio's (RULES.md) on the subset Python 3.9 has,
with the differences its docs state:
- no TaskGroup, timeout, uncancel or except* before 3.11: programs that use
  them get an `unsupported` error line, not an outcome;
- before 3.11 the cancel message is not propagated from a cancelled task to
  its awaiter (asyncio docs, Task.cancel: "Changed in version 3.11: The msg
  parameter is propagated from cancelled task to its awaiter"; bpo-45390):
  the task's own CancelledError carries the message (CX-5), the one its
  awaiter gets does not.
"""

import os
import subprocess
import unittest

import testlib as T
from require import require

PYPY = "/usr/bin/pypy3"


class PypyAdapterTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        require(os.path.exists(PYPY), "no %s (Debian's pypy3)" % PYPY)
        cls.cmd = T.manifest_command("pypy3", "pypy3")

    def test_hello(self):
        hello, _, _ = T.run(self.cmd, [])
        version = subprocess.run([PYPY, "-I", "-c", "import sys; print('%d.%d.%d' % sys.pypy_version_info[:3])"],
                                 capture_output=True, text=True).stdout.strip()
        self.assertEqual(hello["runtime"], "pypy3")
        self.assertEqual(hello["version"], version)
        self.assertEqual(hello["model"], "3.11")
        self.assertEqual(hello["clock"], "virtual")
        for cap in ("task", "gather", "shield", "wait_for", "cancel", "await", "try"):
            self.assertIn(cap, hello["capabilities"])
        for cap in ("group", "timeout", "uncancel", "except_star"):
            self.assertNotIn(cap, hello["capabilities"])

    def test_gather_first_error_and_free_task(self):
        # GA-2: c1's E1 at 1 is what gather raises; c2 keeps running and
        # returns at 3, its value unclaimed. RT-2: main ends at 1, nothing is
        # left to drain but c2, cancelled by run at 1 (c2 sleeps until 3).
        p = T.prog({"op": "gather", "name": "G", "return_exceptions": False, "children": [
            {"name": "c1", "body": [T.sleep(1), T.raise_("E1")]},
            {"name": "c2", "body": [T.sleep(3), {"op": "return", "value": "ok"}]}]})
        hello, (o,), _ = T.run(self.cmd, [p])
        self.assertEqual(o["scopes"]["G"], {"end": 1, "raised": T.err("E1")})
        self.assertEqual(o["tasks"]["c1"], {"start": 0, "end": 1, "state": "raised", "error": T.err("E1")})
        self.assertEqual(o["tasks"]["c2"], {"start": 0, "end": 1, "state": "cancelled",
                                            "error": {"type": "cancelled"}})
        self.assertEqual(o["run"], T.err("E1"))
        self.assertEqual(o["unretrieved"], [])
        self.assertEqual(o["end_time"], 1)

    def test_cancel_message_not_propagated_before_311(self):
        p = T.prog(T.task("a", T.sleep(5)), T.sleep(1),
                   {"op": "cancel", "target": "a", "msg": "why"}, {"op": "await", "target": "a"})
        hello, (o,), _ = T.run(self.cmd, [p])
        self.assertEqual(o["tasks"]["a"], {"start": 0, "end": 1, "state": "cancelled",
                                           "error": {"type": "cancelled", "msg": "why"}})
        self.assertEqual(o["tasks"]["main"]["state"], "cancelled")
        self.assertEqual(o["run"], {"type": "cancelled"})

    def test_taskgroup_is_unsupported(self):
        hello, (o,), _ = T.run(self.cmd, [T.prog(T.group("g", T.sleep(0)))])
        self.assertEqual(o["kind"], "unsupported")


if __name__ == "__main__":
    unittest.main()
