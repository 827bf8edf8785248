#!/usr/bin/env bash
# The generator's reach cannot silently regress: on 1,000 default random
# trees (seed 1) every rule is exercised by >= 20 trees and every departure
# flag changes >= 5 outcomes (conformance/bench/README.md, "Reach"). And the check
# can fail: targets no generator meets are reported missed, exit 1.
set -uo pipefail
bin="$TEST_SRCDIR/asyncspec/conformance/bench/reach"

out=$("$bin" --trees=1000 --check)
rc=$?
echo "$out"
if [ "$rc" -ne 0 ]; then
  echo "FAIL: reach targets missed (exit $rc):"
  grep "below target" <<<"$out"
  exit 1
fi
grep -q "^0 of the targets missed" <<<"$out" || { echo "FAIL: no '0 of the targets missed' line"; exit 1; }

# A target above the tree count must be missed by every rule and flag.
bad=$("$bin" --trees=20 --check --rule_target=1001 --flag_target=1001)
rc=$?
if [ "$rc" -ne 1 ]; then
  echo "FAIL: --check exited $rc with unreachable targets, expected 1"
  exit 1
fi
grep -q "below target" <<<"$bad" || { echo "FAIL: no rule or flag reported below target"; exit 1; }
echo "PASS"
