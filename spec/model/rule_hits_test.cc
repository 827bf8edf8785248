// The model's record of rule-tagged transitions (model.h RunModelRecorded):
// off by default, never changes the outcome, and each golden case's program
// takes the transitions of the rules the case is about.
#include <algorithm>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <rapidcheck/gtest.h>

#include "spec/json.h"
#include "spec/model/golden_cases_testing.h"
#include "spec/model/model.h"
#include "spec/program_gen.h"

namespace asyncspec::spec {
namespace {

// main: group g { spawn a: sleep 1 ; spawn b: raise E1 }  (TG-2 aborts a.)
Program GroupAbort() {
  Program p;
  p.name = "abort";
  Body g;
  g.push_back(Step{Spawn{"g", TaskDef{"a", {Step{Sleep{1}}}}}});
  g.push_back(Step{Spawn{"g", TaskDef{"b", {Step{Raise{"E1", false}}}}}});
  p.main.push_back(Step{Group{"g", std::move(g)}});
  return p;
}

bool HasHit(const ModelRun& r, RuleId id) { return r.rules_hit.test(static_cast<std::size_t>(id)); }

TEST(RuleHits, OffByDefault) {
  const ModelRun r = RunModelDetailed(GroupAbort(), SpecProfile());
  EXPECT_TRUE(r.rules_hit.none());
  EXPECT_TRUE(r.trace.empty());
  const ModelRun h = RunModelRecorded(GroupAbort(), SpecProfile(), RuleRecording::kOff);
  EXPECT_TRUE(h.rules_hit.none());
}

TEST(RuleHits, GroupAbortTakesTg2Tg6Tg3) {
  const ModelRun r = RunModelRecorded(GroupAbort(), SpecProfile(), RuleRecording::kHits);
  EXPECT_TRUE(HasHit(r, RuleId::TG_2));  // b's error aborts the group
  EXPECT_TRUE(HasHit(r, RuleId::TG_6));  // a ends cancelled: not an error
  EXPECT_TRUE(HasHit(r, RuleId::TG_3));  // b's error collected
  EXPECT_TRUE(HasHit(r, RuleId::TG_9));  // the parent's cancel is taken back
  EXPECT_FALSE(HasHit(r, RuleId::TG_5));  // no base error
  EXPECT_FALSE(HasHit(r, RuleId::SH_1));  // no shield
  EXPECT_TRUE(r.trace.empty()) << "kHits records no events";
}

TEST(RuleHits, TraceSaysWhoWhenWhat) {
  const ModelRun r = RunModelRecorded(GroupAbort(), SpecProfile(), RuleRecording::kTrace);
  auto tg2 = std::find_if(r.trace.begin(), r.trace.end(),
                          [](const ModelRun::RuleEvent& e) { return e.rule == RuleId::TG_2; });
  ASSERT_NE(tg2, r.trace.end());
  // b's done callback runs between steps at time 0: no current task.
  EXPECT_EQ(tg2->time, 0);
  EXPECT_EQ(tg2->task, "");
  EXPECT_NE(std::string(tg2->what).find("abort"), std::string::npos);
  // Every event's rule is a hit, and every hit has an event.
  std::bitset<kRuleCount> from_trace;
  for (const auto& e : r.trace) from_trace.set(static_cast<std::size_t>(e.rule));
  EXPECT_EQ(from_trace, r.rules_hit);
}

// main: task t: sleep 3 / sleep 1 / task k: raise base K1. main returns in
// the step that creates k; k's base error leaves the loop in the next
// iteration, before main's done callback (the stop request) runs, which then
// stops the drain early (RT-5, RT-6).
TEST(RuleHits, MainEndingAsABaseErrorLeavesTakesRt6) {
  Program p;
  p.main.push_back(Step{CreateTask{TaskDef{"t", {Step{Sleep{3}}}}}});
  p.main.push_back(Step{Sleep{1}});
  p.main.push_back(Step{CreateTask{TaskDef{"k", {Step{Raise{"K1", true}}}}}});
  const ModelRun r = RunModelRecorded(p, SpecProfile(), RuleRecording::kTrace);
  EXPECT_TRUE(HasHit(r, RuleId::RT_5));
  EXPECT_TRUE(HasHit(r, RuleId::RT_6)) << OutcomeToJson(r.outcome);
}

RC_GTEST_PROP(RuleHits, RecordingNeverChangesTheOutcome, ()) {
  const Program p = *gen::ValidProgram();
  for (const Profile& prof : {SpecProfile(), ShippedProfile("3.11")}) {
    const ModelRun plain = RunModelDetailed(p, prof);
    const ModelRun traced = RunModelRecorded(p, prof, RuleRecording::kTrace);
    RC_ASSERT(plain.outcome == traced.outcome);
    RC_ASSERT(plain.deadlock == traced.deadlock);
    RC_ASSERT(plain.tie_points == traced.tie_points);
  }
}

// ---- golden cases ----

// A case cites the rules its program is about; the model must take a
// transition of each (under some version: WF-3 is 3.11's). INV-* rules are
// properties of whole runs, not transitions.
TEST(RuleHits, EveryGoldenCaseTakesItsRules) {
  int checked = 0;
  for (const auto& golden : testing::GoldenCases()) {
    const nlohmann::json& c = golden.json;
    const std::string& path = golden.path;
    auto program = ProgramFromJson(c.at("program").dump());
    ASSERT_TRUE(program.ok()) << path << ": " << program.status();
    std::bitset<kRuleCount> hit;
    for (const Profile& prof : {SpecProfile(), ShippedProfile("3.14"), ShippedProfile("3.12"), ShippedProfile("3.11")}) {
      hit |= RunModelRecorded(*program, prof, RuleRecording::kHits).rules_hit;
    }
    for (const auto& rule : c.at("rules")) {
      const std::string id = rule.get<std::string>();
      if (id.rfind("INV-", 0) == 0) continue;
      const auto r = ParseRuleId(id);
      ASSERT_TRUE(r.has_value()) << path << " cites " << id << ", not a rule of RULES.md";
      EXPECT_TRUE(hit.test(static_cast<std::size_t>(*r)))
          << golden.name << " cites " << id << " but the model took no " << id << " transition";
      ++checked;
    }
  }
  EXPECT_GE(checked, 100);
}

}  // namespace
}  // namespace asyncspec::spec
