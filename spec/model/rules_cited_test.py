#!/usr/bin/env python3
"""Rule-citation check for spec/RULES.md.

1. Every rule ID defined in spec/RULES.md (a heading `### <ID> ...`) is cited
   by at least one test or golden case: a file named *_test.* or a case file
   spec/cases/*.json, anywhere under spec/, runtime/ or conformance/.
2. Every rule ID cited anywhere under spec/, runtime/ and conformance/ (code,
   tests, cases, docs) is defined in spec/RULES.md.

The test reads the source tree itself (found through the runfiles link of
this file), so it checks the files as they are now, including other
packages' files that Bazel would not hand to this target.
"""

import os
import re
import sys
import unittest

FAMILIES = "SCHED|CX|TG|GA|TO|WF|SH|EG|RT|INV|IO"
DEFINED = re.compile(r"^### ((?:%s)-\d+)\b" % FAMILIES, re.M)
CITED = re.compile(r"(?<![A-Za-z0-9_])((?:%s)-\d+)(?![0-9])" % FAMILIES)
TEXT_EXT = (".cc", ".h", ".py", ".json", ".md", ".txt", ".bzl", ".sh")
SCAN_DIRS = ("spec", "runtime", "conformance")


def workspace_root():
    here = os.path.realpath(os.path.abspath(__file__))
    root = os.path.dirname(os.path.dirname(os.path.dirname(here)))
    if not os.path.exists(os.path.join(root, "spec", "RULES.md")):
        raise RuntimeError("cannot find spec/RULES.md from %s" % here)
    return root


def files(root):
    for top in SCAN_DIRS:
        for dirpath, dirnames, filenames in os.walk(os.path.join(root, top)):
            dirnames[:] = [d for d in dirnames if not d.startswith((".", "bazel-", "__pycache__"))]
            for f in filenames:
                if f.endswith(TEXT_EXT) or f == "BUILD":
                    yield os.path.join(dirpath, f)


def is_test_or_case(path, root):
    rel = os.path.relpath(path, root)
    base = os.path.basename(rel)
    name = os.path.splitext(base)[0]
    return name.endswith("_test") or (rel.startswith("spec/cases/") and base.endswith(".json"))


class RulesCited(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.root = workspace_root()
        rules_path = os.path.join(cls.root, "spec", "RULES.md")
        with open(rules_path, encoding="utf-8") as f:
            cls.rules_text = f.read()
        cls.defined = set(DEFINED.findall(cls.rules_text))
        cls.cited_by_tests = {}
        cls.cited_anywhere = {}
        for path in files(cls.root):
            if os.path.realpath(path) == os.path.realpath(rules_path):
                continue
            try:
                with open(path, encoding="utf-8", errors="replace") as f:
                    text = f.read()
            except OSError:
                continue
            rel = os.path.relpath(path, cls.root)
            for rid in set(CITED.findall(text)):
                cls.cited_anywhere.setdefault(rid, []).append(rel)
                if is_test_or_case(path, cls.root):
                    cls.cited_by_tests.setdefault(rid, []).append(rel)

    def test_rules_md_defines_rules(self):
        # The catalogue is not empty and has every family.
        self.assertGreaterEqual(len(self.defined), 50)
        for fam in FAMILIES.split("|"):
            self.assertTrue(any(r.startswith(fam + "-") for r in self.defined),
                            "RULES.md defines no %s-* rule" % fam)

    def test_every_rule_is_cited_by_a_test_or_case(self):
        missing = sorted(self.defined - set(self.cited_by_tests),
                         key=lambda r: (r.split("-")[0], int(r.split("-")[1])))
        self.assertEqual(missing, [],
                         "rules of spec/RULES.md that no test (*_test.*) or golden case "
                         "(spec/cases/*.json) cites: %s" % ", ".join(missing))

    def test_every_cited_id_exists(self):
        unknown = {rid: sorted(paths)[:5] for rid, paths in self.cited_anywhere.items()
                   if rid not in self.defined}
        self.assertEqual(unknown, {},
                         "rule IDs cited in spec/, runtime/ or conformance/ but not defined "
                         "in spec/RULES.md (ID: files): %r" % unknown)


if __name__ == "__main__":
    unittest.main()
