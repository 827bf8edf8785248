"""Loopback HTTP and echo benchmark, side by side in one run.

Starts the appendix fixture (runtime:appendix_server, 127.0.0.1, ephemeral
port, no latency) and, for 150 and 10,000 concurrent GETs, runs in turn:
the runtime (http_client_bench), asyncio + httpx, asyncio raw streams, and
raw streams on uvloop (Debian's /usr/bin/python3 with python3-httpx and
python3-uvloop); then echo round trips over one connection (runtime, asyncio
streams, uvloop). Repetitions are interleaved (impl A, B, C, D, A, B, ...)
so load on the machine hits all alike. Prints requests/s and CPU per request
(each client's own process time around the timed part), medians over the
repetitions, and ratios to the runtime, as a Markdown table.

  bazel run -c opt //runtime/bench:http_bench -- [--reps=5] [--big=10000] [--skip_httpx_big]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

PY = "/usr/bin/python3"


def runfile(rel):
    here = os.path.dirname(os.path.abspath(__file__))
    for base in (os.environ.get("RUNFILES_DIR", ""), os.path.abspath(sys.argv[0]) + ".runfiles", here + "/../.."):
        for cand in (os.path.join(base, "asyncspec", rel), os.path.join(base, rel)):
            if base and os.path.exists(cand):
                return cand
    sys.exit(f"http_bench: cannot find {rel} (run it with bazel run)")


def run_client(cmd):
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    if out.returncode != 0:
        sys.exit(f"http_bench: {' '.join(cmd)} failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--big", type=int, default=10000, help="the large number of concurrent GETs")
    p.add_argument("--echo_n", type=int, default=20000, help="echo round trips of 4 KiB")
    p.add_argument("--skip_httpx_big", action="store_true", help="leave httpx out of the large run")
    a = p.parse_args()
    for mod in ("httpx", "uvloop"):
        if subprocess.run([PY, "-c", f"import {mod}"], capture_output=True).returncode != 0:
            sys.exit(f"http_bench: {PY} cannot import {mod} (tools/setup.sh installs python3-{mod})")
    server_bin = runfile("runtime/appendix_server")
    cc = runfile("runtime/bench/http_client_bench")
    pyc = runfile("runtime/bench/http_bench_py.py")

    with tempfile.TemporaryDirectory() as tmp:
        port_file = os.path.join(tmp, "port")
        server = subprocess.Popen([server_bin, f"--port_file={port_file}", "--max_seconds=3600"])
        try:
            for _ in range(200):
                if os.path.exists(port_file):
                    break
                time.sleep(0.05)
            url = f"http://127.0.0.1:{open(port_file).read().strip()}/api/v2/pokemon/"
            rows = []
            for n in (150, a.big):
                impls = {
                    "runtime": [cc, "--workload=get", f"--url={url}", f"--n={n}"],
                    "asyncio+httpx": [PY, pyc, "--impl=httpx", f"--url={url}", f"--n={n}"],
                    "asyncio streams": [PY, pyc, "--impl=streams", f"--url={url}", f"--n={n}"],
                    "uvloop streams": [PY, pyc, "--impl=streams", "--loop=uvloop", f"--url={url}", f"--n={n}"],
                }
                if n != 150 and a.skip_httpx_big:
                    del impls["asyncio+httpx"]
                rows.append((f"{n:,} GETs", n, measure(impls, a.reps)))
            echo = {
                "runtime": [cc, "--workload=echo", f"--n={a.echo_n}"],
                "asyncio streams": [PY, pyc, "--workload=echo", f"--n={a.echo_n}"],
                "uvloop streams": [PY, pyc, "--workload=echo", "--loop=uvloop", f"--n={a.echo_n}"],
            }
            rows.append((f"echo {a.echo_n:,} x 4 KiB", a.echo_n, measure(echo, a.reps)))
        finally:
            server.terminate()
            server.wait()
    print(f"\nmedians of {a.reps} interleaved repetitions; ratio = runtime's figure / the other's")
    print("| workload | implementation | requests/s | CPU µs per request | runtime faster by (req/s) | runtime CPU share |")
    print("|---|---|---:|---:|---:|---:|")
    for name, n, res in rows:
        base = res["runtime"]
        for impl, (rps, cpu_us) in res.items():
            speed = base[0] / rps
            share = base[1] / cpu_us
            print(f"| {name} | {impl} | {rps:,.0f} | {cpu_us:,.1f} | {speed:.2f}x | {share:.2f} |")


def measure(impls, reps):
    samples = {k: [] for k in impls}
    for r in range(reps):
        for impl, cmd in impls.items():
            res = run_client(cmd)
            samples[impl].append((res["n"] / res["wall_s"], res["cpu_s"] / res["n"] * 1e6))
            print(f"rep {r + 1}: {impl}: {res['n'] / res['wall_s']:,.0f} req/s, "
                  f"{res['cpu_s'] / res['n'] * 1e6:,.1f} µs CPU/req", file=sys.stderr, flush=True)
    return {k: (statistics.median(x[0] for x in v), statistics.median(x[1] for x in v)) for k, v in samples.items()}


if __name__ == "__main__":
    main()
