#!/usr/bin/env python3
# asyncspec reproducer: SH-1 Outer cancelled, inner keeps running
#
# Found by the asyncspec conformance check on cpython 3.11.7, shrunk, and written
# here as plain asyncio (spec/FORMAT.md, "Python meaning") with a small recorder on a
# virtual clock. Run it with any CPython 3.11+: it prints, for each outcome element the
# check found different, what this run observed and what the rule requires, and exits
# 1 if any still differs (0: fixed).
#
# The program (spec/LANGUAGE.md):
#
#   main:
#     shield sh0 t0:
#       group g0:
#         spawn g0 t1:
#           raise base E
#
# Replay in the checker: bazel run //conformance:check -- --runtime=cpython --profile=3.11 --python=/root/.pyenv/versions/3.11.7/bin/python3 --replay=12681051176839050602

import asyncio
import json
import os
import selectors
import sys
import warnings

if sys.version_info < (3, 11):
    sys.exit("this reproducer needs Python 3.11+ (TaskGroup, asyncio.timeout, except*)")


class Err(Exception):
    """`raise E1`: an ordinary exception with a label."""
    def __init__(self, label):
        super().__init__(label)
        self.label = label


class BaseErr(KeyboardInterrupt):
    """`raise base K1`: a BaseException that asyncio treats like KeyboardInterrupt."""
    def __init__(self, label):
        super().__init__(label)
        self.label = label


_CLASSES = {}


def L(base, label):
    """The class of one label, so that `except* L(False, "E1")` selects it."""
    key = (base, label)
    if key not in _CLASSES:
        _CLASSES[key] = type("BaseErr_" if base else "Err_", (BaseErr if base else Err,), {})
    return _CLASSES[key]


class Deadlock(Exception):
    pass


class _Selector(selectors.BaseSelector):
    """Never waits: a wait of `timeout` seconds moves the clock instead."""
    def __init__(self):
        self.now = 0.0
        self._keys = {}

    def register(self, fileobj, events, data=None):
        fd = fileobj if isinstance(fileobj, int) else fileobj.fileno()
        self._keys[fd] = selectors.SelectorKey(fileobj, fd, events, data)
        return self._keys[fd]

    def unregister(self, fileobj):
        return self._keys.pop(fileobj if isinstance(fileobj, int) else fileobj.fileno())

    def select(self, timeout=None):
        if timeout is None:
            raise Deadlock("every task waits and no timer is armed")
        self.now += max(timeout, 0)
        return []

    def get_map(self):
        return self._keys


class VirtualLoop(asyncio.SelectorEventLoop):
    def __init__(self):
        self._sel = _Selector()
        super().__init__(self._sel)
        self._clock_resolution = 1e-9

    def time(self):
        return self._sel.now


T, G, TM, STARTS, ENDS, SCOPES, BLOCKS = {}, {}, {}, {}, {}, {}, {}


LOOPS = []  # the run's event loop (kept: task bodies may finish after it stopped)


def now():
    t = LOOPS[-1].time()
    return int(t) if t == int(t) else t


def new(name, task):
    T[name] = task
    task.add_done_callback(lambda t: ENDS.setdefault(name, now()))
    return task


def started(name):
    STARTS[name] = now()


def ended(name):
    ENDS[name] = now()


def exc(e):
    if isinstance(e, BaseExceptionGroup):
        return {"type": "group", "base": not isinstance(e, Exception), "children": [exc(c) for c in e.exceptions]}
    if isinstance(e, asyncio.CancelledError):
        return {"type": "cancelled", "msg": str(e.args[0])} if e.args and e.args[0] is not None else {"type": "cancelled"}
    if isinstance(e, Err):
        return {"type": "error", "label": e.label}
    if isinstance(e, BaseErr):
        return {"type": "base", "label": e.label}
    if isinstance(e, TimeoutError):
        return {"type": "timeout"}
    text = str(e)
    what = "other"
    for suffix, w in ((" is finished", "taskgroup_finished"), (" has not been entered", "taskgroup_not_entered"),
                      (" is shutting down", "taskgroup_shutting_down")):
        if isinstance(e, RuntimeError) and text.startswith("TaskGroup ") and text.endswith(suffix):
            what = w
    return {"type": "runtime", "what": what}


def scope(name, e=None, **fields):
    d = {"end": now()}
    if e is not None:
        d["raised"] = exc(e)
    d.update(fields)
    SCOPES[name] = d


def valued(v):
    return {} if v is None else {"value": v}


def items(results):
    return [{"error": exc(r)} if isinstance(r, BaseException) else {"value": r} for r in results]


