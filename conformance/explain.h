// `check --explain`: what broke and why, in one screen.
//
// For one failing program: the attributed rule and how it was found
// (attribution.h), the program, the model's rule-tagged trace (and the
// runtime's, side by side, when it reports one) up to the divergence, and
// the one-line statement of every rule in the lines shown (RULES.md).
#ifndef ASYNCSPEC_CONFORMANCE_EXPLAIN_H_
#define ASYNCSPEC_CONFORMANCE_EXPLAIN_H_

#include <string>
#include <vector>

#include "conformance/attribution.h"
#include "conformance/rules.h"
#include "spec/model/profiles.h"
#include "spec/outcome.h"
#include "spec/program.h"

namespace asyncspec::conformance {

struct ExplainInput {
  std::string id;  // "tree:123", "case:x", "file:p.txt"
  const spec::Program* program = nullptr;
  const spec::Profile* profile = nullptr;
  const spec::Outcome* expected = nullptr;  // the model's outcome under profile
  const spec::Outcome* observed = nullptr;
  const std::vector<TraceEvent>* runtime_trace = nullptr;  // null: the runtime reports none
  const RuleCatalogue* rules = nullptr;
  int max_events = 24;  // trace lines shown, ending at the divergence
};

// The explanation, ending in a newline. When the outcomes agree (exactly or
// up to tie freedom) says so in one line.
std::string Explain(const ExplainInput& in);

// "TG-2 Abort cancels the children and the parent: <statement, cut to fit>".
std::string RuleLine(const RuleCatalogue& rules, const std::string& id, std::size_t width = 110);

}  // namespace asyncspec::conformance

#endif  // ASYNCSPEC_CONFORMANCE_EXPLAIN_H_
