// The coroutine plumbing the model's interpreter runs on.
//
// Design. A task's body is interpreted by C++20 coroutines (Co<T>) that
// suspend only where Python's coroutine would yield to Task.__step, so the
// interleaving of tasks is asyncio's by construction. Co<T> is a lazily
// started coroutine that can be awaited by another Co; the chain resumes its
// awaiter on completion (symmetric transfer), and exceptions propagate to
// the awaiter.
//
// Passing errors on without a throw. A frame that catches nothing (TaskBody,
// ExecBody, ExecStep: the interpreter's dispatch) awaits its callee through
// Pass(): if the callee ends with an error, the frame ends with it too, at
// once, without being resumed, and so on up to the first frame that awaits
// plainly (which rethrows, as its try/catch needs) or a task's root (which
// Task.__step reads). A rethrow per frame per error was a third of the
// model's time. The program's `raise` ends ExecStep the same way
// (RaiseNow). What changes is only when such a frame's locals are destroyed
// (with the frame, not while unwinding); these frames have none whose
// destruction is observable.
//
// Internal to //spec/model (see model.h for the API).
#ifndef ASYNCSPEC_SPEC_MODEL_CORO_H_
#define ASYNCSPEC_SPEC_MODEL_CORO_H_

#include <coroutine>
#include <cstring>
#include <exception>
#include <optional>
#include <type_traits>
#include <typeinfo>
#include <utility>

#include "spec/model/exceptions.h"

namespace asyncspec::spec::sim {

struct Unit {};

// Catching without a rethrow. A frame that does catch (a try block, a scope
// that records what left it) awaits its callee through Catch() and reads the
// program's exception from the callee's promise, and ends itself with an
// exception through RaiseNow; Future.result() and `await fut` have forms that
// return the exception (TakeResult, CatchFuture). Only PyRaise is read so:
// logic_error still goes on as a C++ exception (a base error leaving the loop
// and a hang are values of their own, Sim::escape_ and Sim::deadlock_). Outcomes
// are unchanged: what each frame does with the exception is the same, only
// how it gets there differs (a throw or rethrow per error per frame
// was most of the model's remaining time in the differential fuzzer).

// The PyRaise held by `e`, or null when `e` is null or holds something else;
// lives as long as `e`. Reads the exception_ptr without a rethrow: on
// libstdc++ it is one pointer to the thrown object (its ABI since GCC 4.4) and
// __cxa_exception_type() names the object's type. PyRaise is only ever thrown
// as itself, so an exact type match is what `catch (PyRaise&)` would catch.
// (runtime/errors.h's rt::ExceptionAs does the general case; the model does
// not use runtime code.) Elsewhere it rethrows.
inline const PyRaise* AsPyRaise(const std::exception_ptr& e) noexcept {
  if (!e) return nullptr;
#if defined(__GLIBCXX__)
  static_assert(sizeof(std::exception_ptr) == sizeof(void*));
  const std::type_info* type = e.__cxa_exception_type();
  if (!type || *type != typeid(PyRaise)) return nullptr;
  void* object;
  std::memcpy(&object, &e, sizeof object);
  return static_cast<const PyRaise*>(object);
#else
  try {
    std::rethrow_exception(e);
  } catch (const PyRaise& x) {
    return &x;
  } catch (...) {
    return nullptr;
  }
#endif
}

// A program exception as an exception_ptr, for RaiseNow, without a throw.
// Callers name it in a local before the co_await (GCC 12, see ExecStep).
inline std::exception_ptr ProgramError(ExcP x) { return std::make_exception_ptr(PyRaise{std::move(x)}); }

// What a caught await gives: the value, or (then the value is T{}) the
// program exception the awaited frame ended with.
template <typename T>
struct Caught {
  T value{};
  ExcP exc;
};

// The part of every Co promise that passing errors on needs.
struct PromiseBase {
  std::exception_ptr error;
  std::coroutine_handle<> continuation;
  PromiseBase* passes_to = nullptr;  // the frame awaiting this one through Pass()
  bool ended = false;                // returned, or ended by an error
};

// Ends the frame of `p` and, while its error is passed on, the frames
// awaiting it through Pass(); returns the frame to resume.
inline std::coroutine_handle<> EndFrame(PromiseBase* p) {
  p->ended = true;
  while (p->error && p->passes_to) {
    PromiseBase* up = p->passes_to;
    up->error = p->error;
    up->ended = true;
    p = up;
  }
  return p->continuation ? p->continuation : std::noop_coroutine();
}

template <typename T>
class Co {
 public:
  struct promise_type : PromiseBase {
    std::optional<T> value;
    Co get_return_object() {
      return Co(std::coroutine_handle<promise_type>::from_promise(*this));
    }
    std::suspend_always initial_suspend() noexcept { return {}; }
    struct Final {
      bool await_ready() noexcept { return false; }
      std::coroutine_handle<> await_suspend(std::coroutine_handle<promise_type> h) noexcept {
        return EndFrame(&h.promise());
      }
      void await_resume() noexcept {}
    };
    Final final_suspend() noexcept { return {}; }
    void return_value(T v) { value = std::move(v); }
    void unhandled_exception() { error = std::current_exception(); }
  };
  using Handle = std::coroutine_handle<promise_type>;

