// The idiom for catching cancellation and cleaning up with awaits.
//
// C++ cannot co_await inside a catch block, and this runtime does not throw
// CancelledError into frames that do not ask for it (core.h). A frame that
// wants to see what an await did, cancellation included, writes
//
//   rt::Outcome<int> r = co_await rt::try_await(work());
//   if (r.cancelled()) {
//     co_await rt::sleep(1);          // cleanup may await (CX-6)
//     co_await std::move(r);          // re-raise: the cancellation goes on
//   }
//
// which is Python's
//
//   try: v = await work()
//   except CancelledError: await asyncio.sleep(1); raise
//
// `co_await outcome` re-raises: it returns the value, rethrows the error, or
// continues the cancellation (without a throw). Not awaiting it swallows the
// cancellation; call current_task().uncancel() too if this frame is the one
// that asked for it (CX-10).
#ifndef ASYNCSPEC_RUNTIME_TRY_AWAIT_H_
#define ASYNCSPEC_RUNTIME_TRY_AWAIT_H_

#include <concepts>
#include <cstddef>
#include <exception>
#include <optional>
#include <utility>

#include "runtime/core.h"

namespace asyncspec::rt {

namespace detail {
// Ends frame `p` with error `e` as if `e` had been thrown there and not
// caught (RaiseError, Outcome::pass_on); returns what to resume.
inline std::coroutine_handle<> EndWithError(PromiseBase* p, std::exception_ptr e) {
  p->error = std::move(e);
  p->completion = Completion::kError;
  // (The frame may be destroyed in there: nothing of it is used after.)
  return Transfer(OnFrameDone(p));
}
}  // namespace detail

template <class T = void>
class Outcome {
 public:
  template <class U>
  static Outcome Value(U&& v) requires(!std::is_void_v<T>) {
    Outcome o;
    o.kind_ = Completion::kValue;
    o.value_.emplace(std::forward<U>(v));
    return o;
  }
  static Outcome Error(std::exception_ptr e) {
    Outcome o;
    o.kind_ = Completion::kError;
    o.error_ = std::move(e);
    return o;
  }
  static Outcome Cancelled(Msg m) {
    Outcome o;
    o.kind_ = Completion::kCancelled;
    o.msg_ = std::move(m);
    return o;
  }

  bool ok() const { return kind_ == Completion::kValue; }
  bool failed() const { return kind_ == Completion::kError; }
  bool cancelled() const { return kind_ == Completion::kCancelled; }
  // Preconditions: ok() for value(), failed() for error().
  const auto& value() const requires(!std::is_void_v<T>) { return *value_; }
  const std::exception_ptr& error() const { return error_; }
  const Msg& cancel_message() const { return msg_; }
  // The failure as an exception (a CancelledError for a cancellation).
  std::exception_ptr as_exception() const {
    if (failed()) return error_;
    if (cancelled()) return std::make_exception_ptr(msg_ ? CancelledError(*msg_) : CancelledError());
    return nullptr;
  }

  struct Reraise {
    Outcome o;
    bool await_ready() const noexcept { return !o.cancelled(); }
    template <class P>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<P> h) {
      Msg m = o.msg_;
      return detail::Transfer(detail::Unwind(&h.promise(), std::move(m)));
    }
    T await_resume() {
      if (o.failed()) std::rethrow_exception(o.error_);
      if constexpr (!std::is_void_v<T>) return std::move(*o.value_);
    }
  };
  Reraise operator co_await() && { return Reraise{std::move(*this)}; }

