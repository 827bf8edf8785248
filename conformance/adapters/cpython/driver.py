#!/usr/bin/env python3
"""CPython driver: runs asyncspec programs on real asyncio under a virtual clock.

Contract: spec/FORMAT.md. Input is one program (JSON) per line on stdin; for
each line the driver writes one line on stdout, either the outcome JSON or
`{"error": "...", "where": "...", "line": N}`, and flushes it. The first line
it writes is the handshake
`{"hello": {"runtime": "cpython", "version": "3.13.0", "capabilities": [...]}}`.
`driver.py --version` prints only that line; `driver.py --program FILE` runs
one program and pretty-prints its outcome.

Design
------
* Nothing of asyncio's semantics is re-implemented. TaskGroup, gather,
  timeout, shield, wait_for, Task.cancel/uncancel, asyncio.run (through
  asyncio.Runner, or the 3.10 sequence of asyncio.run) are Python's own.
  The driver only interprets the program tree: each step becomes the Python
  statement written beside it in FORMAT.md. `try` statements are compiled
  from generated Python source (`except T as e:` / `except* T as e:` with a
  bare `raise`), so that except* splitting, regrouping and re-raising are the
  interpreter's, not ours; the generated source is only built on 3.11+, which
  is why this file itself contains no except* syntax and still runs on 3.10.
* Virtual time: `_VirtualLoop` is a SelectorEventLoop whose time() returns a
  virtual clock and whose selector, asked to wait `timeout` seconds, adds
  `timeout` to the clock and reports no I/O. BaseEventLoop._run_once computes
  that timeout as "next timer minus now" (0 when callbacks are ready), so the
  clock jumps from timer to timer and a `sleep 1000` costs no wall time. A
  wait with no timer at all (timeout None) can only mean every task waits on
  another: the selector raises `Deadlock` instead of blocking forever.
  Program time goes through a clock object (`VirtualClock`); with
  `--loop=uvloop` it is a `RealClock` on uvloop's loop instead (real time,
  one unit = --tick_ms, deadlines on the tick grid, deadlock found from
  INV-8), since uvloop's timers cannot be given a virtual clock.
* Each program gets a fresh loop (as asyncio.run does), and the coroutines
  of tasks still pending after the run are closed at once (`_finalize`), so
  nothing leaks from one program into the next.
* Recording. Task start: first step of the body. Task end: when its
  coroutine returns or raises (the task is done in that same step); for a
  task whose coroutine never ran, a done callback added at creation, or,
  if the loop never ran again, the final time. Task state is read at the end from the task itself
  without retrieving its exception (`_exception`, `_result` are read-only
  views in both the C and the Python Task). The CancelledError of a
  cancelled task is the one its coroutine raised, caught by the task
  wrapper (this is the object Task stores as `_cancelled_exc`), or, if the
  coroutine never raised one (cancelled before it started, or cancelled
  right as it returned), a CancelledError with the cancel message that
  Task.__step used, observed by `Task.cancel` (see there).
* Unretrieved exceptions: asyncio logs "Task exception was never retrieved"
  when a task whose `_log_traceback` flag is still set is destroyed. The
  program's `tasks` registry (part of the Python meaning in FORMAT.md) keeps
  every task alive to the end of the run, so the flag after asyncio.run()
  returns is exactly what the log would say. `--unretrieved gc` instead drops
  every reference, runs gc.collect() and listens to the loop's exception
  handler; a test checks both ways agree on every golden case. A leftover
  that raises while asyncio.run cancels it is reported by asyncio as
  "unhandled exception during asyncio.run() shutdown" and listed too (RT-4).
* No wrong outcomes. An exception that no step can raise (RecursionError in
  a program whose cancel() runs round an await cycle, a driver bug), or a
  failure inside one of asyncio's callbacks, turns the reply into an error
  line. Programs nested deeper than DEEP run in a fresh thread with a big
  stack and a raised recursion limit (see DEEP); the main thread keeps
  Python's default limit so that runaway recursion is a RecursionError and
  not a crash.
* Speed: about 2000-3000 programs per second per process (driver_test
  prints it); the cost is asyncio itself plus one loop per program.
"""

import argparse
import asyncio
import functools
import gc
import json
import re
import selectors
import sys
import time
import warnings

PY = sys.version_info[:2]
HAS_311 = PY >= (3, 11)

BASE_CAPS = ["sleep", "raise", "return", "task", "gather", "shield", "wait_for",
             "cancel", "await", "try", "base"]
CAPS_311 = ["group", "spawn", "timeout", "reschedule", "uncancel", "except_star",
            "catch_group"]
CAPABILITIES = BASE_CAPS + (CAPS_311 if HAS_311 else [])

NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
CATCH_KINDS = ("cancelled", "timeout", "error", "base", "group", "runtime",
               "exception", "any")
THENS = ("reraise", "swallow", "uncancel")


# The model profile to compare with (ADAPTERS.md, hello `model`): 3.12 and
# 3.13 are themselves; before 3.12, wait_for has its own waiter (RULES.md
# WF-3), as in 3.11, which is the closest profile for 3.9/3.10 (PyPy 3.9
# included) on the gather / cancel subset they can run.
MODEL = "%d.%d" % PY if PY >= (3, 12) else "3.11"

# The run's clock and the runtime's name; main() sets them from its flags
# (--loop=uvloop runs on uvloop with a RealClock).
_CONFIG = {"clock": None, "runtime": None, "version": None}


def runtime_name():
    if _CONFIG["runtime"]:
        return _CONFIG["runtime"]
    impl = sys.implementation.name  # "cpython", "pypy"
    return "pypy3" if impl == "pypy" else impl


def _version():
    if sys.implementation.name == "pypy":
        return "%d.%d.%d" % sys.pypy_version_info[:3]
    return "%d.%d.%d" % sys.version_info[:3]


def hello():
    h = {"protocol": 2,
         "runtime": runtime_name(),
         "version": _CONFIG["version"] or _version(),
         "capabilities": CAPABILITIES,
         "model": MODEL,
         "rules": "asyncio",
         # RT-8: the outcome has "handler" and "warnings" (ADAPTERS.md).
         "observes": ["exception_handler", "warnings"]}
    clock = new_clock()
    h["clock"] = clock.name
    if clock.name == "real":
        h["tick_ms"] = int(round(clock.tick * 1000))
    if sys.implementation.name != "cpython":
        h["python"] = "%s %s" % (sys.implementation.name, sys.version.split()[0])
    return {"hello": h}


# --------------------------------------------------------------------------
# The labelled exceptions of the program language.

class Err(Exception):
    """`raise Err(label)`: an ordinary exception."""

    def __init__(self, label):
        super().__init__(label)
        self.label = label


