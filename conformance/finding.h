// A finding: one broken rule, where in the outcome, and what differs.
#ifndef ASYNCSPEC_CONFORMANCE_FINDING_H_
#define ASYNCSPEC_CONFORMANCE_FINDING_H_

#include <string>

namespace asyncspec::conformance {

// One broken rule: which, where in the outcome, and what differs.
struct Finding {
  std::string rule;     // a RULES.md ID: "TG-3", "INV-5", ...
  std::string where;    // "scopes.g1.raised", "tasks.a.state", "end_time", ...
  std::string message;  // one line, names both sides
  // Whose outcome broke it: "runtime" (the runtime under test), or "model"
  // (the model disagrees with a CPython recording or breaks an invariant).
  std::string subject = "runtime";
};

}  // namespace asyncspec::conformance

#endif  // ASYNCSPEC_CONFORMANCE_FINDING_H_
