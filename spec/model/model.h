// The executable model: what asyncio.run(main()) does with a program.
//
// RunModel interprets a Program (spec/FORMAT.md) by the rules of
// spec/RULES.md and returns its Outcome. It is a discrete-event simulation on
// integer virtual time that re-enacts the parts of asyncio the rules are about
// (SCHED-1..3: FIFO ready queue, call_soon, a binary heap of timers ordered by
// deadline; Task.__step with _must_cancel and _fut_waiter; done callbacks;
// TaskGroup, gather, timeout, shield, wait_for, asyncio.run), so that the exact
// outcome, including the order of ExceptionGroup children and which errors
// are unretrieved, is CPython's. Each transition in model.cc cites the rule it
// implements.
//
// Contract:
//  * Precondition: `program` is valid (spec/validate.h, or the CPython
//    driver's validator): unique names, `return` only last in a task body,
//    `reschedule` inside its timeout in the same task, handlers all star or
//    all plain, no star `group` catch.
//  * RunModel is a pure function of (program, profile) (INV-9). It never
//    includes or calls runtime/ code.
//  * A program in which every task waits and no timer is pending makes
//    asyncio.run hang; RunModelDetailed reports `deadlock` (the CPython driver
//    reports an error for it), RunModel returns the outcome so far.
#ifndef ASYNCSPEC_SPEC_MODEL_MODEL_H_
#define ASYNCSPEC_SPEC_MODEL_MODEL_H_

#include <string>

#include "spec/outcome.h"
#include "spec/program.h"

namespace asyncspec::spec {

// The rule variants of one CPython version (RULES.md "Versions").
struct Profile {
  std::string name;  // "3.11", "3.12", "3.13"
  // TG-9: uncancel the parent after waiting for the children (3.13,
  // gh-116720) instead of at the top of __aexit__ (3.11, 3.12).
  bool tg_uncancel_after_wait = true;
  // TG-11: re-cancel a parent with outside cancellations when raising errors
  // (3.13).
  bool tg_recancel_parent = true;
  // CX-9: uncancel() clears _must_cancel when the count reaches 0 (3.13).
  bool uncancel_clears_must_cancel = true;
  // WF-1 vs WF-3: wait_for is `async with timeout()` (3.12+), or 3.11's loop.
  bool wait_for_via_timeout = true;

  static Profile Py311();
  static Profile Py312();
  static Profile Py313();
  // "3.11" / "3.12" / "3.13" (also "3.13.0" etc.: major.minor is used).
  // Returns false for other versions.
  static bool ForVersion(const std::string& version, Profile* out);
};

struct ModelRun {
  Outcome outcome;
  bool deadlock = false;  // asyncio.run would never return (see above)
};

ModelRun RunModelDetailed(const Program& program, const Profile& profile);
Outcome RunModel(const Program& program, const Profile& profile);

// Freedom under ties (RULES.md, last section). The model returns CPython's
// order; a runtime with another tie order may legitimately differ in:
//  * the order of the children of an exception group (TG-3),
// and in nothing else that this function accepts. Returns true if `observed`
// equals `model` up to a permutation of the children of every group (in
// task errors, scope results, gather items, run and unretrieved). On false,
// `why` (if not null) names the first difference. This is deliberately a
// little coarser than "children that finished at the same instant": an
// outcome does not record when a group's leaves were raised.
bool OutcomeAllowed(const Outcome& model, const Outcome& observed, std::string* why);

// Exceptions equal up to permutation of group children (see OutcomeAllowed).
bool ExcEquivalent(const Exc& a, const Exc& b);

}  // namespace asyncspec::spec

#endif  // ASYNCSPEC_SPEC_MODEL_MODEL_H_
