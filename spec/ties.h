// Checking an outcome against every schedule the rules allow.
//
// RULES.md "Freedom under ties" lets a conforming runtime differ from CPython
// in the order of a few simultaneous things (items 2-4: equal-deadline
// timers, the cancel order of TaskGroup._abort and of asyncio.run's drain;
// model.h TiePoint). The model meets those as choice points; this header
// explores them.
//
// Design (stateless model checking, as in CHESS or Loom): a schedule is the
// sequence of answers given at the choice points of one model run. The model
// is deterministic, so replaying a prefix of answers reaches the same choice
// points again, and a depth-first search enumerates schedules by bumping the
// last answer that has an alternative left and replaying that prefix (later
// choice points default to CPython's order, answer 0). The first schedule is
// CPython's, so the default outcome is always tried first. The number of
// schedules grows factorially with the number of simultaneous things, so
// every search takes a budget of model runs and says when it ran out.
//
// Contract: precondition as RunModel (a valid program). Pure functions of
// their arguments (INV-9). They never include or call runtime/ code.
#ifndef ASYNCSPEC_SPEC_TIES_H_
#define ASYNCSPEC_SPEC_TIES_H_

#include <cstdint>
#include <functional>
#include <string>

#include "spec/model/model.h"
#include "spec/outcome.h"
#include "spec/outcome_allowed.h"
#include "spec/program.h"

namespace asyncspec::spec {

struct ScheduleSearch {
  int runs = 0;            // model runs made
  bool exhausted = false;  // every schedule of the program was run
};

// Runs the model under distinct schedules, depth first from CPython's, and
// calls visit() with each run until visit() returns true (found) or
// `max_runs` runs were made. Precondition: max_runs >= 1.
ScheduleSearch ForEachSchedule(const Program& program, const Profile& profile, int max_runs,
                               const std::function<bool(const ModelRun&)>& visit);

enum class TieVerdict {
  kAllowed,     // some schedule yields `observed` (up to OutcomeAllowed)
  kNotAllowed,  // no schedule does: every schedule was run
  kUndecided,   // the budget ran out before a schedule matched
};

struct TieCheck {
  TieVerdict verdict = TieVerdict::kUndecided;
  int runs = 0;           // model runs made
  bool by_default = false;  // kAllowed already by CPython's schedule
  std::string why;        // kNotAllowed: why CPython's schedule differs (OutcomeAllowed)
};

// Is `observed` an outcome some schedule of the rules produces? Tries the
// schedules depth first (half of `budget`), then, if the search is not
// exhausted, schedules with random answers (the rest; seeded from `seed`,
// deterministic): a runtime's perturbed schedule often differs from
// CPython's at an early choice point, which depth first reaches last.
// Schedules in which the model deadlocks are skipped (a runtime reports a
// deadlock as such, not as an outcome). Precondition: budget >= 1.
TieCheck OutcomeAllowedUnderTies(const Program& program, const Profile& profile,
                                 const Outcome& observed, int budget, std::uint64_t seed = 1);

}  // namespace asyncspec::spec

#endif  // ASYNCSPEC_SPEC_TIES_H_
