#!/usr/bin/env python3
"""Writes a standalone trio reproducer for one failure (conformance/ADAPTERS.md,
"Reproducers": the manifest's `reproducer` command).

Input (stdin): one JSON object with `program` (FORMAT.md), `program_text`,
`rule` {id, title, statement}, `runtime`, `replay`, `required` and
`reported` (per differing outcome element). Output (stdout): a Python
script that needs only trio. It is the program written out as plain trio
code, the same mapping as structured.py (nursery per group, fail_at per
timeout, except/except* per handler), plus a small recorder; run, it prints
each differing element as trio produces it now next to what the rule
requires, and exits 1 while any still differs.

Only what the trio adapter can run is emitted (its capabilities); a spawn
into a group that was not entered yet is never a failure of this adapter.
"""

import json
import sys

HEADER = '''#!/usr/bin/env python3
# asyncspec reproducer: {c_rule_id} {c_rule_title}
#
# Found by the asyncspec conformance check on {c_runtime}, shrunk, and written
# here as plain trio code (nursery per group, fail_at per timeout) with a
# small recorder on trio.testing.MockClock. Run it with trio installed: it
# prints, for each outcome element the check found different, what trio does
# and what the rule requires, and exits 1 if any still differs.
#
# The rule: {c_statement}
#
# The program (spec/LANGUAGE.md):
#
{program_comment}
#
# Replay in the checker: {c_replay}

import json
import math
import sys

import trio
import trio.testing

trio._core._run._r.random = lambda: 0.0  # FIFO batches, as the adapter runs trio


class Err(Exception):
    def __init__(self, label):
        super().__init__(label)
        self.label = label


class BaseErr(KeyboardInterrupt):
    def __init__(self, label):
        super().__init__(label)
        self.label = label


def label_class(base, label, _cache={{}}):
    key = (base, label)
    if key not in _cache:
        # The class name only shows in tracebacks; a label may hold anything
        # (type() refuses a NUL), so it is kept out of the name.
        _cache[key] = type("Err_%d" % len(_cache), (BaseErr if base else Err,), {{}})
    return _cache[key]


def exc_json(e):
    if isinstance(e, BaseExceptionGroup):
        return {{"type": "group", "base": not isinstance(e, Exception),
                "children": [exc_json(c) for c in e.exceptions]}}
    if isinstance(e, trio.Cancelled):
        return {{"type": "cancelled"}}
    if isinstance(e, trio.TooSlowError):
        return {{"type": "timeout"}}
    if isinstance(e, Err):
        return {{"type": "error", "label": e.label}}
    if isinstance(e, BaseErr):
        return {{"type": "base", "label": e.label}}
    if isinstance(e, RuntimeError):
        what = "taskgroup_finished" if str(e) == "Nursery is closed to new arrivals" else "other"
        return {{"type": "runtime", "what": what}}
    return {{"type": "runtime", "what": "other", "text": repr(e)}}


def now():
    return int(trio.current_time())


OUT = {{"tasks": {{}}, "blocks": {{}}, "scopes": {{}}, "unretrieved": []}}
groups, tms = {{}}, {{}}


async def task_body(name, body):
    OUT["tasks"][name] = {{"start": now(), "end": None, "state": "pending"}}
    try:
        value = await body()
    except BaseException as e:
        state = "cancelled" if isinstance(e, trio.Cancelled) else "raised"
        OUT["tasks"][name].update(end=now(), state=state, error=exc_json(e))
        raise
    OUT["tasks"][name].update(end=now(), state="returned", value=value)
    return value


def block_start(name):
    OUT["blocks"][name] = {{"start": now(), "end": None}}


def block_end(name):
    OUT["blocks"][name]["end"] = now()


def scope_exit(name, e=None, **extra):
    rec = {{"end": now()}}
    if e is not None:
        rec["raised"] = exc_json(e)
    rec.update(extra)
    OUT["scopes"][name] = rec

'''

FOOTER = '''

REQUIRED = json.loads({required!r})
RULE, TITLE, RUNTIME, PROFILE = {rule_id!r}, {rule_title!r}, {runtime!r}, {profile!r}


def element(path):
    top, _, rest = path.partition(".")
    if top in ("run", "end_time"):
        return OUT.get(top)
    if top == "unretrieved":
        found = [u["error"] for u in OUT["unretrieved"] if u["task"] == rest]
        return found[0] if found else None
    return OUT.get(top, {{}}).get(rest)


def strip_text(o):
    if isinstance(o, dict):
        return {{k: strip_text(v) for k, v in o.items() if k != "text"}}
    if isinstance(o, list):
        return [strip_text(v) for v in o]
    return o


def main():
    clock = trio.testing.MockClock(autojump_threshold=0)
    OUT["run"] = None
    try:
        trio.run(lambda: task_body("main", main_body), clock=clock,
                 strict_exception_groups=True)
    except BaseException as e:
        OUT["run"] = exc_json(e)
    OUT["end_time"] = int(clock.current_time())
    print("asyncspec reproducer: rule %s, %s" % (RULE, TITLE))
    print("checked on: %s; this run: trio %s" % (RUNTIME, trio.__version__))
    print()
    differ = 0
    for path in sorted(REQUIRED):
        got, want = strip_text(element(path)), strip_text(REQUIRED[path])
        same = got == want
        differ += not same
        print("%s: %s" % (path, "as required" if same else "DIFFERS"))
        print("  observed: %s" % json.dumps(got, sort_keys=True))
        print("  required: %s  (model, profile %s)" % (json.dumps(want, sort_keys=True), PROFILE))
    print()
    print(("FAIL: trio still differs from %s" if differ else
           "PASS: trio now does what %s requires for this program") % RULE)
    sys.exit(1 if differ else 0)


if __name__ == "__main__":
    main()
'''

