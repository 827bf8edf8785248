// The conformance engine behind `bazel run //conformance:check`.
//
// For each program (the golden cases of spec/cases, then random programs
// from spec/program_gen.h): expected = the model (spec::RunModelDetailed
// under the chosen profile, `spec` by default; for a golden case the model
// under the recording release's shipped profile is also compared with the
// outcome recorded from CPython), observed = the runtime under test.
// A program passes if the outcomes are equal (exactly, or up to the tie
// freedom of RULES.md, reported as such) and the observed outcome satisfies
// the invariants (INV-n). Failures are attributed to rule IDs
// (conformance/compare.h), grouped by rule, and the first program of each
// rule is shrunk (conformance/shrink.h) to a small program that still breaks
// that rule. Reports: report.md, report.json and JUnit report.xml in the
// output directory (conformance/report.cc).
//
// Random program i of a run with seed S is generated from its own seed
// TreeSeed(S, i), so any one of them can be replayed alone (--replay).
//
// A program that uses a construct the runtime did not declare
// (conformance/capabilities.h) is never sent: it counts n/a. With --jobs J,
// J runtimes (J adapter processes) check programs in parallel; programs are
// generated on one thread (RapidCheck's generator state is global) and
// their results accounted in program order, so a report does not depend on
// J. Known failures (conformance/expectations.h) make a failure "as
// expected" rather than new.
#ifndef ASYNCSPEC_CONFORMANCE_ENGINE_H_
#define ASYNCSPEC_CONFORMANCE_ENGINE_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <chrono>
#include <functional>

#include "conformance/capabilities.h"
#include "conformance/compare.h"
#include "conformance/expectations.h"
#include "conformance/passed_trees.h"
#include "conformance/rules.h"
#include "conformance/runtimes.h"
#include "spec/model/model.h"
#include "spec/outcome.h"
#include "spec/program.h"

