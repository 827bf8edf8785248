"""Unit tests of the CPython driver (driver.py), run as a subprocess under each
local CPython, as the conformance engine runs it.

What is checked: the hello line and --version; bad input lines get an error
line and the driver goes on; the virtual clock (sleep 1000 costs no wall
time, and time moves from timer to timer); deadlock is reported, not hung;
3.10 refuses what it lacks; --program pretty-prints; unretrieved exceptions
found from the `_log_traceback` flag equal the ones asyncio itself reports
after gc.collect() (RT-4), on every golden case; and throughput.

Expected values here are facts of the protocol (spec/FORMAT.md) or of
CPython (virtual times that follow from the program text, e.g. sleep 1000
ends at 1000); no outcome is copied from the driver under test.
"""

import json
import os
import subprocess
import time
import unittest

from require import pyenv_python, require

ALL = ["3.10.13", "3.11.7", "3.12.1", "3.13.0"]
MODERN = ["3.11.7", "3.12.1", "3.13.0"]


def _root():
    srcdir = os.environ.get("TEST_SRCDIR")
    if srcdir:
        return os.path.join(srcdir, os.environ.get("TEST_WORKSPACE", "asyncspec"))
    return os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


ROOT = _root()
DRIVER = os.path.join(ROOT, "conformance", "adapters", "cpython", "driver.py")
CASES_DIR = os.path.join(ROOT, "spec", "cases")


def python(full):
    return pyenv_python(full)


def run(full, lines, *args, timeout=120):
    text = "".join((l if isinstance(l, str) else json.dumps(l)) + "\n" for l in lines)
    proc = subprocess.run([python(full), "-I", DRIVER, *args], input=text, capture_output=True,
                          text=True, cwd="/", timeout=timeout)
    return proc


def outputs(full, lines, *args):
    proc = run(full, lines, *args)
    assert proc.returncode == 0, proc.stderr
    out = [json.loads(l) for l in proc.stdout.splitlines()]
    return out[0], out[1:]


def prog(*main, name=None):
    p = {"asyncspec": 1, "main": list(main)}
    if name:
        p["name"] = name
    return p


SLEEP1 = prog({"op": "sleep", "d": 1})


class Base(unittest.TestCase):
    def versions(self, which):
        for v in which:
            require(os.path.exists(python(v)), "CPython %s is not installed at %s" % (v, python(v)))
        return which


class HelloTest(Base):
    def test_version_flag_prints_hello_only(self):
        for v in self.versions(ALL):
            with self.subTest(python=v):
                proc = subprocess.run([python(v), "-I", DRIVER, "--version"], capture_output=True,
                                      text=True, timeout=60)
                self.assertEqual(proc.returncode, 0, proc.stderr)
                lines = proc.stdout.splitlines()
                self.assertEqual(len(lines), 1)
                hello = json.loads(lines[0])["hello"]
                self.assertEqual(hello["runtime"], "cpython")
                self.assertEqual(hello["version"], v)
                self.assertIn("gather", hello["capabilities"])
                # Protocol 2 (conformance/ADAPTERS.md): base errors run on
                # every version; the model profile is the minor version,
                # and 3.11 (the closest, ADAPTERS.md) for 3.10.
                self.assertEqual(hello["protocol"], 2)
                self.assertIn("base", hello["capabilities"])
                self.assertEqual(hello.get("model"), "3.11" if v == "3.10.13" else v.rsplit(".", 1)[0])
                self.assertEqual(hello["clock"], "virtual")
                # TaskGroup, timeout, uncancel and except* came in 3.11.
                for cap in ("group", "spawn", "timeout", "reschedule", "uncancel", "except_star"):
                    self.assertEqual(cap in hello["capabilities"], v != "3.10.13", (v, cap))

    def test_stream_starts_with_hello(self):
        for v in self.versions(ALL):
            with self.subTest(python=v):
                hello, outs = outputs(v, [SLEEP1])
                self.assertEqual(hello["hello"]["version"], v)
                self.assertEqual(len(outs), 1)
                self.assertEqual(outs[0]["end_time"], 1)

    def test_replies_repeat_the_program_id(self):
        # Protocol 2: the id the check puts first comes back first, on
        # outcomes and errors alike; a line without one gets a reply without one.
        for v in self.versions(["3.13.0"]):
            proc = run(v, ['{"id":7,' + json.dumps(SLEEP1)[1:], '{"id":8,"asyncspec":1,"main":[{"op":"nope"}]}',
                           SLEEP1])
            lines = proc.stdout.splitlines()[1:]
            self.assertEqual(len(lines), 3, proc.stderr)
            self.assertTrue(lines[0].startswith('{"id":7,'), lines[0])
            self.assertEqual(json.loads(lines[0])["end_time"], 1)
            self.assertTrue(lines[1].startswith('{"id":8,'), lines[1])
            self.assertEqual(json.loads(lines[1])["kind"], "input")
            self.assertNotIn("id", json.loads(lines[2]))


