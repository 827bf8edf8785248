// asyncio.timeout / timeout_at / wait_for (3.13's timeouts.py and tasks.py).
//
//   int v = co_await rt::timeout(rt::Seconds(5), [&](rt::Timeout& tm) -> rt::Coro<int> {
//     tm.reschedule(tm.when() + rt::Seconds(1));
//     co_return co_await work();
//   });
//
// Contract (spec/RULES.md):
// - When the deadline passes while the body runs, the task is cancelled
//   (TO-2); if that cancellation, and only that one, reaches the end of the
//   block, it becomes TimeoutError (TO-3). A cancellation from elsewhere, or
//   one still pending after ours was consumed (cancelling() above what it was
//   on entry), stays a CancelledError (TO-3).
// - reschedule(when) moves the deadline; None disables it; a deadline in the
//   past fires on the next loop iteration (TO-5, TO-7). expired() tells whether
//   this timeout fired (TO-4).
// - Nested timeouts: each converts only its own cancellation (TO-6).
// wait_for(x, d) is `async with timeout(d): return await x`; d <= 0 cancels
// x at once and raises TimeoutError if it ended cancelled (WF-1, WF-2).
#ifndef ASYNCSPEC_RUNTIME_TIMEOUT_H_
#define ASYNCSPEC_RUNTIME_TIMEOUT_H_

#include <optional>

#include "runtime/core.h"
#include "runtime/mutants.h"
#include "runtime/try_await.h"

namespace asyncspec::rt {

class Timeout {
 public:
  enum class State { kCreated, kEntered, kExpiring, kExpired, kExited };

  explicit Timeout(std::optional<Nanos> when) : when_(when) {}
  Timeout(const Timeout&) = delete;
  Timeout& operator=(const Timeout&) = delete;
  ~Timeout();

  std::optional<Nanos> when() const { return when_; }
  // Precondition: entered and not yet exited (else RuntimeError, as asyncio).
  void reschedule(std::optional<Nanos> when);
  // reschedule() without a throw: the RuntimeError reschedule() would throw
  // (and then nothing changes), or null once it has rescheduled (TO-5).
  // For a caller that passes the error on with rt::RaiseError.
  std::exception_ptr reschedule_error(std::optional<Nanos> when);
  bool expired() const { return state_ == State::kExpiring || state_ == State::kExpired; }
  State state() const { return state_; }

  // `async with self:` around body (a callable returning Coro<T>, taking
  // Timeout& or nothing). Lets the caller read expired() after the block.
  template <class F>
  auto run(F body);

  // __aenter__ / __aexit__ for the scope below. Exit returns what the block
  // raises instead: true to turn a cancellation into TimeoutError.
  void Enter(TaskState* task);
  bool ExitConvertsCancel(Completion how);

 private:
  static void OnTimeout(detail::TimerNode* n);
  State state_ = State::kCreated;
  std::optional<Nanos> when_;
  TaskState* task_ = nullptr;
  std::uint32_t cancelling_ = 0;
  bool armed_ = false;
  detail::TimerNode node_;
};

template <class T, class F>
class [[nodiscard]] TimeoutAwaiter final : Scope {
 public:
  // A timeout of its own, or the caller's `tm` (which must outlive the await).
  TimeoutAwaiter(std::optional<Nanos> when, F fn) : fn_(std::move(fn)) { own_.emplace(when); }
  TimeoutAwaiter(Timeout& tm, F fn) : ext_(&tm), fn_(std::move(fn)) {}
  TimeoutAwaiter(TimeoutAwaiter&& o) noexcept : ext_(o.ext_), fn_(std::move(o.fn_)) {
    if (o.own_) own_.emplace(o.own_->when());
  }
  bool await_ready() const noexcept { return false; }
  template <class P>
  std::coroutine_handle<> await_suspend(std::coroutine_handle<P> h) {
    parent_ = &h.promise();
    Timeout& tm = this->tm();
    if constexpr (std::is_invocable_v<F&, Timeout&>) {
      body_ = fn_(tm);
    } else {
      body_ = fn_();
    }
    tm.Enter(parent_->task);
    Attach(body_.promise(), parent_, this, body_.handle_slot());
    return detail::Transfer(body_.handle());
  }
  T await_resume() {
    if (std::exception_ptr e = resume_error()) std::rethrow_exception(std::move(e));
    return body_.promise().take();
  }
  // What await_resume() would throw, or null (try_await.h, ResumesWithError).
  std::exception_ptr resume_error() {
    if (timed_out_) return std::make_exception_ptr(TimeoutError());
    auto& p = body_.promise();
    if (p.completion == Completion::kError) return p.error;
    return nullptr;
  }

