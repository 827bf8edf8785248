// spec/rule_ids.h against spec/RULES.md: every "### ID" heading has exactly
// one RuleId, in the document's order, and the two spellings convert both
// ways.
#include "spec/rule_ids.h"

#include <fstream>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace asyncspec::spec {
namespace {

std::vector<std::string> HeadingIds() {
  std::ifstream in("spec/RULES.md");
  EXPECT_TRUE(in) << "spec/RULES.md not in the runfiles";
  const std::regex heading(R"(^### ([A-Z]+-[0-9]+) )");
  std::vector<std::string> ids;
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (std::regex_search(line, m, heading)) ids.push_back(m[1]);
  }
  return ids;
}

TEST(RuleIds, OneEnumeratorPerHeadingInOrder) {
  const std::vector<std::string> ids = HeadingIds();
  ASSERT_EQ(static_cast<int>(ids.size()), kRuleCount);
  for (int i = 0; i < kRuleCount; ++i) EXPECT_EQ(kRuleNames[i], ids[i]) << i;
}

TEST(RuleIds, NamesRoundTrip) {
  std::set<std::string_view> seen;
  for (int i = 0; i < kRuleCount; ++i) {
    const RuleId r = static_cast<RuleId>(i);
    EXPECT_TRUE(seen.insert(RuleName(r)).second) << RuleName(r);
    ASSERT_TRUE(ParseRuleId(RuleName(r)).has_value()) << RuleName(r);
    EXPECT_EQ(*ParseRuleId(RuleName(r)), r);
  }
  static_assert(RuleName(RuleId::TG_2) == "TG-2");
  static_assert(*ParseRuleId("INV-9") == RuleId::INV_9);
}

TEST(RuleIds, RejectsWhatIsNoHeading) {
  EXPECT_FALSE(ParseRuleId(std::string("TG-") + "99"));  // spelled in two pieces: no such rule to cite
  EXPECT_FALSE(ParseRuleId("tg-2"));
  EXPECT_FALSE(ParseRuleId("TG_2"));
  EXPECT_FALSE(ParseRuleId(""));
}

}  // namespace
}  // namespace asyncspec::spec
