#!/usr/bin/env python3
"""A deliberately misbehaving adapter (conformance/ADAPTERS.md, protocol 1)
for the check's own tests (runtimes_test.cc, check_test.cc).

It runs programs on the CPython driver (conformance/adapters/cpython,
imported, so outcomes are real) and misbehaves on purpose:

by the program's "name" (tests that send programs one by one):
  hang         never answers              -> TIMEOUT, adapter killed and restarted
  crash        writes to stderr, exits 3  -> CRASH with the stderr tail
  junk         a line that is not JSON    -> adapter error
  notoutcome   JSON that is no outcome    -> adapter error
  unsupported  {"kind": "unsupported"}    -> n/a
  internal     {"kind": "internal"}       -> adapter error
  input        {"kind": "input"}          -> adapter error
  deadlock     {"kind": "deadlock"}       -> pass iff the model deadlocks
  olddeadlock  "deadlock: ..." and no kind (the pre-protocol driver style)
  chatty       one line of debug output on stdout before the outcome

by flags (whole runs):
  --caps=a,b,c     capabilities to declare (default: all but gather, except_star)
  --crash-on=OP    crash on every program that uses OP
  --hang-on=OP     hang on every program that uses OP
  --drop-leaf      every ExceptionGroup a group scope raised loses its last leaf (TG-3)
  --hello=MODE     garbage | exit | protocol3 | badcap | slow: a broken handshake
  --rules=R        the hello's "rules" (a profile name or a comma-separated glob list)
  --model=V        the hello's "model" (default: this interpreter's minor version)
  --emit           be a reproducer command (ADAPTERS.md, "Reproducers"): read the
                   check's reproducer input on stdin, print a small script
  --emit-fail      a reproducer command that fails (stderr, exit 5)
"""

import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "adapters", "cpython"))
import driver  # noqa: E402

ALL = ["sleep", "raise", "return", "task", "group", "spawn", "gather", "timeout", "reschedule",
       "shield", "wait_for", "cancel", "await", "uncancel", "try", "except_star", "catch_group", "base"]


def ops(node, out):
    if isinstance(node, dict):
        if "op" in node:
            out.add(node["op"])
        for v in node.values():
            ops(v, out)
    elif isinstance(node, list):
        for v in node:
            ops(v, out)
    return out


def drop_leaf(outcome):
    for s in outcome.get("scopes", {}).values():
        r = s.get("raised")
        if isinstance(r, dict) and r.get("type") == "group" and len(r.get("children", [])) >= 2:
            r["children"].pop()


def emit(flags):
    if "emit-fail" in flags:
        sys.stderr.write("fake: cannot write a reproducer\n")
        return 5
    inp = json.load(sys.stdin)
    lines = ["# fake reproducer for %s: %s" % (inp["rule"]["id"], inp["rule"]["title"])]
    lines += ["# " + l for l in inp["program_text"].splitlines()]
    for key in sorted(inp["required"]):
        lines.append("print(%r)" % ("%s required %s, reported %s" % (
            key, json.dumps(inp["required"][key]), json.dumps(inp["reported"][key]))))
    sys.stdout.write("\n".join(lines) + "\n")
    return 0


def main(argv):
    flags = dict(a[2:].split("=", 1) if "=" in a else (a[2:], "1") for a in argv[1:])
    if "emit" in flags or "emit-fail" in flags:
        return emit(flags)
    caps = flags["caps"].split(",") if "caps" in flags else [c for c in ALL if c not in ("gather", "except_star")]
    mode = flags.get("hello", "")
    out = sys.stdout
    if mode == "exit":
        sys.stderr.write("fake: refusing to start\n")
        return 4
    if mode == "garbage":
        out.write("Hello, world\n")
    elif mode == "slow":
        time.sleep(30)
    else:
        hello = {"protocol": 3 if mode == "protocol3" else 1, "runtime": "fake", "version": "0.1",
                 "capabilities": caps + (["teleport"] if mode == "badcap" else []),
                 "model": flags.get("model", "%d.%d" % sys.version_info[:2]), "clock": "virtual"}
        if "rules" in flags:
            r = flags["rules"]
            hello["rules"] = r.split(",") if "," in r or "-" in r else r
        out.write(json.dumps({"hello": hello}) + "\n")
    out.flush()
    driver._quiet()
    for line in sys.stdin:
        prog = json.loads(line)
        name = prog.get("name", "")
        used = ops(prog.get("main"), set())
        if name == "hang" or flags.get("hang-on") in used:
            time.sleep(600)
        if name == "crash" or flags.get("crash-on") in used:
            sys.stderr.write("fake: some earlier noise\nfake: crashing on purpose (%s)\n" % (name or "by op"))
            sys.stderr.flush()
            os._exit(3)
        replies = {
            "junk": "this is not JSON",
            "notoutcome": json.dumps({"result": 42}),
            "unsupported": json.dumps({"error": "no way to express this", "kind": "unsupported", "where": "main/0"}),
            "internal": json.dumps({"error": "the runtime fell over", "kind": "internal"}),
            "input": json.dumps({"error": "bad program", "kind": "input", "where": "main"}),
            "deadlock": json.dumps({"error": "every task waits", "kind": "deadlock"}),
            "olddeadlock": json.dumps({"error": "deadlock: every task waits", "where": "run"}),
        }
        if name in replies:
            out.write(replies[name] + "\n")
            out.flush()
            continue
        if name == "chatty":
            out.write("debug: about to run\n")
        reply = driver.handle_line(line)
        if "error" not in reply and "drop-leaf" in flags:
            drop_leaf(reply)
        out.write(driver.dumps(reply) + "\n")
        out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