  // `co_await std::move(o).pass_on()`: re-raises as `co_await std::move(o)`
  // does, except that an error ends this frame as rt::RaiseError does,
  // without a throw (and with RaiseError's two differences from a throw: no
  // catch block of this frame sees it, and the frame's locals live until
  // its awaiter destroys it). For frames that catch nothing and only pass
  // on what they awaited, e.g.
  //
  //   auto r = co_await rt::try_await(work());
  //   co_return co_await std::move(r).pass_on();  // value, error or cancellation
  class PassOn {
   public:
    explicit PassOn(Outcome o) : o_(std::move(o)) {}
    bool await_ready() const noexcept { return o_.ok(); }
    template <class P>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<P> h) {
      if (o_.failed()) return detail::EndWithError(&h.promise(), std::move(o_.error_));
      Msg m = o_.msg_;
      return detail::Transfer(detail::Unwind(&h.promise(), std::move(m)));
    }
    T await_resume() {
      if constexpr (!std::is_void_v<T>) return std::move(*o_.value_);
    }

   private:
    Outcome o_;
  };
  PassOn pass_on() && { return PassOn(std::move(*this)); }

 private:
  template <class>
  friend class TryAwaiter;
  Completion kind_ = Completion::kValue;
  std::conditional_t<std::is_void_v<T>, char, std::optional<std::conditional_t<std::is_void_v<T>, char, T>>> value_;
  std::exception_ptr error_;
  Msg msg_;
};

template <class T>
class [[nodiscard]] TryAwaiter final : Scope {
 public:
  explicit TryAwaiter(Coro<T> body) : body_(std::move(body)) {}
  bool await_ready() const noexcept { return false; }
  template <class P>
  std::coroutine_handle<> await_suspend(std::coroutine_handle<P> h) {
    parent_ = &h.promise();
    Attach(body_.promise(), parent_, this, body_.handle_slot());
    return detail::Transfer(body_.handle());
  }
  Outcome<T> await_resume() { return std::move(out_); }

 private:
  Action OnBodyDone(PromiseBase*, Completion how, const Msg& msg) override {
    out_.kind_ = how;
    if (how == Completion::kValue) {
      if constexpr (!std::is_void_v<T>) out_.value_.emplace(body_.promise().take());
    } else if (how == Completion::kError) {
      out_.error_ = body_.promise().error;
    } else {
      out_.msg_ = msg;
    }
    return Action::Resume(parent_);
  }
  Coro<T> body_;
  PromiseBase* parent_ = nullptr;
  Outcome<T> out_;
};

// `raise e` without a throw, the error counterpart of RaiseCancelled: the
// awaiting frame ends at once with error `e`, as if `e` had been thrown in
// it and nothing there caught it. Whoever awaits the frame sees the error as
// after a throw: `co_await coro` rethrows it there; a scope (try_await,
// TaskGroup, timeout) and a task's root take it without a throw, and a
// thrown CancelledError counts as a cancellation there as usual (CX-4).
// Two differences from `throw`, which is why it is an explicit choice: no
// catch block of the awaiting frame sees `e`, and the frame's locals are
// destroyed when the frame is (by its awaiter, once done with it; a task's
// root at once), not before the awaiter resumes. What it is for: ending a
// frame that catches nothing without paying for an unwind (thousands of
// instructions; most of the reference runtime's time in the conformance
// check went to unwinding), e.g.
//
//   rt::Outcome<> r = co_await rt::try_await(step());
//   if (r.failed()) co_await rt::RaiseError(r.error());  // pass it on
//   co_await std::move(r);                                // or the cancellation
//
// Precondition: `e` is not null. Make `e` in a local, not in the co_await
// expression from a temporary of class type: the frame is destroyed while
// suspended in that expression, and GCC 12 destroys some such temporaries
// twice (DESIGN.md, "Known compiler issue"; it bit an aggregate here).
class RaiseError {
 public:
  explicit RaiseError(std::exception_ptr e) : e_(std::move(e)) {}
  bool await_ready() const noexcept { return false; }
  template <class P>
  std::coroutine_handle<> await_suspend(std::coroutine_handle<P> h) {
    return detail::EndWithError(&h.promise(), std::move(e_));
  }
  void await_resume() const noexcept {}

