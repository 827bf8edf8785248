"""The Asio reproducers (asio_emit_cc, the reproducer command of adapter.json).

For golden cases that Asio fails under claimed rules (FINDINGS.md: TG-1
cause F, EG-5 cause D, TO-3 cause H), the test writes the reproducer input
the check would (the program, the rule, and as "required" every element of
the case's CPython recording, which the model reproduces), lets
asio_emit_cc write the .cc, checks the g++ line of its header, and builds
the three with that line's flags (only Boost and the standard library) as
one program: each file in a namespace of its own, a main choosing the case
by name, so Boost.Asio is compiled once instead of once per case. Each must
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


# (golden case, rule it fails on Asio): FINDINGS.md's causes F, D and H.
CASES = [("cx_await_group_child_from_outside", "TG-1"),
         ("rt_leftover_raises_during_drain", "EG-5"),
         ("to_expired_but_body_swallowed", "TO-3")]
_BUILT = {}


def golden(case):
    with open(os.path.join(ROOT, "spec", "cases", case + ".json")) as f:
        g = json.load(f)
    return g["program"], elements(g["expected"])


def build_all():
    """Emits every case's .cc and builds them as one program; returns
    {case: (emitted source, header build line)} and the program's path, or
    raises AssertionError saying what failed."""
    if _BUILT:
        return _BUILT["cases"], _BUILT["exe"]
    cases, includes, parts, dispatch = {}, set(), [], []
    for i, (case, rule) in enumerate(CASES):
        program, required = golden(case)
        p = emit(program, rule, required, name=case)
        assert p.returncode == 0, "%s: asio_emit_cc failed: %s" % (case, p.stderr)
        source = os.path.join(TMP, case + ".cc")
        with open(source, "w") as f:
            f.write(p.stdout)
        m = re.search(r"^//   (g\+\+ .*) && \./(\S+)$", p.stdout, re.M)
        cases[case] = (p.stdout, m and m.group(1))
        includes.update(l for l in p.stdout.splitlines() if l.startswith("#include"))
        parts.append('namespace case_%d {\n#include "%s"\n}  // namespace case_%d\n' % (i, source, i))
        dispatch.append('  if (argc == 2 && std::strcmp(argv[1], "%s") == 0) return case_%d::main();\n' % (case, i))
    line = next((l for _, l in cases.values() if l), None)
    assert line, "no build line in any header"
    bundle = os.path.join(TMP, "all_cases.cc")
    with open(bundle, "w") as f:
        f.write("\n".join(sorted(includes)) + "\n#include <cstring>\n" + "".join(parts) +
                "int main(int argc, char** argv) {\n" + "".join(dispatch) + "  return 2;\n}\n")
    # The header's flags, with the bundle as the one source and output.
    words = line.split()
    o = words.index("-o")
    cmd = words[:o] + ["-Wno-main", "-o", "all_cases", "all_cases.cc"] + [w for w in words[o + 2:] if not w.endswith(".cc")]
    b = subprocess.run(cmd, cwd=TMP, capture_output=True, text=True, timeout=900)
    assert b.returncode == 0, "the reproducers do not build with their header's flags:\n" + b.stderr[-3000:]
    _BUILT.update(cases=cases, exe=os.path.join(TMP, "all_cases"))
    return cases, _BUILT["exe"]


class ReproducerTest(unittest.TestCase):

    def check_case(self, case, rule, args=()):
        program, required = golden(case)
        cases, exe = build_all()
        source, line = cases[case]
        self.assertIsNotNone(line, "no build line in the header")
        self.assertIn(" -o %s %s.cc " % (case, case), line)
        r = subprocess.run([exe, case], capture_output=True, text=True, timeout=30)
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
