"""Runs one rule check program on asyncio with a virtual clock:
`python3 vclock.py PROGRAM.py`.

The loop's selector never waits; a wait of `timeout` seconds moves the
loop's clock forward instead (as conformance/adapters/cpython/driver.py
does), so the program's sleeps cost no wall time and the times it prints do
not depend on how busy the machine is. Everything else is the interpreter's
own asyncio.
"""
import asyncio
import runpy
import selectors
import sys


class VirtualSelector(selectors.BaseSelector):
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
            raise RuntimeError("deadlock: every task waits and no timer is pending")
        if timeout > 0:
            self.now += timeout
        return []

    def get_map(self):
        return self._keys


class VirtualLoop(asyncio.SelectorEventLoop):
    def __init__(self):
        self._vsel = VirtualSelector()
        super().__init__(self._vsel)
        self._clock_resolution = 1e-9

    def time(self):
        return self._vsel.now


class Policy(asyncio.DefaultEventLoopPolicy):
    def new_event_loop(self):
        return VirtualLoop()


if __name__ == "__main__":
    asyncio.set_event_loop_policy(Policy())
    sys.argv = sys.argv[1:]
    runpy.run_path(sys.argv[0], run_name="__main__")