class BaseErr(KeyboardInterrupt):
    """`raise BaseErr(label)`: a BaseException that is not an Exception and
    that asyncio treats like KeyboardInterrupt (spec/RULES.md, "base error":
    Task.__step re-raises it out of the event loop, TaskGroup raises it
    alone). asyncio tests `isinstance(exc, (SystemExit, KeyboardInterrupt))`,
    so a plain BaseException subclass would behave like an ordinary error."""

    def __init__(self, label):
        super().__init__(label)
        self.label = label


# One subclass per label, so that `except* Err_E1` (which needs a type) can
# select one label. Kept for the life of the process.
_LABEL_CLASSES = {}


def label_class(base, label):
    key = (base, label)
    cls = _LABEL_CLASSES.get(key)
    if cls is None:
        root = BaseErr if base else Err
        cls = type("%s_%s" % (root.__name__, label), (root,), {})
        _LABEL_CLASSES[key] = cls
    return cls


class InputError(Exception):
    """A program line that is not a valid program (`kind` "input"), or one
    this interpreter cannot express ("unsupported"); `where` says where."""

    def __init__(self, msg, where, kind="input"):
        super().__init__(msg)
        self.msg = msg
        self.where = where
        self.kind = kind


class Deadlock(Exception):
    """Every task waits and no timer is pending: asyncio.run would hang."""


# --------------------------------------------------------------------------
# Validation (spec/FORMAT.md "Programs"). Raises InputError.

class _Validator:
    def __init__(self):
        self.names = set()
        self.groups = set()
        self.features = set()
        self.depth = 0
        self.max_depth = 0

    def name(self, v, where, what="name"):
        if not isinstance(v, str) or not NAME_RE.match(v):
            raise InputError("%s must match [A-Za-z_][A-Za-z0-9_]*" % what, where)
        return v

    def new_name(self, obj, where):
        n = self.name(obj.get("name"), where + ".name")
        if n == "main":
            raise InputError("the name main is taken by the root task", where)
        if n in self.names:
            raise InputError("duplicate name %r" % n, where)
        self.names.add(n)
        return n

    def dur(self, obj, where, nullable):
        if "d" not in obj:
            raise InputError("missing field d", where)
        d = obj["d"]
        if d is None and nullable:
            return
        if isinstance(d, bool) or not isinstance(d, int) or d < 0:
            raise InputError("d must be an integer >= 0%s" %
                             (" or null" if nullable else ""), where + ".d")

    def body(self, body, where, timeouts, task_body):
        if not isinstance(body, list):
            raise InputError("a body must be a list of steps", where)
        self.depth += 1
        self.max_depth = max(self.max_depth, self.depth)
        for i, st in enumerate(body):
            self.step(st, "%s[%d]" % (where, i), timeouts,
                      task_body and i == len(body) - 1)
        self.depth -= 1

    def taskdef(self, t, where):
        if not isinstance(t, dict):
            raise InputError("a task must be an object {name, body}", where)
        self.new_name(t, where)
        # A task body starts a new task: enclosing timeouts are not its own.
        self.body(t.get("body"), where + ".body", (), True)

    def step(self, st, where, timeouts, may_return):
        if not isinstance(st, dict):
            raise InputError("a step must be an object", where)
        op = st.get("op")
        if isinstance(op, str):
            self.features.add(op)
        if op == "sleep":
            self.dur(st, where, False)
        elif op == "raise":
            if not isinstance(st.get("label"), str):
                raise InputError("raise needs a string label", where)
            if not isinstance(st.get("base", False), bool):
                raise InputError("base must be a bool", where)
            if st.get("base", False):
                self.features.add("base")
        elif op == "return":
            if not may_return:
                raise InputError("return is only allowed as the last step of a task body", where)
            if not isinstance(st.get("value"), str):
                raise InputError("return needs a string value", where)
        elif op == "task":
            self.taskdef(st.get("task"), where + ".task")
        elif op == "group":
            self.features.add("group")
            n = self.new_name(st, where)
            self.groups.add(n)
            self.body(st.get("body"), where + ".body", timeouts, False)
        elif op == "spawn":
            self.features.add("spawn")
            self.name(st.get("group"), where + ".group", "group")
            self.taskdef(st.get("task"), where + ".task")
        elif op == "gather":
            self.new_name(st, where)
            ch = st.get("children")
            if not isinstance(ch, list):
                raise InputError("gather needs a children list", where)
            for i, c in enumerate(ch):
                self.taskdef(c, "%s.children[%d]" % (where, i))
            if not isinstance(st.get("return_exceptions", False), bool):
                raise InputError("return_exceptions must be a bool", where)
        elif op == "timeout":
            self.features.add("timeout")
            n = self.new_name(st, where)
            self.dur(st, where, True)
            self.body(st.get("body"), where + ".body", timeouts + (n,), False)
        elif op == "reschedule":
            self.features.add("reschedule")
            tname = self.name(st.get("timeout"), where + ".timeout", "timeout")
            if tname not in timeouts:
                raise InputError("reschedule must be inside the body of timeout %r, in the same task"
                                 % tname, where)
            self.dur(st, where, True)
        elif op in ("shield", "wait_for"):
            self.new_name(st, where)
            self.taskdef(st.get("task"), where + ".task")
            if op == "wait_for":
                self.dur(st, where, True)
        elif op == "cancel":
            self.name(st.get("target"), where + ".target", "target")
            if st.get("msg") is not None and not isinstance(st.get("msg"), str):
                raise InputError("msg must be a string", where + ".msg")
        elif op == "await":
            self.name(st.get("target"), where + ".target", "target")
        elif op == "uncancel":
            self.features.add("uncancel")
        elif op == "try":
            self.new_name(st, where)
            self.body(st.get("body"), where + ".body", timeouts, False)
            hs = st.get("handlers", [])
            if not isinstance(hs, list):
                raise InputError("handlers must be a list", where)
            stars = set()
            for i, h in enumerate(hs):
                hw = "%s.handlers[%d]" % (where, i)
                if not isinstance(h, dict):
                    raise InputError("a handler must be an object", hw)
                self.new_name(h, hw)
                kind = h.get("catch")
                if kind not in CATCH_KINDS:
                    raise InputError("catch must be one of %s" % ", ".join(CATCH_KINDS), hw + ".catch")
                star = h.get("star", False)
                if not isinstance(star, bool):
                    raise InputError("star must be a bool", hw + ".star")
                stars.add(star)
                if star:
                    self.features.add("except_star")
                if kind == "group":
                    self.features.add("catch_group")
                    if star:
                        raise InputError("catch group cannot be star (except* ExceptionGroup is a TypeError)", hw)
                if "label" in h and h["label"] is not None:
                    if kind not in ("error", "base"):
                        raise InputError("label is only for catch error or base", hw + ".label")
                    if not isinstance(h["label"], str):
                        raise InputError("label must be a string", hw + ".label")
                if h.get("then") not in THENS:
                    raise InputError("then must be reraise, swallow or uncancel", hw + ".then")
                if h["then"] == "uncancel":
                    self.features.add("uncancel")
                self.body(h.get("body", []), hw + ".body", timeouts, False)
            if len(stars) > 1:
                raise InputError("a try's handlers are all star or all plain", where)
            fin = st.get("finally")
            if fin is not None:
                if not isinstance(fin, dict):
                    raise InputError("finally must be an object {name, body}", where + ".finally")
                self.new_name(fin, where + ".finally")
                self.body(fin.get("body", []), where + ".finally.body", timeouts, False)
        else:
            raise InputError("unknown op %r" % (op,), where + ".op")


