// timeout and wait_for: timeouts.py's __aenter__, reschedule, _on_timeout
// and __aexit__ (TO-1..TO-7) over the state machine of timeouts.h, and
// tasks.py wait_for in its two shapes (WF-1..WF-3).
//
// Design. A timeout turns a cancellation into TimeoutError only when it is
// its own: it cancels its task when its handler fires (TO-2), and on exit
// withdraws that one request and converts the CancelledError only if no
// request newer than its entry is left (TO-3); any other cancellation
// passes. A deadline at or before now is a call_soon (TO-7): it fires at the
// body's first suspension. wait_for is this same timeout around `await fut`
// since 3.12 (WF-1); 3.11's own loop (a waiter future, a timer, and
// _cancel_and_wait) is kept as WaitFor311 for the shipped-3.11 profile
// (WF-3), and timeout <= 0 cancels the child and waits for it (WF-2).
#include <exception>
#include <memory>
#include <utility>

#include "spec/model/sim.h"

namespace asyncspec::spec::sim {

ExcP Sim::TimeoutReschedule(TimeoutObj* tm, std::optional<Time> when) {
  if (tm->state != TimeoutObj::State::kEntered) return NewRuntime("other");  // TO-5
  tm->when = when;
  if (tm->handler) CancelHandle(tm->handler);
  if (!when) {
    tm->handler = nullptr;
    return nullptr;
  }
  auto on_timeout = [this, tm] {
    // TO-2: _on_timeout.
    Hit(RuleId::TO_2, "expiry cancels the task");
    tm->task->Cancel(std::nullopt);
    tm->Expire();
    tm->handler = nullptr;
  };
  if (*when <= now) Hit(RuleId::TO_7, "zero or past deadline");
  if (*when <= now) tm->handler = CallSoon(on_timeout);  // TO-1, TO-7
  else tm->handler = CallAt(*when, on_timeout);
  return nullptr;
}

ExcP Sim::TimeoutExit(TimeoutObj* tm, const ExcP& exc) {
  if (tm->handler) {
    CancelHandle(tm->handler);
    tm->handler = nullptr;
  }
  if (tm->state == TimeoutObj::State::kExpiring) {
    tm->state = TimeoutObj::State::kExpired;
    Task* t = tm->task;
    t->Uncancel(prof_.uncancel_clears_must_cancel);
    // TO-3: only its own cancellation becomes TimeoutError.
    if (IsCancelled(exc)) Hit(RuleId::TO_3, "expired timeout exits with CancelledError");
    if (t->num_cancels_requested <= tm->cancelling && IsCancelled(exc)) return NewTimeout();
  } else if (tm->state == TimeoutObj::State::kEntered) {
    if (IsCancelled(exc)) Hit(RuleId::TO_3, "a cancellation not its own passes");
    tm->state = TimeoutObj::State::kExited;
  }
  return nullptr;
}

Co<Unit> Sim::DoTimeout(const Timeout& t) {
  auto tmp = std::make_unique<TimeoutObj>();
  TimeoutObj* tm = tmp.get();
  timeouts_[t.name] = std::move(tmp);
  if (t.d) tm->when = now + *t.d;  // timeout(d): loop.time() + d
  // __aenter__ (TO-1).
  Hit(RuleId::TO_1, "deadline and handler");
  if (Recording() && open_timeouts_[current]++ > 0) Hit(RuleId::TO_6, "nested timeout");
  tm->Enter(current, current->num_cancels_requested);
  TimeoutReschedule(tm, tm->when);  // entered: cannot fail
  ExcP body_exc = (co_await Catch(ExecBody(t.body))).exc;
  ExcP raised = body_exc;
  if (ExcP exit_exc = TimeoutExit(tm, body_exc)) raised = std::move(exit_exc);
  Hit(RuleId::TO_4, "expired() recorded");
  if (Recording()) --open_timeouts_[tm->task];
  RecordScope(t.name, raised, std::nullopt, tm->expired(), false);  // TO-4
  if (raised) {
    std::exception_ptr e = ProgramError(std::move(raised));
    co_await RaiseNow(std::move(e));
  }
  co_return Unit{};
}

// ---- wait_for (WF-1..WF-3) ----

Co<Unit> Sim::CancelAndWait(Future* fut) {
  // tasks.py _cancel_and_wait.
  Future* waiter = NewFuture();
  int cb = fut->AddDoneCallback([waiter](Future*) {
    if (!waiter->done()) waiter->SetResult(Value{});  // _release_waiter
  });
  ExcP raised;
  try {
    fut->Cancel(std::nullopt);
  } catch (PyRaise& e) {
    raised = e.exc;  // only the RecursionError of an await cycle (Task::Cancel)
  }
  if (!raised) raised = (co_await CatchFuture{{this, waiter}}).exc;  // `await waiter`
  fut->RemoveDoneCallback(cb);  // `finally: fut.remove_done_callback(cb)`
  if (raised) {
    std::exception_ptr e = ProgramError(std::move(raised));
    co_await RaiseNow(std::move(e));
  }
  co_return Unit{};
}

Co<Value> Sim::WaitFor311(Task* fut, Time d) {
  // WF-3: 3.11 wait_for with timeout > 0.
  Future* waiter = NewFuture();
  auto release = [waiter](Future*) {
    if (!waiter->done()) waiter->SetResult(Value{});
  };
  HandleP timeout_handle = CallAt(now + d, [waiter] {
    if (!waiter->done()) waiter->SetResult(Value{});
  });
  int cb = fut->AddDoneCallback(release);
  // The outer `try:`'s body; what it returns or raises goes on after its
  // `finally: timeout_handle.cancel()`.
  Value result;
  ExcP raised;
  Caught<Value> w = co_await CatchFuture{{this, waiter}};  // `await waiter`
  if (w.exc && !IsCancelled(w.exc)) {
    raised = std::move(w.exc);  // not caught by `except CancelledError`
  } else if (w.exc) {
    if (fut->done()) {
      raised = fut->TakeResult(&result);  // WF-3: the cancellation is swallowed (bpo-42130)
    } else {
      fut->RemoveDoneCallback(cb);
      raised = (co_await Catch(CancelAndWait(fut))).exc;
      if (!raised) raised = std::move(w.exc);  // `raise`: the CancelledError again
    }
  } else if (fut->done()) {
    raised = fut->TakeResult(&result);
  } else {
    fut->RemoveDoneCallback(cb);
    raised = (co_await Catch(CancelAndWait(fut))).exc;
    if (!raised) {
      raised = fut->TakeResult(&result);
      if (IsCancelled(raised)) raised = NewTimeout();  // `raise TimeoutError() from exc`
    }
  }
  CancelHandle(timeout_handle);  // finally: timeout_handle.cancel()
  if (raised) {
    std::exception_ptr e = ProgramError(std::move(raised));
    co_await RaiseNow(std::move(e));
  }
  co_return result;
}

Co<Unit> Sim::DoWaitFor(const WaitFor& w) {
  Task* fut = NewTask(w.task.name, &w.task.body);
  Caught<Value> r;  // what wait_for returns, or raises
  if (w.d && *w.d <= 0) {
    // WF-2.
    Hit(RuleId::WF_2, "non-positive timeout");
    r.exc = (co_await Catch(CancelAndWait(fut))).exc;
    if (!r.exc) {
      r.exc = fut->TakeResult(&r.value);                 // `return fut.result()`
      if (IsCancelled(r.exc)) r.exc = NewTimeout();  // `raise TimeoutError() from exc`
    }
  } else if (prof_.wait_for_via_timeout) {
    // WF-1: `async with timeouts.timeout(timeout): return await fut`.
    Hit(RuleId::WF_1, "wait_for as a timeout");
    if (Recording() && open_timeouts_[current] > 0) Hit(RuleId::TO_6, "wait_for inside a timeout");
    TimeoutObj tmo;
    TimeoutObj* tm = &tmo;
    if (w.d) tm->when = now + *w.d;
    tm->Enter(current, current->num_cancels_requested);
    TimeoutReschedule(tm, tm->when);  // entered: cannot fail
    r = co_await CatchFuture{{this, fut}};
    if (ExcP exit_exc = TimeoutExit(tm, r.exc)) r.exc = std::move(exit_exc);
  } else if (!w.d) {
    Hit(RuleId::WF_3, "3.11 wait_for without timeout");
    r = co_await CatchFuture{{this, fut}};  // WF-3: `return await fut`
  } else {
    Hit(RuleId::WF_3, "3.11 wait_for: its own waiter");
    r = co_await Catch(WaitFor311(fut, *w.d));
  }
  if (r.exc) {
    RecordScope(w.name, r.exc, std::nullopt, std::nullopt, false);
    std::exception_ptr e = ProgramError(std::move(r.exc));
    co_await RaiseNow(std::move(e));
  }
  RecordScope(w.name, nullptr, r.value, std::nullopt, false);
  co_return Unit{};
}

}  // namespace asyncspec::spec::sim
