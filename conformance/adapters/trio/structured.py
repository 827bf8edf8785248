"""Structured-concurrency adapters: asyncspec programs on trio and anyio.

Contract: conformance/ADAPTERS.md (the line protocol) and spec/FORMAT.md
(what a program means, how an outcome is written). One program per input
line, one outcome or error line per program, a hello first.

Design
------
A structured runtime has no free tasks and no task handles: a task exists
only as the child of a nursery (trio) or task group (anyio), and the only
ways to cancel are a cancel scope's deadline or a sibling's failure. So the
programs it can run are the TaskGroup / timeout / try part of the language:

  program step            trio                              anyio
  ----------------------  --------------------------------  -----------------------------
  sleep d                 trio.sleep(d)                     anyio.sleep(d)
  group g: body           async with trio.open_nursery()    async with anyio.create_task_group()
  spawn g a: body         nursery.start_soon(a)             tg.start_soon(a)
  timeout tm d: body      with trio.fail_at(now + d)        with anyio.fail_after(d)
  reschedule tm d         scope.deadline = now + d          scope.deadline = now + d
  except cancelled        except trio.Cancelled             except get_cancelled_exc_class()
  except timeout          except trio.TooSlowError          except TimeoutError

`task`, `gather`, `shield`, `wait_for`, `cancel`, `await` and `uncancel` are
asyncio's task-handle API and have no counterpart; they are not declared, so
the check never sends them (counted n/a). Everything else is the driver's
(conformance/adapters/cpython/driver.py): validation, the labelled
exceptions, the generated `try` statements (except* is the interpreter's),
the step loop. `StructuredRun` subclasses its `_Run` and replaces only the
steps above, the task wrapper and the top level.

Recording follows FORMAT.md: a task's `start`/`end` are the times its body
began and ended, its state is what its body did (a body that let the
cancellation exception escape ended `cancelled`). Nothing is ever
unretrieved: every child's exception goes to its nursery. `run` is what
trio.run / anyio.run raised; `end_time` the clock when it returned.

Virtual time: trio and anyio-trio run on `trio.testing.MockClock(
autojump_threshold=0)` (the clock jumps to the next deadline as soon as
every task is blocked); anyio-asyncio runs on the driver's _VirtualLoop
(through an event loop policy, the only way anyio 3 takes a loop).

Scheduling order: trio runs each batch of runnable tasks in FIFO order or,
with probability 1/2, reversed (trio/_core/_run.py, "50% chance of
reversing the batch"), to keep users from relying on an order it does not
promise. With `--order=fifo` (the default of the manifest, and always for
anyio-trio) the adapter fixes that choice so that every batch runs in FIFO
order (`pin_trio_fifo`): runs are reproducible (INV-9) and ties break the
way asyncio's FIFO queue breaks them (RULES.md SCHED-1, "Freedom under
ties"); `--order=random` leaves trio as it is.
"""

import json
import math
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "cpython"))

import driver  # noqa: E402  (conformance/adapters/cpython/driver.py)
from driver import InputError  # noqa: E402

# What a structured runtime can run (ADAPTERS.md "capabilities").
CAPABILITIES = ["sleep", "raise", "return", "group", "spawn", "timeout", "reschedule",
                "try", "except_star", "catch_group", "base"]


class Unsupported(Exception):
    """The program reached a step the runtime cannot express (e.g. a spawn
    into a trio nursery that does not exist yet)."""

    def __init__(self, msg, where):
        super().__init__(msg)
        self.msg = msg
        self.where = where


# --------------------------------------------------------------------------
# Backends: the runtime's own primitives, nothing re-implemented.

def pin_trio_fifo():
    """Makes trio run every batch of runnable tasks in FIFO order (see the
    top of this file). trio/_core/_run.py: `if _r.random() < 0.5:
    batch.reverse()`, then `while batch: task = batch.pop()`, which takes
    from the end: the reversed batch is the one that runs in FIFO order."""
    import trio
    trio._core._run._r.random = lambda: 0.0


