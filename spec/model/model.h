// The executable model: what asyncio.run(main()) does with a program.
//
// RunModel interprets a Program (spec/FORMAT.md) by the rules of
// spec/RULES.md and returns its Outcome. It is a discrete-event simulation on
// integer virtual time that re-enacts the parts of asyncio the rules are about
// (SCHED-1..3: FIFO ready queue, call_soon, a binary heap of timers ordered by
// deadline; Task.__step with _must_cancel and _fut_waiter; done callbacks;
// TaskGroup, gather, timeout, shield, wait_for, asyncio.run), so that the exact
// outcome, including the order of ExceptionGroup children and which errors
// are unretrieved, is CPython's. Each transition cites the rule it
// implements. This header is the model's whole API; its parts (the loop,
// futures and tasks, taskgroups, timeouts, gather/shield, except*, the
// runner: spec/model/sim.h lists them) are internal to //spec/model.
// Outcomes equal up to tie freedom: spec/outcome_allowed.h; the schedules
// the rules allow: spec/ties.h.
//
// Contract:
//  * Precondition: `program` is valid (spec/validate.h, or the CPython
//    driver's validator): unique names, `return` only last in a task body,
//    `reschedule` inside its timeout in the same task, handlers all star or
//    all plain, no star `group` catch.
//  * RunModel is a pure function of (program, profile) (INV-9); the profile
//    (spec/model/profiles.h) is `spec` or a shipped release's. It never
//    includes or calls runtime/ code.
//  * A program in which every task waits and no timer is pending makes
//    asyncio.run hang; RunModelDetailed reports `deadlock` (the CPython driver
//    reports an error for it), RunModel returns the outcome so far.
#ifndef ASYNCSPEC_SPEC_MODEL_MODEL_H_
#define ASYNCSPEC_SPEC_MODEL_MODEL_H_

#include <bitset>
#include <string>
#include <vector>

#include "spec/model/profiles.h"
#include "spec/outcome.h"
#include "spec/program.h"
#include "spec/rule_ids.h"

namespace asyncspec::spec {

struct ModelRun {
  Outcome outcome;
  bool deadlock = false;  // asyncio.run would never return (see above)
  // Tie choice points met with more than one distinct alternative (see
  // TieOracle). 0: no schedule other than CPython's exists for this program,
  // so its outcome is the only one a conforming runtime may produce (up to
  // the leaf order of spec/outcome_allowed.h).
  int tie_points = 0;
  // Rules whose transitions this run took, and (RuleRecording::kTrace) each
  // transition in order; empty unless asked for (RunModelRecorded).
  std::bitset<kRuleCount> rules_hit;
  struct RuleEvent {
    RuleId rule;
    Time time;         // virtual time of the transition
    std::string task;  // the running task, "" between steps (callbacks)
    const char* what;  // a fixed phrase, e.g. "abort: cancel the children"
  };
  std::vector<RuleEvent> trace;
};

// The places where RULES.md ("Freedom under ties", items 2-4) lets a
// conforming runtime order things differently from CPython. The model meets
// them as choice points; which of the alternatives it takes is asked of a
// TieOracle. Each point is a permutation of a list that starts in CPython's
// order, decided one element at a time: Choose(point, n) picks which of the
// n elements still unplaced goes next (0 = CPython's next one), for
// n = k, k-1, ..., 2.
//   * kTimers (SCHED-2): the live timers that fall due in one loop iteration
//     (on the virtual clock they all have the same deadline), in the order
//     they are appended to the ready queue. CPython's order: heapq's pop
//     order.
//   * kGroupAbort (TG-2): the children a TaskGroup cancels in _abort().
//   * kRunCancel (RT-2): the leftover tasks asyncio.run cancels.
//   For the last two only the tasks that wait on a future are permuted: a
//   task without a waiter only gets _must_cancel set, which commutes with
//   every other cancel() of the loop. CPython's order: creation order (the
//   model's stand-in for a set's iteration order).
// Item 2 (which of several simultaneous gather failures is raised, GA-2) is
// not a point of its own: done callbacks run in ready-queue order
// (SCHED-1, pinned), so which failure is first follows from these three.
enum class TiePoint { kTimers, kGroupAbort, kRunCancel };

class TieOracle {
 public:
  virtual ~TieOracle() = default;
  // Precondition: n >= 2. Returns an index in [0, n).
  virtual int Choose(TiePoint point, int n) = 0;
};

ModelRun RunModelDetailed(const Program& program, const Profile& profile);
// The same run, with the tie choices made by `oracle` (null: CPython's order,
// i.e. RunModelDetailed(program, profile)). Still a pure function of
// (program, profile, the oracle's answers).
ModelRun RunModelDetailed(const Program& program, const Profile& profile, TieOracle* oracle);
Outcome RunModel(const Program& program, const Profile& profile);

// The same run, also recording which rules' transitions it took (each
// transition of the model that happens because of a rule names it). kOff, the
// default of the functions above, costs one untaken branch per transition.
enum class RuleRecording { kOff, kHits, kTrace };
ModelRun RunModelRecorded(const Program& program, const Profile& profile, RuleRecording recording);

}  // namespace asyncspec::spec

#endif  // ASYNCSPEC_SPEC_MODEL_MODEL_H_
