#!/bin/bash
# model_cli refuses what spec/validate.h refuses, with the step's location,
# one {"error"} line per bad input line, and exit 2; a line past the 64 MiB
# limit is refused without being stored; valid programs still run (exit 0).
set -u
CLI="${TEST_SRCDIR}/${TEST_WORKSPACE:-asyncspec}/spec/model/model_cli"
fail=0
die() { echo "FAIL: $*"; fail=1; }

# expect NAME INPUT WANT_EXIT WANT_STDOUT_SUBSTRING WANT_STDERR_SUBSTRING
expect() {
  local out err rc
  out=$(printf '%s\n' "$2" | "$CLI" --profile=shipped-3.13 2>"$TEST_TMPDIR/err"); rc=$?
  err=$(cat "$TEST_TMPDIR/err")
  [[ $rc == "$3" ]] || die "$1: exit $rc, want $3 (stdout: $out; stderr: $err)"
  [[ "$out" == *"$4"* ]] || die "$1: stdout '$out' lacks '$4'"
  [[ "$err" == *"$5"* ]] || die "$1: stderr '$err' lacks '$5'"
}

ok='{"asyncspec":1,"main":[{"op":"sleep","d":2}]}'
expect valid "$ok" 0 '"end_time":2' ''
# duplicate names (a task named twice)
expect duplicate '{"asyncspec":1,"main":[{"op":"task","task":{"name":"a","body":[]}},{"op":"task","task":{"name":"a","body":[]}}]}' \
  2 '"error"' 'line 1: main[1]'
# `return` not last
expect return_not_last '{"asyncspec":1,"main":[{"op":"return","value":"x"},{"op":"sleep","d":1}]}' \
  2 '"error"' 'line 1: main[0]'
# spawn into a group that does not exist
expect undefined_group '{"asyncspec":1,"main":[{"op":"spawn","group":"g","task":{"name":"a","body":[]}}]}' \
  2 '"error"' 'line 1: main[0]'
# a bad line among good ones: one output line per input line, exit 2
out=$(printf '%s\n%s\n%s\n' "$ok" '{"asyncspec":1,"main":[{"op":"return","value":"x"},{"op":"sleep","d":1}]}' "$ok" \
  | "$CLI" --profile=shipped-3.13 2>"$TEST_TMPDIR/err"); rc=$?
[[ $rc == 2 ]] || die "mixed: exit $rc, want 2"
[[ $(wc -l <<<"$out") == 3 ]] || die "mixed: want 3 lines, got: $out"
grep -q '^model_cli: line 2: main\[0\]' "$TEST_TMPDIR/err" || die "mixed: the bad line is not named: $(cat "$TEST_TMPDIR/err")"
# 65 MiB without a newline: refused at the limit, bounded memory
out=$(head -c $((65 << 20)) /dev/zero | "$CLI" --profile=shipped-3.13 2>"$TEST_TMPDIR/err"); rc=$?
[[ $rc == 2 ]] || die "huge line: exit $rc, want 2"
[[ "$out" == *"larger than the limit of 67108864 bytes"* ]] || die "huge line: $out"
# bad flags
"$CLI" --bogus </dev/null 2>/dev/null; [[ $? == 2 ]] || die "an unknown flag is not exit 2"

[[ $fail == 0 ]] && echo PASS
exit $fail
