#!/usr/bin/env python3
"""Differential check of the model against real CPython on random programs.

    bazel build //spec/model:model_cli
    python3 spec/model/diff_cpython.py --n 500 --seed 1 [--versions 3.13,3.12,3.11]

Generates random valid programs (spec/FORMAT.md), runs each through the CPython
driver (conformance/adapters/cpython/driver.py) under the local interpreters
and through bazel-bin/spec/model/model_cli with the matching profile, and
reports every program whose outcomes differ (runtime error texts aside).
Mismatching programs are written to /tmp/model_diff_<version>_<i>.json.

This is a development tool (it needs the local pyenv interpreters, so it is
not a Bazel test); the golden cases in spec/cases/ are the checked-in form of
what it found, and //spec/model:golden_test runs them.
"""

import argparse
import json
import os
import random
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
DRIVER = os.path.join(ROOT, "conformance", "adapters", "cpython", "driver.py")
CLI = os.environ.get("MODEL_CLI", os.path.join(ROOT, "bazel-bin", "spec", "model", "model_cli"))
PY = {"3.11": "3.11.7", "3.12": "3.12.1", "3.13": "3.13.0"}


class Gen:
    def __init__(self, rng):
        self.rng = rng
        self.n = 0
        self.tasks = ["main"]
        self.groups = []
        self.steps = 0

    def name(self, prefix):
        self.n += 1
        return "%s%d" % (prefix, self.n)

    def taskdef(self, depth):
        name = self.name("t")
        self.tasks.append(name)
        body = self.body(depth + 1, (), True)
        return {"name": name, "body": body}

    def body(self, depth, timeouts, task_body, groups=()):
        r = self.rng
        out = []
        for _ in range(r.randint(0, 3 if depth < 3 else 1)):
            if self.steps > 28:
                break
            out.append(self.step(depth, timeouts, groups))
        if task_body and r.random() < 0.3:
            out.append({"op": "return", "value": "v%d" % r.randint(1, 3)})
        return out

    def step(self, depth, timeouts, groups):
        r = self.rng
        self.steps += 1
        ops = ["sleep"] * 6 + ["raise"] * 2 + ["cancel"] * 3 + ["await"] * 2
        if depth < 3:
            ops += ["task"] * 2 + ["group"] * 3 + ["gather"] * 2 + ["timeout"] * 2 + \
                   ["shield", "wait_for"] + ["try"] * 3
        if groups or self.groups:
            ops += ["spawn"] * 4
        if timeouts:
            ops += ["reschedule"]
        ops += ["uncancel"]
        op = r.choice(ops)
        if op == "sleep":
            return {"op": "sleep", "d": r.choice([0, 0, 1, 1, 2, 3])}
        if op == "raise":
            return {"op": "raise", "label": r.choice(["E1", "E2", "E3"]), "base": r.random() < 0.06}
        if op == "cancel":
            st = {"op": "cancel", "target": r.choice(self.tasks)}
            if r.random() < 0.3:
                st["msg"] = r.choice(["m1", "m2"])
            return st
        if op == "await":
            return {"op": "await", "target": r.choice(self.tasks)}
        if op == "uncancel":
            return {"op": "uncancel"}
        if op == "task":
            return {"op": "task", "task": self.taskdef(depth)}
        if op == "group":
            name = self.name("g")
            self.groups.append(name)
            return {"op": "group", "name": name, "body": self.body(depth + 1, timeouts, False, groups + (name,))}
        if op == "spawn":
            g = r.choice(list(groups)) if groups and r.random() < 0.8 else r.choice(self.groups)
            return {"op": "spawn", "group": g, "task": self.taskdef(depth)}
        if op == "gather":
            name = self.name("G")
            return {"op": "gather", "name": name,
                    "children": [self.taskdef(depth) for _ in range(r.randint(1, 3))],
                    "return_exceptions": r.random() < 0.5}
        if op == "timeout":
            name = self.name("to")
            return {"op": "timeout", "name": name, "d": r.choice([None, 0, 1, 2, 3]),
                    "body": self.body(depth + 1, timeouts + (name,), False, groups)}
        if op == "reschedule":
            return {"op": "reschedule", "timeout": r.choice(list(timeouts)), "d": r.choice([None, 0, 1, 2])}
        if op == "shield":
            return {"op": "shield", "name": self.name("S"), "task": self.taskdef(depth)}
        if op == "wait_for":
            return {"op": "wait_for", "name": self.name("W"), "task": self.taskdef(depth),
                    "d": r.choice([None, 0, 1, 2, 3])}
        if op == "try":
            star = r.random() < 0.4
            kinds = ["cancelled", "timeout", "error", "base", "runtime", "exception", "any"]
            if not star:
                kinds.append("group")
            hs = []
            for _ in range(r.randint(0, 2)):
                k = r.choice(kinds)
                h = {"name": self.name("h"), "catch": k, "star": star,
                     "body": self.body(depth + 1, timeouts, False, groups),
                     "then": r.choice(["reraise", "swallow", "swallow", "uncancel"])}
                if k in ("error", "base") and r.random() < 0.5:
                    h["label"] = r.choice(["E1", "E2", "E3"])
                hs.append(h)
            st = {"op": "try", "name": self.name("y"), "body": self.body(depth + 1, timeouts, False, groups),
                  "handlers": hs}
            if not hs or r.random() < 0.4:
                st["finally"] = {"name": self.name("f"), "body": self.body(depth + 1, timeouts, False, groups)}
            return st
        raise AssertionError(op)


