// Validity of programs: the cross-step rules that a well-shaped program must
// also obey before the model or a runtime may run it.
//
// Checked, with the step path of FORMAT.md (`main[0].body[1]`) and, for a
// program parsed from text, its line and column:
//   - names: every task, group, gather, timeout, try, handler, finally,
//     shield and wait_for name matches [A-Za-z_][A-Za-z0-9_]*, is unique in
//     the program, and is not "main";
//   - `return` is only the last step of a task body (main's or a task's);
//   - `reschedule t` sits inside timeout t's body, in the same task (a
//     timeout is used by the task that entered it, TO-5);
//   - a try's handlers are all `except` or all `except*`; `group` is never
//     caught with `except*`; a handler label goes only with `error`/`base`;
//   - every `spawn` group names a group of the program, every `cancel` and
//     `await` target names a task of the program (or main);
//   - no await can deadlock by construction: the "waits for" graph between
//     tasks has no cycle. Task T waits for U when T's own steps (not those of
//     tasks it creates) include `await U`, a gather/shield/wait_for whose
//     child is U, or a group that U is spawned into (its exit waits for U,
//     TG-1, TG-12). A task awaiting itself is the cycle of length one. The
//     check is deliberately conservative: a cycle is refused even when a
//     timeout or cancel would break it, since then it tests nothing about
//     awaiting but hangs as soon as that timeout is rescheduled away;
//   - delays are within [0, kMaxDelay], nesting within kMaxNesting, the step
//     count within kMaxSteps (program.h).
//
// The readers (spec/json.h, spec/text.h) check only shape; a program from
// them, or built in code, is valid iff Validate() returns OK.
#ifndef ASYNCSPEC_SPEC_VALIDATE_H_
#define ASYNCSPEC_SPEC_VALIDATE_H_

#include <cstddef>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "spec/program.h"

namespace asyncspec::spec {

struct Problem {
  std::string path;    // where: a step path such as "main[0].body[1]", or a field of it
  int line = 0;        // of the step, when it came from text (else 0)
  int column = 0;
  std::string message;

  // "3:7: main[0].body[1]: message" (line and column only when known).
  std::string ToString() const;
};

// The problems of `program`, at most `max_problems` of them: first those found
// walking the program in order, then unresolved references, then await cycles.
// Empty iff the program is valid. Precondition: none (any Program, also one
// built in code, is accepted; nesting beyond kMaxNesting is reported, not
// walked).
std::vector<Problem> FindProblems(const Program& program, std::size_t max_problems = 20);

// OK, or InvalidArgument with the first problem (and how many more there are).
absl::Status Validate(const Program& program);

}  // namespace asyncspec::spec

#endif  // ASYNCSPEC_SPEC_VALIDATE_H_