  Co() = default;
  explicit Co(Handle h) : h_(h) {}
  Co(Co&& o) noexcept : h_(std::exchange(o.h_, nullptr)) {}
  Co& operator=(Co&& o) noexcept {
    if (this != &o) {
      if (h_) h_.destroy();
      h_ = std::exchange(o.h_, nullptr);
    }
    return *this;
  }
  Co(const Co&) = delete;
  ~Co() {
    if (h_) h_.destroy();
  }

  bool await_ready() const noexcept { return false; }
  std::coroutine_handle<> await_suspend(std::coroutine_handle<> c) noexcept {
    h_.promise().continuation = c;
    return h_;
  }
  T await_resume() {
    if (h_.promise().error) std::rethrow_exception(h_.promise().error);
    return std::move(*h_.promise().value);
  }

  // Awaiting through Pass(): an error ends the awaiting frame as well.
  class Passing {
   public:
    explicit Passing(Co co) : co_(std::move(co)) {}
    bool await_ready() const noexcept { return false; }
    template <typename P>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<P> up) noexcept {
      static_assert(std::is_base_of_v<PromiseBase, P>, "Pass() only from a Co");
      co_.h_.promise().continuation = up;
      co_.h_.promise().passes_to = &up.promise();
      return co_.h_;
    }
    T await_resume() { return std::move(*co_.h_.promise().value); }  // resumed only on success

   private:
    Co co_;
  };

  // Awaiting through Catch(): the program exception comes back as a value.
  class Catching {
   public:
    explicit Catching(Co co) : co_(std::move(co)) {}
    bool await_ready() const noexcept { return false; }
    std::coroutine_handle<> await_suspend(std::coroutine_handle<> c) noexcept {
      return co_.await_suspend(c);
    }
    Caught<T> await_resume() { return co_.Outcome(); }

   private:
    Co co_;
  };

  // Precondition: ended(). The value, or the program exception the body
  // ended with (read without a rethrow); any other error is rethrown.
  Caught<T> Outcome() {
    PromiseBase& p = h_.promise();
    if (!p.error) return {std::move(*h_.promise().value), nullptr};
    if (const PyRaise* r = AsPyRaise(p.error)) return {T{}, r->exc};
    std::rethrow_exception(p.error);
  }

  Handle handle() const { return h_; }
  // The body returned or ended with an error (a frame ended by Pass() is
  // not at its final suspend point: done() does not say).
  bool ended() const { return h_.promise().ended; }

 private:
  Handle h_ = nullptr;
};

template <typename T>
typename Co<T>::Passing Pass(Co<T> co) {
  return typename Co<T>::Passing(std::move(co));
}

template <typename T>
typename Co<T>::Catching Catch(Co<T> co) {
  return typename Co<T>::Catching(std::move(co));
}

// `raise` without a throw, at a point of a frame where no try block of its
// own would catch it: the frame ends with the error as if it had been thrown
// (see Pass()).
class RaiseNow {
 public:
  explicit RaiseNow(std::exception_ptr e) : e_(std::move(e)) {}
  bool await_ready() const noexcept { return false; }
  template <typename P>
  std::coroutine_handle<> await_suspend(std::coroutine_handle<P> h) noexcept {
    h.promise().error = std::move(e_);
    return EndFrame(&h.promise());
  }
  void await_resume() const noexcept {}

 private:
  std::exception_ptr e_;
};

}  // namespace asyncspec::spec::sim

#endif  // ASYNCSPEC_SPEC_MODEL_CORO_H_
