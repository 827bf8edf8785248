// Futures and tasks: futures.py Future and tasks.py Task, and the
// awaitables through which the interpreter yields to Task.__step.
//
// Design. A Future holds a state (pending, finished, cancelled), a result
// or exception, a cancel message and done callbacks, each scheduled with
// call_soon when it completes (SCHED-1): nothing runs "inside" a
// completion, exactly as in asyncio, which is what makes callback order,
// and so outcome order, CPython's. Task adds what Task.__step needs: the
// coroutine it drives, _fut_waiter, _must_cancel and the count of cancel
// requests (cancel/cancelling/uncancel, CX-1..CX-9). cancel() is a request:
// it cancels the future the task waits on, or sets _must_cancel for the next
// step; the step itself (Sim::TaskStep, tasks.cc) turns either into a
// CancelledError thrown in where the coroutine suspended.
//
// The awaitables are the only places a task's coroutine suspends: `await
// fut` (AwaitFuture, no suspension when fut is done, so no cancellation can
// land there, CX-2) and sleep(0)'s bare yield (SCHED-3). What they raise
// comes back as a value (CatchFuture, BareYield::await_resume), never as a
// C++ throw (coro.h).
//
// Internal to //spec/model (see model.h for the API).
#ifndef ASYNCSPEC_SPEC_MODEL_FUTURES_H_
#define ASYNCSPEC_SPEC_MODEL_FUTURES_H_

#include <algorithm>
#include <coroutine>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "spec/model/coro.h"
#include "spec/model/exceptions.h"
#include "spec/model/loop.h"
#include "spec/program.h"

namespace asyncspec::spec::sim {

struct GItem {
  std::optional<std::string> value;
  ExcP error;
};

struct Value {
  std::optional<std::string> str;  // task results, shield / wait_for values
  std::vector<GItem> items;        // gather results
};

class Future {
 public:
  enum class State { kPending, kFinished, kCancelled };
  explicit Future(Loop* loop) : loop_(loop) {}
  virtual ~Future() = default;

  bool done() const { return state_ != State::kPending; }
  bool cancelled() const { return state_ == State::kCancelled; }

  // Future.cancel / Task.cancel / _GatheringFuture.cancel (virtual, CX-1).
  virtual bool Cancel(std::optional<std::string> msg) { return FutureCancel(std::move(msg)); }

  // futures.py Future.cancel.
  bool FutureCancel(std::optional<std::string> msg) {
    log_traceback_ = false;
    if (state_ != State::kPending) return false;
    state_ = State::kCancelled;
    cancel_message_ = std::move(msg);
    ScheduleCallbacks();
    return true;
  }
  void SetResult(Value v);
  void SetException(ExcP e);

  // Future.result() (marks the exception retrieved, RT-4) without a throw:
  // the exception it would raise, or null and the result in *v.
  ExcP TakeResult(Value* v) {
    if (cancelled()) return MakeCancelledError();
    if (!done()) throw std::logic_error("result() of a pending future");
    log_traceback_ = false;
    if (exception_) {
      ++exception_->reraised;  // result() raises it again: new traceback (EG-4)
      return exception_;
    }
    *v = result_;
    return nullptr;
  }
  // Future.exception(); precondition: done and not cancelled.
  ExcP Exception() {
    if (cancelled()) throw PyRaise{MakeCancelledError()};
    log_traceback_ = false;
    return exception_;
  }
  // futures.py _make_cancelled_error: the stored CancelledError once, then a
  // fresh one from _cancel_message (CX-5).
  ExcP MakeCancelledError() {
    if (cancelled_exc_) return std::exchange(cancelled_exc_, nullptr);
    return NewCancelled(cancel_message_);
  }

  using Callback = std::function<void(Future*)>;
  int AddDoneCallback(Callback cb);
  void RemoveDoneCallback(int id) {
    callbacks_.erase(std::remove_if(callbacks_.begin(), callbacks_.end(),
                                    [&](const auto& p) { return p.first == id; }),
                     callbacks_.end());
  }