def block_start(name):
    BLOCKS[name] = {"start": now()}


def block_end(name):
    BLOCKS[name]["end"] = now()


def observe():
    """Runs main() as asyncio.run would, on the virtual clock; returns the
    outcome elements (spec/FORMAT.md) this run produced."""
    warnings.simplefilter("ignore", RuntimeWarning)  # coroutines of refused spawns
    loops = LOOPS
    elements = {}
    try:
        with asyncio.Runner(loop_factory=lambda: loops.append(VirtualLoop()) or loops[-1]) as runner:
            runner.run(main())
        elements["run"] = None
    except Deadlock:
        print("the program deadlocks: every task waits and no timer is armed (asyncio.run would never return)")
        elements["run"] = "deadlock"
    except BaseException as e:
        elements["run"] = exc(e)
    t_end = loops[-1]._sel.now if loops else 0
    elements["end_time"] = int(t_end) if t_end == int(t_end) else t_end
    for name, t in T.items():
        if t.done() and not t.cancelled() and t._exception is not None and t._log_traceback:
            elements["unretrieved." + name] = exc(t._exception)
    for name, t in T.items():
        d = {"start": STARTS.get(name), "end": ENDS.get(name)}
        if not t.done():
            d["state"] = "pending"
        elif t.cancelled():
            d["state"] = "cancelled"
            try:
                t.result()
            except asyncio.CancelledError as e:
                d["error"] = exc(e)
        elif t.exception() is not None:
            d["state"], d["error"] = "raised", exc(t.exception())
        else:
            d["state"], d["value"] = "returned", t.result()
        elements["tasks." + name] = d
    for name, d in SCOPES.items():
        elements["scopes." + name] = d
    for name, d in BLOCKS.items():
        elements["blocks." + name] = d
    return elements


def _clean(v):
    """Drops null fields, so that "absent" and null compare equal."""
    if isinstance(v, dict):
        return {k: _clean(x) for k, x in v.items() if x is not None}
    if isinstance(v, list):
        return [_clean(x) for x in v]
    return v


def report():
    observed = observe()
    print("asyncspec reproducer: rule %s, %s" % (RULE, TITLE))
    print("  %s" % STATEMENT)
    print("checked on: %s; this run: Python %s asyncio" % (RUNTIME, sys.version.split()[0]))
    print()
    differ = 0
    for key, required in REQUIRED.items():
        got = observed.get(key, "(absent)")
        same = _clean(got) == _clean(required)
        differ += not same
        print("%s: %s" % (key, "as required" if same else "DIFFERS"))
        print("  observed: %s" % json.dumps(_clean(got), sort_keys=True))
        print("  required: %s  (model, profile %s)" % (json.dumps(_clean(required), sort_keys=True), PROFILE))
    print()
    if differ:
        print("FAIL %s: %d of %d elements differ from what the rules require" % (RULE, differ, len(REQUIRED)))
        return 1
    print("PASS: this interpreter's asyncio now does what %s requires for this program" % RULE)
    return 0


RULE = "SH-1"
TITLE = "Outer cancelled, inner keeps running"
STATEMENT = "`await shield(t)`: cancelling the awaiting task cancels only the outer future (`outer = loop.create_future()`); the awaiting task gets CancelledError and `t` keeps running. Versions: all."
PROFILE = "3.11"
RUNTIME = "cpython 3.11.7"
# What the rules require for the elements that differed (the model's outcome).
REQUIRED = {
    "scopes.sh0": json.loads("{\"end\":0,\"raised\":{\"type\":\"cancelled\"}}"),
    "tasks.main": json.loads("{\"end\":0,\"error\":{\"type\":\"cancelled\"},\"start\":0,\"state\":\"cancelled\"}"),
}


def setup():
    G["g0"] = asyncio.TaskGroup()


async def task_t1():
    started("t1")
    try:
        raise L(True, "E")("E")
    finally:
        ended("t1")


async def task_t0():
    started("t0")
    try:
        try:
            async with G["g0"]:
                new("t1", G["g0"].create_task(task_t1()))
        except BaseException as e:
            scope("g0", e)
            raise
        else:
            scope("g0")
    finally:
        ended("t0")


async def main():
    T["main"] = asyncio.current_task()
    started("main")
    try:
        try:
            _v = await asyncio.shield(new("t0", asyncio.create_task(task_t0())))
        except BaseException as e:
            scope("sh0", e)
            raise
        else:
            scope("sh0", **valued(_v))
    finally:
        ended("main")


if __name__ == "__main__":
    setup()
    code = report()
    sys.stdout.flush()
    os._exit(code)