class BadInputTest(Base):
    BAD = [
        ("not json", "{oops"),
        ("not an object", "[1, 2]"),
        ("wrong version", json.dumps({"asyncspec": 2, "main": []})),
        ("unknown op", json.dumps(prog({"op": "fly"}))),
        ("negative sleep", json.dumps(prog({"op": "sleep", "d": -1}))),
        ("bool as duration", json.dumps(prog({"op": "sleep", "d": True}))),
        ("missing label", json.dumps(prog({"op": "raise"}))),
        ("name main taken", json.dumps(prog({"op": "task", "task": {"name": "main", "body": []}}))),
        ("duplicate name", json.dumps(prog({"op": "task", "task": {"name": "a", "body": []}},
                                           {"op": "task", "task": {"name": "a", "body": []}}))),
        ("bad name", json.dumps(prog({"op": "task", "task": {"name": "9a", "body": []}}))),
        ("return not last", json.dumps(prog({"op": "return", "value": "x"}, {"op": "sleep", "d": 0}))),
        ("return in a nested body", json.dumps(prog({"op": "try", "name": "t", "body": [{"op": "return", "value": "x"}],
                                                     "handlers": []}))),
        ("reschedule outside its timeout", json.dumps(prog(
            {"op": "timeout", "name": "tm", "d": 1, "body": []},
            {"op": "reschedule", "timeout": "tm", "d": 1}))),
        ("reschedule from another task", json.dumps(prog(
            {"op": "timeout", "name": "tm", "d": 1, "body": [
                {"op": "task", "task": {"name": "a", "body": [{"op": "reschedule", "timeout": "tm", "d": 1}]}}]}))),
        ("mixed star handlers", json.dumps(prog({"op": "try", "name": "t", "body": [], "handlers": [
            {"name": "h1", "catch": "error", "star": True, "body": [], "then": "swallow"},
            {"name": "h2", "catch": "error", "star": False, "body": [], "then": "swallow"}]}))),
        ("star group catch", json.dumps(prog({"op": "try", "name": "t", "body": [], "handlers": [
            {"name": "h1", "catch": "group", "star": True, "body": [], "then": "swallow"}]}))),
        ("unknown catch", json.dumps(prog({"op": "try", "name": "t", "body": [], "handlers": [
            {"name": "h1", "catch": "oops", "body": [], "then": "swallow"}]}))),
        ("bad then", json.dumps(prog({"op": "try", "name": "t", "body": [], "handlers": [
            {"name": "h1", "catch": "error", "body": [], "then": "maybe"}]}))),
        ("label on cancelled", json.dumps(prog({"op": "try", "name": "t", "body": [], "handlers": [
            {"name": "h1", "catch": "cancelled", "label": "E", "body": [], "then": "swallow"}]}))),
        ("spawn into no group", json.dumps(prog({"op": "spawn", "group": "nope", "task": {"name": "a", "body": []}}))),
        ("empty line", ""),
    ]

    def test_each_bad_line_gets_an_error_and_the_driver_goes_on(self):
        for v in self.versions(MODERN):
            with self.subTest(python=v):
                lines = []
                for _, text in self.BAD:
                    lines += [text, json.dumps(SLEEP1)]
                _, outs = outputs(v, lines)
                self.assertEqual(len(outs), 2 * len(self.BAD), "one reply per input line")
                for i, (what, _) in enumerate(self.BAD):
                    err, ok = outs[2 * i], outs[2 * i + 1]
                    self.assertIn("error", err, "%s: expected an error line, got %s" % (what, err))
                    self.assertIsInstance(err["error"], str)
                    self.assertIsInstance(err["where"], str)
                    self.assertEqual(err["kind"], "input", what)
                    self.assertEqual(err["line"], 2 * i + 1, what)
                    self.assertEqual(ok.get("end_time"), 1, "%s: the next program must still run" % what)

    def test_where_points_into_the_program(self):
        for v in self.versions(["3.13.0"]):
            _, outs = outputs(v, [json.dumps(prog({"op": "sleep", "d": 0},
                                                  {"op": "task", "task": {"name": "a", "body": [{"op": "fly"}]}}))])
            self.assertEqual(outs[0]["where"], "main[1].task.body[0].op")

    def test_3_10_refuses_what_it_lacks(self):
        for v in self.versions(["3.10.13"]):
            _, outs = outputs(v, [json.dumps(prog({"op": "group", "name": "g", "body": []})),
                                  json.dumps(prog({"op": "gather", "name": "G", "return_exceptions": True,
                                                   "children": [{"name": "a", "body": [{"op": "sleep", "d": 2}]}]}))])
            self.assertIn("error", outs[0])
            self.assertIn("group", outs[0]["error"])
            self.assertEqual(outs[0]["where"], "capabilities")
            self.assertEqual(outs[0]["kind"], "unsupported")  # counted n/a by the check, not failed
            # gather exists in 3.10 (GA-1): the second program runs.
            self.assertEqual(outs[1]["scopes"]["G"], {"end": 2, "value": [{"value": None}]})


