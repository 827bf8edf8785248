// The invariants (RULES.md INV-n, and the times RT-3/RT-7/CX-6 imply) that
// any correct outcome of a program satisfies, whatever the schedule.
#ifndef ASYNCSPEC_CONFORMANCE_INVARIANTS_H_
#define ASYNCSPEC_CONFORMANCE_INVARIANTS_H_

#include <vector>

#include "conformance/finding.h"
#include "conformance/program_index.h"
#include "spec/outcome.h"
#include "spec/program.h"

namespace asyncspec::conformance {

// Invariants (RULES.md INV-n) that any correct outcome of `program` satisfies,
// whatever the schedule: INV-1 (gather/wait_for children done when it
// returns), INV-2 (an unretrieved entry is a task that raised that error; a
// free task that nothing awaits or cancels and that raised is listed or
// reported to the exception handler; group and gather children are never
// listed unless the loop was stopped; every non-base error of a group child
// is a leaf of the group's ExceptionGroup unless a base error replaced it
// (TG-5) or it went to the exception handler; a returned gather lists each
// child's error at its place; the only discards are RULES.md INV-2's
// table), RT-8 (with `handler` observed: the never-retrieved and shutdown
// calls are exactly the unretrieved entries), INV-4 (a try whose body cannot suspend never
// runs an `except cancelled` handler; a try that raised a bare
// CancelledError past a handler matching it ran some handler or a finally
// that raised; a completed try ran its finally), INV-3 (no invented errors,
// messages or TimeoutErrors), RT-3/RT-7/CX-6 times (nothing after
// end_time, no task or block ending before it started), INV-5
// (results only from returned tasks), INV-6 (group children end no later than
// the group), INV-7 (TimeoutError only from an expired timeout), INV-8
// (end_time <= sum of delays). INV-9 (determinism) needs two runs; the
// engine checks it. Returns one finding per violation.
std::vector<Finding> CheckInvariants(const spec::Program& program, const spec::Outcome& outcome);

}  // namespace asyncspec::conformance

#endif  // ASYNCSPEC_CONFORMANCE_INVARIANTS_H_
