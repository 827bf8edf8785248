"""No function in conformance/ is longer than 150 lines, but the listed ones.

The list holds what is still too long today; a function split below the
limit must leave it (the test fails on a listed function that is no longer
over), and no other may join it.
"""
import glob
import os
import unittest

import function_lengths

LIMIT = 150
# file:function of the functions still over the limit.
STILL_TOO_LONG = {
    "conformance/check.cc:main",
    "conformance/engine.cc:Engine::RunAll",
}


class FunctionLengthTest(unittest.TestCase):
    def test_no_function_over_the_limit(self):
        files = sorted(glob.glob("conformance/*.cc") + glob.glob("conformance/*/*.cc"))
        self.assertGreater(len(files), 30, "the conformance sources are not in the runfiles")
        over = set()
        for f in files:
            for n, _, name in function_lengths.functions(f):
                if n > LIMIT:
                    over.add(f"{f}:{name}")
        self.assertEqual(over - STILL_TOO_LONG, set(), "functions over %d lines" % LIMIT)
        self.assertEqual(STILL_TOO_LONG - over, set(), "no longer too long: remove from STILL_TOO_LONG")


if __name__ == "__main__":
    os.chdir(os.path.join(os.environ.get("TEST_SRCDIR", "."), os.environ.get("TEST_WORKSPACE", "")))
    unittest.main()
