// The mutation score of the conformance suite: does the check notice a
// runtime that is wrong in the ways real runtimes are wrong?
//
// Design. runtime/mutants.h catalogues deliberate bugs, each switched on at
// run time in //runtime:runtime_mutants. For one mutant, Hunt() switches it
// on and runs the random programs of //conformance:check (tree i of seed S
// is TreeProgram(TreeSeed(S, i)), conformance/engine.h) through the same
// Engine::Check as the check command: the model (spec::RunModelDetailed),
// the comparison and rule attribution of conformance/compare.h, the
// invariants, and INV-9's second run. The first tree with a finding against
// the runtime that the unmutated build passes kills the mutant; its rule ID is what a user of the check would
// have been told, and the program is shrunk (conformance/shrink.h) to a small
// counterexample that still breaks the same rule. A mutant that survives the
// budget of trees is reported as such. Hunting Id::kNone (the unmutated
// build) over the same trees must find nothing, so a kill is never an
// artefact of the harness.
//
// A mutant may corrupt the runtime's own state (that is the point), so
// The golden cases can be checked too (HuntOptions::cases_dir), through
// Engine::RunAll as `//conformance:check --trees=0` does; the table shows how
// many of them fail under each mutant.
//
// HuntIsolated() runs each hunt in a forked child and reports a crash or a
// hang instead of taking the table down.
#ifndef ASYNCSPEC_CONFORMANCE_MUTATION_MUTATION_H_
#define ASYNCSPEC_CONFORMANCE_MUTATION_MUTATION_H_

#include <cstdint>
#include <string>
#include <vector>

#include "runtime/mutants.h"

namespace asyncspec::conformance::mutation {

struct HuntOptions {
  // Random trees at most. The default is what mutation_test and the README's
  // command use: about 2.6 times the slowest kill at seed 1 (M02, 19,280
  // trees, README.md), a margin for generator changes that move the kills.
  int budget = 50'000;
  std::uint64_t seed = 1;    // run seed: the same trees as `//conformance:check --seed=S`
  int shrink_budget = 300;   // Engine::Check calls for shrinking the counterexample; 0: no shrinking
  int timeout_s = 120;       // HuntIsolated: wall-clock limit of one hunt (a hung mutant)
  // Also check the golden cases (spec/cases/*.json) in this directory, each
  // against its CPython recording too; empty: trees only. Informative: the
  // kill that counts is the trees'.
  std::string cases_dir;
};

struct HuntResult {
  std::string code;          // "M07", or "none" for the unmutated build
  bool killed = false;
  int trees = 0;             // trees run: the index of the killing tree + 1, or the budget
  double seconds = 0;        // wall time until the kill (or the budget), shrinking excluded
  // The finding of the killing tree (the first one, as the check reports it).
  std::string rule, where, message, verdict;
  std::uint64_t tree_seed = 0;     // --replay=<tree_seed> of //conformance:check
  std::string shrunk;              // the counterexample in the text form (spec/LANGUAGE.md)
  std::string shrunk_finding;      // where: message of the same rule on the shrunk program
  std::size_t original_steps = 0, shrunk_steps = 0;
  std::string crash;               // non-empty: the hunt died (signal, timeout) instead
  // Failing trees not counted as kills because the unmutated build fails
  // them too (each failing tree is re-checked with the mutant off).
  int control_failures = 0;
  // The golden cases (if HuntOptions::cases_dir): how many were checked, how
  // many failed with a finding against the runtime, and the first of those.
  int cases_checked = 0, cases_failed = 0;
  std::string first_case, first_case_rule;
};

// Runs in this process. Precondition: no loop is running.
HuntResult Hunt(rt::mutants::Id id, const HuntOptions& options);
// The same in a forked child; a crash or a hang is reported in `crash`.
HuntResult HuntIsolated(rt::mutants::Id id, const HuntOptions& options);

// How the rule the check reported for a kill relates to the rules the
// mutant declares it breaks (rt::mutants::Info::rules): the reader's question
// "did the failure name the rule that broke?".
enum class Attribution {
  kExact,        // the reported rule is one the mutant breaks
  kSameFamily,   // another rule of the family of one it breaks (TG-1 for TG-2)
  kWrongFamily,  // a rule of no family the mutant breaks
  kNoRule,       // not a RULES.md rule (an adapter error or timeout killed it)
  kNotKilled,    // survived or crashed: nothing was reported
};
const char* AttributionName(Attribution a);  // "exact", "same family", ...

// The rules a mutant declares it breaks, in its order ("TG-9 TG-11").
std::vector<std::string> DeclaredRules(const rt::mutants::Info& m);
// Judges `h` against the catalogue entry of its mutant.
Attribution Judge(const HuntResult& h);

// The catalogue is well formed: codes M01, M02, ... in order and unique,
// each with a name, a mistake and at least one rule, every rule a heading of
// spec/RULES.md (spec/rule_ids.h). Empty: fine; else one line per fault.
std::vector<std::string> CatalogueFaults();

// The figures of a table.
struct Summary {
  int mutants = 0, killed = 0, survived = 0, crashed = 0;
  int exact = 0, same_family = 0, wrong_family = 0, no_rule = 0;  // over the killed
  double median_trees = 0, max_trees = 0, median_seconds = 0, max_seconds = 0;  // over the killed
  std::vector<std::string> over_5000;  // killed after more than 5,000 trees: a reach problem of the generator
};
Summary Summarize(const std::vector<HuntResult>& results);

// The README table: mutant, name, rules it breaks, killed, trees, seconds,
// rule reported, attribution, then the summary lines.
std::string Table(const std::vector<HuntResult>& results);
// The same as JSON text: {"options", "unmutated", "mutants": [...], "summary"}.
std::string TableJson(const std::vector<HuntResult>& results, const HuntOptions& options, const HuntResult& unmutated);
// Median of the values (0 for none).
double Median(std::vector<double> values);

}  // namespace asyncspec::conformance::mutation

#endif  // ASYNCSPEC_CONFORMANCE_MUTATION_MUTATION_H_
