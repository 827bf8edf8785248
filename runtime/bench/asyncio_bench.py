"""The benchmark workloads of runtime/bench/bench.cc, in CPython's asyncio.

bench.cc runs this script as a subprocess (with CPython 3.13 by default) and
puts its timings beside the reference runtime's. Each workload does exactly
what its C++ twin does, timed the same way: wall clock (time.perf_counter)
and this thread's CPU time (time.thread_time, the same CLOCK_THREAD_CPUTIME_ID
as bench.cc) around the work, inside the running loop, so loop creation is not
counted. The cyclic GC stays on, as users run it.

Usage: asyncio_bench.py --spawn N --switches N --rr-tasks K --cancel N
                        --gather N --memory N --reps R
Prints one JSON object on stdout:
  {"python": "3.13.0", "reps": R,
   "seconds": {"spawn_join": [..R floats..], "spawn_join_eager": [...], ...},
   "cpu_seconds": {same keys, thread CPU time},
   "n": {"spawn_join": N, ...},
   "memory": {"tasks": N, "rss_bytes": B}}
A count of 0 skips that workload.
"""

import argparse
import asyncio
import gc
import json
import sys
import time


class Stamp:
    """Wall and thread-CPU time at construction; elapsed() gives both."""

    def __init__(self):
        self.wall = time.perf_counter()
        self.cpu = time.thread_time()

    def elapsed(self):
        return (time.perf_counter() - self.wall, time.thread_time() - self.cpu)


def rss_bytes():
    # Resident set size now (not the peak), from /proc/self/statm.
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    import resource
    return pages * resource.getpagesize()


async def trivial():
    pass


async def spawn_join(n, eager):
    # Spawn+join: n trivial tasks in one TaskGroup.
    if eager:
        asyncio.get_running_loop().set_task_factory(asyncio.eager_task_factory)
    t0 = Stamp()
    async with asyncio.TaskGroup() as tg:
        for _ in range(n):
            tg.create_task(trivial())
    return t0.elapsed()


async def switch_one(n):
    # One task yielding n times: each sleep(0) is one switch through the loop.
    t0 = Stamp()
    for _ in range(n):
        await asyncio.sleep(0)
    return t0.elapsed()


async def yielder(m):
    for _ in range(m):
        await asyncio.sleep(0)


async def switch_rr(n, k):
    # k tasks each yielding n // k times, round-robin through the ready queue.
    # The timer starts once all k have started, so spawning is not counted.
    m = n // k
    async with asyncio.TaskGroup() as tg:
        for _ in range(k):
            tg.create_task(yielder(m))
        await asyncio.sleep(0)  # every yielder has made its first step
        t0 = Stamp()
    return t0.elapsed(), m * k


async def sleeper():
    await asyncio.sleep(1000)


async def failer():
    raise ValueError("boom")


async def cancel_storm(n):
    # n children sleep in a TaskGroup; then one child fails. Timed from the
    # creation of the failing child until the ExceptionGroup is caught.
    try:
        async with asyncio.TaskGroup() as tg:
            for _ in range(n):
                tg.create_task(sleeper())
            await asyncio.sleep(0)  # every sleeper is now asleep
            t0 = Stamp()
            tg.create_task(failer())
    except ExceptionGroup as eg:
        dt = t0.elapsed()
        assert isinstance(eg.exceptions[0], ValueError), eg
        return dt
    raise AssertionError("the TaskGroup did not raise")


async def gather(n, eager):
    if eager:
        asyncio.get_running_loop().set_task_factory(asyncio.eager_task_factory)
    t0 = Stamp()
    res = await asyncio.gather(*[trivial() for _ in range(n)])
    dt = t0.elapsed()
    assert len(res) == n
    return dt


async def memory(n):
    # Resident memory of n live sleeping tasks (each awaiting sleep(1000)).
    gc.collect()
    before = rss_bytes()
    tasks = [asyncio.create_task(sleeper()) for _ in range(n)]
    await asyncio.sleep(0)
    after = rss_bytes()
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return after - before


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--spawn", type=int, default=1_000_000)
    ap.add_argument("--switches", type=int, default=1_000_000)
    ap.add_argument("--rr-tasks", type=int, default=1000)
    ap.add_argument("--cancel", type=int, default=100_000)
    ap.add_argument("--gather", type=int, default=1_000_000)
    ap.add_argument("--memory", type=int, default=1_000_000)
    ap.add_argument("--reps", type=int, default=5)
    a = ap.parse_args()

    seconds = {}
    cpu_seconds = {}
    counts = {}

    def rep(name, count, make):
        if count <= 0:
            return
        walls, cpus = [], []
        for _ in range(a.reps):
            gc.collect()
            r = asyncio.run(make())
            if isinstance(r[0], tuple):  # (elapsed, units done)
                r, counts[name] = r
            walls.append(r[0])
            cpus.append(r[1])
        seconds[name] = walls
        cpu_seconds[name] = cpus
        counts.setdefault(name, count)

    rep("spawn_join", a.spawn, lambda: spawn_join(a.spawn, False))
    rep("spawn_join_eager", a.spawn, lambda: spawn_join(a.spawn, True))
    rep("switch_one", a.switches, lambda: switch_one(a.switches))
    rep("switch_rr", a.switches, lambda: switch_rr(a.switches, a.rr_tasks))
    rep("cancel_storm", a.cancel, lambda: cancel_storm(a.cancel))
    rep("gather", a.gather, lambda: gather(a.gather, False))
    rep("gather_eager", a.gather, lambda: gather(a.gather, True))
    out = {
        "python": "%d.%d.%d" % sys.version_info[:3],
        "reps": a.reps,
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "n": counts,
    }
    if a.memory > 0:
        gc.collect()
        out["memory"] = {"tasks": a.memory, "rss_bytes": asyncio.run(memory(a.memory))}
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