def validate(prog, capabilities=None, runtime=None):
    """Checks the program; returns its deepest body nesting (main's steps: 1).
    A program that uses an op or feature (ADAPTERS.md) not in `capabilities`
    (default: this interpreter's) is refused as unsupported."""
    if not isinstance(prog, dict):
        raise InputError("a program must be a JSON object", "program")
    if prog.get("asyncspec") != 1:
        raise InputError("asyncspec must be 1", "asyncspec")
    if "name" in prog and prog["name"] is not None and not isinstance(prog["name"], str):
        raise InputError("name must be a string", "name")
    v = _Validator()
    v.body(prog.get("main"), "main", (), True)
    for g in _spawn_groups(prog.get("main")):
        if g[0] not in v.groups:
            raise InputError("spawn into %r, which is not a group of the program" % g[0], g[1])
    caps = CAPABILITIES if capabilities is None else capabilities
    missing = sorted(f for f in v.features if f not in caps)
    if missing:
        if runtime is None:
            raise InputError("Python %d.%d lacks %s (needs 3.11+)"
                             % (PY[0], PY[1], ", ".join(missing)), "capabilities", "unsupported")
        raise InputError("%s cannot express %s" % (runtime, ", ".join(missing)),
                         "capabilities", "unsupported")
    return v.max_depth


def _spawn_groups(body, where="main"):
    """(group, where) of every spawn, to check it names a group."""
    out = []
    def walk(b, w):
        for i, st in enumerate(b):
            sw = "%s[%d]" % (w, i)
            op = st["op"]
            if op == "spawn":
                out.append((st["group"], sw + ".group"))
            for key in ("task",):
                if key in st and isinstance(st[key], dict) and op in ("task", "spawn", "shield", "wait_for"):
                    walk(st[key]["body"], sw + ".task.body")
            if op == "gather":
                for j, c in enumerate(st["children"]):
                    walk(c["body"], "%s.children[%d].body" % (sw, j))
            if op in ("group", "timeout", "try"):
                walk(st["body"], sw + ".body")
            if op == "try":
                for j, h in enumerate(st.get("handlers", [])):
                    walk(h.get("body", []), "%s.handlers[%d].body" % (sw, j))
                if st.get("finally"):
                    walk(st["finally"].get("body", []), sw + ".finally.body")
    walk(body, where)
    return out


# --------------------------------------------------------------------------
# Exceptions as JSON (spec/FORMAT.md "<exc>").

_TIMEOUT_TYPES = (TimeoutError, asyncio.TimeoutError)

# Exceptions that are not values of the program language (a RecursionError
# from a very deep program, a driver bug). exc_json notes them here, since it
# runs inside the program and must not change its course; run_program then
# answers with an error line instead of an outcome that would look valid.
_FOREIGN = []


def exc_json(e):
    if HAS_311 and isinstance(e, BaseExceptionGroup):  # noqa: F821 (3.11+)
        return {"type": "group", "base": not isinstance(e, Exception),
                "children": [exc_json(c) for c in e.exceptions]}
    if isinstance(e, asyncio.CancelledError):
        d = {"type": "cancelled"}
        if e.args and e.args[0] is not None:
            d["msg"] = str(e.args[0])
        return d
    if isinstance(e, Err):
        return {"type": "error", "label": e.label}
    if isinstance(e, BaseErr):
        return {"type": "base", "label": e.label}
    if isinstance(e, _TIMEOUT_TYPES):
        return {"type": "timeout"}
    if isinstance(e, RuntimeError) and not isinstance(e, RecursionError):
        text = str(e)
        if text.startswith("TaskGroup ") and text.endswith(" is finished"):
            what = "taskgroup_finished"
        elif text.startswith("TaskGroup ") and text.endswith(" has not been entered"):
            what = "taskgroup_not_entered"
        elif text.startswith("TaskGroup ") and text.endswith(" is shutting down"):
            what = "taskgroup_shutting_down"
        else:
            what = "other"
        return {"type": "runtime", "what": what, "text": text}
    text = "%s: %s" % (type(e).__name__, e)
    if not isinstance(e, GeneratorExit):  # closing a pending coroutine (_finalize)
        _FOREIGN.append(text)
    return {"type": "runtime", "what": "other", "text": text}


# --------------------------------------------------------------------------
# Generated try statements (3.11+ for except*; plain ones on every version).

_TRY_CACHE = {}


def _try_runner(star, thens):
    """An `async def f(body, handlers, types)` whose try statement has one
    `except[*] types[i] as e:` clause per handler, each awaiting
    handlers[i](e) and then, for reraise, a bare `raise`."""
    key = (star, thens)
    fn = _TRY_CACHE.get(key)
    if fn is not None:
        return fn
    kw = "except*" if star else "except"
    lines = ["async def _try(body, handlers, types):",
             "    try:",
             "        await body()"]
    for i, then in enumerate(thens):
        lines.append("    %s types[%d] as e:" % (kw, i))
        lines.append("        await handlers[%d](e)" % i)
        if then == "reraise":
            lines.append("        raise")
    ns = {}
    exec(compile("\n".join(lines) + "\n", "<asyncspec try %s %s>" % (kw, ",".join(thens)), "exec"), ns)
    fn = ns["_try"]
    _TRY_CACHE[key] = fn
    return fn


def _catch_type(h):
    kind = h["catch"]
    label = h.get("label")
    if kind == "cancelled":
        return asyncio.CancelledError
    if kind == "timeout":
        return _TIMEOUT_TYPES if not HAS_311 else TimeoutError
    if kind == "error":
        return label_class(False, label) if label is not None else Err
    if kind == "base":
        return label_class(True, label) if label is not None else BaseErr
    if kind == "group":
        return BaseExceptionGroup  # noqa: F821 (3.11+, checked by validate)
    if kind == "runtime":
        return RuntimeError
    if kind == "exception":
        return Exception
    return BaseException  # any


# --------------------------------------------------------------------------
# The virtual clock.

