#!/usr/bin/env bash
# The reference adapter answers each line, bad ones with an error line, and
# keeps going (the adapter protocol; hardening).
set -euo pipefail
A="$TEST_SRCDIR/asyncspec/conformance/reference/adapter"
out=$(printf '%s\n' \
  '{"asyncspec":1,"main":[{"op":"sleep","d":1000},{"op":"return","value":"v"}]}' \
  '{"asyncspec":1,"main":[{"op":"nope"}]}' \
  'not json' \
  '{"asyncspec":1,"main":[{"op":"group","name":"g","body":[{"op":"spawn","group":"g","task":{"name":"a","body":[{"op":"raise","label":"E1"}]}}]}]}' \
  '{"id":41,"asyncspec":1,"main":[{"op":"return","value":"v"}]}' \
  '{"id":42,"asyncspec":1,"main":[{"op":"nope"}]}' \
  | "$A")
echo "$out"
n=$(printf '%s\n' "$out" | wc -l)
[ "$n" -eq 7 ] || { echo "FAIL: expected hello + 6 lines, got $n"; exit 1; }
printf '%s\n' "$out" | sed -n 1p | grep -q '"hello":{"protocol":2,' || { echo "FAIL: no protocol 2 hello line"; exit 1; }
printf '%s\n' "$out" | sed -n 1p | grep -q '"base"\]' || { echo "FAIL: hello lacks the base capability"; exit 1; }
# RT-1: main returns "v" after 1000 virtual seconds, instantly.
printf '%s\n' "$out" | sed -n 2p | grep -q '"end_time":1000' || { echo "FAIL: line 2"; exit 1; }
printf '%s\n' "$out" | sed -n 3p | grep -q '"kind":"input"' || { echo "FAIL: unknown op not refused as input"; exit 1; }
printf '%s\n' "$out" | sed -n 4p | grep -q '"line":3' || { echo "FAIL: bad JSON not refused with its line"; exit 1; }
# TG-3: the child's error comes out of the group in an ExceptionGroup.
printf '%s\n' "$out" | sed -n 5p | grep -q '"g":{"end":0,"raised":{"type":"group","base":false,"children":\[{"type":"error","label":"E1"}\]}}' \
  || { echo "FAIL: TG-3 group outcome"; exit 1; }
# Protocol 2: a program's id (first in its object) comes back first in the
# reply, outcome or error alike; lines without one get replies without one.
printf '%s\n' "$out" | sed -n 6p | grep -q '^{"id":41,"tasks"' || { echo "FAIL: outcome without its id"; exit 1; }
printf '%s\n' "$out" | sed -n 7p | grep -q '^{"id":42,"error"' || { echo "FAIL: error without its id"; exit 1; }
printf '%s\n' "$out" | sed -n 2,5p | grep -q '"id"' && { echo "FAIL: an id where none was sent"; exit 1; }
# Flags: --help says what it does (exit 0); anything else is exit 2.
"$A" --help | grep -q "usage: adapter" || { echo "FAIL: --help"; exit 1; }
set +e
"$A" --bogus </dev/null 2>/dev/null; rc=$?
set -e
[ "$rc" -eq 2 ] || { echo "FAIL: an unknown flag exited $rc, not 2"; exit 1; }
echo PASS
