#!/usr/bin/env python3
# asyncspec reproducer: TG-1 Exit waits for all children
#
# Found by the asyncspec conformance check on trio 0.22.0, shrunk, and written
# here as plain trio code (nursery per group, fail_at per timeout) with a
# small recorder on trio.testing.MockClock. Run it with trio installed: it
# prints, for each outcome element the check found different, what trio does
# and what the rule requires, and exits 1 if any still differs.
#
# The rule: `__aexit__` loops `while self._tasks:` awaiting a completion future; a group's block is exited only when every child task is done. With no unfinished children `__aexit__` does not suspend. Versions: all.
#
# The program (spec/LANGUAGE.md):
#
#   main:
#     group g0:
#       spawn g0 t0:
#         raise E2
#       sleep 0
#       group g2:
#         pass
#
# Replay in the checker: bazel run //conformance:check -- --runtime=trio --profile=3.13 --replay=8224436836690412996

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


def label_class(base, label, _cache={}):
    key = (base, label)
    if key not in _cache:
        _cache[key] = type("Err_" + label, (BaseErr if base else Err,), {})
    return _cache[key]


def exc_json(e):
    if isinstance(e, BaseExceptionGroup):
        return {"type": "group", "base": not isinstance(e, Exception),
                "children": [exc_json(c) for c in e.exceptions]}
    if isinstance(e, trio.Cancelled):
        return {"type": "cancelled"}
    if isinstance(e, trio.TooSlowError):
        return {"type": "timeout"}
    if isinstance(e, Err):
        return {"type": "error", "label": e.label}
    if isinstance(e, BaseErr):
        return {"type": "base", "label": e.label}
    if isinstance(e, RuntimeError):
        what = "taskgroup_finished" if str(e) == "Nursery is closed to new arrivals" else "other"
        return {"type": "runtime", "what": what}
    return {"type": "runtime", "what": "other", "text": repr(e)}


def now():
    return int(trio.current_time())


OUT = {"tasks": {}, "blocks": {}, "scopes": {}, "unretrieved": []}
groups, tms = {}, {}


async def task_body(name, body):
    OUT["tasks"][name] = {"start": now(), "end": None, "state": "pending"}
    try:
        value = await body()
    except BaseException as e:
        state = "cancelled" if isinstance(e, trio.Cancelled) else "raised"
        OUT["tasks"][name].update(end=now(), state=state, error=exc_json(e))
        raise
    OUT["tasks"][name].update(end=now(), state="returned", value=value)
    return value


def block_start(name):
    OUT["blocks"][name] = {"start": now(), "end": None}


def block_end(name):
    OUT["blocks"][name]["end"] = now()


def scope_exit(name, e=None, **extra):
    rec = {"end": now()}
    if e is not None:
        rec["raised"] = exc_json(e)
    rec.update(extra)
    OUT["scopes"][name] = rec

async def main_body():
    try:
        async with trio.open_nursery() as groups['g0']:
            async def _body1():
                raise label_class(False, 'E2')('E2')
            groups['g0'].start_soon(task_body, 't0', _body1)
            await trio.sleep(0)
            try:
                async with trio.open_nursery() as groups['g2']:
                    pass
            except BaseException as e:
                scope_exit('g2', e)
                raise
            scope_exit('g2')
    except BaseException as e:
        scope_exit('g0', e)
        raise
    scope_exit('g0')


REQUIRED = json.loads('{"scopes.g2": {"end": 0}}')


def element(path):
    top, _, rest = path.partition(".")
    if top in ("run", "end_time"):
        return OUT.get(top)
    if top == "unretrieved":
        found = [u["error"] for u in OUT["unretrieved"] if u["task"] == rest]
        return found[0] if found else None
    return OUT.get(top, {}).get(rest)


def strip_text(o):
    if isinstance(o, dict):
        return {k: strip_text(v) for k, v in o.items() if k != "text"}
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
    print("asyncspec reproducer: rule TG-1, Exit waits for all children")
    print("checked on: trio 0.22.0; this run: trio %s" % trio.__version__)
    print()
    differ = 0
    for path in sorted(REQUIRED):
        got, want = strip_text(element(path)), strip_text(REQUIRED[path])
        same = got == want
        differ += not same
        print("%s: %s" % (path, "as required" if same else "DIFFERS"))
        print("  observed: %s" % json.dumps(got, sort_keys=True))
        print("  required: %s  (model, profile 3.13)" % json.dumps(want, sort_keys=True))
    print()
    print("FAIL: trio still differs from TG-1" if differ else
          "PASS: trio now does what TG-1 requires for this program")
    sys.exit(1 if differ else 0)


if __name__ == "__main__":
    main()
