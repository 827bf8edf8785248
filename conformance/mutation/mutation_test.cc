// Every mutant of runtime/mutants.h is killed by the checks of
// //conformance:check within a budget of random trees, and the unmutated
// build passes those same trees (so no kill comes from a broken harness).
// Budgets are in trees, never in seconds; the seconds are in the table
// (mutation_table, README.md). One test per mutant, spread over the shards.
#include <ostream>
#include <string>

#include "conformance/mutation/mutation.h"
#include "gtest/gtest.h"

namespace asyncspec::rt::mutants {
// gtest names a failing parameter by this, not by its bytes.
void PrintTo(const Info& m, std::ostream* os) { *os << m.code << " " << m.name << " (breaks " << m.rules << ")"; }
}  // namespace asyncspec::rt::mutants

namespace asyncspec::conformance::mutation {
namespace {

namespace mut = rt::mutants;

// Trees per mutant: the table's default (mutation.h), about 2.6 times the
// slowest kill of README.md's table (M02, 19,280 trees at seed 1); the
// unmutated build must pass them all.
constexpr int kBudget = HuntOptions{}.budget;

HuntOptions TestOptions() {
  HuntOptions o;
  o.budget = kBudget;
  o.seed = 1;
  o.shrink_budget = 0;  // the verdict only; the table shrinks
  o.timeout_s = 300;
  return o;
}

// INV-9 and every rule: the unmutated runtime agrees with the model on all
// the trees a mutant may be hunted on.
TEST(Mutation, UnmutatedBuildPassesTheSameTrees) {
  HuntOptions o = TestOptions();
  o.cases_dir = "spec/cases";  // and the golden cases, against their CPython recordings
  HuntResult h = HuntIsolated(mut::Id::kNone, o);
  EXPECT_GT(h.cases_checked, 0) << h.first_case;
  EXPECT_EQ(h.cases_failed, 0) << "first: " << h.first_case << " " << h.first_case_rule;
  EXPECT_EQ(h.crash, "");
  EXPECT_FALSE(h.killed) << "the unmutated runtime fails tree " << h.tree_seed << ": " << h.rule << " at " << h.where
                         << ": " << h.message;
  EXPECT_EQ(h.trees, kBudget);
}

class EveryMutant : public ::testing::TestWithParam<mut::Info> {};

TEST_P(EveryMutant, IsKilledWithinTheBudget) {
  const mut::Info& m = GetParam();
  HuntResult h = HuntIsolated(m.id, TestOptions());
  EXPECT_EQ(h.crash, "") << m.code << " " << m.name;
  EXPECT_TRUE(h.killed) << m.code << " " << m.name << " (breaks " << m.rules << ": " << m.mistake
                        << ") survived " << h.trees << " trees";
  if (h.killed) {
    std::cout << m.code << " " << m.name << ": killed by " << h.rule << " at " << h.where << " after " << h.trees
              << " trees (expected " << m.rules << ")\n";
  }
}

INSTANTIATE_TEST_SUITE_P(Catalogue, EveryMutant, ::testing::ValuesIn(mut::kCatalogue),
                         [](const ::testing::TestParamInfo<mut::Info>& i) {
                           std::string n = std::string(i.param.code) + "_" + i.param.name;
                           for (char& c : n) {
                             if (c == '-') c = '_';
                           }
                           return n;
                         });

}  // namespace
}  // namespace asyncspec::conformance::mutation
