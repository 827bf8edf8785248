#!/usr/bin/env python3
"""The anyio adapter: asyncspec programs on anyio task groups and cancel
scopes, with the asyncio backend (on the CPython driver's virtual-clock
loop) or the trio backend (on trio.testing.MockClock). The mapping is the
one of conformance/adapters/trio/structured.py; README.md says what is
weakened.

    adapter.py --backend=asyncio|trio [--version]
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "trio"))

import structured  # noqa: E402


def main(argv):
    backend = None
    for a in argv[1:]:
        if a.startswith("--backend="):
            backend = a.split("=", 1)[1]
        elif a != "--version":
            backend = None
            break
    if backend not in ("asyncio", "trio"):
        sys.stderr.write("usage: adapter.py --backend=asyncio|trio [--version]\n")
        return 2
    return structured.serve(structured.AnyioBackend(backend), argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
