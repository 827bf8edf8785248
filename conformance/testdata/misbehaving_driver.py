"""A driver that misbehaves on purpose, for conformance/adapter_hardening_test.

It speaks the driver line protocol (conformance/ADAPTERS.md) by passing every
program to the reference runtime's adapter (the path in $ASYNCSPEC_REAL_ADAPTER)
and its reply back, except for the programs that $ASYNCSPEC_FAKE_PLAN names
("name=mode,name=mode,..."), where it does what `mode` says:
  hang       never answers (sleeps);
  garbage    answers a line that is not JSON;
  truncated  answers the first half of the real reply, then a newline;
  cut        writes the first half of the real reply, no newline, and exits;
  crash      exits at once without answering (status 3);
  wrongtype  answers JSON of the wrong shape: {"tasks": 5}.
$ASYNCSPEC_FAKE_HELLO: "never" waits forever before the hello line,
"garbage" sends a garbage first line instead.
"""
import json
import os
import subprocess
import sys
import time

hello_mode = os.environ.get("ASYNCSPEC_FAKE_HELLO", "")
if hello_mode == "never":
    time.sleep(3600)
if hello_mode == "garbage":
    print("Python 3.13.0 (main) [GCC 12] on linux", flush=True)
    time.sleep(3600)

plan = dict(kv.split("=", 1) for kv in os.environ.get("ASYNCSPEC_FAKE_PLAN", "").split(",") if kv)
real = subprocess.Popen([os.environ["ASYNCSPEC_REAL_ADAPTER"]], stdin=subprocess.PIPE,
                        stdout=subprocess.PIPE, text=True, bufsize=1)
real.stdout.readline()  # its hello
print(json.dumps({"hello": {"runtime": "cpython", "version": "3.13.0"}}), flush=True)

for line in sys.stdin:
    mode = plan.get(json.loads(line).get("name", ""), "")
    if mode == "hang":
        time.sleep(3600)
    if mode == "crash":
        os._exit(3)
    if mode == "garbage":
        print("Traceback (most recent call last): <garbage>", flush=True)
        continue
    if mode == "wrongtype":
        print('{"tasks": 5}', flush=True)
        continue
    real.stdin.write(line)
    real.stdin.flush()
    reply = real.stdout.readline().rstrip("\n")
    if mode == "truncated":
        print(reply[: len(reply) // 2], flush=True)
        continue
    if mode == "cut":
        sys.stdout.write(reply[: len(reply) // 2])
        sys.stdout.flush()
        os._exit(0)
    print(reply, flush=True)
