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

struct Outcome {
  std::map<std::string, TaskOutcome> tasks;
  std::map<std::string, BlockOutcome> blocks;
  std::map<std::string, ScopeOutcome> scopes;
  std::optional<Exc> run;
  std::vector<Unretrieved> unretrieved;  // sorted by task name
  Time end_time = 0;
};

bool operator==(const TaskOutcome& a, const TaskOutcome& b);
bool operator==(const BlockOutcome& a, const BlockOutcome& b);
bool operator==(const GatherItem& a, const GatherItem& b);
bool operator==(const ScopeOutcome& a, const ScopeOutcome& b);
bool operator==(const Unretrieved& a, const Unretrieved& b);
bool operator==(const Outcome& a, const Outcome& b);

}  // namespace asyncspec::spec

#endif  // ASYNCSPEC_SPEC_OUTCOME_H_
