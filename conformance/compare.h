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
// missing -> TG-3, a base error not raised alone -> TG-5, ...). Attribution is
// a heuristic for the report; the verdict (pass/fail) is not.
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

#include "spec/model/model.h"
#include "spec/outcome.h"
#include "spec/program.h"

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

enum class Match { kExact, kUpToTies, kDiffer };

struct Comparison {
  Match match = Match::kExact;
  std::optional<Finding> blame;       // set iff match == kDiffer
  std::vector<Finding> differences;   // every differing element, blamed one first
};

// What the names of a program denote (a program's names are unique).
struct ProgramIndex {
  enum class Kind {
    kMainTask, kFreeTask, kGroupChild, kGatherChild, kShieldInner, kWaitForInner,
    kGroup, kGather, kTimeout, kTry, kShield, kWaitFor, kHandler, kFinally,
  };
  struct Entry {
    Kind kind;
    std::string owner;  // group of a spawned child; gather/shield/wait_for of its task;
                        // try of a handler/finally
    int depth = 0;      // nesting of the step that declares it
    const spec::Step* step = nullptr;        // the declaring step (not for main)
    const spec::Handler* handler = nullptr;  // kHandler
  };
  std::map<std::string, Entry> names;
  std::map<std::string, std::vector<std::string>> group_children;   // group -> spawned task names
  std::map<std::string, std::vector<std::string>> gather_children;  // gather -> child names, in order
  std::set<std::pair<std::string, bool>> raised_labels;  // (label, base) of every raise step
  std::set<std::string> cancel_messages;
  std::set<std::string> cancel_targets;
  std::set<std::string> await_targets;
  bool has_timeout = false, has_wait_for = false, has_spawn = false, has_reschedule = false;
  // Sum of every delay (sleep, timeout, reschedule, wait_for): INV-8's bound.
  spec::Time delay_sum = 0;

  static ProgramIndex Build(const spec::Program& program);
};

// Rule families the program exercises (its constructs): always RT, SCHED and
// INV; TG for group/spawn, GA gather, TO timeout/reschedule, WF wait_for, SH
// shield, EG try, CX cancel/uncancel/timeout/wait_for/group (they cancel).
std::set<std::string> FamiliesOf(const spec::Program& program);

// `expected` is the model's outcome under `profile`, `observed` the runtime's.
Comparison Compare(const spec::Program& program, const spec::Profile& profile,
                   const spec::Outcome& expected, const spec::Outcome& observed);

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

// Short one-line forms for messages.
std::string Describe(const std::optional<spec::Exc>& e);
std::string Describe(const spec::TaskOutcome& t);

}  // namespace asyncspec::conformance

#endif  // ASYNCSPEC_CONFORMANCE_COMPARE_H_
