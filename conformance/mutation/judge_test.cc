// The judging of the mutation table (mutation.h): the catalogue names real
// rules, and a kill's reported rule is classed exact / same family / wrong
// family / no rule against the rules its mutant declares. No hunt runs here.
#include <string>
#include <vector>

#include "conformance/mutation/mutation.h"
#include "gtest/gtest.h"
#include <nlohmann/json.hpp>

namespace asyncspec::conformance::mutation {
namespace {

namespace mut = rt::mutants;

HuntResult Killed(const std::string& code, const std::string& rule, int trees = 10) {
  HuntResult h;
  h.code = code;
  h.killed = true;
  h.rule = rule;
  h.trees = trees;
  h.seconds = trees / 1000.0;
  return h;
}

// Every mutant declares at least one rule, each a "### ID" heading of
// spec/RULES.md (spec/rule_ids.h), and the codes follow the enum.
TEST(Catalogue, IsWellFormed) {
  const std::vector<std::string> faults = CatalogueFaults();
  EXPECT_TRUE(faults.empty()) << faults.size() << " faults, the first: " << faults.front();
  EXPECT_GE(mut::kCount, 35u);
}

TEST(Catalogue, DeclaredRulesSplitOnBlanks) {
  const mut::Info* m03 = mut::Find("M03");
  ASSERT_NE(m03, nullptr);
  EXPECT_EQ(DeclaredRules(*m03), (std::vector<std::string>{"TG-9", "TG-11"}));
}

// M03 breaks TG-9 and TG-11 (runtime/mutants.h).
TEST(Judge, ClassesTheReportedRuleAgainstTheDeclaredOnes) {
  EXPECT_EQ(Judge(Killed("M03", "TG-11")), Attribution::kExact);
  EXPECT_EQ(Judge(Killed("M03", "TG-9")), Attribution::kExact);
  EXPECT_EQ(Judge(Killed("M03", "TG-1")), Attribution::kSameFamily);
  EXPECT_EQ(Judge(Killed("M03", "SH-1")), Attribution::kWrongFamily);
  // A family prefix alone is no match: TO-1 is not TG-1's family.
  EXPECT_EQ(Judge(Killed("M03", "TO-1")), Attribution::kWrongFamily);
  // An adapter error or a timeout killed it: no rule was named.
  EXPECT_EQ(Judge(Killed("M03", "ADAPTER-ERROR")), Attribution::kNoRule);
  // Not a heading of RULES.md, though its family is TG (spelled in two
  // pieces: no such rule to cite).
  EXPECT_EQ(Judge(Killed("M03", std::string("TG-") + "99")), Attribution::kNoRule);
}

TEST(Judge, NothingToJudgeWithoutAKill) {
  HuntResult survived = Killed("M03", "TG-9");
  survived.killed = false;
  EXPECT_EQ(Judge(survived), Attribution::kNotKilled);
  HuntResult crashed = Killed("M03", "TG-9");
  crashed.crash = "the hunt died of signal Segmentation fault";
  EXPECT_EQ(Judge(crashed), Attribution::kNotKilled);
  EXPECT_EQ(Judge(Killed("none", "TG-9")), Attribution::kNotKilled);  // the unmutated build
}

TEST(Summary, CountsEachClassAndTheSlowKills) {
  HuntResult survived = Killed("M05", "-", 50'000);
  survived.killed = false;
  const std::vector<HuntResult> results = {
      Killed("M01", "TG-1", 249),    // exact
      Killed("M02", "TG-3", 19'280), // exact, over 5,000
      Killed("M03", "TG-1", 100),    // same family
      Killed("M04", "WF-1", 59),     // wrong family
      Killed("M28", "ADAPTER-ERROR", 3),
      survived,
  };
  const Summary s = Summarize(results);
  EXPECT_EQ(s.mutants, 6);
  EXPECT_EQ(s.killed, 5);
  EXPECT_EQ(s.survived, 1);
  EXPECT_EQ(s.exact, 2);
  EXPECT_EQ(s.same_family, 1);
  EXPECT_EQ(s.wrong_family, 1);
  EXPECT_EQ(s.no_rule, 1);
  EXPECT_EQ(s.median_trees, 100);
  EXPECT_EQ(s.max_trees, 19'280);
  EXPECT_EQ(s.over_5000, std::vector<std::string>{"M02"});

  const std::string table = Table(results);
  EXPECT_NE(table.find("| M04 | to-converts-any-cancel | TO-3 INV-7 | killed | 59 |"), std::string::npos) << table;
  EXPECT_NE(table.find("| WF-1 | wrong family |"), std::string::npos) << table;
  EXPECT_NE(table.find("5 of 6 mutants killed (1 survived, 0 crashed); the rule reported is exact for 2, of the "
                       "same family for 1, of the wrong family for 1, no rule for 1"),
            std::string::npos)
      << table;
  EXPECT_NE(table.find("over 5,000 trees: M02"), std::string::npos) << table;

  const nlohmann::json j = nlohmann::json::parse(TableJson(results, HuntOptions{}, HuntResult{}));
  EXPECT_EQ(j.at("mutants").size(), 6u);
  EXPECT_EQ(j.at("mutants")[3].at("attribution"), "wrong family");
  EXPECT_EQ(j.at("mutants")[3].at("breaks"), (nlohmann::json{"TO-3", "INV-7"}));
  EXPECT_EQ(j.at("summary").at("exact"), 2);
  EXPECT_EQ(j.at("summary").at("over_5000_trees"), nlohmann::json{"M02"});
  EXPECT_EQ(j.at("options").at("budget"), HuntOptions{}.budget);
}

TEST(Median, OddEvenAndEmpty) {
  EXPECT_EQ(Median({}), 0);
  EXPECT_EQ(Median({3, 1, 2}), 2);
  EXPECT_EQ(Median({4, 1, 3, 2}), 2.5);
}

}  // namespace
}  // namespace asyncspec::conformance::mutation
