"""Tests of the Pyodide adapter: the CPython driver on CPython 3.14 and 3.15
built for WebAssembly (Pyodide 314.0.8 and 315.0.0-alpha.2), under Node,
through the manifest commands, as the check starts them.

Each runtime is started once (a Pyodide start costs seconds) and given the
programs below. Expected outcomes come from asyncio's documentation and
sources, each test says which, never from the adapter's output:
- TaskGroup: the first failure cancels the others, and the errors leave as
  one ExceptionGroup (RULES.md TG-2, TG-3; asyncio-task.html "Task Groups");
- shield, once its outer future was cancelled: 3.14 added a done callback
  to the inner (tasks.py `_log_on_exception`, PR gh-134343 for gh-86802)
  that reports its later exception to the exception handler as
  "exception in shielded future" and marks it retrieved, so it is not
  "never retrieved" (RULES.md SH-3 and the departure
  shield_leaves_error_to_rt4, gh-156321);
- a program nested deeper than the driver's DEEP runs inline, Pyodide
  having no threads, and gives the same outcome as a shallow one would
  (an error raised under 150 try statements that do not catch it is what
  asyncio.run raises, RT-3).

Without Node or a Pyodide package the tests fail naming what is missing
(tools/setup.sh installs both); ASYNCSPEC_ALLOW_SKIP=1 outside CI skips
them with the reason printed.
"""

import json
import os
import shutil
import unittest

import testlib as T
from require import require

VERSIONS = {"cpython-3.14": "314.0.8", "cpython-3.15": "315.0.0-alpha.2"}


def pyodide_home():
    """Where bridge.mjs looks: ASYNCSPEC_PYODIDE_HOME, else
    ~/.cache/asyncspec/pyodide of the user (password database: Bazel
    changes HOME)."""
    if os.environ.get("ASYNCSPEC_PYODIDE_HOME"):
        return os.environ["ASYNCSPEC_PYODIDE_HOME"]
    import pwd
    return os.path.join(pwd.getpwuid(os.getuid()).pw_dir, ".cache", "asyncspec", "pyodide")


def package_dir(version):
    return os.path.join(pyodide_home(), version, "node_modules", "pyodide")


def declared_python(version):
    """The CPython version the Pyodide package says it is built from."""
    with open(os.path.join(package_dir(version), "pyodide-lock.json")) as f:
        return json.load(f)["info"]["python"]


def tg_first_failure():
    # a fails at 1; b, sleeping until 5, is cancelled by the group (TG-2);
    # the group raises ExceptionGroup([E1]) at 1 (TG-3), caught by main.
    return T.prog(T.try_("t", [T.group("g", T.spawn("g", "a", T.sleep(1), T.raise_("E1")),
                                       T.spawn("g", "b", T.sleep(5)))],
                         T.handler("h", "group")))


def shield_inner_fails_after_cancel():
    # p's shield is cancelled at 1 (p awaits it); the inner c fails at 3;
    # nobody awaits c.
    return T.prog(T.task("p", {"op": "shield", "name": "S", "task": {"name": "c", "body": [T.sleep(3), T.raise_("E1")]}}),
                  T.sleep(1), {"op": "cancel", "target": "p"}, T.sleep(5))


def deep(n):
    body = [T.sleep(1), T.raise_("E1")]
    for i in range(n):
        body = [T.try_("t%d" % i, body, T.handler("h%d" % i, "cancelled"))]
    return T.prog(*body)


class PyodideAdapterTest(unittest.TestCase):
    def check_runtime(self, runtime):
        version = VERSIONS[runtime]
        require(shutil.which("node") is not None, "no node on PATH (Node 20: tools/setup.sh)")
        require(os.path.exists(os.path.join(package_dir(version), "pyodide.mjs")),
                "no Pyodide %s under %s (tools/setup.sh installs it with npm)" % (version, pyodide_home()))
        cmd = T.manifest_command("pyodide", runtime)
        hello, (tg, sh, dp), _ = T.run(cmd, [tg_first_failure(), shield_inner_fails_after_cancel(), deep(150)],
                                       timeout=280)
        # The hello: the interpreter inside, as the package declares it.
        self.assertEqual(hello["runtime"], "cpython")
        self.assertEqual(hello["version"], declared_python(version))
        self.assertEqual(hello["model"], runtime[len("cpython-"):])
        self.assertIn("Pyodide", hello["python"])
        for cap in ("group", "timeout", "shield", "except_star"):
            self.assertIn(cap, hello["capabilities"])

        self.assertEqual(tg["scopes"]["g"], {"end": 1, "raised": T.group_exc(T.err("E1"))})
        self.assertEqual(tg["tasks"]["b"], {"start": 0, "end": 1, "state": "cancelled",
                                            "error": {"type": "cancelled"}})
        self.assertEqual(tg["run"], None)

        self.assertEqual(sh["scopes"]["S"], {"end": 1, "raised": {"type": "cancelled"}})
        self.assertEqual(sh["tasks"]["c"], {"start": 0, "end": 3, "state": "raised", "error": T.err("E1")})
        self.assertEqual(T.without_text(sh["handler"]), [{"kind": "shielded", "task": "c", "error": T.err("E1")}])
        self.assertEqual(sh["unretrieved"], [])

        self.assertNotIn("error", dp, dp)
        self.assertEqual(T.without_text(dp["run"]), T.err("E1"))
        self.assertEqual(dp["end_time"], 1)

    def test_cpython_3_14(self):
        self.check_runtime("cpython-3.14")

    def test_cpython_3_15(self):
        self.check_runtime("cpython-3.15")


if __name__ == "__main__":
    unittest.main()
