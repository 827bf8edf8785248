// What the names of a program denote: the index that comparison,
// attribution and the invariants look names up in.
#ifndef ASYNCSPEC_CONFORMANCE_PROGRAM_INDEX_H_
#define ASYNCSPEC_CONFORMANCE_PROGRAM_INDEX_H_

#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "spec/program.h"

namespace asyncspec::conformance {

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
    // The task whose body declares it (a task: the task itself), so that a
    // scope's or block's difference can be matched with what that task did.
    std::string task = "main";
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

}  // namespace asyncspec::conformance

#endif  // ASYNCSPEC_CONFORMANCE_PROGRAM_INDEX_H_