class _VirtualSelector(selectors.BaseSelector):
    """Holds registrations (the loop's self-pipe) but never waits: a wait of
    `timeout` seconds moves the loop's virtual clock forward instead."""

    def __init__(self):
        self.now = 0.0
        self._keys = {}

    def register(self, fileobj, events, data=None):
        fd = fileobj if isinstance(fileobj, int) else fileobj.fileno()
        key = selectors.SelectorKey(fileobj, fd, events, data)
        self._keys[fd] = key
        return key

    def unregister(self, fileobj):
        fd = fileobj if isinstance(fileobj, int) else fileobj.fileno()
        return self._keys.pop(fd)

    def modify(self, fileobj, events, data=None):
        self.unregister(fileobj)
        return self.register(fileobj, events, data)

    def select(self, timeout=None):
        if timeout is None:
            raise Deadlock("every task is waiting and no timer is pending")
        if timeout > 0:
            self.now += timeout
        return []

    def get_map(self):
        return self._keys

    def close(self):
        self._keys = {}


class _VirtualLoop(asyncio.SelectorEventLoop):
    def __init__(self):
        self._vsel = _VirtualSelector()
        super().__init__(self._vsel)
        # Timers compare `when < now + resolution`; virtual times are exact
        # integers, so any resolution below 1 gives the same answer.
        self._clock_resolution = 1e-9
        self.set_task_factory(_task_factory)

    def time(self):
        return self._vsel.now


class VirtualClock:
    """Program time is loop time: the loop is a _VirtualLoop."""

    name = "virtual"

    def __init__(self):
        self.loop = None

    def new_loop(self):
        return _VirtualLoop()

    def start(self, loop, prog):
        self.loop = loop

    def now(self):
        return int(self.loop.time())

    def delay(self, d):
        """Seconds to sleep (or give wait_for) for `d` units from now."""
        return d

    def at(self, d):
        """The loop time `d` units from now (a timeout's deadline)."""
        return self.loop.time() + d

    def check_deadlock(self):
        pass  # the virtual selector raises Deadlock itself


class RealClock:
    """Program time on a loop that sleeps for real (uvloop): one unit is
    `tick` seconds, times are reported as round(elapsed / tick)
    (conformance/ADAPTERS.md, "Real clocks").

    Why deadlines are put on the grid: `sleep d` at program time n waits
    until t0 + (n + d) * tick, not for d * tick from the moment it runs.
    The moment it runs is already late by the loop's latency; with relative
    delays that lateness would add up over a chain of sleeps and, after a
    few dozen, move a reported time by a whole unit. On the grid, a step is
    only ever late by its own latency (< tick / 2, or the run is not valid).
    Delays of 0 stay 0, so `sleep 0` is still a bare yield, `timeout 0` a
    call_soon and `wait_for ... 0` takes WF-2's path.

    A real loop cannot tell that every task waits and nothing is armed, so
    deadlock is found from INV-8: a run that does not deadlock ends by the
    sum of all delays in the program; a watchdog timer a little after that
    stops the loop, and the run is reported as a deadlock."""

    name = "real"

    def __init__(self, tick_ms, loop_factory):
        self.tick = tick_ms / 1000.0
        self._factory = loop_factory
        self.loop = None
        self.t0 = 0.0
        self.fired = False

    def new_loop(self):
        loop = self._factory()
        loop.set_task_factory(_task_factory)
        return loop

    def start(self, loop, prog):
        self.loop = loop
        self.t0 = loop.time()
        self.fired = False
        limit = self.t0 + (_delay_sum(prog) + 2) * self.tick + 0.5
        loop.call_at(limit, self._watchdog)

    def _watchdog(self):
        self.fired = True
        self.loop.stop()

    def check_deadlock(self):
        if self.fired:
            raise Deadlock("the run outlived the sum of its delays (INV-8): every task waits")

    def now(self):
        return int(round((self.loop.time() - self.t0) / self.tick))

    def at(self, d):
        if d == 0:
            return self.loop.time()
        return self.t0 + (self.now() + d) * self.tick

    def delay(self, d):
        if d == 0:
            return 0
        # At least a millisecond: a d > 0 must stay a timer, not a yield.
        return max(self.at(d) - self.loop.time(), 0.001)


def _delay_sum(o):
    """The sum of every delay `d` written in a program (INV-8's bound)."""
    if isinstance(o, dict):
        d = o.get("d")
        own = d if isinstance(d, int) and not isinstance(d, bool) else 0
        return own + sum(_delay_sum(v) for v in o.values() if isinstance(v, (dict, list)))
    if isinstance(o, list):
        return sum(_delay_sum(v) for v in o)
    return 0


class Task(asyncio.Task):
    """asyncio's (C) Task, plus one observation: the cancel message in force
    after each cancel() request on a pending task.

    Why: a task cancelled before its first step ends with the CancelledError
    that Task.__step built from `_cancel_message` and threw into the
    unstarted coroutine; the coroutine never ran, so nothing of ours saw it,
    and Future.cancel() then resets `_cancel_message` to None. The C Task
    does not expose `_cancelled_exc`, and calling exception() would consume
    it (CX-5: a later retrieval would lose the message). Every cancel()
    request, also asyncio's own (TaskGroup abort, gather, timeout, run),
    goes through this method, so the last value recorded is the message of
    that CancelledError. Nothing else changes: the override calls the real
    cancel() and returns its answer. (Named Task so that asyncio's messages
    and reprs read as they do for a plain Task.)"""

    _asyncspec_msg = None

    def cancel(self, msg=None):
        accepted = super().cancel(msg)
        if not self.done():
            self._asyncspec_msg = self._cancel_message
        return accepted


def _task_factory(loop, coro, **kwargs):
    return Task(coro, loop=loop, **kwargs)


# --------------------------------------------------------------------------
# Running one program.

class _Listener:
    """The loop's exception handler. Holds no task, so that it does not keep
    tasks alive in gc mode; it keeps only names."""

    def __init__(self):
        self.never_retrieved = []   # reported when a task is destroyed
        self.shutdown_errors = []   # reported by asyncio.run's drain
        self.calls = []             # RT-8: every other call, as outcome entries
        self.foreign = []           # asyncio's own machinery failed

    def __call__(self, loop, context):
        msg = context.get("message", "")
        exc = context.get("exception")
        task = context.get("task")
        # "<class name> exception was never retrieved": the C Task uses the
        # type's name, so match the tail.
        if msg.endswith(" exception was never retrieved"):
            fut = context.get("future")
            if isinstance(fut, asyncio.Task):
                self.never_retrieved.append((fut.get_name(), exc_json(exc)))
        elif msg.startswith("unhandled exception during asyncio.run() shutdown"):
            # RT-4: a leftover task that raised while run cancelled it. Its
            # exception was retrieved by run's gather, yet asyncio reports it.
            if task is not None:
                self.shutdown_errors.append((task.get_name(), exc_json(exc)))
        elif " has errored out but its parent task " in msg and task is not None:
            # taskgroups.py _on_task_done, the parent task already done.
            self.calls.append({"kind": "parent_done", "task": task.get_name(), "error": exc_json(exc)})
        elif msg.endswith(" exception in shielded future") and isinstance(context.get("future"), asyncio.Task):
            # tasks.py shield (3.14, gh-86802): "<class name> exception in
            # shielded future", like "never retrieved" above.
            self.calls.append({"kind": "shielded", "task": context["future"].get_name(),
                               "error": exc_json(exc)})
        elif msg.startswith("Exception in callback") or isinstance(exc, (RecursionError, MemoryError)):
            # A callback of asyncio itself raised (e.g. Timeout._on_timeout
            # recursing without end through an await cycle): the loop goes
            # on, but what it does next is no longer a program's meaning.
            self.foreign.append("%s: %s: %s" % (msg, type(exc).__name__, exc))