class VirtualClockTest(Base):
    def test_sleep_1000_costs_no_wall_time(self):
        p = prog({"op": "sleep", "d": 1000},
                 {"op": "task", "task": {"name": "a", "body": [{"op": "sleep", "d": 100000}]}},
                 {"op": "await", "target": "a"})
        for v in self.versions(ALL):
            with self.subTest(python=v):
                t0 = time.monotonic()
                _, outs = outputs(v, [json.dumps(p)])
                wall = time.monotonic() - t0
                self.assertEqual(outs[0]["end_time"], 101000)
                self.assertEqual(outs[0]["tasks"]["a"]["start"], 1000)
                self.assertEqual(outs[0]["tasks"]["a"]["end"], 101000)
                self.assertLess(wall, 10.0, "virtual sleeps took %.1fs of wall time" % wall)

    def test_time_jumps_to_the_next_timer(self):
        # Three tasks sleeping 3, 1, 2 end at 3, 1, 2 (SCHED-2); main's own
        # sleep(0) does not move time (SCHED-3).
        p = prog({"op": "sleep", "d": 0},
                 {"op": "gather", "name": "G", "return_exceptions": False, "children": [
                     {"name": "a", "body": [{"op": "sleep", "d": 3}]},
                     {"name": "b", "body": [{"op": "sleep", "d": 1}]},
                     {"name": "c", "body": [{"op": "sleep", "d": 2}]}]})
        for v in self.versions(ALL):
            with self.subTest(python=v):
                _, outs = outputs(v, [json.dumps(p)])
                ends = {n: t["end"] for n, t in outs[0]["tasks"].items()}
                self.assertEqual(ends, {"main": 3, "a": 3, "b": 1, "c": 2})

    def test_each_program_starts_at_time_zero(self):
        for v in self.versions(MODERN):
            _, outs = outputs(v, [json.dumps(prog({"op": "sleep", "d": 5}))] * 3)
            self.assertEqual([o["end_time"] for o in outs], [5, 5, 5])

    def test_deadlock_is_reported_not_hung(self):
        p = prog({"op": "task", "task": {"name": "a", "body": [{"op": "sleep", "d": 1}, {"op": "await", "target": "b"}]}},
                 {"op": "task", "task": {"name": "b", "body": [{"op": "sleep", "d": 1}, {"op": "await", "target": "a"}]}},
                 {"op": "await", "target": "a"})
        for v in self.versions(ALL):
            with self.subTest(python=v):
                proc = run(v, [json.dumps(p), json.dumps(SLEEP1)], timeout=60)
                self.assertEqual(proc.returncode, 0, proc.stderr)
                outs = [json.loads(l) for l in proc.stdout.splitlines()[1:]]
                self.assertIn("deadlock", outs[0]["error"])
                self.assertEqual(outs[0]["where"], "run")
                self.assertEqual(outs[0]["kind"], "deadlock")
                self.assertEqual(outs[1]["end_time"], 1)
                self.assertEqual(proc.stderr, "", "nothing leaks to stderr")


