#!/usr/bin/env python3
"""Lists the C++ functions longer than a limit (default 150 lines).

    python3 conformance/function_lengths.py [--limit=150] [--all] FILE.cc ...

A function is a definition whose opening brace ends a line outside any other
function body: at namespace scope or in a class body (member functions
defined inline), lambdas excepted. Its length counts from the first line of
its signature to its closing brace. Comments and string literals are blanked
before braces are matched, so braces inside them do not count. Exit status 1
if one is over the limit (the test //conformance:function_length_test).
"""
import argparse
import re
import sys

CONTROL = re.compile(r"^\s*(if|else|for|while|switch|do|try|catch|namespace|extern)\b")
TYPE_DEF = re.compile(r"^\s*(template\s*<.*>\s*)?(class|struct|union|enum)\b[^()]*$")


def blank(text):
    """Comments, string and char literals replaced by spaces (newlines kept)."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i)); i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j])); i = j
        elif text.startswith('R"', i):
            m = re.match(r'R"([^(]*)\(', text[i:])
            end = text.find(")" + m.group(1) + '"', i) if m else -1
            j = n if end < 0 else end + len(m.group(1)) + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j])); i = j
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            out.append(" " * (min(j + 1, n) - i)); i = j + 1
        else:
            out.append(c); i += 1
    return "".join(out)


def functions(path):
    lines = blank(open(path, encoding="utf-8").read()).split("\n")
    # Stack of open braces: True for a function body (or inside one).
    stack, found, sig_start = [], [], 0
    for no, line in enumerate(lines):
        stripped = line.strip()
        in_function = any(stack)
        if not in_function and (stripped == "" or stripped.endswith(";") or stripped.endswith("}")
                                or stripped.startswith("#") or stripped.endswith(":")):
            sig_start = no + 1
        for k, ch in enumerate(line):
            if ch == "{":
                if in_function or any(stack):
                    stack.append(True)
                    continue
                head = " ".join(l.strip() for l in lines[sig_start:no]) + " " + line[:k]
                is_fn = ("(" in head and not CONTROL.match(head) and not TYPE_DEF.match(head)
                         and not re.search(r"=\s*$", head) and not head.rstrip().endswith("]"))
                stack.append(("fn", sig_start, head) if is_fn else False)
            elif ch == "}" and stack:
                top = stack.pop()
                if isinstance(top, tuple):
                    name = re.sub(r"\s+", " ", top[2]).strip()
                    name = re.sub(r"\(.*", "", name).split(" ")[-1] or name
                    found.append((no - top[1] + 1, top[1] + 1, name))
                    sig_start = no + 1
                elif not any(stack):
                    sig_start = no + 1
    return found


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--limit", type=int, default=150)
    ap.add_argument("--all", action="store_true", help="list every function, longest first")
    ap.add_argument("files", nargs="+")
    args = ap.parse_args()
    rows = []
    for f in args.files:
        rows += [(n, f, line, name) for n, line, name in functions(f)]
    rows.sort(reverse=True)
    over = [r for r in rows if r[0] > args.limit]
    for n, f, line, name in (rows if args.all else over):
        print(f"{n:5d}  {f}:{line}  {name}")
    if not args.all:
        print(f"{len(over)} function(s) over {args.limit} lines in {len(args.files)} file(s)")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
