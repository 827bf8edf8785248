"""Tests of the trio adapter (conformance/adapters/trio), run through its
manifest command as the check runs it.

Expected outcomes follow from trio's documented semantics (trio docs,
"Cancellation and timeouts" and "Tasks let you do multiple things at once"),
not from the adapter's output:
- a nursery's block is left only when every child is done (TG-1); a child's
  exception cancels the nursery's scope, i.e. the other children and the
  body (TG-2); with strict_exception_groups the nursery raises an
  ExceptionGroup even for one error (TG-3);
- cancellation is level-triggered: once a scope is cancelled, every
  checkpoint inside it raises Cancelled, in an except or finally block too
  (RULES.md "Rule profiles", why CX-6 is asyncio-specific);
- fail_at raises TooSlowError when its own deadline cancelled the block
  (TO-2, TO-3); its deadline can be moved (TO-1);
- start_soon on a nursery that has closed raises RuntimeError (TG-10's
  "finished" case); a child started after its nursery was cancelled still
  runs up to its first checkpoint.
"""

import json
import os
import subprocess
import tempfile
import time
import unittest

import testlib as T
from require import require

PY = "/usr/bin/python3.11"
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}


def have_trio():
    return os.path.exists(PY) and subprocess.run(
        [PY, "-I", "-c", "import trio"], capture_output=True).returncode == 0


class TrioAdapterTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        require(have_trio(), "no python3-trio for /usr/bin/python3.11 (Debian's python3-trio)")
        cls.cmd = T.manifest_command("trio", "trio")

    def one(self, program):
        hello, (out,), _ = T.run(self.cmd, [program])
        return out

    def test_hello(self):
        hello, _, _ = T.run(self.cmd, [])
        version = subprocess.run([PY, "-I", "-c", "import trio; print(trio.__version__)"],
                                 capture_output=True, text=True).stdout.strip()
        self.assertEqual(hello["runtime"], "trio")
        self.assertEqual(hello["version"], version)
        self.assertEqual(hello["rules"], "structured")
        self.assertEqual(hello["clock"], "virtual")
        for cap in ("group", "spawn", "timeout", "reschedule", "try", "except_star"):
            self.assertIn(cap, hello["capabilities"])
        # Task handles and unstructured combinators have no trio form.
        for cap in ("task", "cancel", "await", "gather", "shield", "wait_for", "uncancel"):
            self.assertNotIn(cap, hello["capabilities"])

    def test_virtual_clock(self):
        # MockClock(autojump_threshold=0): sleep 1000 ends at 1000, at no wall cost.
        t0 = time.monotonic()
        out = self.one(T.prog(T.sleep(1000)))
        self.assertLess(time.monotonic() - t0, 10)
        self.assertEqual(out["end_time"], 1000)
        self.assertEqual(out["tasks"]["main"], {"start": 0, "end": 1000, "state": "returned", "value": None})

    def test_child_failure_cancels_siblings_level_triggered(self):
        # TG-2: a's E1 at 1 cancels b and the body. b's handler starts (INV-4)
        # but its sleep is a checkpoint in a cancelled scope: Cancelled again
        # at once, so the handler never ends (level-triggered). TG-3: the
        # nursery raises ExceptionGroup([E1]).
        out = self.one(T.prog(T.group(
            "g",
            T.spawn("g", "a", T.sleep(1), T.raise_("E1")),
            T.spawn("g", "b", T.try_("t", [T.sleep(5)],
                                     T.handler("h", "cancelled", "reraise", [T.sleep(1)]))),
            T.sleep(3))))
        eg = T.group_exc(T.err("E1"))
        self.assertEqual(out["tasks"]["a"], {"start": 0, "end": 1, "state": "raised", "error": T.err("E1")})
        self.assertEqual(out["tasks"]["b"], {"start": 0, "end": 1, "state": "cancelled",
                                             "error": {"type": "cancelled"}})
        self.assertEqual(out["blocks"], {"h": {"start": 1, "end": None}})
        self.assertEqual(out["scopes"]["g"], {"end": 1, "raised": eg})
        self.assertEqual(out["run"], eg)
        self.assertEqual(out["unretrieved"], [])
        self.assertEqual(out["end_time"], 1)

    def test_fail_at_and_reschedule(self):
        # TO-2/TO-3: the deadline (moved from 10 to 1 + 1 at time 1) cancels
        # the sleep at 2 and the scope raises TooSlowError, caught by h.
        out = self.one(T.prog(T.try_(
            "t", [T.timeout("tm", 10, T.sleep(1), {"op": "reschedule", "timeout": "tm", "d": 1},
                            T.sleep(5))],
            T.handler("h", "timeout"))))
        self.assertEqual(out["scopes"]["tm"], {"end": 2, "raised": {"type": "timeout"}, "expired": True})
        self.assertEqual(out["scopes"]["t"], {"end": 2})
        self.assertEqual(out["blocks"], {"h": {"start": 2, "end": 2}})
        self.assertIsNone(out["run"])

    def test_timeout_none_never_expires(self):
        out = self.one(T.prog(T.timeout("tm", None, T.sleep(3))))
        self.assertEqual(out["scopes"]["tm"], {"end": 3, "expired": False})

    def test_spawn_into_closed_nursery(self):
        # "Nursery is closed to new arrivals": the finished case of TG-10.
        out = self.one(T.prog(
            T.group("g", T.sleep(0)),
            T.try_("t", [T.spawn("g", "late", T.sleep(0))], T.handler("h", "runtime"))))
        self.assertEqual(T.without_text(out["scopes"]["t"]), {"end": 0})
        self.assertEqual(out["blocks"], {"h": {"start": 0, "end": 0}})
        self.assertNotIn("late", out["tasks"])  # refused: never created

    def test_child_started_in_cancelled_nursery_runs_to_first_checkpoint(self):
        # a fails at 0; b was spawned before that and starts after the
        # cancellation: it runs (start 0) and raises before any checkpoint,
        # so both errors are in the group; c meets the cancellation at its
        # first checkpoint (its sleep).
        out = self.one(T.prog(T.group(
            "g",
            T.spawn("g", "a", T.raise_("E1")),
            T.spawn("g", "b", T.raise_("E2")),
            T.spawn("g", "c", T.sleep(1), T.raise_("E3")))))
        self.assertEqual(out["tasks"]["b"]["start"], 0)
        self.assertEqual(out["tasks"]["c"], {"start": 0, "end": 0, "state": "cancelled",
                                             "error": {"type": "cancelled"}})
        # --order=fifo: a then b, so the group lists E1 then E2, every time (INV-9).
        hello, outs, _ = T.run(self.cmd, [T.prog(T.group(
            "g", T.spawn("g", "a", T.raise_("E1")), T.spawn("g", "b", T.raise_("E2"))))] * 20)
        for o in outs:
            self.assertEqual(o["run"], T.group_exc(T.err("E1"), T.err("E2")))

    def test_except_star_on_a_nursery_group(self):
        # EG-3: except* splits trio's group (a BaseExceptionGroup) by leaf.
        out = self.one(T.prog(T.try_(
            "t", [T.group("g", T.spawn("g", "a", T.raise_("E1")), T.spawn("g", "b", T.raise_("E2")))],
            T.handler("h1", "error", "swallow", star=True, label="E1"))))
        self.assertEqual(out["blocks"], {"h1": {"start": 0, "end": 0}})
        self.assertEqual(out["scopes"]["t"], {"end": 0, "raised": T.group_exc(T.err("E2"))})

    def test_reproducer_runs_alone_and_compares(self):
        # The manifest's reproducer command (ADAPTERS.md "Reproducers") writes
        # a trio-only script. For the level-triggered program above, asyncio
        # semantics (the model) require h to end at 2 (its sleep 1 runs,
        # CX-6); trio cancels that sleep at once, so the script must report
        # the difference and exit 1; told to require what trio does (end
        # null), it must pass.
        program = T.prog(T.group(
            "g",
            T.spawn("g", "a", T.sleep(1), T.raise_("E1")),
            T.spawn("g", "b", T.try_("t", [T.sleep(5)],
                                     T.handler("h", "cancelled", "reraise", [T.sleep(1)]))),
            T.sleep(3)))
        d = os.path.join(T.adapters_dir(), "trio")
        with open(os.path.join(d, "adapter.json")) as f:
            rep = json.load(f)["runtimes"][0]["reproducer"]
        cmd = [a.replace("{dir}", d) for a in rep["command"]]
        self.assertEqual(rep["ext"], "py")
        for required, rc, verdict in (({"start": 1, "end": 2}, 1, "DIFFERS"),
                                      ({"start": 1, "end": None}, 0, "as required")):
            req = {"program": program, "program_text": "main:\n  ...\n",
                   "rule": {"id": "CX-6", "title": "Cleanup runs", "statement": "..."},
                   "profile": "3.13", "runtime": "trio", "replay": "-",
                   "required": {"blocks.h": required}, "reported": {"blocks.h": {"start": 1, "end": None}}}
            script = subprocess.run(cmd, input=json.dumps(req), capture_output=True, text=True,
                                    timeout=60, env=ENV)
            self.assertEqual(script.returncode, 0, script.stderr)
            with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
                f.write(script.stdout)
            try:
                run = subprocess.run([PY, "-I", f.name], capture_output=True, text=True, timeout=60, env=ENV)
            finally:
                os.unlink(f.name)
            self.assertEqual(run.returncode, rc, run.stdout + run.stderr)
            self.assertIn("blocks.h: " + verdict, run.stdout)
            self.assertIn('observed: {"end": null, "start": 1}', run.stdout)

    def test_what_trio_cannot_express_is_unsupported(self):
        hello, outs, _ = T.run(self.cmd, [
            T.prog(T.task("a", T.sleep(1))),                    # no free tasks
            T.prog(T.spawn("g", "a", T.sleep(0)), T.group("g", T.sleep(0))),  # no nursery yet
            "{not json",
        ])
        self.assertEqual(outs[0]["kind"], "unsupported")
        self.assertEqual(outs[1]["kind"], "unsupported")
        self.assertEqual(outs[2]["kind"], "input")
        self.assertEqual([o["line"] for o in outs], [1, 2, 3])


if __name__ == "__main__":
    unittest.main()
