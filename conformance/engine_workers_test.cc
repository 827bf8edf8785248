// The engine checking programs in forked workers (Options::workers): a
// runtime that crashes or hangs on some programs costs exactly those
// programs, each reported with its program, and the run goes on.
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "conformance/engine.h"
#include "spec/model/model.h"

namespace asyncspec::conformance {
namespace {

RuleCatalogue Rules() {
  std::ifstream in(LocateRulesMd("."));
  std::stringstream ss;
  ss << in.rdbuf();
  return RuleCatalogue::Parse(ss.str());
}

// Right (it returns the model's outcome) except on programs whose main body
// has a multiple of 4 steps, where it crashes or hangs.
bool Doomed(const spec::Program& p) { return p.main.size() % 4 == 0; }

class Misbehaves : public Runtime {
 public:
  explicit Misbehaves(bool hang) : hang_(hang) {}
  std::string name() const override { return hang_ ? "hangs" : "crashes"; }
  absl::StatusOr<spec::Outcome> Run(const spec::Program& program) override {
    if (Doomed(program)) {
      if (hang_) pause();
      signal(SIGSEGV, SIG_DFL);  // die by the signal also under ASan, whose handler would exit(1)
      raise(SIGSEGV);
    }
    spec::ModelRun m = spec::RunModelDetailed(program, spec::SpecProfile());
    if (m.deadlock) return absl::FailedPreconditionError("deadlock");
    return m.outcome;
  }

 private:
  bool hang_;
};

void ExpectOnlyDoomedProgramsLost(bool hang) {
  Options o;
  o.runtime = hang ? "hangs" : "crashes";
  o.trees = 60;
  o.cases = false;
  o.quiet = true;
  o.workers = 2;
  o.timeout_ms = hang ? 300 : 10000;
  o.shrink_budget = 0;  // the point here is the accounting, not the shrinker
  int doomed = 0;
  for (int i = 0; i < o.trees; ++i) doomed += Doomed(TreeProgram(TreeSeed(o.seed, i)));
  ASSERT_GT(doomed, 0) << "no tree has a main body of 4k steps; pick another predicate";
  ASSERT_LT(doomed, o.trees);

  // The parent's own runs (shrinking) are isolated too, as in check.cc.
  Engine engine(o, spec::SpecProfile(), MakeIsolatedRuntime(std::make_unique<Misbehaves>(hang), o.timeout_ms),
                Rules());
  engine.SetWorkerRuntime(std::make_unique<Misbehaves>(hang));
  auto report = engine.RunAll();
  ASSERT_TRUE(report.ok()) << report.status();
  ASSERT_EQ(report->results.size(), static_cast<std::size_t>(o.trees));
  EXPECT_EQ(hang ? report->timeouts : report->crashes, doomed);
  EXPECT_EQ(report->failed, 0);
  EXPECT_EQ(report->checked, o.trees - doomed);  // every other program was checked, and passed
  for (const ProgramResult& r : report->results) {
    ASSERT_TRUE(r.seed.has_value());
    const bool lost = r.verdict == (hang ? Verdict::kTimeout : Verdict::kCrash);
    EXPECT_EQ(lost, Doomed(TreeProgram(*r.seed))) << r.id << ": " << r.note;
    if (!lost) continue;
    // Reported with the program that caused it, so it can be replayed.
    ASSERT_TRUE(r.program.has_value()) << r.id;
    EXPECT_TRUE(*r.program == TreeProgram(*r.seed));
    EXPECT_NE(r.note.find(hang ? "TIMEOUT" : "signal 11"), std::string::npos) << r.note;
  }
}

TEST(EngineWorkers, ACrashingRuntimeCostsOnlyTheProgramsItCrashesOn) { ExpectOnlyDoomedProgramsLost(false); }

TEST(EngineWorkers, AHangingRuntimeTimesOutOnlyThoseProgramsAndTheRunGoesOn) { ExpectOnlyDoomedProgramsLost(true); }

TEST(EngineWorkers, WorkersAndInProcessGiveTheSameResults) {
  // INV-9 at the level of the engine: the pool changes where programs are
  // checked, not what is found.
  auto run = [](int workers) {
    Options o;
    o.trees = 300;
    o.cases = false;
    o.quiet = true;
    o.workers = workers;
    Engine engine(o, spec::SpecProfile(), MakeReferenceRuntime(), Rules());
    auto r = engine.RunAll();
    EXPECT_TRUE(r.ok());
    return *r;
  };
  Report a = run(0), b = run(2);
  ASSERT_EQ(a.results.size(), b.results.size());
  EXPECT_EQ(a.passed_exact, b.passed_exact);
  for (std::size_t i = 0; i < a.results.size(); ++i) {
    EXPECT_EQ(a.results[i].id, b.results[i].id);
    EXPECT_EQ(a.results[i].verdict, b.results[i].verdict);
    EXPECT_EQ(a.results[i].families, b.results[i].families);
    // Every field that comes back from a worker (a pass in the compact
    // line form, anything else as JSON) is as checked in process.
    EXPECT_EQ(a.results[i].seed, b.results[i].seed);
    EXPECT_EQ(a.results[i].ignored_findings, b.results[i].ignored_findings);
    EXPECT_EQ(a.results[i].unclaimed_findings, b.results[i].unclaimed_findings);
    EXPECT_EQ(a.results[i].nondeterministic, b.results[i].nondeterministic);
    EXPECT_EQ(a.results[i].confirmed_deterministic, b.results[i].confirmed_deterministic);
    EXPECT_EQ(a.results[i].tie_points, b.results[i].tie_points);
    EXPECT_EQ(a.results[i].schedules_run, b.results[i].schedules_run);
    EXPECT_EQ(a.results[i].note, b.results[i].note);
    EXPECT_EQ(a.results[i].findings.size(), b.results[i].findings.size());
    EXPECT_GT(b.results[i].seconds, 0) << b.results[i].id;
  }
  EXPECT_EQ(a.tie_programs, b.tie_programs);
  EXPECT_EQ(a.schedule_runs, b.schedule_runs);
}

}  // namespace
}  // namespace asyncspec::conformance