def _valued(end, v):
    """A shield / wait_for scope that returned v. A child whose body just
    ended returns None; the scope then has no "value", as spec/json.h
    writes it (ScopeOutcome::value is an optional string)."""
    return {"end": end} if v is None else {"end": end, "value": v}


class _Run:
    """One program's execution: the program's `tasks`, `groups` and `tm`
    registries (FORMAT.md's Python meaning) plus what is recorded.

    `clock` turns program time into loop time and back (VirtualClock,
    RealClock). Adapters of other runtimes (conformance/adapters/trio)
    subclass this class and override the steps their runtime does
    differently; `exc_json` is the hook for their exception types."""

    exc_json = staticmethod(exc_json)
    catch_type = staticmethod(_catch_type)

    def __init__(self, prog, clock=None):
        self.prog = prog
        self.loop = None
        self.clock = clock if clock is not None else VirtualClock()
        self.tasks = {}       # name -> asyncio.Task
        self.groups = {}      # name -> asyncio.TaskGroup (made up front: "not entered")
        self.tms = {}         # name -> asyncio.Timeout
        self.starts = {}      # task name -> start time
        self.ends = {}        # task name -> end time
        self.cancel_excs = {}  # task name -> CancelledError its coroutine raised
        self.refused = {}     # id of a coroutine create_task refused -> task name
        self.blocks = {}
        self.scopes = {}
        self.ops = {
            "sleep": self.op_sleep, "raise": self.op_raise, "task": self.op_task,
            "group": self.op_group, "spawn": self.op_spawn, "gather": self.op_gather,
            "timeout": self.op_timeout, "reschedule": self.op_reschedule,
            "shield": self.op_shield, "wait_for": self.op_wait_for,
            "cancel": self.op_cancel, "await": self.op_await,
            "uncancel": self.op_uncancel, "try": self.op_try,
        }
        if HAS_311:
            self._make_groups(prog["main"])

    def _make_groups(self, body):
        for st in body:
            op = st["op"]
            if op == "group":
                self.groups[st["name"]] = asyncio.TaskGroup()
            for key in ("body",):
                if op in ("group", "timeout", "try"):
                    self._make_groups(st[key])
            if op in ("task", "spawn", "shield", "wait_for"):
                self._make_groups(st["task"]["body"])
            elif op == "gather":
                for c in st["children"]:
                    self._make_groups(c["body"])
            elif op == "try":
                for h in st.get("handlers", []):
                    self._make_groups(h.get("body", []))
                if st.get("finally"):
                    self._make_groups(st["finally"].get("body", []))

    def now(self):
        return self.clock.now()

    # ---- tasks ----

    def _done(self, name, task):
        # For tasks whose coroutine never ran (cancelled before the first
        # step, CX-3); task_body records the others.
        self.ends.setdefault(name, self.now())

    def _register(self, name, task):
        self.tasks[name] = task
        task.add_done_callback(functools.partial(self._done, name))
        return task

    def _new_task(self, tdef):
        name = tdef["name"]
        return self._register(name, self.loop.create_task(self.task_body(name, tdef["body"]), name=name))

    async def task_body(self, name, body):
        self.starts[name] = self.now()
        # The task is done in the same step as its coroutine ends, so that
        # is its end time. (Done callbacks would give the same time, but
        # they never run for a task whose base error stopped the loop, RT-5.)
        try:
            value = await self.run_body(body)
        except GeneratorExit:
            raise  # a pending task being destroyed: it did not end
        except BaseException as e:
            if isinstance(e, asyncio.CancelledError):
                self.cancel_excs[name] = e
            self.ends[name] = self.now()
            raise
        self.ends[name] = self.now()
        return value

    async def root(self):
        me = asyncio.current_task()
        me.set_name("main")
        self._register("main", me)
        return await self.task_body("main", self.prog["main"])

    async def run_body(self, body):
        ops = self.ops
        for st in body:
            op = st["op"]
            if op == "return":
                return st["value"]
            await ops[op](st)
        return None

    # ---- steps: each is the Python statement of FORMAT.md ----

    async def op_sleep(self, st):
        await asyncio.sleep(self.clock.delay(st["d"]))

    async def op_raise(self, st):
        raise label_class(bool(st.get("base", False)), st["label"])(st["label"])

    async def op_task(self, st):
        self._new_task(st["task"])

    async def op_group(self, st):
        name = st["name"]
        try:
            async with self.groups[name]:
                await self.run_body(st["body"])
        except BaseException as e:
            self.scopes[name] = {"end": self.now(), "raised": self.exc_json(e)}
            raise
        self.scopes[name] = {"end": self.now()}

    async def op_spawn(self, st):
        tdef = st["task"]
        name = tdef["name"]
        coro = self.task_body(name, tdef["body"])
        try:
            task = self.groups[st["group"]].create_task(coro, name=name)
        except BaseException:
            # 3.11/3.12 leave the coroutine unawaited: it warns "never
            # awaited" when collected (RT-8), which run_program records by
            # this id; 3.13 closes it (gh-115957). Not ours to close.
            self.refused[id(coro)] = name
            del coro
            raise
        self._register(name, task)

    async def op_gather(self, st):
        name = st["name"]
        try:
            children = [self._new_task(c) for c in st["children"]]
            res = await asyncio.gather(*children, return_exceptions=bool(st.get("return_exceptions", False)))
        except BaseException as e:
            self.scopes[name] = {"end": self.now(), "raised": self.exc_json(e)}
            raise
        items = [{"error": self.exc_json(r)} if isinstance(r, BaseException) else {"value": r} for r in res]
        self.scopes[name] = {"end": self.now(), "value": items}

    async def op_timeout(self, st):
        name = st["name"]
        d = st["d"]
        cm = asyncio.timeout_at(None if d is None else self.clock.at(d))
        try:
            async with cm as tm:
                self.tms[name] = tm
                await self.run_body(st["body"])
        except BaseException as e:
            self.scopes[name] = {"end": self.now(), "raised": self.exc_json(e), "expired": cm.expired()}
            raise
        self.scopes[name] = {"end": self.now(), "expired": cm.expired()}

    async def op_reschedule(self, st):
        d = st["d"]
        self.tms[st["timeout"]].reschedule(None if d is None else self.clock.at(d))

    async def op_shield(self, st):
        name = st["name"]
        try:
            v = await asyncio.shield(self._new_task(st["task"]))
        except BaseException as e:
            self.scopes[name] = {"end": self.now(), "raised": self.exc_json(e)}
            raise
        self.scopes[name] = _valued(self.now(), v)

    async def op_wait_for(self, st):
        name = st["name"]
        try:
            d = st["d"]
            v = await asyncio.wait_for(self._new_task(st["task"]), None if d is None else self.clock.delay(d))
        except BaseException as e:
            self.scopes[name] = {"end": self.now(), "raised": self.exc_json(e)}
            raise
        self.scopes[name] = _valued(self.now(), v)

    async def op_cancel(self, st):
        t = self.tasks.get(st["target"])
        if t is not None:
            msg = st.get("msg")
            if msg is None:
                t.cancel()
            else:
                t.cancel(msg)

    async def op_await(self, st):
        t = self.tasks.get(st["target"])
        if t is None:
            await asyncio.sleep(0)
        else:
            await t

    async def op_uncancel(self, st):
        asyncio.current_task().uncancel()

    def _handler(self, h):
        async def run(e):
            name = h["name"]
            self.blocks[name] = {"start": self.now(), "end": None}
            await self.run_body(h.get("body", []))
            if h["then"] == "uncancel":
                asyncio.current_task().uncancel()
            self.blocks[name]["end"] = self.now()
        return run

    async def op_try(self, st):
        name = st["name"]
        hs = st.get("handlers", [])
        fin = st.get("finally")
        try:
            try:
                if hs:
                    star = bool(hs[0].get("star", False))
                    fn = _try_runner(star, tuple(h["then"] for h in hs))
                    await fn(functools.partial(self.run_body, st["body"]),
                             [self._handler(h) for h in hs],
                             [self.catch_type(h) for h in hs])
                else:
                    await self.run_body(st["body"])
            finally:
                if fin is not None:
                    fname = fin["name"]
                    self.blocks[fname] = {"start": self.now(), "end": None}
                    await self.run_body(fin.get("body", []))
                    self.blocks[fname]["end"] = self.now()
        except BaseException as e:
            self.scopes[name] = {"end": self.now(), "raised": self.exc_json(e)}
            raise
        self.scopes[name] = {"end": self.now()}

    # ---- asyncio.run and the outcome ----

    def execute(self, listener):
        """asyncio.run(main()) on the clock's loop. Returns the exception
        asyncio.run raised, or None. Deadlock propagates."""
        if HAS_311:
            runner = asyncio.Runner(loop_factory=self.clock.new_loop)
            self.loop = runner.get_loop()
            self.loop.set_exception_handler(listener)
            self.clock.start(self.loop, self.prog)
            raised = None
            try:
                try:
                    runner.run(self.root())
                except Deadlock:
                    raise
                except BaseException as e:  # what asyncio.run raised
                    self.clock.check_deadlock()
                    raised = e
                # `with Runner(): runner.run(main)`: __exit__ closes, which
                # cancels leftovers and drains. A base error escaping the
                # drain replaces the first exception, as it does for
                # asyncio.run.
                try:
                    runner.close()
                except Deadlock:
                    raise
                except BaseException as e:
                    self.clock.check_deadlock()
                    raised = e
            except Deadlock:
                self._abandon()
                raise
            return raised
        # 3.10: the body of asyncio.run, with our loop.
        from asyncio.runners import _cancel_all_tasks
        loop = self.loop = self.clock.new_loop()
        loop.set_exception_handler(listener)
        self.clock.start(loop, self.prog)
        asyncio.set_event_loop(loop)
        raised = None
        try:
            try:
                try:
                    loop.run_until_complete(self.root())
                except Deadlock:
                    raise
                except BaseException as e:
                    self.clock.check_deadlock()
                    raised = e
                try:
                    _cancel_all_tasks(loop)
                    loop.run_until_complete(loop.shutdown_asyncgens())
                    loop.run_until_complete(loop.shutdown_default_executor())
                except Deadlock:
                    raise
                except BaseException as e:
                    self.clock.check_deadlock()
                    raised = e
            except Deadlock:
                self._abandon()
                raise
        finally:
            asyncio.set_event_loop(None)
            if not loop.is_closed():
                loop.close()
        return raised

    def _abandon(self):
        # After a deadlock nothing can run; drop the callbacks and tell the
        # pending tasks not to log their destruction, so that nothing leaks
        # into the next program or onto stderr.
        loop = self.loop
        if isinstance(loop, _VirtualLoop):
            loop._ready.clear()
            for h in loop._scheduled:
                h.cancel()
            loop._scheduled.clear()
        if not loop.is_closed():
            loop.close()
        _finalize(self.tasks)

    def task_outcomes(self):
        out = {}
        final = self.now()
        for name, t in self.tasks.items():
            end = self.ends.get(name)
            if end is None and t.done():
                # Done, but neither its coroutine nor its done callback saw
                # it end: it never started, and the loop never ran another
                # iteration after the one in which it ended (a stop or a
                # base error ended the loop). Time does not move while
                # callbacks are ready, so it ended at the final time.
                end = final
            rec = {"start": self.starts.get(name), "end": end}
            if t.cancelled():
                e = self.cancel_excs.get(name)
                if e is None:
                    # Never started (the thrown error carried the message
                    # of the last request), or cancelled as it returned
                    # (`super().cancel(msg=self._cancel_message)`): both
                    # are the last message recorded by Task.cancel.
                    msg = getattr(t, "_asyncspec_msg", None)
                    e = asyncio.CancelledError() if msg is None else asyncio.CancelledError(msg)
                rec["state"] = "cancelled"
                rec["error"] = self.exc_json(e)
            elif t.done():
                exc = t._exception  # read-only view: does not retrieve
                if exc is not None:
                    rec["state"] = "raised"
                    rec["error"] = self.exc_json(exc)
                else:
                    rec["state"] = "returned"
                    rec["value"] = t._result
            else:
                rec["state"] = "pending"
            out[name] = rec
        return out

    def unretrieved_by_flag(self):
        out = []
        for name, t in self.tasks.items():
            if t.done() and not t.cancelled() and t._exception is not None and t._log_traceback:
                out.append({"task": name, "error": self.exc_json(t._exception)})
        return out


