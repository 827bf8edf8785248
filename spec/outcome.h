// What running a program did, as any runtime can report it (spec/FORMAT.md,
// "Outcomes"). Shared by the model, the runtimes under test and the checker.
#ifndef ASYNCSPEC_SPEC_OUTCOME_H_
#define ASYNCSPEC_SPEC_OUTCOME_H_

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "spec/program.h"

namespace asyncspec::spec {

// An exception as observed: a labelled leaf or a group of them.
struct Exc {
  enum class Type { kError, kBase, kCancelled, kTimeout, kRuntime, kGroup };
  Type type = Type::kError;
  std::string label;                 // kError, kBase
  std::optional<std::string> msg;    // kCancelled: the cancel message
  std::string what;                  // kRuntime: taskgroup_finished, ...
  bool base_group = false;           // kGroup: BaseExceptionGroup
  std::vector<Exc> children;         // kGroup
};
bool operator==(const Exc& a, const Exc& b);

struct TaskOutcome {
  enum class State { kPending, kReturned, kRaised, kCancelled };
  std::optional<Time> start, end;
  State state = State::kPending;
  std::optional<std::string> value;  // kReturned
  std::optional<Exc> error;          // kRaised, kCancelled
};

struct BlockOutcome {  // a handler or finally block that started
  Time start = 0;
  std::optional<Time> end;
};

struct GatherItem {
  std::optional<std::string> value;
  std::optional<Exc> error;
};

struct ScopeOutcome {  // group, gather, timeout, try, shield, wait_for
  Time end = 0;
  std::optional<Exc> raised;
  std::optional<std::string> value;            // shield, wait_for
  std::optional<std::vector<GatherItem>> items; // gather
  std::optional<bool> expired;                 // timeout
};

struct Unretrieved {
  std::string task;
  Exc error;
};

// One call of the event loop's exception handler
// (`loop.call_exception_handler(context)`, RULES.md RT-8), as the handler
// saw it: what the message says, the task it names, the exception.
struct HandlerCall {
  enum class Kind {
    kNeverRetrieved,    // "Task exception was never retrieved" (RT-4)
    kRunShutdown,       // "unhandled exception during asyncio.run() shutdown" (RT-4)
    kDestroyedPending,  // "Task was destroyed but it is pending!" (no exception)
    kParentDone,        // "Task ... has errored out but its parent task ... is already completed"
    kShielded,          // "exception in shielded future" (3.14, gh-86802)
  };
  Kind kind = Kind::kNeverRetrieved;
  std::string task;          // the task the call names
  std::optional<Exc> error;  // every kind but kDestroyedPending
};

// A warning the run issued (RT-8): today only RuntimeWarning "coroutine ...
// was never awaited", for a task whose coroutine was never started nor
// closed (a spawn refused by TG-10 on 3.11/3.12).
struct WarningRecord {
  enum class Kind { kNeverAwaited };
  Kind kind = Kind::kNeverAwaited;
  std::string task;
};

// Sorts by (task, kind): the channel is a multiset, the moment a
// never-retrieved report is made is the garbage collector's.
bool operator<(const HandlerCall& a, const HandlerCall& b);
bool operator<(const WarningRecord& a, const WarningRecord& b);

struct Outcome {
  std::map<std::string, TaskOutcome> tasks;
  std::map<std::string, BlockOutcome> blocks;
  std::map<std::string, ScopeOutcome> scopes;
  std::optional<Exc> run;
  std::vector<Unretrieved> unretrieved;  // sorted by task name
  Time end_time = 0;
  // Optional channels (FORMAT.md "handler", "warnings"): absent when the
  // runtime does not observe them (hello `observes`); sorted (operator<).
  std::optional<std::vector<HandlerCall>> handler;
  std::optional<std::vector<WarningRecord>> warnings;
};

// FORMAT.md names of the kinds ("never_retrieved", ...), and back.
const char* HandlerKindName(HandlerCall::Kind k);
std::optional<HandlerCall::Kind> HandlerKindFromName(const std::string& name);
const char* WarningKindName(WarningRecord::Kind k);
std::optional<WarningRecord::Kind> WarningKindFromName(const std::string& name);

bool operator==(const TaskOutcome& a, const TaskOutcome& b);
bool operator==(const BlockOutcome& a, const BlockOutcome& b);
bool operator==(const GatherItem& a, const GatherItem& b);
bool operator==(const ScopeOutcome& a, const ScopeOutcome& b);
bool operator==(const Unretrieved& a, const Unretrieved& b);
bool operator==(const HandlerCall& a, const HandlerCall& b);
bool operator==(const WarningRecord& a, const WarningRecord& b);
bool operator==(const Outcome& a, const Outcome& b);

}  // namespace asyncspec::spec

#endif  // ASYNCSPEC_SPEC_OUTCOME_H_
