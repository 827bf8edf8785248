"""Start-up and throughput of the Pyodide adapter, per process (README.md).

    python3 conformance/adapters/pyodide/measure.py [--runtime=cpython-3.14] [--repeat=5]

Starts the adapter through its manifest command, times the hello (from
the start of the process, wall and CPU), then sends the golden cases'
programs --repeat times over and times the replies. Prints one line per
figure; the load average is printed with them, since on a shared machine
wall time follows it.
"""

import argparse
import glob
import json
import os
import resource
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runtime", default="cpython-3.14", choices=("cpython-3.14", "cpython-3.15"))
    p.add_argument("--repeat", type=int, default=5)
    a = p.parse_args()
    with open(os.path.join(HERE, "adapter.json")) as f:
        manifest = json.load(f)
    cmd = next(r["command"] for r in manifest["runtimes"] if r["name"] == a.runtime)
    cmd = [c.replace("{dir}", HERE) for c in cmd]
    programs = []
    for path in sorted(glob.glob(os.path.join(ROOT, "spec", "cases", "*.json"))):
        with open(path) as f:
            programs.append(json.dumps(json.load(f)["program"]))
    programs = programs * a.repeat
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
    hello = json.loads(proc.stdout.readline())["hello"]
    t_hello = time.monotonic() - t0
    t1 = time.monotonic()
    errors = 0
    for prog in programs:
        proc.stdin.write(prog + "\n")
        proc.stdin.flush()
        errors += "error" in json.loads(proc.stdout.readline())
    t_run = time.monotonic() - t1
    proc.stdin.close()
    proc.wait()
    cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
    print("runtime %s: %s (%s)" % (a.runtime, hello["version"], hello.get("python", "")))
    print("hello after %.1f s wall" % t_hello)
    print("%d programs in %.1f s: %.0f programs/s (%d error replies)" % (len(programs), t_run, len(programs) / t_run, errors))
    print("process CPU %.1f s user + %.1f s system in all" % (cpu.ru_utime, cpu.ru_stime))
    print("load average %.1f %.1f %.1f" % os.getloadavg())
    return 0


if __name__ == "__main__":
    sys.exit(main())