 private:
  Action OnBodyDone(PromiseBase*, Completion how, const Msg& msg) override {
    if (tm().ExitConvertsCancel(how)) {
      timed_out_ = true;
      return Action::Resume(parent_);
    }
    if (how == Completion::kCancelled) return Action::Unwind(parent_, msg);
    return Action::Resume(parent_);
  }
  Timeout& tm() { return ext_ ? *ext_ : *own_; }
  std::optional<Timeout> own_;
  Timeout* ext_ = nullptr;
  F fn_;
  Coro<T> body_;
  PromiseBase* parent_ = nullptr;
  bool timed_out_ = false;
};

template <class F, bool = std::is_invocable_v<F&, Timeout&>>
struct BodyValueOf {
  using type = typename std::invoke_result_t<F&, Timeout&>::value_type;
};
template <class F>
struct BodyValueOf<F, false> {
  using type = typename std::invoke_result_t<F&>::value_type;
};
template <class F>
using BodyValue = typename BodyValueOf<F>::type;

template <class F>
auto Timeout::run(F body) {
  return TimeoutAwaiter<BodyValue<F>, F>(*this, std::move(body));
}

// `async with asyncio.timeout(delay):` (delay relative to now; nullopt: none).
template <class F>
auto timeout(std::optional<Nanos> delay, F body) {
  std::optional<Nanos> when;
  if (delay) when = AddSaturating(Loop::Current()->Time(), *delay);
  return TimeoutAwaiter<BodyValue<F>, F>(when, std::move(body));
}
// `async with asyncio.timeout_at(when):`
template <class F>
auto timeout_at(std::optional<Nanos> when, F body) {
  return TimeoutAwaiter<BodyValue<F>, F>(when, std::move(body));
}

namespace detail {
// Waits until `t` is done, without taking on its outcome (_cancel_and_wait).
struct WaitDone final : Waiter {
  TaskState* target;
  TaskState* waiting = nullptr;
  DoneNode node;
  explicit WaitDone(TaskState* t) : target(t) {}
  ~WaitDone() {
    if (node.task) target->RemoveDoneCallback(&node);
  }
  bool await_ready() const noexcept { return target->done(); }
  template <class P>
  void await_suspend(std::coroutine_handle<P> h) {
    waiting = h.promise().task;
    node.fn = [](DoneNode* n, TaskState*) {
      auto* self = static_cast<WaitDone*>(n->ctx);
      detail::Wake(self->waiting, false, nullptr);
    };
    node.ctx = this;
    target->AddDoneCallback(&node);
    SuspendOn(waiting, &h.promise(), this);
  }
  void await_resume() const noexcept {}
  bool Cancel(const Msg& msg) override {
    if (!node.task) return false;  // already released: the wake-up is queued
    target->RemoveDoneCallback(&node);
    detail::Wake(waiting, true, msg);
    return true;
  }
};
}  // namespace detail

// asyncio.wait_for(task, timeout).
template <class T>
Coro<T> wait_for(TaskRef<T> t, std::optional<Nanos> d) {
  if (ASYNCSPEC_MUTANT(M27) && d && *d == 0) d.reset();  // M27: `if timeout:` treats 0 as None
  // (Errors are passed on without a throw: try_await, pass_on, RaiseError.)
  if (d && *d <= 0) {
    if (!t.done()) {
      t.cancel();
      if (ASYNCSPEC_MUTANT(M37)) {  // M37: TimeoutError at once, the child not waited for
        std::exception_ptr e = std::make_exception_ptr(TimeoutError());
        co_await RaiseError(std::move(e));
      }
      co_await detail::WaitDone(t.state());
      if (t.cancelled()) {
        // `try: return fut.result() except CancelledError as exc: raise
        // TimeoutError from exc`: result() is the first retrieval of the
        // child's CancelledError and takes its message (CX-5), so a later
        // `await t` gets a CancelledError without one (WF-2).
        t.state()->TakeCancelMsg();
        std::exception_ptr e = std::make_exception_ptr(TimeoutError());
        co_await RaiseError(std::move(e));
      }
    }
    auto r = co_await try_await(t);
    co_return co_await std::move(r).pass_on();
  }
  auto r = co_await try_await(timeout(d, [&]() -> Coro<T> {
    auto r = co_await try_await(t);
    co_return co_await std::move(r).pass_on();
  }));
  co_return co_await std::move(r).pass_on();
}
// asyncio.wait_for(coro, timeout): the coroutine runs inline in the timeout
// (3.12+); with d <= 0 it is wrapped in a task that is cancelled at once.
template <class T>
Coro<T> wait_for(Coro<T> c, std::optional<Nanos> d) {
  if (d && *d <= 0) co_return co_await wait_for(create_task(std::move(c)), d);
  co_return co_await timeout(d, [&]() -> Coro<T> { co_return co_await std::move(c); });
}

}  // namespace asyncspec::rt

#endif  // ASYNCSPEC_RUNTIME_TIMEOUT_H_
