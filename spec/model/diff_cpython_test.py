#!/usr/bin/env python3
"""The model against real CPython on seeded random programs.

For each interpreter under `pyenv root` (3.11.7, 3.12.1, 3.13.0; a missing
one fails the test, tools/testing/require.py) this runs 300 seeded random programs of
diff_cpython.py through the CPython driver twice (forward, then in reverse
order: another memory layout) and through model_cli with that version's
profile. Programs whose two CPython outcomes differ depend on an order that
spec/RULES.md leaves free (TG-2 / RT-2: set iteration) and are skipped, as
are programs the driver refuses (await cycles). Every other outcome must
equal the model's exactly.
"""

import json
import os
import random
import re
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import diff_cpython as d  # noqa: E402
from require import pyenv_python, require  # noqa: E402

CLI = os.path.join(HERE, "model_cli")
SEED = 20261125
N = 300


def run_driver(python, progs):
    text = "".join(json.dumps(p) + "\n" for p in progs)
    r = subprocess.run([python, "-I", d.DRIVER], input=text, capture_output=True, text=True,
                       cwd="/", check=False)
    lines = r.stdout.splitlines()[1:]
    if len(lines) != len(progs):
        raise AssertionError("driver under %s answered %d of %d programs:\n%s"
                             % (python, len(lines), len(progs), r.stderr[-2000:]))
    return [d.norm(json.loads(l)) for l in lines]


class ModelVersusCPython(unittest.TestCase):
    def test_random_programs(self):
        rng = random.Random(SEED)
        progs = [d.program(rng, i) for i in range(N)]
        text = "".join(json.dumps(p) + "\n" for p in progs)
        ran = 0
        for ver, full in sorted(d.PY.items()):
            python = pyenv_python(full)
            require(os.path.exists(python), "CPython %s is not installed at %s" % (full, python))
            forward = run_driver(python, progs)
            backward = list(reversed(run_driver(python, list(reversed(progs)))))
            # Exit 2 says some line was not a valid program (an await cycle the
            # driver refuses too); each line still gets its answer.
            mr = subprocess.run([CLI, "--profile=shipped-" + ver], input=text, capture_output=True,
                                text=True, check=False)
            self.assertIn(mr.returncode, (0, 2), mr.stderr[-2000:])
            m = mr.stdout.splitlines()
            # Lines model_cli refused (named on stderr "model_cli: line N: ..."),
            # e.g. a task awaiting itself, which spec/validate.h refuses.
            refused = {int(x) - 1 for x in re.findall(r"^model_cli: line (\d+):", mr.stderr, re.M)}
            self.assertEqual(len(m), N)
            compared = 0
            for i, (a, b, mo) in enumerate(zip(forward, backward, m)):
                if a != b:
                    continue  # CPython itself is not reproducible here (RULES "Freedom under ties")
                if "error" in a and a["error"] != "deadlock":
                    continue  # refused by the driver (e.g. an await cycle)
                if i in refused:
                    continue  # refused by the model's validator
                compared += 1
                mo = d.norm(json.loads(mo))
                self.assertEqual(
                    mo, a,
                    "CPython %s and the model differ on random program %d (seed %d); "
                    "the model must reproduce CPython's outcome (RULES.md INV-9 and the "
                    "rules the program exercises):\n%s" % (ver, i, SEED, json.dumps(progs[i])))
            # About a quarter await themselves, which both validators refuse.
            self.assertGreater(compared, N * 0.7)
            ran += 1
        self.assertEqual(ran, len(d.PY))


if __name__ == "__main__":
    unittest.main()
