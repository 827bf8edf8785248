// Runs every golden case of spec/cases/ (recorded from real CPython 3.11.7,
// 3.12.1, 3.13.0, and 3.14.2 and 3.15.0rc1 as Pyodide builds them, by
// spec/cases/record.py) through the model with the
// shipped profile of each version (shipped-3.11 etc., spec/model/profiles.h:
// the recording is what that release did, known bugs included), and requires the model's outcome to equal the
// recorded one exactly (the cases avoid every order that RULES.md leaves
// free, so exact equality is the right bar). A failure names the case, the
// version and the rule IDs the case cites, and prints both outcomes.
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "spec/json.h"
#include "spec/model/golden_cases_testing.h"
#include "spec/model/model.h"

namespace asyncspec::spec {
namespace {

TEST(GoldenCases, ThereAreCases) {
  // Guards against a silently empty run (wrong data path).
  EXPECT_GE(testing::GoldenCases().size(), 50u) << "spec/cases/*.json not found under " << testing::GoldenCasesDir();
}

TEST(GoldenCases, ModelMatchesCPythonOnEveryVersion) {
  int checked = 0;
  for (const auto& golden : testing::GoldenCases()) {
    const nlohmann::json& c = golden.json;
    const std::string& name = golden.name;
    std::string rules;
    for (const auto& r : c.at("rules")) rules += (rules.empty() ? "" : ", ") + r.get<std::string>();
    auto program = ProgramFromJson(c.at("program").dump());
    ASSERT_TRUE(program.ok()) << name << ": " << program.status();
    for (const std::string version : {"3.13", "3.12", "3.11", "3.14", "3.15"}) {
      nlohmann::json exp = c.at("expected");
      if (version != "3.13") {
        const nlohmann::json& v = c.at("versions").at(version);
        if (!v.is_string()) exp = v;
        else ASSERT_EQ(v.get<std::string>(), "same") << name;
      }
      auto expected = OutcomeFromJson(exp.dump());
      ASSERT_TRUE(expected.ok()) << name << " " << version << ": " << expected.status();
      Profile profile;
      ASSERT_TRUE(ShippedProfileForVersion(version, &profile));
      ModelRun run = RunModelDetailed(*program, profile);
      EXPECT_FALSE(run.deadlock) << name;
      EXPECT_TRUE(run.outcome == *expected)
          << "case " << name << " (rules " << rules << ") on CPython " << version
          << ": the model differs from the recorded CPython outcome\n  model:   "
          << OutcomeToJson(run.outcome) << "\n  cpython: " << OutcomeToJson(*expected);
      ++checked;
    }
  }
  EXPECT_GE(checked, 250);
}

// Every row of the departure table is witnessed by a recording: some golden
// case whose model outcome under an affected release's shipped profile
// (which ModelMatchesCPythonOnEveryVersion holds to the recording) changes
// when that one flag is set back to spec's value. A row no case shows would
// be a departure the recordings do not support.
//
// A departure that no program can show stays in kNoCaseYet, which the test
// holds to: a case that comes to witness it must move it out.
TEST(GoldenCases, EveryDepartureIsWitnessedByARecording) {
  // self_await_unmarks_task (CX-11): no program can show it, since
  // spec/validate.h refuses any self-await as a deadlock by construction;
  // model_test (CX_11_AwaitingOneself) and runtime/run_test pin it.
  const std::set<std::string> kNoCaseYet = {"self_await_unmarks_task"};
  const Profile spec = SpecProfile();
  std::vector<Program> programs;
  for (const auto& golden : testing::GoldenCases()) {
    auto program = ProgramFromJson(golden.json.at("program").dump());
    ASSERT_TRUE(program.ok()) << golden.path;
    programs.push_back(*std::move(program));
  }
  for (const Departure& d : Departures()) {
    int witnesses = 0;
    for (const Program& program : programs) {
      for (const std::string& v : d.versions) {
        const Profile shipped = ShippedProfile(v);
        Profile back = shipped;
        back.*(d.flag) = spec.*(d.flag);
        witnesses += !(RunModel(program, shipped) == RunModel(program, back));
      }
    }
    if (kNoCaseYet.count(d.id)) {
      EXPECT_EQ(witnesses, 0) << "departure " << d.id << " is witnessed now: drop it from kNoCaseYet";
      continue;
    }
    EXPECT_GE(witnesses, 1) << "departure " << d.id << " (" << d.rule
                            << "): no golden case recorded on an affected release depends on it";
  }
}

}  // namespace
}  // namespace asyncspec::spec