def program(rng, i):
    g = Gen(rng)
    main = g.body(0, (), True)
    return {"asyncspec": 1, "name": "rand%d" % i, "main": main}


def strip(x):
    if isinstance(x, dict):
        return {k: strip(v) for k, v in x.items() if k not in ("text", "line", "where")}
    if isinstance(x, list):
        return [strip(v) for v in x]
    return x


def norm(o):
    if "error" in o and "tasks" not in o:
        return {"error": "deadlock" if "deadlock" in o["error"] else o["error"]}
    o = strip(o)
    # outcome.h cannot tell a shield/wait_for value null from no value.
    for sc in o.get("scopes", {}).values():
        if sc.get("value", 0) is None:
            del sc["value"]
    return o


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--versions", default="3.13,3.12,3.11")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    progs = [program(rng, i) for i in range(args.n)]
    text = "".join(json.dumps(p) + "\n" for p in progs)
    total_bad = 0
    for ver in args.versions.split(","):
        root = subprocess.run(["pyenv", "root"], capture_output=True, text=True).stdout.strip()
        py = os.path.join(root or os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv")),
                          "versions", PY[ver], "bin", "python3")
        d = subprocess.run([py, "-I", DRIVER], input=text, capture_output=True, text=True, cwd="/")
        dl = d.stdout.splitlines()[1:]
        m = subprocess.run([CLI, "--profile=shipped-" + ver], input=text, capture_output=True, text=True)
        ml = m.stdout.splitlines()
        bad = 0
        if len(dl) != len(progs) or len(ml) != len(progs):
            print("%s: driver gave %d lines, model %d, for %d programs (crash?)" % (ver, len(dl), len(ml), len(progs)))
            total_bad += 1
        driver_errors = 0
        for i, (p, a, b) in enumerate(zip(progs, dl, ml)):
            a, b = norm(json.loads(a)), norm(json.loads(b))
            if "error" in a and a["error"] != "deadlock":
                driver_errors += 1  # the driver could not run it: no verdict
                continue
            if a != b:
                bad += 1
                path = "/tmp/model_diff_%s_%d.json" % (ver, i)
                with open(path, "w") as f:
                    json.dump({"program": p, "cpython": a, "model": b}, f, indent=1, sort_keys=True)
                if bad <= 5:
                    keys = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
                    print("%s program %d differs in %s -> %s" % (ver, i, keys, path))
        print("%s: %d of %d differ (%d driver errors skipped)" % (ver, bad, len(progs), driver_errors))
        total_bad += bad
    return 1 if total_bad else 0


if __name__ == "__main__":
    sys.exit(main())
