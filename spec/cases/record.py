#!/usr/bin/env python3
"""Records the golden cases from real CPython.

    python3 spec/cases/record.py            # (re)write spec/cases/*.json
    python3 spec/cases/record.py --check    # only compare, write nothing

For every case of spec/cases/authoring.py it runs the CPython driver
(conformance/adapters/cpython/driver.py) under each interpreter listed
in VERSIONS (3.11-3.13 native under `pyenv root`, 3.14 and 3.15 the
WebAssembly builds of Pyodide through conformance/adapters/pyodide, which
tools/setup.sh installs) and writes spec/cases/<name>.json:

    {"name", "rules", "description", "program",
     "expected": <outcome from CPython 3.13.0>,
     "versions": {"3.11": <outcome> | "same", "3.12": ..., "3.14": ..., "3.15": ...}}

Every expected outcome comes from CPython; nothing here computes one. Each
interpreter runs the whole list twice, the second time in reverse order (other
memory layout, other task ids), and a case whose outcome differs between the
two runs is refused as non-deterministic (RULES INV-9, and "Freedom under
ties": a golden case must not depend on an unspecified order). Files of
cases no longer in authoring.py are deleted. The version differences are
summarised between the markers of spec/cases/README.md.
"""

import json
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
DRIVER = os.path.join(ROOT, "conformance", "adapters", "cpython", "driver.py")
PYENV = os.path.join(subprocess.run(["pyenv", "root"], capture_output=True, text=True).stdout.strip()
                     or os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv"), "versions")
REFERENCE = "3.13"
VERSIONS = {"3.11": "3.11.7", "3.12": "3.12.1", "3.13": "3.13.0", "3.14": "3.14.2", "3.15": "3.15.0rc1"}
# The versions run through Pyodide: its npm version (adapter.json pins the same).
PYODIDE = {"3.14": "314.0.8", "3.15": "315.0.0-alpha.2"}
BRIDGE = os.path.join(ROOT, "conformance", "adapters", "pyodide", "bridge.mjs")
README = os.path.join(HERE, "README.md")
BEGIN = "<!-- BEGIN GENERATED: version differences (spec/cases/record.py) -->"
END = "<!-- END GENERATED -->"

sys.path.insert(0, HERE)
import authoring  # noqa: E402


def interpreter(full):
    return os.path.join(PYENV, full, "bin", "python3")


def driver_command(short):
    """The command that runs the driver on CPython `short` ("3.14")."""
    if short in PYODIDE:
        return ["node", BRIDGE, "--pyodide=" + PYODIDE[short], DRIVER]
    py = interpreter(VERSIONS[short])
    if not os.path.exists(py):
        raise SystemExit("CPython %s is needed at %s to record" % (VERSIONS[short], py))
    return [py, "-I", DRIVER]


def run_driver(command, programs):
    """Runs the driver once over `programs`; returns the outcome list."""
    text = "".join(json.dumps(p, sort_keys=True) + "\n" for p in programs)
    proc = subprocess.run(command, input=text, capture_output=True,
                          text=True, cwd="/", check=False)
    if proc.returncode != 0:
        raise SystemExit("driver failed under %s:\n%s" % (" ".join(command), proc.stderr))
    lines = proc.stdout.splitlines()
    hello = json.loads(lines[0])
    if "hello" not in hello:
        raise SystemExit("driver did not say hello: %r" % lines[0])
    outs = [json.loads(l) for l in lines[1:]]
    if len(outs) != len(programs):
        raise SystemExit("driver returned %d lines for %d programs" % (len(outs), len(programs)))
    return hello["hello"]["version"], outs


def check_rules(cases):
    """Every cited ID must be a rule of spec/RULES.md; rules no case cites
    are listed (the aim is at least one case per rule)."""
    path = os.path.join(ROOT, "spec", "RULES.md")
    if not os.path.exists(path):
        print("note: %s not found; rule IDs not checked" % path)
        return []
    ids = re.findall(r"^### (\S+)", open(path).read(), re.M)
    cited = {r for c in cases for r in c["rules"]}
    unknown = sorted(cited - set(ids))
    if unknown:
        raise SystemExit("cases cite IDs that spec/RULES.md does not define: %s" % ", ".join(unknown))
    return [i for i in ids if i not in cited]


def record_all():
    cases = authoring.CASES
    uncovered = check_rules(cases)
    if uncovered:
        print("rules without a case: %s" % ", ".join(uncovered))
    names = [c["name"] for c in cases]
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        raise SystemExit("duplicate case names: %s" % sorted(dup))
    programs = [c["program"] for c in cases]
    by_version = {}
    for short, full in VERSIONS.items():
        py = driver_command(short)
        got, outs = run_driver(py, programs)
        if got != full:
            raise SystemExit("%s reports version %s" % (" ".join(py), got))
        _, back = run_driver(py, list(reversed(programs)))
        back.reverse()
        for c, o, o2 in zip(cases, outs, back):
            if "error" in o:
                raise SystemExit("case %s: driver error under %s: %s" % (c["name"], full, o))
            if o != o2:
                raise SystemExit("case %s: outcome not deterministic under %s:\n%s\n%s"
                                 % (c["name"], full, json.dumps(o, sort_keys=True),
                                    json.dumps(o2, sort_keys=True)))
        by_version[short] = outs
    records = []
    for i, c in enumerate(cases):
        expected = by_version[REFERENCE][i]
        versions = {}
        for short in VERSIONS:
            if short == REFERENCE:
                continue
            o = by_version[short][i]
            versions[short] = "same" if o == expected else o
        records.append({"name": c["name"], "rules": c["rules"], "description": c["description"],
                        "program": c["program"], "expected": expected, "versions": versions})
    return records


def diff_paths(a, b, path=""):
    """Where two outcomes differ, as 'tasks.a.state' style paths."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                out.append("%s%s (%s)" % (path, k, "only in 3.13" if k in a else "absent in 3.13"))
            else:
                out += diff_paths(a[k], b[k], "%s%s." % (path, k))
        return out
    if a != b:
        return [path.rstrip(".")]
    return []


def differences(records):
    lines = []
    for r in records:
        for short, o in sorted(r["versions"].items()):
            if o == "same":
                continue
            paths = diff_paths(r["expected"], o)
            lines.append("- `%s` (%s): %s differs from 3.13 in %s"
                         % (r["name"], ", ".join(r["rules"]), short, ", ".join(paths)))
    return lines


def write_readme(lines):
    text = open(README).read() if os.path.exists(README) else ""
    block = BEGIN + "\n" + ("\n".join(lines) if lines else "(none)") + "\n" + END
    if BEGIN in text and END in text:
        head = text[:text.index(BEGIN)]
        tail = text[text.index(END) + len(END):]
        text = head + block + tail
    else:
        text = text + "\n" + block + "\n"
    with open(README, "w") as f:
        f.write(text)


def main(argv):
    check = "--check" in argv
    records = record_all()
    stale = []
    for r in records:
        path = os.path.join(HERE, r["name"] + ".json")
        text = json.dumps(r, indent=2, sort_keys=False) + "\n"
        old = open(path).read() if os.path.exists(path) else None
        if old != text:
            stale.append(r["name"])
            if not check:
                with open(path, "w") as f:
                    f.write(text)
    known = {r["name"] for r in records}
    for fn in sorted(os.listdir(HERE)):
        if fn.endswith(".json") and fn[:-5] not in known:
            stale.append(fn[:-5] + " (no longer authored)")
            if not check:
                os.remove(os.path.join(HERE, fn))
    diffs = differences(records)
    if not check:
        write_readme(diffs)
    print("%d cases; %d differ between versions" % (len(records), len(diffs)))
    for d in diffs:
        print(d)
    if check and stale:
        print("out of date: %s" % ", ".join(stale))
        return 1
    print("changed: %s" % (", ".join(stale) if stale else "nothing"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