  const ExcP& raw_exception() const { return exception_; }
  const Value& raw_result() const { return result_; }
  bool log_traceback() const { return log_traceback_; }
  bool blocking = false;  // _asyncio_future_blocking
  const std::optional<std::string>& cancel_message() const { return cancel_message_; }

 protected:
  void ScheduleCallbacks();

  Loop* loop_;
  State state_ = State::kPending;
  Value result_;
  ExcP exception_;
  std::optional<std::string> cancel_message_;
  ExcP cancelled_exc_;
  bool log_traceback_ = false;
  std::vector<std::pair<int, Callback>> callbacks_;
};

// A Task (tasks.py). Future states: pending -> finished (result or
// exception) | cancelled. While pending it is either scheduled (a __step
// handle is queued: first step SCHED-1, bare yield SCHED-3, wakeup) or
// waiting on _fut_waiter. cancel() (CX-1) either cancels the waiter or sets
// _must_cancel, which __step turns into a CancelledError (CX-2, CX-3, CX-4).
class Task : public Future {
 public:
  Task(Loop* loop, std::string name, bool internal) : Future(loop), name(std::move(name)), internal(internal) {}

  bool Cancel(std::optional<std::string> msg) override;  // CX-1

  std::string name;
  bool internal = false;  // run()'s own helper tasks: not in the outcome
  Co<Value> coro;
  int num_cancels_requested = 0;
  bool must_cancel = false;
  Future* fut_waiter = nullptr;
  // Coroutine plumbing: where to resume, what to throw in, what it yielded.
  std::coroutine_handle<> resume;
  ExcP throw_in;
  Future* yielded = nullptr;
  bool yielded_bare = false;
  bool started = false;
  // Recorded for the outcome.
  std::optional<Time> start, end;
  ExcP cancel_exc;  // the CancelledError that escaped the body, if it started

  // Task.uncancel() (CX-9): one request withdrawn; when the count reaches
  // 0 and `clears_must_cancel` (spec, 3.13), an undelivered one goes too.
  // Returns the count left.
  int Uncancel(bool clears_must_cancel) {
    if (num_cancels_requested > 0) --num_cancels_requested;
    if (clears_must_cancel && num_cancels_requested == 0) must_cancel = false;
    return num_cancels_requested;
  }
  void SetCancelledExc(ExcP e) { cancelled_exc_ = std::move(e); }
};

// `await fut` (futures.py Future.__await__): no suspension if done (so no
// cancellation can land, CX-2); otherwise yield the future to Task.__step.
// Awaited as CatchFuture, which gives what the await raises as a value.
struct AwaitFuture {
  Loop* loop;
  Future* fut;
  bool already_blocking = false;
  bool await_ready() {
    // CX-11: the C Future's iterator raises "await wasn't used with future" at
    // once if the future is still marked blocking. That only happens to a
    // task that awaited itself before (Task.__step resets the mark for every
    // other yielded future, but not in its self-await branch).
    if (!fut->done() && fut->blocking) {
      already_blocking = true;
      return true;
    }
    return fut->done();
  }
  void await_suspend(std::coroutine_handle<> h);
  // What the await raises (or null, and its value in *v), without a throw.
  ExcP Take(Value* v);
};
// `await fut`: the exception it raises comes back as a value.
struct CatchFuture : AwaitFuture {
  Caught<Value> await_resume() {
    Caught<Value> r;
    r.exc = Take(&r.value);
    return r;
  }
};

// sleep(0)'s bare yield (SCHED-3). Gives what __step throws in at the next
// step (or null), for the caller to raise (RaiseNow) without a throw.
struct BareYield {
  Loop* loop;
  bool await_ready() const { return false; }
  void await_suspend(std::coroutine_handle<> h);
  ExcP await_resume();
};

}  // namespace asyncspec::spec::sim

#endif  // ASYNCSPEC_SPEC_MODEL_FUTURES_H_
