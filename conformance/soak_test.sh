#!/usr/bin/env bash
# Runs this shard's share of a conformance soak of the reference runtime
# (every rule family, INV checks included) and keeps the reports as test
# outputs. Fails when any program breaks a rule, crashes or times out (exit
# 1), the runtime cannot start (exit 2) or its adapter misbehaves (exit 3);
# the report names the rule and the seed to replay.
set -uo pipefail
CHECK="$TEST_SRCDIR/asyncspec/conformance/check"
OUT="${TEST_UNDECLARED_OUTPUTS_DIR:-$TEST_TMPDIR}/report"
"$CHECK" --runtime=reference --quiet --out="$OUT" "$@"
rc=$?
[ "$rc" -eq 0 ] || { echo "FAIL: check exited $rc; see $OUT/report.md"; cat "$OUT/report.md" 2>/dev/null | head -80; }
exit "$rc"
