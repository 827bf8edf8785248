// Runs a spec program on the reference runtime and reports its outcome.
//
// This is the reference runtime's adapter: each step of spec/FORMAT.md is
// executed by the runtime's own TaskGroup, gather, timeout, shield, wait_for
// and cancellation, exactly as the "Python meaning" column says; this file
// only records what happened (start/end times, handler runs, what scopes
// raised). It includes spec/program.h and spec/outcome.h (the shared data
// types) and the runtime, and nothing of the model.
#ifndef ASYNCSPEC_CONFORMANCE_REFERENCE_INTERPRETER_H_
#define ASYNCSPEC_CONFORMANCE_REFERENCE_INTERPRETER_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "spec/outcome.h"
#include "spec/program.h"

namespace asyncspec::conformance {

// Precondition: `program` is valid (spec/validate.h). Returns an error status
// if the program deadlocks (every task waits and no timer is armed).
// `schedule_seed` != 0 runs it under a perturbed schedule (runtime/loop.h:
// the tie orders RULES.md leaves free are drawn from the seed).
absl::StatusOr<spec::Outcome> RunOnReference(const spec::Program& program,
                                             std::uint64_t schedule_seed = 0);

}  // namespace asyncspec::conformance

#endif  // ASYNCSPEC_CONFORMANCE_REFERENCE_INTERPRETER_H_
