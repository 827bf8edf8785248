#!/usr/bin/env python3
"""Writes what conformance/ keeps of one check run (tools/results.sh):

  python3 tools/results_md.py results-out/<name>/report.json <name>

- conformance/results/<name>/findings.md: for each failure of the report,
  its rule, whether it was expected, the shrunk program (spec/LANGUAGE.md)
  and the one-line command that replays it; nothing when the run found none.
- the row of <name> in the matrix of conformance/RESULTS.md (between the
  `results.sh matrix` markers): one cell per rule family, from the report's
  totals, so that the table's counts are those of a re-run.
Machine paths in commands are written as $(pyenv root) and $PWD.
"""
import json
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FAMILIES = ["SCHED", "CX", "TG", "GA", "TO", "WF", "SH", "EG", "RT", "INV"]
BEGIN = "<!-- results.sh matrix: begin (tools/results.sh rewrites the rows) -->"
END = "<!-- results.sh matrix: end -->"


def portable(text):
    try:
        root = subprocess.run(["pyenv", "root"], capture_output=True, text=True).stdout.strip()
    except OSError:
        root = os.environ.get("PYENV_ROOT", "")
    if root:
        text = text.replace(root, "$(pyenv root)")
    text = text.replace(ROOT, "$PWD")
    return re.sub(r"/tmp/[^\s'\"]*", "<tmp>", text)


def cell(f):
    checked, failed = f.get("checked", 0), f.get("failed", 0)
    expected = f.get("expected_failures", 0)
    na = f.get("not_applicable", 0)
    if checked == 0 and na:
        return "n/a (%d)" % na
    new = failed - expected
    s = "**fail %d**/%d" % (new, checked) if new > 0 else "pass %d" % checked
    if expected:
        s += " (+%d expected)" % expected
    return s


def row(name, r):
    t = r["totals"]
    cells = [cell(r["families"].get(f, {})) for f in FAMILIES]
    claimed = str(t.get("unclaimed_findings", 0)) if r.get("rules_claimed") else "-"
    tail = "%d / %d / %d / %d / %s" % (t["checked"], t["new_failures"], t["not_applicable"],
                                       t["adapter_errors"], claimed)
    return "| %s | %s | %s | %s |" % (name, r.get("runtime_version", ""), " | ".join(cells), tail)


def findings(name, r):
    out = ["# %s: findings of the conformance check" % name, "",
           "Written by `tools/results.sh %s` (golden cases + %s random trees, seed %s);"
           " the whole report and the reproducers are in `results-out/%s/` after that run."
           % (name, r["trees"], r["seed"], name), ""]
    for i, f in enumerate(r["failures"], 1):
        out += ["## %d. %s %s%s" % (i, f["rule"], f["title"], " (expected)" if f.get("as_expected") else ""), "",
                "- %s `%s`: %s" % (f["finding"]["rule"], f["finding"]["where"], f["finding"]["message"]),
                "- failing programs: %d (first: `%s`)" % (len(f["programs"]), f["programs"][0]),
                "- replay: `%s`" % portable(f["replay"]), "", "```text", f["shrunk_text"].rstrip(), "```", ""]
    return "\n".join(out)


def main(argv):
    report, name = argv[1], argv[2]
    with open(report) as fh:
        r = json.load(fh)
    d = os.path.join(ROOT, "conformance", "results", name)
    path = os.path.join(d, "findings.md")
    if r["failures"]:
        os.makedirs(d, exist_ok=True)
        with open(path, "w") as fh:
            fh.write(findings(name, r))
    elif os.path.exists(path):
        os.remove(path)
    results = os.path.join(ROOT, "conformance", "RESULTS.md")
    with open(results) as fh:
        text = fh.read()
    if BEGIN not in text or END not in text:
        sys.exit("results_md: no matrix markers in %s" % results)
    head, rest = text.split(BEGIN, 1)
    table, tail = rest.split(END, 1)
    lines = [l for l in table.strip("\n").split("\n") if l]
    new = row(name, r)
    key = "| %s |" % name
    for i, l in enumerate(lines):
        if l.startswith(key):
            lines[i] = new
            break
    else:
        lines.append(new)
    with open(results, "w") as fh:
        fh.write(head + BEGIN + "\n" + "\n".join(lines) + "\n" + END + tail)
    print("results: %s: %s; %s" % (name, new, os.path.relpath(path, ROOT) if r["failures"] else "no findings"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