 private:
  std::exception_ptr e_;
};
// Awaiters that can hand over their error as a value. An awaiter may offer
//
//   std::exception_ptr resume_error();
//
// which is called instead of await_resume() once the await is over, and
// returns the exception await_resume() would throw, with the effects
// await_resume() would have (e.g. a task's error counts as retrieved), or
// null; after a null, await_resume() is called for the value (if any) and
// must neither throw nor repeat those effects. The runtime's awaiters that
// rethrow (TaskRef's, TaskGroup::run, Timeout::run, gather, shield) offer
// it, so that try_await of them takes the error without a throw, as
// detail::AwaitInCoro does below; `co_await x` itself still throws.
template <class A>
concept ResumesWithError = requires(A& a) {
  { a.resume_error() } -> std::same_as<std::exception_ptr>;
};

namespace detail {
// `co_await a`, ending in a.resume_error() instead of a.await_resume().
template <class A>
class ResumeErrorOf {
 public:
  explicit ResumeErrorOf(A& a) : a_(a) {}
  bool await_ready() { return a_.await_ready(); }
  template <class P>
  decltype(auto) await_suspend(std::coroutine_handle<P> h) {
    return a_.await_suspend(h);
  }
  std::exception_ptr await_resume() { return a_.resume_error(); }

 private:
  A& a_;  // (a reference only: nothing to destroy twice, see RaiseCancelled)
};

// `co_await a` in a frame of its own, so that a scope can catch it. An
// awaiter that ResumesWithError ends the frame with its error through
// RaiseError instead of a throw. `keep` lives as long as the frame: what
// `a` refers to without owning it (the TaskRef of a TaskRef's awaiter).
template <class A, class Keep = std::nullptr_t>
auto AwaitInCoro(A a, Keep keep = nullptr) -> Coro<std::remove_cvref_t<decltype(std::declval<A&&>().await_resume())>> {
  (void)keep;
  if constexpr (ResumesWithError<A>) {
    std::exception_ptr e = co_await ResumeErrorOf<A>(a);
    if (e) co_await RaiseError(std::move(e));
    co_return a.await_resume();
  } else {
    co_return co_await std::move(a);
  }
}
template <class T>
Coro<T> AwaitTask(TaskRef<T> t) {
  TaskState* s = t.state();  // (the order of evaluation of arguments is free)
  return AwaitInCoro(typename TaskRef<T>::Awaiter(s), std::move(t));
}
}  // namespace detail

template <class T>
TryAwaiter<T> try_await(Coro<T> c) {
  return TryAwaiter<T>(std::move(c));
}
template <class T>
TryAwaiter<T> try_await(TaskRef<T> t) {
  return TryAwaiter<T>(detail::AwaitTask(std::move(t)));
}
// Any other awaitable (sleep, gather, shield ...).
template <class A>
  requires requires(A a) { a.await_resume(); }
auto try_await(A a) {
  using R = std::remove_cvref_t<decltype(a.await_resume())>;
  return TryAwaiter<R>(detail::AwaitInCoro(std::move(a)));
}

// `raise CancelledError(msg)` without a throw: unwinds from the awaiting frame.
// Not an aggregate on purpose: GCC 12 destroys a braced aggregate awaiter
// twice when the frame is unwound from inside its await_suspend (DESIGN.md).
struct RaiseCancelled {
  explicit RaiseCancelled(Msg m = nullptr) : msg(std::move(m)) {}
  Msg msg;
  bool await_ready() const noexcept { return false; }
  template <class P>
  std::coroutine_handle<> await_suspend(std::coroutine_handle<P> h) {
    return detail::Transfer(detail::Unwind(&h.promise(), msg));
  }
  void await_resume() const noexcept {}
};
inline RaiseCancelled raise_cancelled() { return RaiseCancelled(); }

inline RaiseCancelled raise_cancelled(std::string msg) { return RaiseCancelled(MakeMsg(std::move(msg))); }

}  // namespace asyncspec::rt

#endif  // ASYNCSPEC_RUNTIME_TRY_AWAIT_H_
