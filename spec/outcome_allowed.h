// Outcomes equal up to the freedom the rules leave a runtime (RULES.md,
// "Freedom under ties", item 1).
//
// Design. The model returns CPython's order of everything; a runtime with
// another tie order may legitimately differ in the order of the children of
// an exception group (TG-3) and in nothing else this accepts. It compares
// outcomes only (spec/outcome.h), so it sits beside them and is shared by
// the model's tie search (spec/ties.h) and the checker, neither of which
// needs the other. The schedules of items 2-4 are not here: they need the
// model (spec/ties.h).
#ifndef ASYNCSPEC_SPEC_OUTCOME_ALLOWED_H_
#define ASYNCSPEC_SPEC_OUTCOME_ALLOWED_H_

#include <string>

#include "spec/outcome.h"

namespace asyncspec::spec {

// Returns true if `observed` equals `model` up to a permutation of the
// children of every group (in task errors, scope results, gather items, run
// and unretrieved). On false, `why` (if not null) names the first
// difference. This is deliberately a little coarser than "children that
// finished at the same instant": an outcome does not record when a group's
// leaves were raised.
bool OutcomeAllowed(const Outcome& model, const Outcome& observed, std::string* why);

// Exceptions equal up to permutation of group children (see OutcomeAllowed).
bool ExcEquivalent(const Exc& a, const Exc& b);

}  // namespace asyncspec::spec

#endif  // ASYNCSPEC_SPEC_OUTCOME_ALLOWED_H_
