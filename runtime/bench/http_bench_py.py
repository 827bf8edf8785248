"""The Python side of http_bench.py: N concurrent GETs against the fixture
through httpx.AsyncClient (the appendix) or through raw asyncio streams with a
pool of 100 keep-alive connections (httpx's default limit), or echo round
trips over one loopback connection; on asyncio's default loop or uvloop.
Prints one JSON line per repetition: impl, workload, n, wall_s, cpu_s (this
process's CPU time around the timed part, time.process_time)."""

import argparse
import asyncio
import json
import sys
import time


async def gets_httpx(url, n):
    import httpx

    # No timeouts: httpx's default 5 s pool timeout expires while 10,000
    # requests queue for 100 connections; the appendix keeps the defaults.
    async with httpx.AsyncClient(timeout=None) as client:
        async def one(i):
            r = await client.get(f"{url}{i % 150 + 1}")
            return r.status_code == 200 and "name" in r.json()

        async with asyncio.TaskGroup() as tg:
            tasks = [tg.create_task(one(i)) for i in range(1, n + 1)]
    return sum(t.result() for t in tasks)


async def gets_streams(url, n):
    host_port, _, path = url[len("http://"):].partition("/")
    host, _, port = host_port.partition(":")
    pool = asyncio.Queue()
    opened = 0

    async def one(i):
        nonlocal opened
        if pool.empty() and opened < 100:
            opened += 1
            conn = await asyncio.open_connection(host, int(port))
        else:
            conn = await pool.get()
        reader, writer = conn
        writer.write(f"GET /{path}{i % 150 + 1} HTTP/1.1\r\nHost: {host_port}\r\n\r\n".encode())
        head = await reader.readuntil(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        body = json.loads(await reader.readexactly(length))
        pool.put_nowait(conn)
        return head.startswith(b"HTTP/1.1 200") and "name" in body

    async with asyncio.TaskGroup() as tg:
        tasks = [tg.create_task(one(i)) for i in range(1, n + 1)]
    while not pool.empty():
        _, w = pool.get_nowait()
        w.close()
    return sum(t.result() for t in tasks)


async def echo(n, size):
    async def serve(reader, writer):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    msg = b"e" * size
    done = 0
    for _ in range(n):
        writer.write(msg)
        await writer.drain()
        await reader.readexactly(size)
        done += 1
    writer.close()
    server.close()
    await server.wait_closed()
    return done


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--impl", choices=["httpx", "streams"], default="streams")
    p.add_argument("--loop", choices=["asyncio", "uvloop"], default="asyncio")
    p.add_argument("--workload", choices=["get", "echo"], default="get")
    p.add_argument("--url", default="")
    p.add_argument("--n", type=int, default=150)
    p.add_argument("--size", type=int, default=4096)
    p.add_argument("--reps", type=int, default=1)
    a = p.parse_args()
    if a.workload == "get" and not a.url:
        p.error("--workload=get needs --url")
    if a.loop == "uvloop":
        import uvloop
        run = uvloop.run if hasattr(uvloop, "run") else None
        if run is None:
            uvloop.install()
            run = asyncio.run
    else:
        run = asyncio.run
    name = (a.impl if a.workload == "get" else "streams") + ("+uvloop" if a.loop == "uvloop" else "")
    for _ in range(a.reps):
        c0, t0 = time.process_time(), time.perf_counter()
        if a.workload == "echo":
            ok = run(echo(a.n, a.size))
        elif a.impl == "httpx":
            ok = run(gets_httpx(a.url, a.n))
        else:
            ok = run(gets_streams(a.url, a.n))
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        if ok != a.n:
            print(f"http_bench_py: {ok} of {a.n} succeeded", file=sys.stderr)
            return 1
        print(json.dumps({"impl": name, "workload": a.workload, "n": a.n, "wall_s": wall, "cpu_s": cpu}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
