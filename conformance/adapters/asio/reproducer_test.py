"""The Asio reproducers (asio_emit_cc, the reproducer command of adapter.json).

For golden cases that Asio fails under claimed rules (FINDINGS.md: TG-1
cause F, EG-5 cause D, TO-3 cause H), the test writes the reproducer input
the check would (the program, the rule, and as "required" every element of
the case's CPython recording, which the model reproduces), lets
asio_emit_cc write the .cc, builds it with the system g++ exactly as its
header says (only Boost and the standard library), and runs it. Each must
exit 1 naming its rule, and every element it prints as observed must be the
one the adapter itself reports for the program: the reproducer shows what the
check saw, not something else. A program with a construct the adapter does
not map is refused.
"""
import json
import os
import re
import subprocess
import tempfile
import unittest


def _root():
    srcdir = os.environ.get("TEST_SRCDIR")
    if srcdir:
        return os.path.join(srcdir, os.environ.get("TEST_WORKSPACE", "asyncspec"))
    return os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


ROOT = _root()
ASIO = os.path.join(ROOT, "conformance", "adapters", "asio")
TMP = os.environ.get("TEST_TMPDIR") or tempfile.mkdtemp()


def clean(v):
    if isinstance(v, dict):
        return {k: clean(x) for k, x in v.items() if x is not None}
    if isinstance(v, list):
        return [clean(x) for x in v]
    return v


def elements(outcome):
    """The outcome's elements by name, as the check and the reproducers name them."""
    m = {}
    for part in ("tasks", "blocks", "scopes"):
        for k, v in outcome.get(part, {}).items():
            m[part + "." + k] = clean(v)
    m["run"] = outcome.get("run")
    for u in outcome.get("unretrieved", []):
        m["unretrieved." + u["task"]] = clean(u["error"])
    m["end_time"] = outcome["end_time"]
    return m


def adapter_outcome(program, args):
    p = subprocess.run([os.path.join(ASIO, "asio_adapter"), *args], input=json.dumps(program) + "\n",
                       capture_output=True, text=True, timeout=60)
    lines = p.stdout.splitlines()
    assert p.returncode == 0 and len(lines) == 2, (p.returncode, p.stdout, p.stderr)
    return json.loads(lines[1])


def emit(program, rule, required, args=(), name="repro"):
    data = {"file": name + ".cc", "program": program, "rule": {"id": rule, "title": "title of " + rule, "statement": "statement of " + rule},
            "profile": "3.13", "runtime": "asio (test)", "replay": "(test)", "required": required, "reported": {}}
    return subprocess.run([os.path.join(ASIO, "asio_emit_cc"), *args], input=json.dumps(data),
                          capture_output=True, text=True, timeout=60)


class ReproducerTest(unittest.TestCase):

    def check_case(self, case, rule, args=()):
        with open(os.path.join(ROOT, "spec", "cases", case + ".json")) as f:
            golden = json.load(f)
        program = golden["program"]
        required = elements(golden["expected"])
        p = emit(program, rule, required, args, name=case)
        self.assertEqual(p.returncode, 0, p.stderr)
        source = os.path.join(TMP, case + ".cc")
        with open(source, "w") as f:
            f.write(p.stdout)
        m = re.search(r"^//   (g\+\+ .*) && \./(\S+)$", p.stdout, re.M)
        self.assertIsNotNone(m, "no build line in the header")
        self.assertIn(" -o %s %s.cc " % (case, case), m.group(1))
        exe = os.path.join(TMP, m.group(2))
        b = subprocess.run(m.group(1).split(), cwd=TMP, capture_output=True, text=True, timeout=600)
        self.assertEqual(b.returncode, 0, b.stderr[-3000:])
        r = subprocess.run([exe], capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertIn("asyncspec reproducer: rule %s, title of %s" % (rule, rule), r.stdout)
        self.assertIn("\nFAIL %s: " % rule, r.stdout)
        observed = dict((k, json.loads(v)) for k, v in
                        re.findall(r"^(\S+): (?:as required|DIFFERS)\n  observed: (.*)$", r.stdout, re.M))
        self.assertEqual(sorted(observed), sorted(required))
        reported = elements(adapter_outcome(program, args))
        for key, got in observed.items():
            self.assertEqual(got, reported.get(key, "(absent)"), "%s: the reproducer and the adapter disagree" % key)
        self.assertTrue(any(observed[k] != required[k] for k in required), "nothing differs")

    def test_tg1_group_child_awaited_from_outside(self):  # cause F: awaiting does not pass the cancel on
        self.check_case("cx_await_group_child_from_outside", "TG-1")

    def test_eg5_leftover_raises_during_drain(self):  # cause D: leftovers not cancelled
        self.check_case("rt_leftover_raises_during_drain", "EG-5")

    def test_to3_body_or_timer(self):  # cause H: `body || timer`
        self.check_case("to_expired_but_body_swallowed", "TO-3")

    def test_unmapped_construct_refused(self):
        program = {"asyncspec": 1, "main": [{"op": "timeout", "name": "tm", "d": 1,
                                             "body": [{"op": "reschedule", "timeout": "tm", "d": 2}]}]}
        p = emit(program, "TO-5", {"run": None})
        self.assertEqual(p.returncode, 1)
        self.assertIn("no Asio mapping for reschedule tm", p.stderr)
        self.assertEqual(p.stdout, "")


if __name__ == "__main__":
    unittest.main()
