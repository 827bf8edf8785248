#!/bin/sh
# Writes spec/rule_ids.h from spec/RULES.md (its "### ID title" headings), so
# that rule IDs have one spelling: "TG-2" in text, RuleId::TG_2 in C++.
# Usage: gen_rule_ids.sh RULES.md > rule_ids.h   (the //spec:rule_ids genrule)
set -eu
ids=$(awk '/^### [A-Z]+-[0-9]+ / { print $2 }' "$1")
[ -n "$ids" ] || { echo "gen_rule_ids.sh: no '### ID' headings in $1" >&2; exit 1; }
cat <<'HEAD'
// Generated from spec/RULES.md by spec/gen_rule_ids.sh (//spec:rule_ids): do
// not edit. One enumerator per rule heading, in the document's order.
#ifndef ASYNCSPEC_SPEC_RULE_IDS_H_
#define ASYNCSPEC_SPEC_RULE_IDS_H_

#include <cstdint>
#include <optional>
#include <string_view>

namespace asyncspec::spec {

enum class RuleId : std::uint8_t {
HEAD
for id in $ids; do echo "  $(echo "$id" | tr - _),"; done
cat <<'MID'
};

inline constexpr std::string_view kRuleNames[] = {
MID
for id in $ids; do echo "    \"$id\","; done
cat <<'TAIL'
};

inline constexpr int kRuleCount = static_cast<int>(sizeof(kRuleNames) / sizeof(kRuleNames[0]));

// "TG-2" for RuleId::TG_2.
constexpr std::string_view RuleName(RuleId r) { return kRuleNames[static_cast<int>(r)]; }

// RuleId::TG_2 for "TG-2"; nullopt for anything that is not a rule heading.
constexpr std::optional<RuleId> ParseRuleId(std::string_view s) {
  for (int i = 0; i < kRuleCount; ++i) {
    if (kRuleNames[i] == s) return static_cast<RuleId>(i);
  }
  return std::nullopt;
}

}  // namespace asyncspec::spec

#endif  // ASYNCSPEC_SPEC_RULE_IDS_H_
TAIL