class DeepNestingTest(Base):
    """spec/program.h allows 1000 nested bodies. The driver must run them on
    every version and keep serving."""

    @staticmethod
    def nested(depth, kind):
        body = [{"op": "sleep", "d": 1}, {"op": "raise", "label": "E"}]
        for i in range(depth - 1):
            if kind == "try":
                body = [{"op": "try", "name": "t%d" % i, "body": body,
                         "handlers": [{"name": "h%d" % i, "catch": "error", "body": [], "then": "reraise"}]}]
            else:
                body = [{"op": "group", "name": "t%d" % i, "body": body}]
        return prog(*body)

    def test_1000_levels(self):
        import sys
        old = sys.getrecursionlimit()
        sys.setrecursionlimit(20000)  # json of 1000-deep programs and outcomes
        self.addCleanup(sys.setrecursionlimit, old)
        lines = [json.dumps(self.nested(1000, k)) for k in ("try", "group")]
        for v in self.versions(MODERN):
            with self.subTest(python=v):
                proc = run(v, lines + [json.dumps(SLEEP1)], timeout=300)
                self.assertEqual(proc.returncode, 0, proc.stderr[-2000:])
                outs = [json.loads(l) for l in proc.stdout.splitlines()[1:]]
                self.assertEqual(len(outs), 3)
                # The try chain re-raises E through every level (RT-3).
                self.assertEqual(outs[0].get("run"), {"type": "error", "label": "E"}, str(outs[0])[:300])
                self.assertEqual(outs[0]["end_time"], 1)
                # 1000 nested groups: ExceptionGroup([ExceptionGroup([...[E]])])
                # (TG-4, EG-2). 3.12's C limits need the fresh thread and the
                # fallback JSON coders of the driver.
                self.assertNotIn("error", outs[1], str(outs[1])[:300])
                self.assertEqual(outs[1]["end_time"], 1)
                depth, exc = 0, outs[1]["run"]
                while exc["type"] == "group":
                    self.assertEqual(len(exc["children"]), 1)
                    depth, exc = depth + 1, exc["children"][0]
                self.assertEqual((depth, exc), (999, {"type": "error", "label": "E"}))
                self.assertEqual(outs[2]["end_time"], 1, "the driver goes on")


class RunawayRecursionTest(Base):
    """n1 waits (wait_for, no deadline) on n7, which awaits n1: when the
    timeout cancels n1, cancel() follows the await chain (CX-7) round the
    cycle without end. CPython 3.12+ raise RecursionError inside asyncio's
    callback; 3.11 overflowed the C stack and died when the driver raised the
    recursion limit for the whole process. The driver must answer with an
    error line and go on."""

    CYCLE = prog({"op": "shield", "name": "n0", "task": {"name": "n1", "body": [
        {"op": "timeout", "name": "n2", "d": 2, "body": [
            {"op": "wait_for", "name": "n6", "d": None,
             "task": {"name": "n7", "body": [{"op": "await", "target": "n1"}]}}]}]}})

    def test_cancel_round_an_await_cycle(self):
        for v in self.versions(MODERN):
            with self.subTest(python=v):
                proc = run(v, [json.dumps(self.CYCLE), json.dumps(SLEEP1), json.dumps(SLEEP1)], timeout=120)
                self.assertEqual(proc.returncode, 0, "driver died: rc %d %s" % (proc.returncode, proc.stderr[-500:]))
                outs = [json.loads(l) for l in proc.stdout.splitlines()[1:]]
                self.assertEqual(len(outs), 3)
                self.assertIn("error", outs[0])
                self.assertIn("RecursionError", outs[0]["error"])
                self.assertEqual([o.get("end_time") for o in outs[1:]], [1, 1],
                                 "later programs still run (3.12.1 poisons the thread)")
                self.assertEqual(proc.stderr, "")


