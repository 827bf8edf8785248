// The asyncspec program: a tree of tasks whose bodies are steps.
//
// This header is the one type, with outcome.h, that the model (spec/), the
// runtimes under test and the conformance engine share. It holds data only:
// what a program means is spec/FORMAT.md and spec/RULES.md, and what it does
// is computed by spec/model.h (the model) or by a runtime.
//
// Invariants of a *valid* program (spec/validate.h checks them): names are
// unique and not "main"; `return` is only the last step of a task body;
// `reschedule` sits inside its timeout's body in the same task; a try's
// handlers are all star or all plain; `group` catch is never star.
#ifndef ASYNCSPEC_SPEC_PROGRAM_H_
#define ASYNCSPEC_SPEC_PROGRAM_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace asyncspec::spec {

using Time = std::int64_t;  // virtual seconds, integer

// Size limits that the readers (spec/json.h, spec/text.h) and the validator
// (spec/validate.h) enforce, so that no program they accept can exhaust the
// stack of a tool that walks it recursively, or overflow virtual time when
// its delays are added up (kMaxSteps * kMaxDelay < 2^63).
inline constexpr int kMaxNesting = 1000;           // bodies nested in bodies (main's steps: 1)
inline constexpr std::size_t kMaxSteps = 100'000;  // steps in the whole program
inline constexpr Time kMaxDelay = 1'000'000'000'000;  // any `d`

struct Step;
using Body = std::vector<Step>;

struct TaskDef {
  std::string name;
  Body body;
};

struct Sleep { Time d = 0; };
struct Raise { std::string label; bool base = false; };
struct Return { std::string value; };
struct CreateTask { TaskDef task; };                 // op "task"
struct Group { std::string name; Body body; };
struct Spawn { std::string group; TaskDef task; };
struct Gather { std::string name; std::vector<TaskDef> children; bool return_exceptions = false; };
struct Timeout { std::string name; std::optional<Time> d; Body body; };
struct Reschedule { std::string timeout; std::optional<Time> d; };
struct Shield { std::string name; TaskDef task; };
struct WaitFor { std::string name; TaskDef task; std::optional<Time> d; };
struct Cancel { std::string target; std::optional<std::string> msg; };
struct Await { std::string target; };
struct Uncancel {};

enum class CatchKind { kCancelled, kTimeout, kError, kBase, kGroup, kRuntime, kException, kAny };
enum class Then { kReraise, kSwallow, kUncancel };

struct Handler {
  std::string name;
  CatchKind kind = CatchKind::kError;
  std::optional<std::string> label;  // only for kError / kBase
  bool star = false;
  Body body;
  Then then = Then::kSwallow;
};

struct Finally { std::string name; Body body; };

struct Try {
  std::string name;
  Body body;
  std::vector<Handler> handlers;
  std::optional<Finally> finally;
};

struct Step {
  using Op = std::variant<Sleep, Raise, Return, CreateTask, Group, Spawn, Gather, Timeout,
                          Reschedule, Shield, WaitFor, Cancel, Await, Uncancel, Try>;
  Op op;
  // Where the step came from in its source text (1-based; 0 when built in
  // code), so that errors about it can point there.
  int line = 0;
  int column = 0;
};

struct Program {
  std::string name;  // optional; golden cases use it
  Body main;         // body of the root task "main"
};

// Structural equality (ignores line/column).
bool operator==(const Step& a, const Step& b);
bool operator==(const TaskDef& a, const TaskDef& b);
bool operator==(const Handler& a, const Handler& b);
bool operator==(const Finally& a, const Finally& b);
bool operator==(const Program& a, const Program& b);

}  // namespace asyncspec::spec

#endif  // ASYNCSPEC_SPEC_PROGRAM_H_