class Foreign(Exception):
    """The run saw an exception that no program step can cause."""


def run_program(prog, unretrieved="flag"):
    """Runs a validated program; returns the outcome dict (FORMAT.md).
    Raises Deadlock or Foreign instead of returning a wrong outcome.
    RuntimeWarnings of the run are recorded (RT-8), not shown."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", RuntimeWarning)
        return _run_program(prog, unretrieved, caught)


def _run_program(prog, unretrieved, caught):
    del _FOREIGN[:]
    listener = _Listener()
    r = _Run(prog, new_clock())
    try:
        raised = r.execute(listener)
    except Deadlock:
        # A deadlock that follows a failure inside asyncio is that failure.
        foreign = _FOREIGN + listener.foreign
        if foreign:
            raise Foreign(foreign[0]) from None
        raise
    outcome = {
        "tasks": r.task_outcomes(),
        # Copies: code of tasks still pending (see _finalize) may run later
        # and must not touch what is reported.
        "blocks": {k: dict(v) for k, v in r.blocks.items()},
        "scopes": dict(r.scopes),
        "run": None if raised is None else exc_json(raised),
        "end_time": r.now(),
    }
    foreign = _FOREIGN + listener.foreign  # before _finalize runs more code
    # The flags as asyncio.run left them. Read after _finalize, they would
    # also see what the closed coroutines' finally blocks did after the run
    # (an `await t` of a finished task there retrieves t's exception).
    by_flag = [(u["task"], u["error"]) for u in r.unretrieved_by_flag()]
    # RT-8: tasks still pending are destroyed pending ("Task was destroyed
    # but it is pending!", Task.__del__), and a coroutine that never started
    # also warns "never awaited" when it goes. _finalize closes them now
    # (see there), which would silence both, so they are recorded here.
    pending = [n for n, t in r.tasks.items() if not t.done()]
    never_started = [n for n in pending if n not in r.starts]
    refused = dict(r.refused)
    _finalize(r.tasks)
    if unretrieved == "flag":
        found = by_flag
    # Drop every reference to the run (and the exception asyncio.run
    # raised, whose traceback reaches the tasks' frames and the refused
    # coroutines), then let the garbage collector destroy them: asyncio
    # itself reports the never-retrieved ones to the listener, and the
    # refused coroutines warn. (A full collection costs a third more on
    # deep programs: only when something is waiting for it.)
    del r, raised
    if unretrieved != "flag" or refused:
        gc.collect()
    # A recorded warning's `source` is the refused coroutine, whose frame
    # holds the run (`self`) and so every other refused coroutine: take the
    # names, let go of the sources, collect again until no new warning.
    warned = []
    seen = 0
    while seen < len(caught):
        for w in caught[seen:]:
            if (issubclass(w.category, RuntimeWarning) and "was never awaited" in str(w.message)
                    and id(w.source) in refused):
                warned.append({"kind": "never_awaited", "task": refused[id(w.source)]})
            w.source = None
        seen = len(caught)
        gc.collect()
    if unretrieved != "flag":
        found = list(listener.never_retrieved)
    never_retrieved = list(found)
    shutdown = list(listener.shutdown_errors)
    found += shutdown
    byname = {}
    for n, e in found:
        byname.setdefault(n, e)
    outcome["unretrieved"] = [{"task": n, "error": byname[n]} for n in sorted(byname)]
    calls = ([{"kind": "never_retrieved", "task": n, "error": e} for n, e in never_retrieved]
             + [{"kind": "run_shutdown", "task": n, "error": e} for n, e in shutdown]
             + [{"kind": "destroyed_pending", "task": n} for n in pending]
             + listener.calls)
    outcome["handler"] = sorted(calls, key=_channel_key)
    warned += [{"kind": "never_awaited", "task": n} for n in never_started]
    outcome["warnings"] = sorted(warned, key=_channel_key)
    if foreign:
        raise Foreign(foreign[0])
    return outcome


_CHANNEL_KINDS = ["never_retrieved", "run_shutdown", "destroyed_pending", "parent_done", "shielded",
                  "never_awaited"]


def _channel_key(entry):
    """The order of FORMAT.md's `handler` and `warnings`: by task, then kind."""
    return (entry["task"], _CHANNEL_KINDS.index(entry["kind"]))