namespace asyncspec::conformance {

struct ProgramResult;

struct Options {
  // reference | cpython | model (self-check, for timing) | a registered
  // adapter (conformance/adapters/<dir>/adapter.json) | "adapter" (--adapter)
  std::string runtime = "reference";
  std::string adapter_command;  // --adapter, for replay commands
  std::string python;  // --runtime=cpython's interpreter (the check's default: tools/pyenv.h)
  std::string driver = "conformance/adapters/cpython/driver.py";  // runfiles-relative
  std::string cases_dir = "spec/cases";
  std::string rules_md = "spec/RULES.md";
  int trees = 1000;
  std::uint64_t seed = 1;
  // This run checks only programs k with k % shard_count == shard_index
  // (cases and trees each numbered from 0), so a soak spreads over Bazel
  // test shards (TEST_TOTAL_SHARDS / TEST_SHARD_INDEX) unchanged.
  int shard_index = 0;
  int shard_count = 1;
  bool cases = true;
  std::string rules;    // glob over rule IDs ("TG-*"); empty: all
  std::string out_dir;  // empty: no report files
  std::string profile;  // a profile name (spec/model/profiles.h); empty: spec
  bool quiet = false;
  int timeout_ms = 10000;  // per program (cpython; reference in workers)
  // > 0: check the programs in this many forked worker processes
  // (conformance/workers.h), so that a runtime that crashes or hangs costs
  // one program; 0: in this process.
  int workers = 0;
  int shrink_budget = 300;  // predicate calls per distinct failure
  std::optional<std::uint64_t> replay;  // only the tree with this seed
  std::string program_file;             // only this program (text or JSON form)
  // Adapter runtimes (workers == 0): this many runtimes (adapter processes)
  // check programs in parallel, on threads of this process.
  int jobs = 1;
  // The rules the runtime claims (its hello's `rules`, as globs); a finding
  // under another rule is counted "not claimed", not failed. Empty: all.
  std::vector<std::string> claimed_rules;
  std::string claimed_rules_name;  // as the hello said it ("structured"), for reports
  // "asyncio": write a standalone asyncio .py per distinct failure;
  // "cc": a standalone C++ .cc on the reference runtime (cc_reproducer.h);
  // "command": the adapter writes it (reproducer_command gets
  // ReproducerInputJson on stdin, its stdout is the file, reproducer_ext its
  // extension); "": none.
  std::string reproducer;
  std::vector<std::string> reproducer_command;
  std::string reproducer_ext = "txt";
  std::string expectations_file;  // for reports and --save ("" none)
  // Tie modes (RULES.md "Freedom under ties"). `ties`: how random programs
  // are generated: "" (spec::gen defaults), "free" (GenOptions::TieFree, no
  // timer ties) or "heavy" (GenOptions::TieHeavy). `schedules` > 0: every
  // program is also run under that many perturbed schedules (runtimes with
  // Runtime::SetScheduleSeed, i.e. the reference), and each outcome must be
  // one that some schedule of the model yields (spec::OutcomeAllowedUnderTies
  // with `tie_budget` model runs; an exhausted budget makes the program
  // "undecided", never passed) and must satisfy the invariants.
  std::string ties;
  int schedules = 0;
  int tie_budget = 200;
  // false: a random tree that passes is kept as a PassedTree (16 bytes, what
  // report.xml needs, in a temporary file: passed_trees.h) instead of a
  // ProgramResult (~1 KB with its families), so a run holds flat memory
  // however many trees it checks (the check binary
  // sets it; not with an expectations file, whose entries are judged
  // against passes too). true: Report::results lists every program.
  bool keep_passed_results = true;
  // Called with every program's result as it is accounted, in program
  // order (the check's report.jsonl).
  std::function<void(const ProgramResult&)> on_result;
  // Asked before each program is taken and while results wait: a non-empty
  // answer (why) ends the run early: no more programs are taken, results
  // not yet accounted are dropped, nothing is shrunk, and Report::stopped
  // says why (SIGINT, a run that gave up).
  std::function<std::string()> stop;
};

// kSkipped: the program deadlocks in both the model and the runtime (a pass
// that has no outcome to compare); kNotApplicable: the runtime lacks a
// construct the program uses (never sent, or answered `unsupported`);
// kUndecided: a perturbed schedule's outcome could not be matched to a model
// schedule within --tie_budget (not a pass, not a failure).
enum class Verdict {
  kPass, kPassTies, kFail, kTimeout, kCrash, kAdapterError, kSkipped, kNotApplicable, kUndecided
};
const char* VerdictName(Verdict v);

struct ProgramResult {
  std::string id;           // "case:<name>" | "tree:<seed>" | "file:<path>"
  std::optional<std::uint64_t> seed;  // trees
  std::vector<std::string> case_rules;  // golden cases: the rules they cite
  std::set<std::string> families;
  Verdict verdict = Verdict::kPass;
  std::vector<Finding> findings;  // counted failures (within --rules)
  int ignored_findings = 0;       // outside --rules
  int unclaimed_findings = 0;     // outside the rules the runtime claims
  std::string note;               // adapter error, timeout, crash, deadlock agreement, n/a reason
  Capabilities missing;           // n/a: what the runtime lacks
  // A second run (in a fresh adapter process) gave another outcome: INV-9.
  bool nondeterministic = false;
  // A failure re-run (in a fresh adapter) gave the same outcome.
  bool confirmed_deterministic = false;
  // Failures, crashes and timeouts: is it listed in the expectations file?
  bool expected_failure = false;
  std::string expected_reason;
  std::string expected_label;  // "TG-9, gh-116720, fixed in 3.13.0; ..." (ExpectationLabel)
  // When the expectations file names model departures (spec/model/
  // profiles.h): the smallest set of departures whose shipped values make
  // the model's outcome the observed one (a failure explained exactly; its
  // findings are then the departures' rules; expected only if the file
  // lists them all), and the listed departures this program shows.
  std::vector<std::string> departures;
  std::set<std::string> departures_differing;
  int tie_points = 0;             // the model's (spec::ModelRun::tie_points)
  int schedules_run = 0;          // perturbed schedules run (--schedules)
  bool undecided = false;         // some run's outcome was not decided (tie mode)
  double seconds = 0;
  // Kept only for failures (reports need them).
  std::optional<spec::Program> program;
  std::optional<spec::Outcome> expected, observed;
};

// The pseudo-rule under which adapter errors are grouped and shrunk.
inline constexpr char kAdapterErrorRule[] = "ADAPTER-ERROR";

// One distinct failure: a rule ID (or kAdapterErrorRule), its first program, shrunk.
struct FailureGroup {
  std::string rule;
  std::vector<std::string> program_ids;  // every program failing with this rule
  Finding first;                         // the finding in the first program
  std::string replay;                    // command line replaying the first program
  spec::Program original, shrunk;
  int shrink_attempts = 0;
  std::optional<spec::Outcome> expected, observed;  // of the shrunk program
  std::vector<Finding> shrunk_findings;
  bool as_expected = false;  // every program of it is listed in the expectations file
  std::string expected_label;  // its first program's, when as_expected
};

struct FamilyRow {
  // failed: new failures only; expected_failures: failures the expectations
  // file lists; unexpected_passes: its entries for this family that did not fail.
  int checked = 0, passed = 0, failed = 0, expected_failures = 0, unexpected_passes = 0, not_applicable = 0;
};

struct Report {
  Options options;
  std::string runtime_name, runtime_version, profile;
  std::vector<ProgramResult> results;  // failures keep their programs
  PassedTrees passed_trees;  // the passes not in `results` (see Options), on disk
  std::map<std::string, FamilyRow> families;
  RuntimeInfo info;  // what the runtime said about itself
  std::vector<FailureGroup> failures;
  int checked = 0, passed_exact = 0, passed_ties = 0, failed = 0, timeouts = 0, crashes = 0,
      adapter_errors = 0, skipped = 0, not_applicable = 0, ignored_findings = 0, unclaimed_findings = 0,
      nondeterministic = 0;
  // Of failed + crashes + timeouts: how many the expectations file lists.
  int expected_failures = 0, new_failures = 0;
  std::map<std::string, int> missing_capabilities;  // n/a programs per missing capability
  Expectations expectations;                        // with matched / exercised filled in
  std::vector<const Expectation*> unexpected_passes() const;
  // Programs a departure entry expected to fail (the departure changes the
  // model's outcome) that passed: (program id, the entry's label).
  std::vector<std::pair<std::string, std::string>> unexpected_pass_programs;
  int unexpected_pass_count() const {
    return static_cast<int>(unexpected_passes().size() + unexpected_pass_programs.size());
  }
  int cases_model_disagreements = 0;
  // --schedules: programs undecided, programs whose model meets a tie point,
  // perturbed runs made, and those whose outcome differed from CPython's
  // schedule but was allowed by another one.
  int undecided = 0, tie_programs = 0, schedule_runs = 0, schedule_other_outcome = 0;
  std::string stopped;          // why the run ended early (Options::stop); "" if it ran to the end
  double seconds = 0;           // whole run
  double check_seconds = 0;     // checking only (no shrinking, no reports)
  double programs_per_second = 0;
};

using RuntimeFactory = std::function<absl::StatusOr<std::unique_ptr<Runtime>>()>;

class Engine {
 public:
  // `runtime` may be null when options.runtime is "model". `more` makes the
  // other options.jobs - 1 runtimes (required when jobs > 1 and runtime is set).
  Engine(Options options, spec::Profile profile, std::unique_ptr<Runtime> runtime,
         RuleCatalogue rules, RuntimeFactory more = nullptr, Expectations expectations = {});

