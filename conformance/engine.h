// The conformance engine behind `bazel run //conformance:check`.
//
// For each program (the golden cases of spec/cases, then random programs
// from spec/program_gen.h): expected = the model (spec::RunModelDetailed
// under the chosen profile; for a golden case the model is also compared
// with the outcome recorded from CPython), observed = the runtime under test.
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
#ifndef ASYNCSPEC_CONFORMANCE_ENGINE_H_
#define ASYNCSPEC_CONFORMANCE_ENGINE_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "conformance/compare.h"
#include "conformance/rules.h"
#include "conformance/runtimes.h"
#include "spec/model/model.h"
#include "spec/outcome.h"
#include "spec/program.h"

namespace asyncspec::conformance {

struct Options {
  std::string runtime = "reference";  // reference | cpython | model (self-check, for timing)
  std::string python = "/root/.pyenv/versions/3.13.0/bin/python3";
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
  std::string profile;  // "3.11" | "3.12" | "3.13"; empty: 3.13, or the driver's version
  bool quiet = false;
  int timeout_ms = 10000;  // per program (cpython; reference in workers)
  // > 0: check the programs in this many forked worker processes
  // (conformance/workers.h), so that a runtime that crashes or hangs costs
  // one program; 0: in this process.
  int workers = 0;
  int shrink_budget = 300;  // predicate calls per distinct failure
  std::optional<std::uint64_t> replay;  // only the tree with this seed
  std::string program_file;             // only this program (text or JSON form)
};

enum class Verdict { kPass, kPassTies, kFail, kTimeout, kAdapterError, kSkipped };
const char* VerdictName(Verdict v);

struct ProgramResult {
  std::string id;           // "case:<name>" | "tree:<seed>" | "file:<path>"
  std::optional<std::uint64_t> seed;  // trees
  std::vector<std::string> case_rules;  // golden cases: the rules they cite
  std::set<std::string> families;
  Verdict verdict = Verdict::kPass;
  std::vector<Finding> findings;  // counted failures (within --rules)
  int ignored_findings = 0;       // outside --rules
  std::string note;               // adapter error, timeout, deadlock agreement
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
};

struct FamilyRow {
  int checked = 0, passed = 0, failed = 0;
};

struct Report {
  Options options;
  std::string runtime_name, runtime_version, profile;
  std::vector<ProgramResult> results;  // failures keep their programs
  std::map<std::string, FamilyRow> families;
  std::vector<FailureGroup> failures;
  int checked = 0, passed_exact = 0, passed_ties = 0, failed = 0, timeouts = 0,
      adapter_errors = 0, skipped = 0, ignored_findings = 0;
  int cases_model_disagreements = 0;
  double seconds = 0;           // whole run
  double check_seconds = 0;     // checking only (no shrinking, no reports)
  double programs_per_second = 0;
};

std::uint64_t TreeSeed(std::uint64_t run_seed, int index);
// The random program of one tree seed (what --replay runs).
spec::Program TreeProgram(std::uint64_t tree_seed);

class Engine {
 public:
  // `runtime` may be null when options.runtime is "model".
  Engine(Options options, spec::Profile profile, std::unique_ptr<Runtime> runtime,
         RuleCatalogue rules);

  // Checks one program. `recorded`: a golden case's CPython outcome.
  ProgramResult Check(const spec::Program& program, const std::string& id,
                      const std::optional<spec::Outcome>& recorded = std::nullopt,
                      const std::vector<std::string>& case_rules = {});

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
  bool Selected(const std::set<std::string>& families, const std::vector<std::string>& case_rules) const;
  void Account(Report& r, ProgramResult res);
  void ShrinkFailures(Report& r);
  std::string ReplayCommand(const ProgramResult& res) const;

  Options o_;
  spec::Profile profile_;
  std::unique_ptr<Runtime> runtime_;
  std::unique_ptr<Runtime> worker_runtime_;
  RuleCatalogue rules_;
};

// Writes report.md, report.json and report.xml into dir (created if needed).
absl::Status WriteReports(const Report& report, const RuleCatalogue& rules, const std::string& dir);
// The per-family table and totals, as printed at the end of a run.
std::string SummaryTable(const Report& report);

}  // namespace asyncspec::conformance

#endif  // ASYNCSPEC_CONFORMANCE_ENGINE_H_
