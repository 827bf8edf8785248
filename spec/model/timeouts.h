// Timeout state (timeouts.py), as CPython's own state machine.
//
// Design. timeouts.py already is a small explicit state machine (`_State`),
// and the model keeps it so, transition for transition:
//
//   kCreated --Enter--> kEntered --Expire (the handler fires, TO-2)--> kExpiring
//                          |                                             |
//                        Exit                                          Exit
//                          v                                             v
//                       kExited                            kExpired (TimeoutError if only
//                                                           its own cancellation is pending, TO-3)
//
// reschedule() is allowed only in kEntered (TO-5). `cancelling` is the
// task's cancel count at entry: a cancellation is the timeout's own to
// convert only if, after the timeout withdraws its request, no request
// newer than the entry is left (TO-3). wait_for since 3.12 is this same
// object around `await fut` (WF-1). The behaviour (__aenter__, _on_timeout,
// __aexit__, wait_for) is Sim's, in timeouts.cc, because it schedules
// handles and cancels tasks.
//
// Internal to //spec/model (see model.h for the API).
#ifndef ASYNCSPEC_SPEC_MODEL_TIMEOUTS_H_
#define ASYNCSPEC_SPEC_MODEL_TIMEOUTS_H_

#include <optional>
#include <stdexcept>
#include <string>

#include "spec/model/loop.h"
#include "spec/program.h"

namespace asyncspec::spec::sim {

class Task;

class TimeoutObj {
 public:
  enum class State { kCreated, kEntered, kExpiring, kExpired, kExited };
  State state = State::kCreated;
  HandleP handler;
  Task* task = nullptr;
  std::optional<Time> when;
  int cancelling = 0;
  bool expired() const { return state == State::kExpiring || state == State::kExpired; }

  // __aenter__: `cancelling` is the task's cancelling() now.
  void Enter(Task* current, int current_cancelling) {
    Require(state == State::kCreated, "Enter");
    state = State::kEntered;
    task = current;
    cancelling = current_cancelling;
  }
  // _on_timeout (`assert self._state is _State.ENTERED`).
  void Expire() {
    Require(state == State::kEntered, "Expire");
    state = State::kExpiring;
  }

 private:
  static void Require(bool ok, const char* transition) {
    if (!ok) throw std::logic_error(std::string("Timeout: ") + transition + " from a state that does not allow it");
  }
};

}  // namespace asyncspec::spec::sim

#endif  // ASYNCSPEC_SPEC_MODEL_TIMEOUTS_H_
