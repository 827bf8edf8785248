#include "runtime/timeout.h"

#include "runtime/mutants.h"

namespace asyncspec::rt {

Timeout::~Timeout() {
  // No loop: destroyed after run()'s loop (see ~SleepAwaiter).
  if (armed_)
    if (Loop* loop = Loop::Current()) loop->Disarm(&node_);
}

void Timeout::reschedule(std::optional<Nanos> when) {
  if (std::exception_ptr e = reschedule_error(when)) std::rethrow_exception(std::move(e));
}

std::exception_ptr Timeout::reschedule_error(std::optional<Nanos> when) {
  if (state_ != State::kEntered) {
    if (state_ == State::kCreated) return std::make_exception_ptr(RuntimeError("Timeout has not been entered"));
    // timeouts.py: f"Cannot change state of {self._state.value} Timeout"
    const char* word = state_ == State::kExpiring ? "expiring" : state_ == State::kExpired ? "expired" : "finished";
    return std::make_exception_ptr(RuntimeError(std::string("Cannot change state of ") + word + " Timeout"));
  }
  when_ = when;
  Loop* loop = Loop::Current();
  if (ASYNCSPEC_MUTANT(M20) && state_ == State::kEntered && armed_) return nullptr;  // M20: timer not moved
  if (armed_) {
    loop->Disarm(&node_);
    armed_ = false;
  }
  if (when) {
    node_.fire = &Timeout::OnTimeout;
    node_.ctx = this;
    loop->Arm(&node_, *when);  // in the past: call_soon (TO-7)
    armed_ = true;
  }
  return nullptr;
}

void Timeout::Enter(TaskState* task) {
  if (state_ != State::kCreated) throw RuntimeError("Timeout has already been entered");
  if (!task) throw RuntimeError("Timeout should be used inside a task");
  state_ = State::kEntered;
  task_ = task;
  cancelling_ = task->num_cancels;
  reschedule(when_);
}

// _on_timeout (TO-2).
void Timeout::OnTimeout(detail::TimerNode* n) {
  auto* self = static_cast<Timeout*>(n->ctx);
  self->armed_ = false;
  self->task_->Cancel(nullptr);
  self->state_ = State::kExpiring;
}

// __aexit__ (TO-3).
bool Timeout::ExitConvertsCancel(Completion how) {
  if (armed_) {
    Loop::Current()->Disarm(&node_);
    armed_ = false;
  }
  if (state_ == State::kExpiring) {
    state_ = State::kExpired;
    if (ASYNCSPEC_MUTANT(M05)) {  // M05: no comparison with cancelling() on entry
      task_->Uncancel();
      return how == Completion::kCancelled;
    }
    if (task_->Uncancel() <= cancelling_ && how == Completion::kCancelled) return true;
  } else if (state_ == State::kEntered) {
    state_ = State::kExited;
    if (ASYNCSPEC_MUTANT(M04) && how == Completion::kCancelled) return true;  // M04: not ours
  }
  return false;
}

}  // namespace asyncspec::rt
