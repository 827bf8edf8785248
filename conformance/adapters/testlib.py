"""Helpers for the adapters' tests: start an adapter as the check does
(argv, pipes, working directory not its own), feed it programs, read the
hello and one reply per program.

Expected values in the tests that use this are derived from the runtimes'
documented semantics (each test says which), never from the adapter's
output."""

import json
import os
import subprocess
import time


def adapters_dir():
    srcdir = os.environ.get("TEST_SRCDIR")
    if srcdir:
        return os.path.join(srcdir, os.environ.get("TEST_WORKSPACE", "asyncspec"),
                            "conformance", "adapters")
    return os.path.dirname(os.path.abspath(__file__))


def manifest_command(name, runtime):
    """The command of `runtime` in conformance/adapters/<name>/adapter.json,
    with {dir} replaced as ADAPTERS.md says."""
    d = os.path.join(adapters_dir(), name)
    with open(os.path.join(d, "adapter.json")) as f:
        m = json.load(f)
    for r in m["runtimes"]:
        if r["name"] == runtime:
            return [a.replace("{dir}", d) for a in r["command"]]
    raise KeyError(runtime)


def run(cmd, programs, timeout=120):
    """Returns (hello, replies, wall seconds)."""
    text = "".join((p if isinstance(p, str) else json.dumps(p)) + "\n" for p in programs)
    t0 = time.monotonic()
    # As the check would: no PYTHONPATH of ours (Bazel's points into
    # runfiles, where conformance/adapters/trio would shadow trio itself;
    # the manifests run Python with -I anyway).
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run(cmd, input=text, capture_output=True, text=True, cwd="/",
                          timeout=timeout, env=env)
    wall = time.monotonic() - t0
    if proc.returncode != 0:
        raise AssertionError("adapter exited %d: %s" % (proc.returncode, proc.stderr[-2000:]))
    lines = proc.stdout.splitlines()
    if len(lines) != len(programs) + 1:
        raise AssertionError("%d programs, %d lines out:\n%s\n%s"
                             % (len(programs), len(lines), proc.stdout, proc.stderr[-2000:]))
    out = [json.loads(l) for l in lines]
    return out[0]["hello"], out[1:], wall


def prog(*main):
    return {"asyncspec": 1, "main": list(main)}


def sleep(d):
    return {"op": "sleep", "d": d}


def raise_(label, base=False):
    return {"op": "raise", "label": label, "base": base}


def group(name, *body):
    return {"op": "group", "name": name, "body": list(body)}


def spawn(g, name, *body):
    return {"op": "spawn", "group": g, "task": {"name": name, "body": list(body)}}


def task(name, *body):
    return {"op": "task", "task": {"name": name, "body": list(body)}}


def timeout(name, d, *body):
    return {"op": "timeout", "name": name, "d": d, "body": list(body)}


def try_(name, body, *handlers, fin=None):
    st = {"op": "try", "name": name, "body": list(body), "handlers": list(handlers)}
    if fin is not None:
        st["finally"] = fin
    return st


def handler(name, catch, then="swallow", body=(), star=False, label=None):
    h = {"name": name, "catch": catch, "star": star, "body": list(body), "then": then}
    if label is not None:
        h["label"] = label
    return h


def err(label):
    return {"type": "error", "label": label}


def group_exc(*children, base=False):
    return {"type": "group", "base": base, "children": list(children)}


def without_text(o):
    """Outcomes are compared without a runtime error's `text` (FORMAT.md)."""
    if isinstance(o, dict):
        return {k: without_text(v) for k, v in o.items() if k != "text"}
    if isinstance(o, list):
        return [without_text(v) for v in o]
    return o
