"""What the CPython driver needs adapted to run on Pyodide (bridge.mjs).

Pyodide is CPython built for WebAssembly: asyncio's code is CPython's own,
but the platform under it is a browser's. Three things differ, and each is
adapted here without touching asyncio or the driver's source:

* Pyodide makes its own WebLoop the running event loop of the main thread
  (so that top-level `await` works in a notebook); asyncio.Runner refuses to
  start inside a running loop, so the bridge clears it. The driver's loops
  are its own (Runner's loop_factory), never the WebLoop.
* socket.socketpair() does not exist, and SelectorEventLoop's constructor
  makes its self-pipe with it. The self-pipe only wakes a loop blocked in
  select() from another thread or a signal handler; the driver's virtual
  selector never blocks and Pyodide has no threads, so the loop is built
  without one.
* There are no threads: the driver runs deeply nested programs in a fresh
  thread with a big stack and a raised recursion limit; here they run
  inline with the same limit (3.14 and later check the real C stack, so a
  program too deep for it is a RecursionError, reported as the driver's
  error line, not a crash).
"""

import asyncio
import asyncio.events
import sys

import driver


def _no_self_pipe(loop):
    loop._ssock = loop._csock = None
    loop._internal_fds = 0


driver._VirtualLoop._make_self_pipe = _no_self_pipe
driver._VirtualLoop._close_self_pipe = lambda loop: None
driver._VirtualLoop._write_to_self = lambda loop: None


def _inline(fn, *args):
    """driver._in_fresh_thread without a thread."""
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(driver.DEEP_RECURSION_LIMIT)
    try:
        reply = driver._Reply(fn(*args))
        reply.text = driver.dumps(reply)
        return reply
    finally:
        sys.setrecursionlimit(old)


driver._in_fresh_thread = _inline

_hello = driver.hello


def _pyodide_hello():
    # `python` says which build it is, as the driver does for PyPy.
    h = _hello()
    h["hello"]["python"] = "cpython %s (Pyodide %s, %s)" % (
        sys.version.split()[0], _pyodide_version(), sys.platform)
    return h


def _pyodide_version():
    try:
        import pyodide
        return pyodide.__version__
    except (ImportError, AttributeError):
        return "?"


driver.hello = _pyodide_hello


def main(argv):
    asyncio.events._set_running_loop(None)
    # sys.version's own spelling ("3.15.0rc1"), not just version_info[:3]:
    # a pre-release is not the release.
    driver._CONFIG["version"] = sys.version.split()[0]
    return driver.main(argv)