def _finalize(tasks):
    """Closes the coroutines of tasks still pending after asyncio.run (made
    during the drain, or left by a base error that stopped the drain).
    Python would close them when it collects them, at a moment of its
    choosing, possibly inside the next program's event loop, where their
    finally blocks could schedule timers. Closing them now, with no loop
    running, keeps programs apart."""
    for t in tasks.values():
        if not t.done():
            t._log_destroy_pending = False
            try:
                t.get_coro().close()
            except BaseException:
                pass


def _py_json_loads(text):
    import json.scanner
    dec = json.JSONDecoder()
    dec.scan_once = json.scanner.py_make_scanner(dec)
    return dec.decode(text)


def handle_line(line, unretrieved="flag"):
    """One input line -> one output object (outcome or error)."""
    if _STATE["main_poisoned"]:
        return _in_fresh_thread(_handle_deep, line, unretrieved)
    try:
        prog = json.loads(line)
    except ValueError as e:
        return {"error": "not JSON: %s" % e, "kind": "input", "where": "input"}
    except RecursionError:
        return _in_fresh_thread(_handle_deep, line, unretrieved)
    try:
        depth = validate(prog)
    except InputError as e:
        return {"error": e.msg, "kind": e.kind, "where": e.where}
    except RecursionError:
        return _in_fresh_thread(_handle_deep, line, unretrieved)
    if depth > DEEP:
        return _in_fresh_thread(_run_reply, prog, unretrieved)
    reply = _run_reply(prog, unretrieved)
    if "error" in reply and "RecursionError" in reply["error"]:
        # 3.12.1 leaves a thread's C recursion budget exhausted after a
        # RecursionError, so that every later run in it fails; run the
        # rest in fresh threads.
        _STATE["main_poisoned"] = True
    return reply


def _handle_deep(line, unretrieved):
    """handle_line for deeply nested programs, in a thread with a big stack
    and a raised recursion limit."""
    try:
        try:
            prog = json.loads(line)
        except RecursionError:
            # 3.12's C json scanner has a fixed depth limit (about 1000
            # JSON levels, i.e. about 500 nested bodies); json's
            # pure-Python scanner obeys setrecursionlimit.
            prog = _py_json_loads(line)
    except ValueError as e:
        return {"error": "not JSON: %s" % e, "kind": "input", "where": "input"}
    except RecursionError:
        return {"error": "too deeply nested for Python %d.%d's json module" % PY, "kind": "unsupported", "where": "input"}
    try:
        validate(prog)
    except InputError as e:
        return {"error": e.msg, "kind": e.kind, "where": e.where}
    except RecursionError:
        return {"error": "too deeply nested for the driver", "kind": "unsupported", "where": "program"}
    return _run_reply(prog, unretrieved)


