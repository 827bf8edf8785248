#!/usr/bin/env python3
# asyncspec reproducer: TG-4 The body's own exception joins the group
#
# Found by the asyncspec conformance check on trio 0.22.0, shrunk, and written
# here as plain trio code (nursery per group, fail_at per timeout) with a
# small recorder on trio.testing.MockClock. Run it with trio installed: it
# prints, for each outcome element the check found different, what trio does
# and what the rule requires, and exits 1 if any still differs.
#
# The rule: If the body raises a non-cancellation exception, `__aexit__` aborts the children (`self._abort()`), waits for them, and appends the body's exception last (`if et is not None and not issubclass(et, exceptions.CancelledError): self._errors.append(exc)`); the result is the group (even with a single error). Versions: all.
#
# The program (spec/LANGUAGE.md):
#
#   main:
#     timeout tm0 0:
#       try try0:
#         pass
#       finally f0:
#         group g2:
#           pass
#
# Replay in the checker: bazel run //conformance:check -- --runtime=trio --profile=3.13 --replay=16280528953389534970

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
        with trio.fail_at(trio.current_time() + 0) as tms['tm0']:
            try:
                try:
                    pass
                finally:
                    block_start('f0')
                    try:
                        async with trio.open_nursery() as groups['g2']:
                            pass
                    except BaseException as e:
                        scope_exit('g2', e)
                        raise
                    scope_exit('g2')
                    block_end('f0')
            except BaseException as e:
                scope_exit('try0', e)
                raise
            scope_exit('try0')
    except BaseException as e:
        scope_exit('tm0', e, expired=tms['tm0'].cancel_called)
        raise
    scope_exit('tm0', expired=tms['tm0'].cancel_called)


REQUIRED = json.loads('{"blocks.f0": {"end": 0, "start": 0}, "run": null, "scopes.g2": {"end": 0}, "scopes.tm0": {"end": 0, "expired": false}, "scopes.try0": {"end": 0}, "tasks.main": {"end": 0, "start": 0, "state": "returned", "value": null}}')


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
    print("asyncspec reproducer: rule TG-4, The body's own exception joins the group")
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
    print("FAIL: trio still differs from TG-4" if differ else
          "PASS: trio now does what TG-4 requires for this program")
    sys.exit(1 if differ else 0)


if __name__ == "__main__":
    main()