CATCH = {
    "cancelled": "trio.Cancelled",
    "timeout": "trio.TooSlowError",
    "group": "BaseExceptionGroup",
    "runtime": "RuntimeError",
    "exception": "Exception",
    "any": "BaseException",
}


def comment_text(s):
    """`s` on one comment line: repr()'s escapes (control characters, line
    separators, backslashes) without the quotes."""
    return repr(str(s))[1:-1]


class Emitter:
    def __init__(self):
        self.lines = []
        self.counter = 0

    def fresh(self, stem):
        self.counter += 1
        return "_%s%d" % (stem, self.counter)

    def out(self, depth, text):
        self.lines.append("    " * depth + text)

    def body(self, steps, depth):
        """Emits `steps` as statements at `depth`; an empty body is `pass`."""
        if not steps:
            self.out(depth, "pass")
        for st in steps:
            self.step(st, depth)

    def func(self, steps, depth):
        """An `async def` holding `steps`; returns its name."""
        name = self.fresh("body")
        self.out(depth, "async def %s():" % name)
        self.body(steps, depth + 1)
        return name

    def catch(self, h):
        kind, label = h["catch"], h.get("label")
        if kind in ("error", "base"):
            if label is None:
                return "BaseErr" if kind == "base" else "Err"
            return "label_class(%r, %r)" % (kind == "base", label)
        return CATCH[kind]

    def step(self, st, d):
        op = st["op"]
        if op == "sleep":
            self.out(d, "await trio.sleep(%d)" % st["d"])
        elif op == "raise":
            self.out(d, "raise label_class(%r, %r)(%r)" % (bool(st.get("base")), st["label"], st["label"]))
        elif op == "return":
            self.out(d, "return %r" % st["value"])
        elif op == "group":
            n = st["name"]
            self.out(d, "try:")
            self.out(d + 1, "async with trio.open_nursery() as groups[%r]:" % n)
            self.body(st["body"], d + 2)
            self.out(d, "except BaseException as e:")
            self.out(d + 1, "scope_exit(%r, e)" % n)
            self.out(d + 1, "raise")
            self.out(d, "scope_exit(%r)" % n)
        elif op == "spawn":
            t = st["task"]
            fn = self.func(t["body"], d)
            self.out(d, "groups[%r].start_soon(task_body, %r, %s)" % (st["group"], t["name"], fn))
        elif op == "timeout":
            n, dd = st["name"], st["d"]
            deadline = "math.inf" if dd is None else "trio.current_time() + %d" % dd
            self.out(d, "try:")
            self.out(d + 1, "with trio.fail_at(%s) as tms[%r]:" % (deadline, n))
            self.body(st["body"], d + 2)
            self.out(d, "except BaseException as e:")
            self.out(d + 1, "scope_exit(%r, e, expired=tms[%r].cancel_called)" % (n, n))
            self.out(d + 1, "raise")
            self.out(d, "scope_exit(%r, expired=tms[%r].cancel_called)" % (n, n))
        elif op == "reschedule":
            dd = st["d"]
            value = "math.inf" if dd is None else "trio.current_time() + %d" % dd
            self.out(d, "tms[%r].deadline = %s" % (st["timeout"], value))
        elif op == "try":
            n, hs, fin = st["name"], st.get("handlers", []), st.get("finally")
            star = "*" if hs and hs[0].get("star") else ""
            self.out(d, "try:")
            self.out(d + 1, "try:")
            self.body(st["body"], d + 2)
            for h in hs:
                self.out(d + 1, "except%s %s:" % (star, self.catch(h)))
                self.out(d + 2, "block_start(%r)" % h["name"])
                self.body(h.get("body", []), d + 2)
                self.out(d + 2, "block_end(%r)" % h["name"])
                if h["then"] == "reraise":
                    self.out(d + 2, "raise")
            if fin is not None:
                self.out(d + 1, "finally:")
                self.out(d + 2, "block_start(%r)" % fin["name"])
                self.body(fin.get("body", []), d + 2)
                self.out(d + 2, "block_end(%r)" % fin["name"])
            if not hs and fin is None:
                self.out(d + 1, "finally:")
                self.out(d + 2, "pass")
            self.out(d, "except BaseException as e:")
            self.out(d + 1, "scope_exit(%r, e)" % n)
            self.out(d + 1, "raise")
            self.out(d, "scope_exit(%r)" % n)
        else:
            raise ValueError("the trio adapter does not run %r" % op)


def emit(req):
    e = Emitter()
    e.out(0, "async def main_body():")
    e.body(req["program"]["main"], 1)
    comment = "\n".join("#   " + comment_text(l) for l in req.get("program_text", "").rstrip("\n").split("\n"))
    rule = req.get("rule", {})
    fmt = dict(rule_id=rule.get("id", "?"), rule_title=rule.get("title", ""),
               statement=" ".join(rule.get("statement", "").split()),
               runtime=req.get("runtime", "trio"), replay=req.get("replay", ""),
               profile=req.get("profile", "3.13"), program_comment=comment,
               required=json.dumps(req.get("required", {}), sort_keys=True))
    # The values go into code as repr() literals ({x!r}) and into comments
    # escaped (c_x): a newline in an adapter's runtime name must not end
    # the comment and inject code.
    for k in ("rule_id", "rule_title", "statement", "runtime", "replay"):
        fmt["c_" + k] = comment_text(fmt[k])
    return HEADER.format(**fmt) + "\n".join(e.lines) + "\n" + FOOTER.format(**fmt)


def main():
    sys.stdout.write(emit(json.load(sys.stdin)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
