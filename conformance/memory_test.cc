// Flat memory over long runs ("a run of 100,000 trees holds flat
// memory"). A test that can fail when memory grows, not a timing test: it
// checks N random programs, reads the resident set size, checks 4N more, and
// requires the RSS to have grown by less than a slack of 1 MB: growth of
// more than ~250 bytes per program fails (a report that keeps every
// program's details, ~1 KB each, grew by 9 MB over 4,000 programs; a
// leaked outcome or task frame per program is larger still). Measured when
// written: +32 kB (pipeline) and +172 kB (engine, PassedTree records).
//
// Two levels: the per-program pipeline alone (model, reference runtime,
// comparison, invariants; INV-9 asks the same program to give the same
// outcome, so a leaking runtime is the first suspect), and the Engine that
// `bazel run //conformance:check` runs, whose Report must keep only counts
// and what its files need.
//
// Under AddressSanitizer the RSS is dominated by its quarantine of freed
// memory (up to 256 MB), so there the leak checker is the test, not RSS.
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "conformance/compare.h"
#include "conformance/engine.h"
#include "conformance/reference/interpreter.h"
#include "conformance/rss_testing.h"
#include "conformance/rules.h"
#include "spec/model/model.h"
#include "spec/ties.h"

namespace asyncspec::conformance {
namespace {

long RssKb() { return testing::StatusKb("VmRSS:"); }

bool UnderAsan() {
#if defined(__SANITIZE_ADDRESS__)
  return true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
  return true;
#endif
#endif
  return false;
}

constexpr int kN = 1'000;
constexpr long kSlackKb = 1024;

void CheckTrees(int from, int to) {
  const spec::Profile profile = spec::SpecProfile();
  for (int i = from; i < to; ++i) {
    const spec::Program p = TreeProgram(TreeSeed(1, i));
    spec::ModelRun m = spec::RunModelDetailed(p, profile);
    auto observed = RunOnReference(p);
    if (m.deadlock) continue;  // the check reports those without a comparison
    ASSERT_TRUE(observed.ok()) << "tree " << i << ": " << observed.status();
    // The pipeline's work is real: the reference runtime agrees with the
    // model and keeps every invariant on these trees (the soak tests check
    // them at scale), so a finding here is a bug, named by its rule. Agrees
    // up to the orders the rules leave free: timers due at the same instant
    // fire in arming order in the runtime, in heapq order in CPython and the
    // model ("Freedom under ties", item 3, SCHED-2), so a different outcome
    // must be another schedule's, as the check judges it
    // (Engine::JudgeUnderTies).
    Comparison c = Compare(p, profile, m.outcome, *observed);
    if (c.match == Match::kDiffer) {
      const spec::TieCheck t = spec::OutcomeAllowedUnderTies(p, profile, *observed, 200);
      ASSERT_EQ(t.verdict, spec::TieVerdict::kAllowed)
          << "tree " << i << ": " << c.blame->rule << " " << c.blame->message << " (no model schedule yields it in "
          << t.runs << " runs)";
    }
    std::vector<Finding> inv = CheckInvariants(p, *observed);
    ASSERT_TRUE(inv.empty()) << "tree " << i << ": " << inv[0].rule << " " << inv[0].where << ": " << inv[0].message;
  }
}

TEST(Memory, PipelineHoldsFlatMemoryOverFourTimesMorePrograms) {
  if (UnderAsan()) GTEST_SKIP() << "RSS under ASan is its quarantine; LeakSanitizer checks leaks";
  CheckTrees(0, kN);  // warm-up: allocator pools, the ready ring, timer heaps at their size
  const long after_n = RssKb();
  CheckTrees(kN, 5 * kN);
  const long after_5n = RssKb();
  std::printf("RSS after %d programs: %ld kB; after %d more: %ld kB\n", kN, after_n, 4 * kN, after_5n);
  EXPECT_LT(after_5n - after_n, kSlackKb) << "INV-9: memory grew by " << (after_5n - after_n)
                                          << " kB over " << 4 * kN << " programs";
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

long EngineRunRssKb(int trees) {
  Options o;
  o.trees = trees;
  o.cases = false;
  o.quiet = true;
  o.shrink_budget = 0;
  o.keep_passed_results = false;  // as the check binary runs
  Engine engine(o, spec::SpecProfile(), MakeReferenceRuntime(),
                RuleCatalogue::Parse(Slurp(LocateRulesMd("."))));
  auto report = engine.RunAll();
  EXPECT_TRUE(report.ok()) << report.status();
  if (report.ok()) {
    EXPECT_EQ(report->results.size() + report->passed_trees.size(), static_cast<std::size_t>(trees));
  }
  return RssKb();  // with the report still alive
}

TEST(Memory, EngineReportHoldsFlatMemoryOverFourTimesMorePrograms) {
  if (UnderAsan()) GTEST_SKIP() << "RSS under ASan is its quarantine; LeakSanitizer checks leaks";
  const long small = EngineRunRssKb(kN);
  const long big = EngineRunRssKb(4 * kN);
  std::printf("RSS with a report of %d programs: %ld kB; of %d: %ld kB\n", kN, small, 4 * kN, big);
  EXPECT_LT(big - small, kSlackKb) << "the report grew by " << (big - small) << " kB for "
                                   << 3 * kN << " more programs";
}

}  // namespace
}  // namespace asyncspec::conformance
