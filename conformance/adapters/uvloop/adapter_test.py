"""Tests of the uvloop adapter: the CPython driver with --loop=uvloop, run
through the manifest command (real time, tick 25 ms).

uvloop runs asyncio's own TaskGroup, timeout, gather, ... (they are
asyncio's Python code, uvloop only replaces the event loop), so expected
outcomes are asyncio's (RULES.md), with times in ticks. What is specific to
a real clock (ADAPTERS.md "Real clocks"): a sleep really takes d ticks of
wall time; times are whole ticks; a chain of sleeps does not drift, because
deadlines are put on the tick grid; a deadlock is found once the run
outlives the sum of its delays (INV-8) instead of blocking forever.

RealClockTest counts real ticks, which a loaded machine stretches: it runs
only as //conformance/adapters/uvloop:realclock_test (tag `realclock`,
`bazel test --config=realclock //...`); `bazel test //...` runs
UvloopAdapterTest, whose checks hold at any load.
"""

import os
import subprocess
import unittest

import testlib as T
from require import require

PY = "/usr/bin/python3.11"


def have_uvloop():
    return os.path.exists(PY) and subprocess.run(
        [PY, "-I", "-c", "import uvloop"], capture_output=True).returncode == 0


class Uvloop(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        require(have_uvloop(), "no python3-uvloop for %s (Debian's python3-uvloop)" % PY)
        cls.cmd = T.manifest_command("uvloop", "uvloop")
        cls.tick = 0.025

    def one(self, program):
        hello, (out,), wall = T.run(self.cmd, [program])
        return out, wall


class UvloopAdapterTest(Uvloop):
    def test_hello(self):
        hello, _, _ = T.run(self.cmd, [])
        version = subprocess.run([PY, "-I", "-c", "import uvloop; print(uvloop.__version__)"],
                                 capture_output=True, text=True).stdout.strip()
        self.assertEqual(hello["runtime"], "uvloop")
        self.assertEqual(hello["version"], version)
        self.assertEqual(hello["clock"], "real")
        self.assertEqual(hello["tick_ms"], 25)
        self.assertEqual(hello["rules"], "asyncio")
        # Debian's interpreter is 3.11: wait_for is 3.11's (WF-3).
        self.assertEqual(hello["model"], "3.11")
        self.assertIn("group", hello["capabilities"])

    def test_deadlock_is_reported(self):
        # a awaits main, main awaits a: no timer left after a's sleep. The
        # watchdog fires at (1 + 2) ticks + 0.5 s.
        out, wall = self.one(T.prog(T.task("a", T.sleep(1), {"op": "await", "target": "main"}),
                                    T.sleep(0), {"op": "await", "target": "a"}))
        self.assertEqual(out["kind"], "deadlock")
        self.assertLess(wall, 10)


class RealClockTest(Uvloop):
    def test_sleep_takes_real_time(self):
        out, wall = self.one(T.prog(T.sleep(4)))
        self.assertGreaterEqual(wall, 4 * self.tick)
        self.assertEqual(out["tasks"]["main"], {"start": 0, "end": 4, "state": "returned", "value": None})
        self.assertEqual(out["end_time"], 4)

    def test_no_drift_over_a_chain_of_sleeps(self):
        # 40 sleeps of 1: every one is late by the loop's latency, but
        # deadlines are on the grid t0 + n * tick, so the end is exactly 40.
        out, _ = self.one(T.prog(*[T.sleep(1) for _ in range(40)]))
        self.assertEqual(out["end_time"], 40)

    def test_timeout_and_taskgroup(self):
        # TO-2/TO-3: the timeout cancels main at 2, which aborts the group
        # (TG-7: the child is cancelled, the group re-raises the
        # CancelledError) and the timeout turns it into TimeoutError.
        out, _ = self.one(T.prog(T.try_(
            "t", [T.timeout("tm", 2, T.group("g", T.spawn("g", "a", T.sleep(5)), T.sleep(5)))],
            T.handler("h", "timeout"))))
        self.assertEqual(out["scopes"]["tm"], {"end": 2, "raised": {"type": "timeout"}, "expired": True})
        self.assertEqual(out["scopes"]["g"], {"end": 2, "raised": {"type": "cancelled"}})
        self.assertEqual(out["tasks"]["a"], {"start": 0, "end": 2, "state": "cancelled",
                                             "error": {"type": "cancelled"}})
        self.assertEqual(out["end_time"], 2)


if __name__ == "__main__":
    unittest.main()