class TrioBackend:
    name = "trio"
    rules = "structured"

    def __init__(self, order="fifo"):
        import trio
        import trio.testing
        self.trio = trio
        self.version = trio.__version__
        self.cancelled = trio.Cancelled
        self.too_slow = trio.TooSlowError
        self.pre_made_groups = False  # a nursery exists only inside its `async with`
        if order == "fifo":
            pin_trio_fifo()

    def run(self, fn, observe):
        # `observe` is for runtimes whose tasks can end before their first
        # step (anyio-asyncio); a trio task always runs to its first
        # checkpoint, so its body records it.
        clock = self.trio.testing.MockClock(autojump_threshold=0)
        self.clock = clock
        # strict_exception_groups: a nursery always raises a group, even
        # for one error, as asyncio.TaskGroup does (trio >= 0.22 option).
        return self.trio.run(fn, clock=clock, strict_exception_groups=True)

    def now(self):
        return self.trio.current_time()

    def final_time(self):
        return self.clock.current_time()

    async def sleep(self, d):
        await self.trio.sleep(d)

    def open_group(self):
        return self.trio.open_nursery()

    def spawn(self, group, fn, name):
        group.start_soon(fn, name=name)

    def timeout(self, d):
        return self.trio.fail_at(math.inf if d is None else self.trio.current_time() + d)

    def runtime_error_what(self, text, group_state):
        if text == "Nursery is closed to new arrivals":
            return "taskgroup_finished"
        return None

    def group_types(self):
        return ()


class AnyioBackend:
    rules = "structured"

    def __init__(self, backend):
        import importlib.metadata
        import anyio
        self.anyio = anyio
        self.backend = backend
        self.name = "anyio-" + backend
        self.version = importlib.metadata.version("anyio")
        self.too_slow = TimeoutError
        self.pre_made_groups = True  # create_task_group() makes the group before entry
        if backend == "trio":
            import trio
            self.cancelled = trio.Cancelled
            pin_trio_fifo()  # as for trio: reproducible runs (INV-9)
        else:
            import asyncio
            self.cancelled = asyncio.CancelledError
        # anyio 3 raises its own anyio.ExceptionGroup (a BaseException, not
        # PEP 654's BaseExceptionGroup) when a task group has several errors.
        from anyio import ExceptionGroup as AnyioGroup
        self.anyio_group = AnyioGroup

    def run(self, fn, observe):
        """anyio.run(fn) on a virtual clock. On asyncio, `observe(task)` is
        called for every asyncio task created: a child cancelled before its
        first step never runs its body (asyncio's CX-3), so only the task
        itself can say that it ended."""
        if self.backend == "trio":
            import trio.testing
            clock = trio.testing.MockClock(autojump_threshold=0)
            self.final_time = clock.current_time
            return self.anyio.run(fn, backend="trio", backend_options={"clock": clock})
        loops = []

        class Policy(__import__("asyncio").DefaultEventLoopPolicy):
            def new_event_loop(self):
                loop = driver._VirtualLoop()
                loop.set_task_factory(
                    lambda lp, coro, **kw: observe(driver._task_factory(lp, coro, **kw)))
                loops.append(loop)
                return loop

        self.final_time = lambda: loops[-1].time()
        import asyncio
        try:
            return self.anyio.run(fn, backend="asyncio", backend_options={"policy": Policy()})
        finally:
            asyncio.set_event_loop_policy(None)

    def now(self):
        return float(self.anyio.current_time())

    async def sleep(self, d):
        await self.anyio.sleep(d)

    def open_group(self):
        return self.anyio.create_task_group()

    def spawn(self, group, fn, name):
        group.start_soon(fn, name=name)

    def timeout(self, d):
        return self.anyio.fail_after(d)

    def runtime_error_what(self, text, group_state):
        if text.startswith("This task group is not active"):
            # anyio says the same before entry and after exit; which one it
            # was is the group's state, known to the adapter.
            return "taskgroup_not_entered" if group_state == "new" else "taskgroup_finished"
        return None

    def group_types(self):
        return (self.anyio_group,)


# --------------------------------------------------------------------------
# One program's run.