  // Checks one program. `recorded`: a golden case's CPython outcome.
  ProgramResult Check(const spec::Program& program, const std::string& id,
                      const std::optional<spec::Outcome>& recorded = std::nullopt,
                      const std::vector<std::string>& case_rules = {}) {
    return CheckOn(runtime_.get(), program, id, recorded, case_rules, /*rerun_failures=*/true);
  }

  // Runs everything the options ask for; progress on stderr unless quiet.
  // Returns an error status only for usage/adapter set-up problems.
  absl::StatusOr<Report> RunAll();

  const RuleCatalogue& rules() const { return rules_; }

  // The runtime that forked workers (Options::workers > 0) check programs
  // with, in place of the constructor's: typically the same runtime in
  // process, while the constructor's isolates each run it makes in this
  // process (shrinking). Unset: workers use the constructor's runtime.
  void SetWorkerRuntime(std::unique_ptr<Runtime> runtime) { worker_runtime_ = std::move(runtime); }

 private:
  struct Work;
  // `rerun_failures`: re-run a failing program in a fresh runtime to judge
  // INV-9 (off while shrinking, where only the rule matters).
  ProgramResult CheckOn(Runtime* rt, const spec::Program& program, const std::string& id,
                        const std::optional<spec::Outcome>& recorded, const std::vector<std::string>& case_rules,
                        bool rerun_failures) const;
  bool Selected(const std::set<std::string>& families, const std::vector<std::string>& case_rules) const;
  absl::StatusOr<Work> CaseWork(const std::string& path, const std::string& text) const;
  absl::StatusOr<Work> LoadProgramFile(const std::string& path) const;
  bool Claimed(const std::string& rule) const;
  void Account(Report& r, ProgramResult res);
  void Judge(Report& r);  // expectations: expected / new / unexpected pass
  ProgramResult NotApplicable(const Work& w, const spec::Program& program, const Capabilities& missing) const;
  // The programs in forked workers (Options::workers > 0): in-process runtimes.
  absl::Status CheckInWorkers(Report& r, std::vector<Work> items, bool with_trees,
                              const std::function<void(ProgramResult)>& account);
  // Progress, timing, shrinking and expectations once every program is accounted.
  absl::StatusOr<Report> Finish(Report& r, const std::vector<Runtime*>& runtimes,
                                std::chrono::steady_clock::time_point t0, const std::function<void(bool)>& progress);
  void ShrinkFailures(Report& r, const std::vector<Runtime*>& runtimes);
  bool TieMode() const { return o_.schedules > 0 || !o_.ties.empty(); }

