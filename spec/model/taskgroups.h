// TaskGroup state (taskgroups.py), as an explicit state machine.
//
// Design. taskgroups.py keeps three flags, _entered, _exiting and
// _aborting, and tests them in several places (create_task's refusals,
// TG-10; _on_task_done's abort, TG-2; __aexit__'s abort, TG-4, TG-7, TG-8).
// Only five of their eight combinations can happen, and each move between
// them is one event of asyncio's: __aenter__, the start of __aexit__, and
// _abort() (first child failure, an exception of the body, or an outside
// cancellation of the parent; at most once per group). So the group is a
// state enum with one named transition per event, each asserting where it
// may start from (a model bug otherwise, as timeouts.py's `_State` asserts
// in `_on_timeout`), and the flags become predicates over the state:
//
//   kCreated --Enter--> kEntered --BeginExit--> kExiting
//                         |                       |
//                    BeginAbort              BeginAbort
//                         v                       v
//                      kAborting --BeginExit--> kExitingAborting
//
// The rest is what the group holds while it runs: its parent task, the
// children (a Python set; the model iterates in insertion order, which is a
// tie freedom, TG-2), the errors collected in completion order (TG-3), the
// first base error (TG-5), whether it cancelled its parent (to uncancel
// exactly once, TG-9), and the future __aexit__ waits on (TG-1). The
// behaviour (create_task, _abort, _on_task_done, __aexit__) is Sim's, in
// taskgroups.cc, because it schedules tasks and raises into the program.
//
// Internal to //spec/model (see model.h for the API).
#ifndef ASYNCSPEC_SPEC_MODEL_TASKGROUPS_H_
#define ASYNCSPEC_SPEC_MODEL_TASKGROUPS_H_

#include <stdexcept>
#include <string>
#include <vector>

#include "spec/model/exceptions.h"

namespace asyncspec::spec::sim {

class Future;
class Task;

class TaskGroupObj {
 public:
  enum class State { kCreated, kEntered, kAborting, kExiting, kExitingAborting };

  State state() const { return state_; }
  // taskgroups.py's flags.
  bool entered() const { return state_ != State::kCreated; }
  bool exiting() const { return state_ == State::kExiting || state_ == State::kExitingAborting; }
  bool aborting() const { return state_ == State::kAborting || state_ == State::kExitingAborting; }

  // __aenter__.
  void Enter(Task* parent_task) {
    Require(state_ == State::kCreated, "Enter");
    parent = parent_task;
    state_ = State::kEntered;
  }
  // The top of __aexit__ (`self._exiting = True`).
  void BeginExit() {
    Require(state_ == State::kEntered || state_ == State::kAborting, "BeginExit");
    state_ = state_ == State::kEntered ? State::kExiting : State::kExitingAborting;
  }
  // _abort() (`self._aborting = True`): callers abort only a group that is
  // not aborting yet.
  void BeginAbort() {
    Require(state_ == State::kEntered || state_ == State::kExiting, "BeginAbort");
    state_ = state_ == State::kEntered ? State::kAborting : State::kExitingAborting;
  }

  std::string name;
  Task* parent = nullptr;
  bool parent_cancel_requested = false;
  std::vector<Task*> tasks;  // a Python set; the model iterates in insertion order (TG-2)
  std::vector<ExcP> errors;
  ExcP base_error;
  Future* on_completed_fut = nullptr;

 private:
  void Require(bool ok, const char* transition) const {
    if (!ok) throw std::logic_error("TaskGroup " + name + ": " + transition + " from a state that does not allow it");
  }

  State state_ = State::kCreated;
};

}  // namespace asyncspec::spec::sim

#endif  // ASYNCSPEC_SPEC_MODEL_TASKGROUPS_H_