class ProgramModeTest(Base):
    def test_program_file_pretty_printed(self):
        import tempfile
        for v in self.versions(["3.13.0"]):
            with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
                json.dump(prog({"op": "sleep", "d": 2}, {"op": "raise", "label": "E1"}), f)
            try:
                proc = subprocess.run([python(v), "-I", DRIVER, "--program", f.name], capture_output=True,
                                      text=True, timeout=60)
            finally:
                os.unlink(f.name)
            self.assertEqual(proc.returncode, 0, proc.stderr)
            self.assertGreater(len(proc.stdout.splitlines()), 5, "pretty-printed")
            out = json.loads(proc.stdout)
            # RT-3: run raises main's exception.
            self.assertEqual(out["run"], {"type": "error", "label": "E1"})
            self.assertEqual(out["end_time"], 2)


class UnretrievedTest(Base):
    """RT-4: the flag-based detection must equal what asyncio itself logs
    ("Task exception was never retrieved") once every reference is gone."""

    def test_flag_and_gc_agree_on_every_case(self):
        cases = []
        for fn in sorted(os.listdir(CASES_DIR)):
            if fn.endswith(".json"):
                with open(os.path.join(CASES_DIR, fn)) as f:
                    cases.append(json.load(f))
        self.assertTrue(cases, "no golden cases in the runfiles")
        lines = [json.dumps(c["program"]) for c in cases]
        for v in self.versions(MODERN):
            with self.subTest(python=v):
                _, by_flag = outputs(v, lines)
                _, by_gc = outputs(v, lines, "--unretrieved", "gc")
                listed = 0
                for c, a, b in zip(cases, by_flag, by_gc):
                    self.assertEqual(a["unretrieved"], b["unretrieved"],
                                     "case %s (rules %s, RT-4)" % (c["name"], ", ".join(c["rules"])))
                    self.assertEqual(a, b, c["name"])
                    listed += len(a["unretrieved"])
                self.assertGreater(listed, 0, "the cases must exercise RT-4")

    def test_leftover_finally_after_the_run_retrieves_nothing(self):
        # Found by the check (tree 2792389610479177221). t4's base error
        # stops the loop (RT-5); run's drain cancels t0, whose except*
        # handler shields t3; t3's base error stops the drain at once, so
        # the shield's inner callback never runs: nobody retrieved t3's
        # exception (SH-3, RT-4). t0 is left pending with `await t3` in its
        # finally block, which runs only when the driver closes the leftover
        # coroutine after the run; that must not count as a retrieval.
        p = prog({"op": "gather", "name": "ga0", "return_exceptions": True, "children": [
            {"name": "t0", "body": [{"op": "try", "name": "try0", "body": [{"op": "sleep", "d": 0}],
                                     "handlers": [{"name": "h1", "catch": "any", "star": True, "then": "swallow",
                                                   "body": [{"op": "shield", "name": "sh0", "task": {
                                                       "name": "t3", "body": [{"op": "raise", "label": "E3", "base": True}]}}]}],
                                     "finally": {"name": "f0", "body": [{"op": "await", "target": "t3"}]}}]},
            {"name": "t4", "body": [{"op": "raise", "label": "E2", "base": True}]}]})
        for v in self.versions(MODERN):
            with self.subTest(python=v):
                _, (out,) = outputs(v, [p])
                self.assertEqual(out["tasks"]["t0"]["state"], "pending")
                self.assertEqual(out["unretrieved"], [{"task": "t3", "error": {"type": "base", "label": "E3"}}])