class StructuredRun(driver._Run):
    """driver._Run with the steps of a structured runtime (see the table at
    the top). `groups[name]` is the nursery / task group, and
    `group_state[name]` is "new", "open" or "closed" (for error messages
    only: the runtime decides what is allowed)."""

    def __init__(self, prog, backend):
        self.backend = backend
        super().__init__(prog)
        self.results = {}      # task name -> (state, value or exception)
        self.native_done = {}  # task name -> (end, asyncio task), anyio-asyncio only
        self.group_state = {}
        self.unsupported = None
        self.end_time = 0
        self.ops.update({"sleep": self.op_sleep, "group": self.op_group,
                         "spawn": self.op_spawn, "timeout": self.op_timeout,
                         "reschedule": self.op_reschedule})

    def _make_groups(self, body):
        pass  # in root(): anyio makes task groups only inside a run

    def now(self):
        return int(self.backend.now())

    def exc_json(self, e):
        b = self.backend
        if isinstance(e, BaseExceptionGroup) or isinstance(e, b.group_types()):  # noqa: F821
            # anyio 3's own group is a BaseException whatever its leaves
            # are (`except Exception` does not catch it): `base` says what
            # the object is, as for PEP 654's groups (EG-1).
            return {"type": "group", "base": not isinstance(e, Exception),
                    "children": [self.exc_json(c) for c in e.exceptions]}
        if isinstance(e, b.cancelled):
            return {"type": "cancelled"}
        if isinstance(e, b.too_slow):
            return {"type": "timeout"}
        if isinstance(e, RuntimeError) and not isinstance(e, RecursionError):
            what = b.runtime_error_what(str(e), getattr(e, "_asyncspec_group_state", None))
            if what is not None:
                return {"type": "runtime", "what": what, "text": str(e)}
        return driver.exc_json(e)

    def catch_type(self, h):
        if h["catch"] == "cancelled":
            return self.backend.cancelled
        if h["catch"] == "timeout":
            return self.backend.too_slow
        return driver._catch_type(h)

    # ---- tasks ----

    async def task_body(self, name, body):
        self.starts[name] = self.now()
        try:
            value = await self.run_body(body)
        except BaseException as e:
            self.ends[name] = self.now()
            state = "cancelled" if isinstance(e, self.backend.cancelled) else "raised"
            self.results[name] = (state, e)
            raise
        self.ends[name] = self.now()
        self.results[name] = ("returned", value)
        return value

    async def root(self):
        if self.backend.pre_made_groups:
            # FORMAT.md: groups[name] exists from the start, so that a spawn
            # before entry meets the runtime's own "not entered" error.
            for name in _group_names(self.prog["main"]):
                self.groups[name] = self.backend.open_group()
                self.group_state[name] = "new"
        try:
            return await self.task_body("main", self.prog["main"])
        finally:
            self.end_time = self.now()

    # ---- steps ----

    async def op_sleep(self, st):
        await self.backend.sleep(st["d"])

    async def op_group(self, st):
        name = st["name"]
        try:
            cm = self.groups[name] if self.backend.pre_made_groups else self.backend.open_group()
            async with cm as g:
                self.groups[name] = g
                self.group_state[name] = "open"
                await self.run_body(st["body"])
        except BaseException as e:
            self.group_state[name] = "closed"
            self.scopes[name] = {"end": self.now(), "raised": self.exc_json(e)}
            raise
        self.group_state[name] = "closed"
        self.scopes[name] = {"end": self.now()}

    async def op_spawn(self, st):
        tdef = st["task"]
        name, gname = tdef["name"], st["group"]
        g = self.groups.get(gname)
        if g is None:
            self.unsupported = Unsupported(
                "spawn into group %r before it was entered: %s has no nursery object "
                "before `async with` (asyncio raises RuntimeError here, TG-10)"
                % (gname, self.backend.name), "spawn %s into %s" % (name, gname))
            raise self.unsupported

        async def child():
            await self.task_body(name, tdef["body"])

        try:
            self.backend.spawn(g, child, name)
        except RuntimeError as e:
            e._asyncspec_group_state = self.group_state.get(gname)
            raise
        self.tasks[name] = name  # created (FORMAT.md: `tasks` lists it)

    async def op_timeout(self, st):
        name = st["name"]
        scope = None
        try:
            with self.backend.timeout(st["d"]) as scope:
                self.tms[name] = scope
                await self.run_body(st["body"])
        except BaseException as e:
            self.scopes[name] = {"end": self.now(), "raised": self.exc_json(e),
                                 "expired": bool(scope is not None and scope.cancel_called)}
            raise
        self.scopes[name] = {"end": self.now(), "expired": bool(scope.cancel_called)}

    async def op_reschedule(self, st):
        d = st["d"]
        self.tms[st["timeout"]].deadline = math.inf if d is None else self.backend.now() + d

    # ---- the top level and the outcome ----

    def execute(self):
        raised = None
        try:
            self.backend.run(self.root, self._observe)
        except Unsupported:
            raise
        except BaseException as e:
            raised = e
        if self.unsupported is not None:
            raise self.unsupported
        return raised

    def _observe(self, task):
        def done(t):
            self.native_done.setdefault(t.get_name(), (int(t.get_loop().time()), t))
        task.add_done_callback(done)
        return task

    def task_outcomes(self):
        out = {}
        for name in ["main"] + [n for n in self.tasks if n != "main"]:
            rec = {"start": self.starts.get(name), "end": self.ends.get(name)}
            res = self.results.get(name)
            native = self.native_done.get(name)
            if res is None and native is not None and native[1].cancelled():
                # Cancelled before its first step (CX-3): the body never ran.
                rec["end"] = native[0]
                rec["state"] = "cancelled"
                rec["error"] = {"type": "cancelled"}
            elif res is None:
                rec["state"] = "pending"
            elif res[0] == "returned":
                rec["state"] = "returned"
                rec["value"] = res[1]
            else:
                rec["state"] = res[0]
                rec["error"] = self.exc_json(res[1])
            out[name] = rec
        return out


