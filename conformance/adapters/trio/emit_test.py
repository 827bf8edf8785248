"""emit.py with hostile text in every field of its request (the program's
labels, values and name, the rule, the runtime name from the adapter's
hello, the replay command): the reproducer parses, runs on trio, prints the
runtime's name back byte for byte, and nothing in it runs as code."""

import ast
import json
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import emit  # noqa: E402

PY = "/usr/bin/python3.11"  # Debian's, with python3-trio (tools/setup.sh)
H = "nl\nimport os; os.system('echo INJECTED') #\r q\" sq' bs\\ nul\0 \"\"\" )\" */ {x} %s \u00e9 \u2028 end\\"


def request():
    program = {"asyncspec": 1, "name": H, "main": [
        {"op": "try", "name": "t", "body": [{"op": "raise", "label": H}],
         "handlers": [{"name": "h", "catch": "error", "label": H, "star": False, "body": [],
                       "then": "swallow"}]},
        {"op": "return", "value": H}]}
    return {"program": program, "program_text": "program " + H + "\nmain:\n  " + H + "\n",
            "rule": {"id": "CX-5", "title": H, "statement": H}, "profile": "3.13",
            "runtime": "runtime " + H, "replay": "--adapter='" + H + "'",
            "required": {"tasks.main": {"state": "returned", "value": H, "start": 0, "end": 0}}}


class EmitTest(unittest.TestCase):
    def test_hostile_fields(self):
        src = emit.emit(request())
        ast.parse(src)  # raises on a syntax error
        with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False, encoding="utf-8") as f:
            f.write(src)
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        r = subprocess.run([PY, "-I", f.name], capture_output=True, env=env)
        out = r.stdout.decode("utf-8")
        # The text is printed back (it contains the word); an injected
        # os.system would print INJECTED on a line of its own.
        self.assertNotIn("\nINJECTED\n", "\n" + out)
        self.assertEqual(r.returncode, 0, out + r.stderr.decode("utf-8", "replace"))
        self.assertIn("checked on: runtime " + H + "; this run", out)
        self.assertIn("asyncspec reproducer: rule CX-5, " + H + "\n", out)
        self.assertIn("PASS: trio now does what CX-5 requires", out)


if __name__ == "__main__":
    unittest.main()