  // CheckOn as a pipeline: expected -> observed -> compare -> invariants ->
  // determinism -> schedules -> filters. Each stage is one function reading
  // the check so far (InFlight) and returning its own output.
  struct Subject {  // what is checked
    Runtime* runtime;  // null: the model itself (--runtime=model)
    const spec::Program& program;
    const std::optional<spec::Outcome>& recorded;  // golden case: CPython's recording
    bool rerun_failures;
  };
  struct Expected {
    spec::ModelRun model;
    std::vector<Finding> findings;  // the model vs a golden case's recording
  };
  struct Observed {
    absl::StatusOr<spec::Outcome> outcome = absl::UnknownError("not run yet");
    Verdict verdict = Verdict::kPass;  // or why there is no outcome to judge
    std::string note;
    std::vector<Finding> findings;  // a deadlock on one side only (RT-1)
  };
  struct Judgement {
    std::vector<Finding> findings;  // at most one: the attributed difference
    bool ties = false;              // equal only up to tie freedom
    bool undecided = false;
    std::string note;
  };
  struct Determinism {
    std::vector<Finding> findings;
    bool nondeterministic = false, confirmed = false;
  };
  struct Schedules {
    std::vector<Finding> findings;
    std::optional<spec::Outcome> first_bad;
    int runs = 0;
    bool ties = false, undecided = false;
    std::string note;
  };
  struct Filtered {
    std::vector<Finding> kept;
    int ignored = 0, unclaimed = 0;
  };
  struct InFlight {
    Subject subject;
    Expected expected;
    Observed observed;
    std::vector<Finding> findings;  // every stage's so far
  };
  Expected ExpectStage(const Subject& s) const;
  Observed ObserveStage(const InFlight& k) const;
  static bool Comparable(const InFlight& k);
  Judgement CompareStage(const InFlight& k) const;
  static std::vector<Finding> InvariantStage(const InFlight& k);
  Determinism DeterminismStage(const InFlight& k) const;
  Schedules ScheduleStage(const InFlight& k) const;
  Filtered FilterStage(const std::vector<Finding>& findings) const;
  // The one rule of a difference (attribution.h), with the model's trace;
  // `departures`: also try the departure table.
  Finding Attributed(const spec::Program& program, const spec::Profile& profile, const spec::Outcome& expected,
                     const spec::Outcome& observed, const Comparison& c, bool departures) const;
  // Tie mode: is `obs` (a run of the runtime, `at` names which) an outcome
  // of some model schedule? Adds a finding if not (returns false); marks
  // res.undecided if the budget ran out; kPassTies if not CPython's.
  bool JudgeUnderTies(const spec::Program& program, const spec::ModelRun& model, const spec::Outcome& obs,
                      const std::string& at, std::vector<Finding>& findings, ProgramResult& res) const;
  // --schedules: runs `program` under the perturbed schedules; adds findings,
  // may set res.verdict to kPassTies or kUndecided; returns the outcome of
  // the first failing schedule, if any (for the report).
  std::optional<spec::Outcome> CheckSchedules(Runtime* runtime, const spec::Program& program,
                                              const spec::ModelRun& model, std::vector<Finding>& findings,
                                              ProgramResult& res) const;
  std::string ReplayCommand(const ProgramResult& res) const;
  // Fills res.departures_differing and, for a failure the listed departures
  // explain exactly, res.departures and findings under their rules.
  void ExplainByDepartures(const spec::Program& program, const spec::ModelRun& model,
                           const absl::StatusOr<spec::Outcome>& observed, ProgramResult& res) const;

  Options o_;
  spec::Profile profile_;
  std::unique_ptr<Runtime> runtime_;
  std::unique_ptr<Runtime> worker_runtime_;
  RuleCatalogue rules_;
  RuntimeFactory more_;
  Expectations expectations_;
  std::optional<Capabilities> capabilities_;  // the runtime's; nullopt: all
  // The golden cases' recordings are compared with the model under the
  // shipped profile of the recording's version (profile_'s own when it is
  // a shipped one, else shipped-3.13: a case's "expected").
  spec::Profile recording_profile_;
  std::vector<const spec::Departure*> departures_;  // named by expectation entries
};

// Writes report.md, report.json and report.xml into dir (created if needed),
// and a reproducer per distinct failure when options.reproducer says so.
absl::Status WriteReports(const Report& report, const RuleCatalogue& rules, const std::string& dir);
// The expectations file as --save leaves it: the entries that matched or were
// not exercised (reasons kept), without the unexpected passes, plus one entry
// per new failure.
Expectations UpdatedExpectations(const Report& report);
// The per-family table and totals, as printed at the end of a run.
std::string SummaryTable(const Report& report);

}  // namespace asyncspec::conformance

#endif  // ASYNCSPEC_CONFORMANCE_ENGINE_H_