_STATE = {"main_poisoned": False}

# Programs nested deeper than this (or too deep for the default recursion
# limit to parse) run in a fresh thread with a 512 MiB stack and a recursion
# limit of DEEP_RECURSION_LIMIT. Why: deep nesting means deep recursion
# (parsing, awaits, exception groups). The main thread keeps Python's default
# limit, so that runaway recursion in asyncio itself (a cancel() that loops
# through an await cycle: CX-7 down a cycle of tasks awaiting each other)
# ends as a RecursionError rather than a C stack overflow, which on 3.11
# kills the process. A fresh thread state also keeps a RecursionError from
# poisoning later programs (3.12.1, see handle_line).
DEEP = 100
DEEP_RECURSION_LIMIT = 30000


def _in_fresh_thread(fn, *args):
    import threading
    result = []

    def work():
        old_limit = sys.getrecursionlimit()
        sys.setrecursionlimit(DEEP_RECURSION_LIMIT)  # the main thread waits in join()
        try:
            reply = _Reply(fn(*args))
            reply.text = dumps(reply)  # deep outcomes nest deep: encode here too
            result.append(reply)
        finally:
            sys.setrecursionlimit(old_limit)

    old = threading.stack_size()
    threading.stack_size(512 << 20)
    try:
        t = threading.Thread(target=work, name="asyncspec-deep")
        t.start()
    finally:
        threading.stack_size(old)
    t.join()
    if not result:
        return {"error": "driver failure: the run's thread died", "kind": "internal", "where": "run"}
    return result[0]


def _run_reply(prog, unretrieved):
    try:
        return run_program(prog, unretrieved)
    except Deadlock as e:
        return {"error": "deadlock: %s (asyncio.run would never return)" % e, "kind": "deadlock", "where": "run"}
    except Foreign as e:
        return {"error": "the run raised an exception no step can cause: %s" % e, "kind": "internal", "where": "run"}
    except Exception as e:  # a driver bug: report it, keep serving
        return {"error": "driver failure: %s: %s" % (type(e).__name__, e), "kind": "internal", "where": "run"}


class _Reply(dict):
    """A reply already encoded (`text`) by the thread that computed it."""
    text = None


def dumps(obj):
    try:
        return json.dumps(obj, sort_keys=True, separators=(",", ":"))
    except RecursionError:
        # The C encoder's depth limit (3.12). json's pure-Python encoder
        # would do, but its nested generators make it quadratic in depth;
        # this one is linear and obeys setrecursionlimit.
        out = []
        _encode(obj, out)
        return "".join(out)


def _encode(o, out):
    if isinstance(o, dict):
        out.append("{")
        for i, k in enumerate(sorted(o)):
            if i:
                out.append(",")
            out.append(json.dumps(k))
            out.append(":")
            _encode(o[k], out)
        out.append("}")
    elif isinstance(o, list):
        out.append("[")
        for i, v in enumerate(o):
            if i:
                out.append(",")
            _encode(v, out)
        out.append("]")
    else:
        out.append(json.dumps(o))


def _quiet():
    # Pending coroutines that ignore GeneratorExit when closed and the like
    # are not part of an outcome; asyncio's own reports go to the run's
    # listener, and run_program records the RuntimeWarnings of each run.
    sys.unraisablehook = lambda unraisable: None


def new_clock():
    """A fresh clock for one run: virtual unless main() chose --loop."""
    factory = _CONFIG["clock"]
    return factory() if factory is not None else VirtualClock()


def _use_uvloop(tick_ms):
    """--loop=uvloop: the run's loop is uvloop's, on real time (it has no
    virtual clock: its timers are libuv's, on the monotonic clock)."""
    import uvloop
    _CONFIG["clock"] = lambda: RealClock(tick_ms, uvloop.new_event_loop)
    _CONFIG["runtime"] = "uvloop"
    _CONFIG["version"] = uvloop.__version__


def parse_args(argv):
    """The driver's command line (argparse: --help; bad flags exit 2)."""
    def tick_ms(v):
        if not v.isdigit() or int(v) < 1:
            raise argparse.ArgumentTypeError("must be an integer >= 1, got %r" % v)
        return int(v)
    p = argparse.ArgumentParser(
        prog="driver.py",
        description="Runs asyncspec programs (spec/FORMAT.md, one JSON per stdin line) on real asyncio "
                    "and prints the hello, then one outcome per line (conformance/ADAPTERS.md).")
    p.add_argument("--unretrieved", choices=("flag", "gc"), default="flag",
                   help="how unretrieved errors are found: the task's flag, or the garbage collector")
    p.add_argument("--loop", choices=("asyncio", "uvloop"), default="asyncio",
                   help="asyncio's loop on a virtual clock, or uvloop on a real one")
    p.add_argument("--tick_ms", type=tick_ms, default=20, help="uvloop: milliseconds of real time per time unit")
    what = p.add_mutually_exclusive_group()
    what.add_argument("--version", action="store_true", help="print the hello line and exit")
    what.add_argument("--program", metavar="FILE", help="run one program file and print its outcome")
    return p.parse_args(argv[1:])


# Protocol 2 (ADAPTERS.md): the check writes each program as {"id":N,...},
# the id first, and every reply repeats it, so that a reply that is out of
# step with its program is one adapter error.
_ID_PREFIX = re.compile(r'\{"id":(\d+),')


def split_id(line):
    """(the id's text or None, the line without it)."""
    m = _ID_PREFIX.match(line)
    if not m:
        return None, line
    return m.group(1), "{" + line[m.end():]


def with_id(ident, text):
    """The reply line `text` (a JSON object) carrying the program's id."""
    return text if ident is None else '{"id":%s,%s' % (ident, text[1:])


def main(argv):
    _quiet()
    opts = parse_args(argv)
    unretrieved = opts.unretrieved
    if opts.loop == "uvloop":
        _use_uvloop(opts.tick_ms)
    if opts.version:
        print(dumps(hello()))
        return 0
    if opts.program is not None:
        with open(opts.program) as f:
            text = f.read()
        out = handle_line(text, unretrieved)
        print(json.dumps(out, sort_keys=True, indent=2))
        return 1 if "error" in out else 0
    out = sys.stdout
    out.write(dumps(hello()) + "\n")
    out.flush()
    n = 0
    for line in sys.stdin:
        n += 1
        ident, line = split_id(line)
        if not line.strip():
            # Still one reply per line, so that replies pair with lines.
            res = {"error": "empty line", "kind": "input", "where": "input"}
        else:
            res = handle_line(line, unretrieved)
        if "error" in res:
            res["line"] = n
            text = dumps(res)
        else:
            text = getattr(res, "text", None) or dumps(res)
        out.write(with_id(ident, text) + "\n")
        out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
