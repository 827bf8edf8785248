// Futures and tasks (see futures.h).
#include "spec/model/futures.h"

namespace asyncspec::spec::sim {

void Future::ScheduleCallbacks() {
  // futures.py __schedule_callbacks: one call_soon per callback, in
  // registration order (SCHED-1).
  auto cbs = std::move(callbacks_);
  callbacks_.clear();
  for (auto& entry : cbs) {
    auto cb = entry.second;  // a named copy: clang 14 cannot capture a structured binding
    loop_->CallSoon([cb, this] { cb(this); });
  }
}

void Future::SetResult(Value v) {
  if (done()) throw std::logic_error("set_result on a done future");
  result_ = std::move(v);
  state_ = State::kFinished;
  ScheduleCallbacks();
}

void Future::SetException(ExcP e) {
  if (done()) throw std::logic_error("set_exception on a done future");
  exception_ = std::move(e);
  state_ = State::kFinished;
  log_traceback_ = true;  // RT-4: unretrieved until someone looks
  ScheduleCallbacks();
}

int Future::AddDoneCallback(Callback cb) {
  int id = loop_->NextCallbackId();
  if (done()) {
    loop_->CallSoon([cb, this] { cb(this); });
  } else {
    callbacks_.emplace_back(id, std::move(cb));
  }
  return id;
}

// tasks.py Task.cancel (CX-1, CX-7, CX-8).
bool Task::Cancel(std::optional<std::string> msg) {
  log_traceback_ = false;  // CX-8: even a finished task's exception counts as retrieved
  if (done()) {
    loop_->Hit(RuleId::CX_8, "cancel() of a done task");
    return false;
  }
  loop_->Hit(RuleId::CX_1, "cancel() requested");
  if (msg) loop_->Hit(RuleId::CX_5, "cancel() with a message");
  ++num_cancels_requested;
  if (fut_waiter != nullptr) {
    loop_->Hit(RuleId::CX_7, "cancel the awaited future");
    // CX-7: the waiter (maybe a task) is cancelled. A cycle of tasks awaiting
    // each other (refused by spec/validate.h) recurses until Python raises
    // RecursionError; the model raises a runtime error at the same point.
    int& depth = loop_->cancel_depth;  // per simulation: RunModel is reentrant
    if (depth > 900) throw PyRaise{NewRuntime("other")};
    ++depth;
    bool accepted;
    try {
      accepted = fut_waiter->Cancel(msg);
    } catch (...) {
      --depth;
      throw;
    }
    --depth;
    if (accepted) return true;
  }
  must_cancel = true;  // CX-2: delivered at the next __step
  cancel_message_ = std::move(msg);
  return true;
}

void AwaitFuture::await_suspend(std::coroutine_handle<> h) {
  fut->blocking = true;  // _asyncio_future_blocking
  Task* t = loop->current;
  t->resume = h;
  t->yielded = fut;
}
ExcP AwaitFuture::Take(Value* v) {
  if (already_blocking) return NewRuntime("other");
  Task* t = loop->current;
  if (t->throw_in) return std::exchange(t->throw_in, nullptr);
  return fut->TakeResult(v);
}
void BareYield::await_suspend(std::coroutine_handle<> h) {
  Task* t = loop->current;
  t->resume = h;
  t->yielded_bare = true;
}
ExcP BareYield::await_resume() { return std::exchange(loop->current->throw_in, nullptr); }

}  // namespace asyncspec::spec::sim
