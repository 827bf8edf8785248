// The mutant catalogue: deliberate bugs that can be switched on in the
// reference runtime, to measure whether the conformance suite notices them
// (its mutation score; see conformance/mutation/README.md).
//
// Contract
// --------
// * Production pays nothing. Every mutation point is written
//     if (ASYNCSPEC_MUTANT(M07)) { ...the buggy behaviour... }
//   next to the correct code. Unless ASYNCSPEC_MUTANTS is defined the macro
//   is the constant `false`: the buggy branch is type-checked (so it cannot
//   rot) and then dropped by the compiler; no flag is read, no field added.
//   //runtime:runtime is built that way.
// * //runtime:runtime_mutants is the same sources built with
//   -DASYNCSPEC_MUTANTS (the define propagates to dependents, so templates
//   in the headers see it too). There the macro reads one global, set with
//   mutants::Set(id) before a run; Id::kNone (the default) is the correct
//   runtime, so one binary can check the unmutated build and every mutant.
//   Never link both libraries into one binary: they define the same symbols
//   (ODR). The thread-unsafe global is deliberate: a run is single-threaded.
// * Each mutant is one small change at the place where the correct
//   behaviour is implemented, the kind of mistake real runtimes make; its
//   entry names the rule(s) of spec/RULES.md it breaks. Two live in the
//   reference adapter (conformance/reference/interpreter.cc), because that
//   is where `except` clauses are implemented (M08) - they say so.
// * Adding a mutant: a new enumerator, a new kCatalogue row (same order),
//   the mutation point(s), and a row in conformance/mutation/README.md.
#ifndef ASYNCSPEC_RUNTIME_MUTANTS_H_
#define ASYNCSPEC_RUNTIME_MUTANTS_H_

#include <cstddef>
#include <string_view>