def _group_names(body):
    """Names of every group in a body, at any depth (a spawn may name any
    group of the program)."""
    out = []
    for st in body:
        op = st["op"]
        if op == "group":
            out.append(st["name"])
        if op in ("group", "timeout", "try"):
            out += _group_names(st["body"])
        if op in ("task", "spawn", "shield", "wait_for"):
            out += _group_names(st["task"]["body"])
        if op == "gather":
            for c in st["children"]:
                out += _group_names(c["body"])
        if op == "try":
            for h in st.get("handlers", []):
                out += _group_names(h.get("body", []))
            if st.get("finally"):
                out += _group_names(st["finally"].get("body", []))
    return out


def run_program(prog, backend):
    """The outcome (FORMAT.md) of a validated program, or raises Unsupported
    or driver.Foreign."""
    del driver._FOREIGN[:]
    r = StructuredRun(prog, backend)
    raised = r.execute()
    outcome = {
        "tasks": r.task_outcomes(),
        "blocks": {k: dict(v) for k, v in r.blocks.items()},
        "scopes": dict(r.scopes),
        "run": None if raised is None else r.exc_json(raised),
        "unretrieved": [],
        "end_time": int(backend.final_time()),
    }
    if driver._FOREIGN:
        raise driver.Foreign(driver._FOREIGN[0])
    return outcome


def handle_line(line, backend):
    try:
        prog = json.loads(line)
    except ValueError as e:
        return {"error": "not JSON: %s" % e, "kind": "input", "where": "input"}
    try:
        driver.validate(prog, CAPABILITIES, backend.name)
    except InputError as e:
        return {"error": e.msg, "kind": e.kind, "where": e.where}
    except RecursionError:
        return {"error": "too deeply nested for this adapter", "kind": "unsupported", "where": "program"}
    try:
        return run_program(prog, backend)
    except Unsupported as e:
        return {"error": e.msg, "kind": "unsupported", "where": e.where}
    except driver.Foreign as e:
        return {"error": "the run raised an exception no step can cause: %s" % e,
                "kind": "internal", "where": "run"}
    except RecursionError:
        return {"error": "too deeply nested for this adapter", "kind": "unsupported", "where": "run"}
    except Exception as e:  # an adapter bug: report it, keep serving
        return {"error": "adapter failure: %s: %s" % (type(e).__name__, e),
                "kind": "internal", "where": "run"}


def hello(backend):
    return {"hello": {"protocol": 2, "runtime": backend.name, "version": backend.version,
                      "capabilities": CAPABILITIES, "model": "3.13",
                      "rules": backend.rules, "clock": "virtual"}}


def serve(backend, argv):
    """The line protocol on stdin/stdout (ADAPTERS.md)."""
    driver._quiet()
    import warnings
    warnings.simplefilter("ignore")  # trio's MultiError deprecation, seen by anyio 3
    if "--version" in argv:
        print(driver.dumps(hello(backend)))
        return 0
    out = sys.stdout
    out.write(driver.dumps(hello(backend)) + "\n")
    out.flush()
    for n, line in enumerate(sys.stdin, 1):
        ident, line = driver.split_id(line)  # protocol 2
        if not line.strip():
            res = {"error": "empty line", "kind": "input", "where": "input"}
        else:
            res = handle_line(line, backend)
        if "error" in res:
            res["line"] = n
        out.write(driver.with_id(ident, driver.dumps(res)) + "\n")
        out.flush()
    return 0
