// Reading outcomes: the leaves of an exception, type tests, and the short
// one-line forms that comparison messages and invariant messages print.
// Shared by comparison (compare.h), attribution (attribution.h) and the
// invariants (invariants.h), so that the three name things the same way.
#ifndef ASYNCSPEC_CONFORMANCE_OUTCOME_QUERY_H_
#define ASYNCSPEC_CONFORMANCE_OUTCOME_QUERY_H_

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "spec/outcome.h"

namespace asyncspec::conformance {

// The non-group exceptions of `e`, depth first (e itself if not a group).
void Leaves(const spec::Exc& e, std::vector<const spec::Exc*>& out);
// A leaf's canonical text (its JSON form), to count and name leaves.
std::string LeafKey(const spec::Exc& e);
bool IsType(const std::optional<spec::Exc>& e, spec::Exc::Type t);
bool AnyLeaf(const std::optional<spec::Exc>& e, const std::function<bool(const spec::Exc&)>& pred);
// The RuntimeError a TaskGroup raises itself ("taskgroup_..."): TG-10.
bool IsTaskgroupRuntime(const spec::Exc& e);
const char* StateName(spec::TaskOutcome::State s);
// "null" or the number / the JSON string.
std::string Opt(const std::optional<spec::Time>& t);
std::string OptS(const std::optional<std::string>& s);
// The earlier of two optional times (absent: never).
spec::Time MinT(std::optional<spec::Time> a, std::optional<spec::Time> b);

// Short one-line forms for messages.
std::string Describe(const std::optional<spec::Exc>& e);
std::string Describe(const spec::TaskOutcome& t);

}  // namespace asyncspec::conformance

#endif  // ASYNCSPEC_CONFORMANCE_OUTCOME_QUERY_H_