namespace asyncspec::rt::mutants {

enum class Id : int {
  kNone = 0,
  M01, M02, M03, M04, M05, M06, M07, M08, M09, M10,
  M11, M12, M13, M14, M15, M16, M17, M18, M19, M20,
  M21, M22, M23, M24, M25, M26, M27, M28, M29, M30,
  M31, M32, M33, M34, M35, M36, M37, M38,
};

struct Info {
  Id id;
  const char* code;     // "M01"
  const char* name;     // short, kebab-case
  const char* rules;    // the rule(s) of spec/RULES.md it breaks, most specific first
  const char* where;    // file of the mutation point
  const char* mistake;  // the real-world mistake, one line
};

inline constexpr Info kCatalogue[] = {
    {Id::M01, "M01", "tg-no-wait-for-cancelled", "TG-1 INV-6", "task_group.cc",
     "an aborting TaskGroup exits at once instead of waiting for the children it cancelled"},
    {Id::M02, "M02", "tg-first-error-only", "TG-3", "task_group.cc",
     "a TaskGroup keeps only the first child error; later ones are dropped"},
    {Id::M03, "M03", "tg-no-uncancel", "TG-9 TG-11", "task_group.cc",
     "a TaskGroup that cancelled its parent never calls uncancel(), so the count stays raised"},
    {Id::M04, "M04", "to-converts-any-cancel", "TO-3 INV-7", "timeout.cc",
     "a timeout turns every CancelledError leaving its block into TimeoutError, expired or not"},
    {Id::M05, "M05", "to-ignores-cancel-baseline", "TO-3", "timeout.cc",
     "an expired timeout converts its CancelledError even when another cancel() is pending"},
    {Id::M06, "M06", "sh-does-not-shield", "SH-1", "shield.h",
     "shield forwards the outer cancellation to the inner task"},
    {Id::M07, "M07", "ga-cancels-siblings", "GA-2", "gather.h",
     "gather(return_exceptions=False) cancels the other children when one fails"},
    {Id::M08, "M08", "eg-handlers-skipped-on-cancel", "CX-6 EG-4", "interpreter.cc (reference adapter)",
     "except clauses are not consulted when the body was cancelled (only finally runs)"},
    {Id::M09, "M09", "tg-base-error-grouped", "TG-5 EG-1", "task_group.cc",
     "a KeyboardInterrupt/SystemExit is wrapped in the BaseExceptionGroup with the other errors"},
    {Id::M10, "M10", "tg-body-not-cancelled", "TG-2", "task_group.cc",
     "a child failure cancels the siblings but not the parent, so the body runs on"},
    {Id::M11, "M11", "tg-create-while-shutting-down", "TG-10", "task_group.h",
     "create_task is accepted while the group is aborting"},
    {Id::M12, "M12", "tg-siblings-not-cancelled", "TG-2", "task_group.cc",
     "a child failure cancels the parent but leaves the sibling tasks running"},
    {Id::M13, "M13", "tg-cancelled-child-is-error", "TG-6", "task_group.cc",
     "a child that ends cancelled is recorded as an error and aborts the group"},
    {Id::M14, "M14", "cx-cancel-not-counted", "CX-9 TO-3 TG-9", "core.cc",
     "cancel() does not count requests (no cancelling() counter, as before 3.11)"},
    {Id::M15, "M15", "cx-message-dropped", "CX-5", "core.cc",
     "the cancel message is not kept: every CancelledError arrives without msg"},
    {Id::M16, "M16", "cx-pending-cancel-not-forwarded", "CX-2 CX-1", "core.cc",
     "a cancel() made while the task runs is noticed only when its next wait ends"},
    {Id::M17, "M17", "cx-await-does-not-cancel-target", "CX-7", "core.h",
     "cancelling a task that awaits another task wakes it but leaves the awaited task running"},
    {Id::M18, "M18", "ga-return-exceptions-swallows-cancel", "GA-5", "gather.h",
     "a cancelled gather(return_exceptions=True) returns its children's outcomes instead of raising"},
    {Id::M19, "M19", "ga-cancelled-child-ignored", "GA-3", "gather.h",
     "gather(return_exceptions=False) waits on when a child is cancelled on its own"},
    {Id::M20, "M20", "to-reschedule-ignored", "TO-5", "timeout.cc",
     "reschedule() records the new deadline but does not move the armed timer"},
    {Id::M21, "M21", "sh-late-error-logged", "SH-3 RT-4", "shield.h",
     "after its shield was cancelled, the inner task's error is never marked retrieved"},
    {Id::M22, "M22", "rt-leftovers-not-cancelled", "RT-2", "run.cc",
     "asyncio.run waits for leftover tasks to finish instead of cancelling them"},
    {Id::M23, "M23", "rt-unretrieved-not-reported", "RT-4", "core.cc",
     "a failed task is never flagged as unretrieved: 'exception was never retrieved' is lost"},
    {Id::M24, "M24", "sched-sleep0-does-not-yield", "SCHED-3 SCHED-1", "sleep.h",
     "sleep(0) takes a fast path and returns without yielding to the loop"},
    {Id::M25, "M25", "tg-child-error-not-retrieved", "RT-4 TG-3", "task_group.cc",
     "the group collects a child's error without task.exception(), so it is also logged as never retrieved"},
    {Id::M26, "M26", "cx-uncancel-keeps-pending", "CX-9", "core.h",
     "uncancel() to 0 does not withdraw an undelivered cancel (3.11/3.12 behaviour on 3.13)"},
    {Id::M27, "M27", "wf-zero-means-forever", "WF-2", "timeout.h",
     "wait_for(x, 0) is treated as no timeout (a falsy `if timeout:` check)"},
    {Id::M28, "M28", "rt-base-error-does-not-stop", "RT-5", "core.cc",
     "a KeyboardInterrupt out of a task does not stop the event loop at once"},
    // Subtle ones that released asyncio versions shipped (spec/UPSTREAM.md).
    {Id::M29, "M29", "tg-outer-cancel-lost-with-errors", "TG-11", "task_group.cc",
     "a group cancelled from outside while a child fails raises its errors and drops the outer cancel request (3.11/3.12, gh-116720)"},
    {Id::M30, "M30", "tg-uncancel-before-wait", "TG-9", "task_group.cc",
     "the group uncancels its parent on entering __aexit__, before waiting for the children (3.11/3.12, gh-116720, gh-133747)"},
    {Id::M31, "M31", "cx-uncancel-below-zero", "CX-9", "core.h",
     "uncancel() at a count of 0 decrements anyway (no `if self._num_cancels_requested > 0` guard), so the count wraps"},
    {Id::M32, "M32", "cx-cancel-lost-when-awaited-task-done", "CX-1 CX-2", "core.h",
     "cancel() of a task whose awaited task just finished counts as absorbed: the result wins, the cancel is lost (gh-86296's race)"},
    {Id::M33, "M33", "rt-leftover-error-dropped-on-base-error", "RT-4", "run.cc",
     "once a base error stopped the loop, leftovers' errors from the drain are not reported (3.11-3.13 drop them when the drain is stopped)"},
    {Id::M34, "M34", "cx-cancel-done-not-retrieving", "CX-8 RT-4", "core.cc",
     "cancel() on a finished task returns before marking its exception retrieved, so it is logged as never retrieved (bpo-30508)"},
    {Id::M35, "M35", "cx-first-message-kept", "CX-5 CX-3", "core.cc",
     "of two cancel(msg) requests before delivery, the first message is kept instead of the last"},
    {Id::M36, "M36", "cx-message-on-every-retrieval", "CX-5", "core.h",
     "every retrieval of a cancelled task's CancelledError carries the message, not only the first"},
    {Id::M37, "M37", "wf-zero-does-not-wait", "WF-2", "timeout.h",
     "wait_for(x, 0) cancels the child and raises TimeoutError at once, without waiting for the child to end (bpo-32751)"},
    {Id::M38, "M38", "ga-cancelled-child-message-lost", "GA-3 CX-5", "gather.h",
     "gather(return_exceptions=False) raises a fresh CancelledError for a child cancelled on its own, losing its message (gh-112534's kind)"},
};
inline constexpr std::size_t kCount = sizeof(kCatalogue) / sizeof(kCatalogue[0]);

// The entry of a code ("M07"), or null.
inline const Info* Find(std::string_view code) {
  for (const Info& m : kCatalogue) {
    if (code == m.code) return &m;
  }
  return nullptr;
}

#ifdef ASYNCSPEC_MUTANTS
inline Id active = Id::kNone;
// Precondition: no rt::run / Loop is running.
inline void Set(Id id) { active = id; }
inline Id Active() { return active; }
#define ASYNCSPEC_MUTANT(code) (::asyncspec::rt::mutants::active == ::asyncspec::rt::mutants::Id::code)
#else
#define ASYNCSPEC_MUTANT(code) false
#endif

}  // namespace asyncspec::rt::mutants

#endif  // ASYNCSPEC_RUNTIME_MUTANTS_H_
