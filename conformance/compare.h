// Comparing an observed outcome with the model's, and the invariants any
// correct outcome satisfies.
//
// Design. A difference between two outcomes is only useful to a runtime's
// author if it names the rule that was broken. An outcome is a set of
// elements (tasks, blocks, scopes, run, unretrieved, end_time), and one wrong
// decision of a runtime usually shows in several of them: a group that
// forgets a child's error raises the wrong thing (its scope), then the task
// that entered it ends differently (a task), then `run` differs. So
// attribution collects every differing element, gives each the virtual time
// at which it first differs, and blames the earliest one, breaking ties at
// equal times by causality within one instant: a scope's exit comes before
// the handler that catches what it raised, which comes before the end of the
// task around it; deeper scopes before the scopes around them; run,
// unretrieved and end_time last. The blamed element is mapped to the construct
// that owns it (group scope or group child -> TG, gather -> GA, timeout -> TO,
// wait_for -> WF, shield -> SH, try/handlers -> EG (CX-6 for cleanup),
// unretrieved -> RT-4, run -> RT-3, other task states -> CX) and refined to a
// specific rule from what differs (a group's ExceptionGroup with a leaf
// missing -> TG-3, a base error not raised alone -> TG-5, ...). That is each
// element's own first guess; the one rule a failure is reported under is
// decided from the traces by attribution.h, which starts from this list.
//
// Ties: RULES.md ("Freedom under ties") lets a runtime order the leaves of an
// ExceptionGroup differently when children finished in the same instant.
// Compare() first tests exact equality; only if that fails does it accept an
// outcome that spec::OutcomeAllowed() accepts, and says so (kUpToTies).
#ifndef ASYNCSPEC_CONFORMANCE_COMPARE_H_
#define ASYNCSPEC_CONFORMANCE_COMPARE_H_

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "conformance/finding.h"
#include "conformance/invariants.h"
#include "conformance/outcome_query.h"
#include "conformance/program_index.h"
#include "spec/model/model.h"
#include "spec/outcome.h"
#include "spec/program.h"

namespace asyncspec::conformance {

enum class Match { kExact, kUpToTies, kDiffer };

struct Comparison {
  Match match = Match::kExact;
  std::optional<Finding> blame;       // set iff match == kDiffer
  std::vector<Finding> differences;   // every differing element, blamed one first
  std::vector<spec::Time> times;      // the virtual time each of them first differs at
};

// `expected` is the model's outcome under `profile`, `observed` the runtime's.
Comparison Compare(const spec::Program& program, const spec::Profile& profile,
                   const spec::Outcome& expected, const spec::Outcome& observed);

}  // namespace asyncspec::conformance

#endif  // ASYNCSPEC_CONFORMANCE_COMPARE_H_
