#!/usr/bin/env python3
"""The trio adapter: asyncspec programs on trio nurseries, on
trio.testing.MockClock(autojump_threshold=0). See structured.py (the
mapping, and why) and README.md (what is weakened).

    adapter.py [--order=fifo|random] [--version]
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import structured  # noqa: E402


def main(argv):
    order = "fifo"
    for a in argv[1:]:
        if a.startswith("--order="):
            order = a.split("=", 1)[1]
        elif a != "--version":
            sys.stderr.write("usage: adapter.py [--order=fifo|random] [--version]\n")
            return 2
    if order not in ("fifo", "random"):
        sys.stderr.write("--order must be fifo or random\n")
        return 2
    return structured.serve(structured.TrioBackend(order), argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