class ChannelsTest(Base):
    """RT-8: the exception handler's calls and the RuntimeWarnings of a run
    are recorded, not hidden."""

    REFUSED = prog({"op": "group", "name": "g", "body": [{"op": "sleep", "d": 0}]},
                   {"op": "spawn", "group": "g", "task": {"name": "x", "body": []}})

    def test_hello_declares_the_channels(self):
        for v in self.versions(MODERN):
            with self.subTest(python=v):
                hello, _ = outputs(v, [])
                self.assertEqual(hello["hello"]["observes"], ["exception_handler", "warnings"])

    def test_refused_spawn_warns_never_awaited_before_3_13(self):
        # TG-10: 3.11/3.12 leave the refused coroutine unawaited; 3.13 closes
        # it (gh-115957). The driver must not close it itself.
        for v in self.versions(MODERN):
            with self.subTest(python=v):
                for mode in ("flag", "gc"):
                    _, (out,) = outputs(v, [self.REFUSED], "--unretrieved", mode)
                    self.assertEqual(out["tasks"]["main"]["error"]["what"], "taskgroup_finished")
                    want = [] if v.startswith("3.13") else [{"kind": "never_awaited", "task": "x"}]
                    self.assertEqual(out["warnings"], want, mode)

    def test_never_retrieved_and_shutdown_reach_the_handler(self):
        # RT-4 / RT-8: f's error is never retrieved; leftover t raises while
        # run drains it.
        p = prog({"op": "task", "task": {"name": "f", "body": [{"op": "raise", "label": "E1"}]}},
                 {"op": "task", "task": {"name": "t", "body": [
                     {"op": "try", "name": "tr", "body": [{"op": "sleep", "d": 5}],
                      "handlers": [{"name": "h", "catch": "cancelled", "then": "swallow",
                                    "body": [{"op": "raise", "label": "E2"}]}]}]}},
                 {"op": "sleep", "d": 1})
        for v in self.versions(MODERN):
            with self.subTest(python=v):
                _, (out,) = outputs(v, [p])
                self.assertEqual(out["handler"], [
                    {"kind": "never_retrieved", "task": "f", "error": {"type": "error", "label": "E1"}},
                    {"kind": "run_shutdown", "task": "t", "error": {"type": "error", "label": "E2"}}])
                self.assertEqual([u["task"] for u in out["unretrieved"]], ["f", "t"])


class ThroughputTest(Base):
    def test_programs_per_second(self):
        # A TaskGroup of three children, one failing, caught by except*:
        # a typical generated program.
        p = prog({"op": "try", "name": "T", "body": [{"op": "group", "name": "g", "body": [
            {"op": "spawn", "group": "g", "task": {"name": "a", "body": [{"op": "sleep", "d": 1}, {"op": "raise", "label": "E1"}]}},
            {"op": "spawn", "group": "g", "task": {"name": "b", "body": [{"op": "sleep", "d": 5}]}},
            {"op": "spawn", "group": "g", "task": {"name": "c", "body": [{"op": "sleep", "d": 0}, {"op": "return", "value": "C"}]}}]}],
            "handlers": [{"name": "h", "catch": "error", "star": True, "body": [], "then": "swallow"}]})
        n = 2000
        for v in self.versions(MODERN):
            with self.subTest(python=v):
                t0 = time.monotonic()
                _, outs = outputs(v, [json.dumps(p)] * n)
                rate = n / (time.monotonic() - t0)
                print("CPython %s: %.0f programs/second" % (v, rate))
                self.assertEqual(len(outs), n)
                self.assertTrue(all(o == outs[0] for o in outs), "same program, same outcome (INV-9)")
                self.assertGreater(rate, 100, "driver throughput collapsed")


if __name__ == "__main__":
    unittest.main(verbosity=2)
