// The executable model of spec/RULES.md (see model.h for the contract).
//
// Design. The model re-enacts asyncio rather than summarising it: exact
// outcomes (which child's error comes first in an ExceptionGroup, whether a
// cancellation is swallowed, which exceptions end up unretrieved) depend on
// the order in which callbacks run, and that order is the product of a few
// small mechanisms that are easy to state and to check against the CPython
// source:
//   * Loop (SCHED-1, SCHED-2): a FIFO ready queue of handles and a binary heap
//     of timers compared by deadline only, run exactly like
//     BaseEventLoop._run_once (the heap is Python's heapq algorithm, so ties
//     pop in CPython's order).
//   * Future / Task (CX-*): Future holds a state, a result or exception, a
//     cancel message and done callbacks (scheduled with call_soon). Task adds
//     Task.__step: _must_cancel, _fut_waiter, the cancel count, and the
//     coroutine it drives.
//   * The coroutine of a task is a C++20 coroutine that interprets the
//     program's steps. It suspends only where Python's coroutine would yield
//     (awaiting a not-done future, or sleep(0)'s bare yield), and a
//     CancelledError or other exception is "thrown in" exactly where Task
//     __step would throw it. Python exceptions are C++ exceptions of type
//     PyRaise carrying a shared exception object (identity matters for
//     except* regrouping, EG-4).
//   * TaskGroup, Timeout, gather, shield, wait_for and asyncio.run are
//     transcriptions of taskgroups.py, timeouts.py, tasks.py and runners.py,
//     with the departures of shipped releases selected by Profile
//     (spec/model/profiles.h; `spec` is the intended semantics).
// What is recorded (tasks, blocks, scopes, run, unretrieved, end_time) is
// what the CPython driver (conformance/adapters/cpython/driver.py) records,
// at the same points.
#include "spec/model/model.h"

#include <algorithm>
#include <bitset>
#include <cstring>
#include <coroutine>
#include <deque>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <type_traits>
#include <typeinfo>
#include <stdexcept>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace asyncspec::spec {

namespace {

// ---------------------------------------------------------------------------
// Python exception objects.

struct PyExc;
using ExcP = std::shared_ptr<PyExc>;

struct PyExc {
  Exc::Type type = Exc::Type::kError;
  std::string label;               // kError, kBase
  std::optional<std::string> msg;  // kCancelled: args[0] if any
  std::string what;                // kRuntime
  std::vector<ExcP> children;      // kGroup
  // How many times this object was raised again from where a future kept it
  // (futures.py Future.result(): `raise self._exception.with_traceback(...)`,
  // also __wakeup's result()): each such raise gives it a new __traceback__
  // (and, inside a handler, a new __context__). except* only asks whether
  // that metadata changed since it split the object (EG-4, PrepReraiseStar),
  // so a count stands for it.
  unsigned reraised = 0;
};

ExcP NewError(const std::string& label, bool base) {
  auto e = std::make_shared<PyExc>();
  e->type = base ? Exc::Type::kBase : Exc::Type::kError;
  e->label = label;
  return e;
}
ExcP NewCancelled(std::optional<std::string> msg) {
  auto e = std::make_shared<PyExc>();
  e->type = Exc::Type::kCancelled;
  e->msg = std::move(msg);
  return e;
}
ExcP NewTimeout() {
  auto e = std::make_shared<PyExc>();
  e->type = Exc::Type::kTimeout;
  return e;
}
ExcP NewRuntime(const std::string& what) {
  auto e = std::make_shared<PyExc>();
  e->type = Exc::Type::kRuntime;
  e->what = what;
  return e;
}
ExcP NewGroup(std::vector<ExcP> children) {
  auto e = std::make_shared<PyExc>();
  e->type = Exc::Type::kGroup;
  e->children = std::move(children);
  return e;
}

bool IsCancelled(const ExcP& e) { return e && e->type == Exc::Type::kCancelled; }
// isinstance(e, Exception): CancelledError and BaseErr are not; a group is an
// ExceptionGroup iff all its children are Exceptions (EG-1).
bool IsException(const ExcP& e) {
  switch (e->type) {
    case Exc::Type::kCancelled:
    case Exc::Type::kBase:
      return false;
    case Exc::Type::kGroup:
      for (const auto& c : e->children)
        if (!IsException(c)) return false;
      return true;
    default:
      return true;
  }
}
// taskgroups.py `_is_base_error`: isinstance(exc, (SystemExit,
// KeyboardInterrupt)); BaseErr is a KeyboardInterrupt (RULES.md "base error").
bool IsBaseError(const ExcP& e) { return e && e->type == Exc::Type::kBase; }

Exc ToExc(const ExcP& e) {
  Exc x;
  x.type = e->type;
  x.label = e->label;
  x.msg = e->msg;
  x.what = e->what;
  if (e->type == Exc::Type::kGroup) {
    x.base_group = !IsException(e);
    for (const auto& c : e->children) x.children.push_back(ToExc(c));
  }
  return x;
}

// A Python exception in flight through the interpreted program.
struct PyRaise {
  ExcP exc;
};

// ---------------------------------------------------------------------------
// Coroutines: Co<T> is a lazily started coroutine that can be awaited by
// another Co; the chain resumes its awaiter on completion (symmetric
// transfer), and exceptions propagate to the awaiter.
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
const PyRaise* AsPyRaise(const std::exception_ptr& e) noexcept {
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
std::exception_ptr ProgramError(ExcP x) { return std::make_exception_ptr(PyRaise{std::move(x)}); }

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

// ---------------------------------------------------------------------------
// Loop handles.

class Sim;

struct HandleObj {
  std::function<void()> fn;
  bool cancelled = false;
  bool timer = false;
  bool scheduled = false;  // TimerHandle._scheduled: still in the heap
  Time when = 0;
};
using HandleP = std::shared_ptr<HandleObj>;

// ---------------------------------------------------------------------------
// Futures and tasks.

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
  explicit Future(Sim* sim) : sim_(sim) {}
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

  Sim* sim_;
  State state_ = State::kPending;
  Value result_;
  ExcP exception_;
  std::optional<std::string> cancel_message_;
  ExcP cancelled_exc_;
  bool log_traceback_ = false;
  std::vector<std::pair<int, Callback>> callbacks_;
};

class TaskGroupObj;

// A Task (tasks.py). Future states: pending -> finished (result or
// exception) | cancelled. While pending it is either scheduled (a __step
// handle is queued: first step SCHED-1, bare yield SCHED-3, wakeup) or
// waiting on _fut_waiter. cancel() (CX-1) either cancels the waiter or sets
// _must_cancel, which __step turns into a CancelledError (CX-2, CX-3, CX-4).
class Task : public Future {
 public:
  Task(Sim* sim, std::string name, bool internal) : Future(sim), name(std::move(name)), internal(internal) {}

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

  friend class Sim;
  void SetCancelledExc(ExcP e) { cancelled_exc_ = std::move(e); }
};

// _GatheringFuture (GA-5).
class GatheringFuture : public Future {
 public:
  GatheringFuture(Sim* sim, std::vector<Future*> children) : Future(sim), children(std::move(children)) {}
  bool Cancel(std::optional<std::string> msg) override {
    if (done()) return false;
    bool ret = false;
    for (Future* child : children)
      if (child->Cancel(msg)) ret = true;
    if (ret) cancel_requested = true;  // GA-5: "propagate the cancellation request"
    return ret;
  }
  std::vector<Future*> children;
  bool cancel_requested = false;
};

// ---------------------------------------------------------------------------
// TaskGroup and Timeout state (taskgroups.py, timeouts.py).

// A TaskGroup (taskgroups.py). States, as CPython's flags:
//   created --__aenter__--> entered --body ends--> exiting --children done--> exited
//   and, from entered or exiting, aborting (first child failure TG-2, body
//   exception TG-4, outside cancellation TG-7/TG-8): children cancelled once.
// create_task is refused when not entered, exiting with no tasks, or
// aborting (TG-10). parent_cancel_requested records that the group cancelled
// its parent, to be uncancelled exactly once (TG-9).
class TaskGroupObj {
 public:
  std::string name;
  bool entered = false, exiting = false, aborting = false;
  Task* parent = nullptr;
  bool parent_cancel_requested = false;
  std::vector<Task*> tasks;  // a Python set; the model iterates in insertion order (TG-2)
  std::vector<ExcP> errors;
  ExcP base_error;
  Future* on_completed_fut = nullptr;
};

// A Timeout (timeouts.py): CREATED --enter--> ENTERED --handler fires
// (TO-2)--> EXPIRING --exit--> EXPIRED (TimeoutError if only its own
// cancellation is pending, TO-3); ENTERED --exit--> EXITED. reschedule is
// allowed only in ENTERED (TO-5).
class TimeoutObj {
 public:
  enum class State { kCreated, kEntered, kExpiring, kExpired, kExited };
  State state = State::kCreated;
  HandleP handler;
  Task* task = nullptr;
  std::optional<Time> when;
  int cancelling = 0;
  bool expired() const { return state == State::kExpiring || state == State::kExpired; }
};

// ---------------------------------------------------------------------------
// Awaitables used by the interpreter.

// `await fut` (futures.py Future.__await__): no suspension if done (so no
// cancellation can land, CX-2); otherwise yield the future to Task.__step.
// Awaited as CatchFuture, which gives what the await raises as a value.
struct AwaitFuture {
  Sim* sim;
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
  Sim* sim;
  bool await_ready() const { return false; }
  void await_suspend(std::coroutine_handle<> h);
  ExcP await_resume();
};

// ---------------------------------------------------------------------------
// The simulator.

class Sim {
 public:
  Sim(const Program& program, const Profile& profile, TieOracle* oracle)
      : program_(program), prof_(profile), oracle_(oracle) {}
  ModelRun Run();

  // Rule recording (model.h RunModelRecorded): every transition the model
  // makes because of a rule calls Hit; when off, that is one untaken branch.
  RuleRecording recording_ = RuleRecording::kOff;
  bool Recording() const { return recording_ != RuleRecording::kOff; }
  void Hit(RuleId r, const char* what) {
    if (Recording()) [[unlikely]] Record(r, what);
  }
  void Record(RuleId r, const char* what);

  // Loop (SCHED-1, SCHED-2).
  HandleP CallSoon(std::function<void()> fn) {
    auto h = std::make_shared<HandleObj>();
    h->fn = std::move(fn);
    ready_.push_back(h);
    return h;
  }
  HandleP CallAt(Time when, std::function<void()> fn) {
    auto h = std::make_shared<HandleObj>();
    h->fn = std::move(fn);
    h->timer = true;
    h->when = when;
    h->scheduled = true;
    HeapPush(h);
    return h;
  }
  // TimerHandle.cancel / Handle.cancel.
  void CancelHandle(const HandleP& h) {
    if (!h || h->cancelled) return;
    if (h->timer && h->scheduled) ++timer_cancelled_count_;
    h->cancelled = true;
  }

  Task* current = nullptr;
  Time now = 0;
  int cancel_depth = 0;  // nesting of Task::Cancel through await chains

 private:
  friend struct AwaitFuture;
  friend struct BareYield;
  friend class Task;

  // heapq (Lib/heapq.py, same algorithm as _heapqmodule.c), comparing
  // TimerHandles by `when` only (events.py TimerHandle.__lt__).
  static bool Lt(const HandleP& a, const HandleP& b) { return a->when < b->when; }
  void SiftDown(size_t startpos, size_t pos) {
    HandleP newitem = heap_[pos];
    while (pos > startpos) {
      size_t parentpos = (pos - 1) >> 1;
      if (Lt(newitem, heap_[parentpos])) {
        heap_[pos] = heap_[parentpos];
        pos = parentpos;
        continue;
      }
      break;
    }
    heap_[pos] = newitem;
  }
  void SiftUp(size_t pos) {
    size_t endpos = heap_.size(), startpos = pos;
    HandleP newitem = heap_[pos];
    size_t childpos = 2 * pos + 1;
    while (childpos < endpos) {
      size_t rightpos = childpos + 1;
      if (rightpos < endpos && !Lt(heap_[childpos], heap_[rightpos])) childpos = rightpos;
      heap_[pos] = heap_[childpos];
      pos = childpos;
      childpos = 2 * pos + 1;
    }
    heap_[pos] = newitem;
    SiftDown(startpos, pos);
  }
  void HeapPush(HandleP h) {
    heap_.push_back(std::move(h));
    SiftDown(0, heap_.size() - 1);
  }
  HandleP HeapPop() {
    HandleP last = heap_.back();
    heap_.pop_back();
    if (!heap_.empty()) {
      HandleP ret = heap_[0];
      heap_[0] = last;
      SiftUp(0);
      return ret;
    }
    return last;
  }
  void Heapify() {
    for (size_t i = heap_.size() / 2; i-- > 0;) SiftUp(i);
  }

  // base_events.py _run_once (SCHED-1, SCHED-2).
  void RunOnce() {
    const size_t sched_count = heap_.size();
    if (sched_count > 100 && static_cast<double>(timer_cancelled_count_) / sched_count > 0.5) {
      std::vector<HandleP> keep;
      for (auto& h : heap_) {
        if (h->cancelled) h->scheduled = false;
        else keep.push_back(h);
      }
      heap_ = std::move(keep);
      Heapify();
      timer_cancelled_count_ = 0;
    } else {
      while (!heap_.empty() && heap_[0]->cancelled) {
        --timer_cancelled_count_;
        HandleP h = HeapPop();
        h->scheduled = false;
      }
    }
    if (ready_.empty() && !stopping_) {
      if (heap_.empty()) {
        deadlock_ = true;  // the selector would wait forever
        return;
      }
      now = std::max(now, heap_[0]->when);  // the virtual selector's wait
    }
    // The due timers all have deadline `now` (time only jumps to the
    // earliest one); their order is a tie (SCHED-2). Cancelled ones are
    // skipped when run, so only the live ones are permuted.
    std::vector<HandleP> due, dead;
    while (!heap_.empty() && heap_[0]->when <= now) {
      HandleP h = HeapPop();
      h->scheduled = false;
      (h->cancelled ? dead : due).push_back(h);
    }
    Permute(TiePoint::kTimers, due);
    if (!due.empty()) Hit(RuleId::SCHED_2, "timers due");
    for (auto& h : due) ready_.push_back(std::move(h));
    for (auto& h : dead) ready_.push_back(std::move(h));
    const size_t ntodo = ready_.size();
    for (size_t i = 0; i < ntodo; ++i) {
      HandleP h = ready_.front();
      ready_.pop_front();
      if (h->cancelled) continue;
      try {
        h->fn();
      } catch (PyRaise&) {
        // events.py Handle._run: an exception from a callback goes to the
        // loop's exception handler and the loop goes on.
      }
      // Handle._run re-raises (KeyboardInterrupt, SystemExit) (RT-5): the
      // rest of this iteration stays in the queue.
      if (escape_) return;
    }
  }
  void RunForever() {
    struct Reset {
      bool& s;
      ~Reset() { s = false; }
    } reset{stopping_};
    while (true) {
      RunOnce();
      if (stopping_ || Escaping()) break;
    }
  }
  // base_events.py run_until_complete with _run_until_complete_cb. When
  // Escaping() on return, it raises escape_ (RT-5, RT-6), or the loop hangs:
  // the caller goes on as if that had been raised here.
  void RunUntilComplete(Future* f) {
    int id = f->AddDoneCallback([this](Future* fut) {
      if (!fut->cancelled()) {
        ExcP e = fut->Exception();
        if (IsBaseError(e)) return;  // "run_forever() already finished"
      }
      stopping_ = true;
    });
    RunForever();
    f->RemoveDoneCallback(id);  // `finally: future.remove_done_callback(...)`
    if (Escaping()) return;
    // RT-6: a stale stop request (the done callback of an earlier
    // run_until_complete, already queued) can end the loop early:
    // RuntimeError('Event loop stopped before Future completed.').
    if (!f->done()) {
      Hit(RuleId::RT_6, "stale stop: loop stopped before the future completed");
      escape_ = NewRuntime("other");
    }
  }

  // ---- Tie choice points (model.h TieOracle) ----
  // Reorders `items` (CPython's order on entry) as the oracle chooses; counts
  // the point when it has alternatives.
  template <typename T>
  void Permute(TiePoint point, std::vector<T>& items) {
    if (items.size() < 2) return;
    ++tie_points_;
    if (!oracle_) return;
    for (std::size_t j = 0; j + 1 < items.size(); ++j) {
      const int n = static_cast<int>(items.size() - j);
      const int c = oracle_->Choose(point, n);
      if (c < 0 || c >= n) throw std::logic_error("TieOracle::Choose out of range");
      // The chosen one goes next; the others keep their relative order.
      std::rotate(items.begin() + j, items.begin() + j + c, items.begin() + j + c + 1);
    }
  }
  // The order in which to cancel `tasks` (CPython's order on entry): only
  // the not-done tasks that wait on a not-done future are permuted, among
  // their own slots (see TiePoint). Why the others commute: cancel() on a
  // task without a pending waiter only sets flags and counts (CX-1), and no
  // cancel() in the loop changes which tasks wait (only __step does).
  static bool CancelHasEffects(const Task* t) {
    return !t->done() && t->fut_waiter && !t->fut_waiter->done();
  }
  std::vector<Task*> CancelOrder(TiePoint point, const std::vector<Task*>& tasks) {
    std::vector<Task*> waiting;
    for (Task* t : tasks)
      if (CancelHasEffects(t)) waiting.push_back(t);
    if (waiting.size() < 2) return tasks;
    Permute(point, waiting);
    std::vector<Task*> order = tasks;
    std::size_t k = 0;
    for (Task*& t : order)
      if (CancelHasEffects(t)) t = waiting[k++];
    return order;
  }

  // ---- Tasks (CX-*) ----
  Task* NewTask(const std::string& name, const Body* body, bool internal = false);
  void TaskStep(Task* t, ExcP exc);
  void Wakeup(Task* t, Future* f) {
    // tasks.py __wakeup: future.result() (marks it retrieved, RT-4); an
    // exception, including a CancelledError, is thrown into the task.
    Value ignored;
    TaskStep(t, f->TakeResult(&ignored));
  }
  GatheringFuture* GatherFutures(std::vector<Future*> children, bool return_exceptions);

  // ---- Interpreter coroutines ----
  Co<Value> TaskBody(Task* t, const Body* body);
  Co<Unit> ExecBody(const Body& body);
  Co<Unit> ExecStep(const Step& step);
  Co<Unit> DoSleep(Time d);
  Co<Unit> DoGroup(const Group& g);
  Co<Unit> TaskGroupExit(TaskGroupObj* tg, ExcP exc);
  void TaskGroupAbort(TaskGroupObj* tg);
  void TaskGroupOnTaskDone(TaskGroupObj* tg, Task* task);
  // The RuntimeError create_task raises (TG-10), or null.
  ExcP TaskGroupCreateTask(TaskGroupObj* tg, const TaskDef& def);
  Co<Unit> DoGather(const Gather& g);
  Co<Unit> DoTimeout(const Timeout& t);
  // The RuntimeError reschedule() raises (TO-5), or null.
  ExcP TimeoutReschedule(TimeoutObj* tm, std::optional<Time> when);
  // The TimeoutError its __aexit__ raises (TO-3), or null.
  ExcP TimeoutExit(TimeoutObj* tm, const ExcP& exc);
  Co<Unit> DoShield(const Shield& s);
  Co<Unit> AwaitOuter(const std::string& name, Future* outer, bool gather);
  Co<Unit> DoWaitFor(const WaitFor& w);
  Co<Value> WaitFor311(Task* fut, Time d);
  Co<Unit> CancelAndWait(Future* fut);
  Co<Unit> DoAwait(const Await& a);
  Co<Unit> DoTry(const Try& t);
  Co<Unit> RunHandler(const Handler& h, ExcP* raised);

  void Collect(const Body& body);
  void RecordScope(const std::string& name, const ExcP& raised, std::optional<Value> value,
                   std::optional<bool> expired, bool is_gather);
  void CancelAllTasks();

  const Program& program_;
  const Profile& prof_;
  TieOracle* oracle_;
  int tie_points_ = 0;
  std::bitset<kRuleCount> hits_;
  std::vector<ModelRun::RuleEvent> trace_;
  std::vector<Task*> shield_orphans_;  // inners left running by a cancelled shield (SH-3)
  std::map<Task*, int> shield_log_cb_;  // the inner's logging callback (shield_leaves_error_to_rt4 off)
  std::map<Task*, int> open_timeouts_;  // timeout blocks open per task (TO-6)
  std::deque<HandleP> ready_;
  std::vector<HandleP> heap_;
  long timer_cancelled_count_ = 0;
  bool stopping_ = false;
  // An exception raised out of run_until_complete and not yet caught by
  // run(): a base error leaving the event loop, raised by Task.__step (RT-5),
  // or the RuntimeError of a stale stop (RT-6). It travels as a value: each
  // caller (RunOnce after the callback, RunForever, RunUntilComplete,
  // CancelAllTasks) returns at once when it is set, which is where the raise
  // would unwind to (a C++ throw per base error was the largest cost left in
  // the differential fuzzer).
  ExcP escape_;
  // asyncio.run would hang: nothing ready, no timer (model.h). It leaves
  // the loop the same way, and run() with it.
  bool deadlock_ = false;
  bool Escaping() const { return escape_ || deadlock_; }

  std::vector<std::unique_ptr<Task>> tasks_;
  std::vector<std::unique_ptr<Future>> futures_;
  std::map<std::string, Task*> task_by_name_;
  std::map<std::string, std::unique_ptr<TaskGroupObj>> groups_;
  std::map<std::string, std::unique_ptr<TimeoutObj>> timeouts_;
  std::set<std::string> shutdown_errors_;
  std::vector<Unretrieved> shutdown_unretrieved_;
  // RT-8: the exception handler's calls and the warnings made so far (the
  // never-retrieved and destroyed-pending reports are added by Run()).
  std::vector<HandlerCall> handler_calls_;
  std::vector<WarningRecord> warnings_;
  Outcome out_;
  int next_cb_id_ = 1;

  template <typename F>
  F* Make(F* f) {
    futures_.emplace_back(f);
    return f;
  }
  Future* NewFuture() { return Make(new Future(this)); }

 public:
  int NextCallbackId() { return next_cb_id_++; }
};

// ---------------------------------------------------------------------------
// Future / Task methods.

void Future::ScheduleCallbacks() {
  // futures.py __schedule_callbacks: one call_soon per callback, in
  // registration order (SCHED-1).
  auto cbs = std::move(callbacks_);
  callbacks_.clear();
  for (auto& entry : cbs) {
    auto cb = entry.second;  // a named copy: clang 14 cannot capture a structured binding
    sim_->CallSoon([cb, this] { cb(this); });
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
  int id = sim_->NextCallbackId();
  if (done()) {
    sim_->CallSoon([cb, this] { cb(this); });
  } else {
    callbacks_.emplace_back(id, std::move(cb));
  }
  return id;
}

// tasks.py Task.cancel (CX-1, CX-7, CX-8).
bool Task::Cancel(std::optional<std::string> msg) {
  log_traceback_ = false;  // CX-8: even a finished task's exception counts as retrieved
  if (done()) {
    sim_->Hit(RuleId::CX_8, "cancel() of a done task");
    return false;
  }
  sim_->Hit(RuleId::CX_1, "cancel() requested");
  if (msg) sim_->Hit(RuleId::CX_5, "cancel() with a message");
  ++num_cancels_requested;
  if (fut_waiter != nullptr) {
    sim_->Hit(RuleId::CX_7, "cancel the awaited future");
    // CX-7: the waiter (maybe a task) is cancelled. A cycle of tasks awaiting
    // each other (refused by spec/validate.h) recurses until Python raises
    // RecursionError; the model raises a runtime error at the same point.
    int& depth = sim_->cancel_depth;  // per simulation: RunModel is reentrant
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
  Task* t = sim->current;
  t->resume = h;
  t->yielded = fut;
}
ExcP AwaitFuture::Take(Value* v) {
  if (already_blocking) return NewRuntime("other");
  Task* t = sim->current;
  if (t->throw_in) return std::exchange(t->throw_in, nullptr);
  return fut->TakeResult(v);
}
void BareYield::await_suspend(std::coroutine_handle<> h) {
  Task* t = sim->current;
  t->resume = h;
  t->yielded_bare = true;
}
ExcP BareYield::await_resume() { return std::exchange(sim->current->throw_in, nullptr); }

Task* Sim::NewTask(const std::string& name, const Body* body, bool internal) {
  auto* t = new Task(this, name, internal);
  tasks_.emplace_back(t);
  if (!internal) {
    task_by_name_[name] = t;
    out_.tasks[name];  // every created task appears (FORMAT.md)
  }
  t->coro = TaskBody(t, body);
  // SCHED-1: a new task's first step is call_soon'ed at creation.
  Hit(RuleId::SCHED_1, "first step call_soon'ed");
  CallSoon([this, t] { TaskStep(t, nullptr); });
  // RT-7: the end of a task whose body never ran is recorded by a done callback
  // (as the driver does; it never runs if a base error stops the loop).
  t->AddDoneCallback([this, t](Future*) {
    if (!t->end) t->end = now;
    if (!t->started) Hit(RuleId::RT_7, "end of a task that never ran");
  });
  return t;
}

// tasks.py Task.__step / __step_run_and_handle_result.
void Sim::TaskStep(Task* t, ExcP exc) {
  if (t->done()) throw std::logic_error("_step(): already done");
  if (t->must_cancel) {  // CX-2
    Hit(RuleId::CX_2, "_must_cancel delivered at the step");
    if (!IsCancelled(exc)) exc = t->MakeCancelledError();
    t->must_cancel = false;
  }
  t->fut_waiter = nullptr;

  t->yielded = nullptr;
  t->yielded_bare = false;
  bool finished = false;
  Value result;
  ExcP raised;
  if (!t->started && exc) {
    // CX-3: throwing into a coroutine that never ran raises at once; its
    // body never starts. The outcome shows that CancelledError (its message
    // is the one of the last cancel() request, CX-5).
    Hit(RuleId::CX_3, "thrown into a coroutine that never ran");
    raised = exc;
    t->cancel_exc = exc;
    finished = true;
  } else {
    if (!t->started) {
      t->started = true;
      t->start = now;
      t->resume = t->coro.handle();
    }
    t->throw_in = exc;
    Task* prev = current;
    current = t;
    t->resume.resume();
    current = prev;
    if (t->coro.ended()) {
      finished = true;
      Caught<Value> r = t->coro.Outcome();
      result = std::move(r.value);
      raised = std::move(r.exc);
    }
  }

  if (finished) {
    if (t->started) t->end = now;  // RT-7: the step in which the body ended
    if (!raised) {
      if (t->must_cancel) {
        // CX-4: "Task is cancelled right before coro stops".
        Hit(RuleId::CX_4, "cancelled right before the coroutine stops");
        t->must_cancel = false;
        t->FutureCancel(t->cancel_message());
      } else {
        t->SetResult(result);
      }
    } else if (IsCancelled(raised)) {
      // CX-4: any CancelledError escaping the coroutine cancels the task;
      // Future.cancel() is called without a message (CX-5, GA-3).
      Hit(RuleId::CX_4, "CancelledError escaped: task cancelled");
      if (t->started) t->cancel_exc = raised;
      t->SetCancelledExc(raised);
      t->FutureCancel(std::nullopt);
    } else if (IsBaseError(raised)) {
      // tasks.py: `except (KeyboardInterrupt, SystemExit) as exc:
      // super().set_exception(exc); raise` (RT-5). Callers of __step do
      // nothing after it: the raise leaves the loop (see escape_).
      Hit(RuleId::RT_5, "base error leaves the loop");
      t->SetException(raised);
      escape_ = raised;
    } else {
      t->SetException(raised);
    }
    return;
  }
  if (t->yielded_bare) {
    CallSoon([this, t] { TaskStep(t, nullptr); });  // SCHED-3
    return;
  }
  Future* f = t->yielded;
  if (f == t) {
    // CX-11: `await` of the current task: "Task cannot await on itself",
    // thrown at the next step. Spec: the task is unmarked like any yielded
    // future, so a later await of it waits; the C Task leaves the blocking
    // mark set (candidate bug, conformance/findings/self-await-poisons-task.md).
    Hit(RuleId::CX_11, "task awaits itself");
    if (prof_.self_await_unmarks_task) f->blocking = false;
    ExcP e = NewRuntime("other");
    CallSoon([this, t, e] { TaskStep(t, e); });
    return;
  }
  f->blocking = false;
  f->AddDoneCallback([this, t](Future* fut) { Wakeup(t, fut); });
  t->fut_waiter = f;
  if (t->must_cancel) {  // CX-2: cancel the new waiter at once
    Hit(RuleId::CX_2, "_must_cancel: cancel the new waiter");
    if (f->Cancel(t->cancel_message())) t->must_cancel = false;
  }
}

// tasks.py gather (GA-1..GA-6).
GatheringFuture* Sim::GatherFutures(std::vector<Future*> children, bool return_exceptions) {
  auto* outer = Make(new GatheringFuture(this, children));
  auto nfinished = std::make_shared<size_t>(0);
  const size_t nfuts = children.size();
  if (nfuts == 0) {
    outer->SetResult(Value{});
    return outer;
  }
  for (Future* child : children) {
    child->AddDoneCallback([this, outer, nfinished, nfuts, return_exceptions](Future* fut) {
      ++*nfinished;
      if (outer->cancel_requested) Hit(RuleId::GA_5, "child of a cancelled gather done");
      if (outer->done()) {
        Hit(RuleId::GA_6, "child done after gather");
        if (!fut->cancelled()) fut->Exception();  // GA-2/GA-6: mark retrieved
        return;
      }
      if (!return_exceptions) {
        if (fut->cancelled()) {
          Hit(RuleId::GA_3, "a child cancelled on its own");
          outer->SetException(fut->MakeCancelledError());  // GA-3
          return;
        }
        ExcP e = fut->Exception();
        if (e) {
          Hit(RuleId::GA_2, "first error propagates");
          outer->SetException(e);  // GA-2: first error propagates
          return;
        }
      }
      if (*nfinished == nfuts) {
        if (return_exceptions) Hit(RuleId::GA_4, "every outcome, in order");
        Value v;
        for (Future* c : outer->children) {
          GItem it;
          if (c->cancelled()) {
            // GA-3: CancelledError('' if fut._cancel_message is None else ...)
            Hit(RuleId::GA_3, "a cancelled child's item");
            it.error = NewCancelled(c->cancel_message().value_or(""));
          } else {
            it.error = c->Exception();
            if (!it.error) it.value = c->raw_result().str;
          }
          v.items.push_back(std::move(it));
        }
        if (outer->cancel_requested) {
          // GA-5: `exc = fut._make_cancelled_error()`, where `fut` is the
          // variable of the preceding `for fut in children` loop: the last
          // child in argument order.
          Hit(RuleId::GA_5, "gather cancelled: CancelledError of the last child");
          outer->SetException(outer->children.back()->MakeCancelledError());
        } else {
          outer->SetResult(std::move(v));
        }
      }
    });
  }
  return outer;
}

// ---------------------------------------------------------------------------
// The interpreter.

Co<Value> Sim::TaskBody(Task* t, const Body* body) {
  (void)t;
  for (const Step& st : *body) {
    if (const auto* r = std::get_if<Return>(&st.op)) {
      Value v;
      v.str = r->value;
      co_return v;
    }
    co_await Pass(ExecStep(st));
  }
  co_return Value{};
}

Co<Unit> Sim::ExecBody(const Body& body) {
  for (const Step& st : body) co_await Pass(ExecStep(st));
  co_return Unit{};
}

Co<Unit> Sim::DoSleep(Time d) {
  Hit(RuleId::SCHED_3, d <= 0 ? "sleep(0): bare yield" : "sleep(d): timer");
  if (d <= 0) {
    if (ExcP thrown = co_await BareYield{this}) {  // SCHED-3
      std::exception_ptr e = ProgramError(std::move(thrown));
      co_await RaiseNow(std::move(e));
    }
    co_return Unit{};
  }
  Future* f = NewFuture();
  HandleP h = CallAt(now + d, [f] {
    if (!f->done()) f->SetResult(Value{});  // futures._set_result_unless_cancelled
  });
  Caught<Value> r = co_await CatchFuture{{this, f}};
  CancelHandle(h);  // `finally: h.cancel()`
  if (r.exc) {
    std::exception_ptr e = ProgramError(std::move(r.exc));
    co_await RaiseNow(std::move(e));
  }
  co_return Unit{};
}

Co<Unit> Sim::ExecStep(const Step& st) {
  const auto& op = st.op;
  if (const auto* s = std::get_if<Sleep>(&op)) {
    co_await Pass(DoSleep(s->d));
  } else if (const auto* s = std::get_if<Raise>(&op)) {
    // Named first: this frame is destroyed while suspended in the co_await
    // below, and GCC 12 destroys an aggregate temporary of such an
    // expression twice (runtime/DESIGN.md, "Known compiler issue").
    std::exception_ptr e = std::make_exception_ptr(PyRaise{NewError(s->label, s->base)});
    co_await RaiseNow(std::move(e));
  } else if (std::get_if<Return>(&op)) {
    // Only the last step of a task body; TaskBody handles it.
  } else if (const auto* s = std::get_if<CreateTask>(&op)) {
    NewTask(s->task.name, &s->task.body);
  } else if (const auto* s = std::get_if<Group>(&op)) {
    co_await Pass(DoGroup(*s));
  } else if (const auto* s = std::get_if<Spawn>(&op)) {
    auto it = groups_.find(s->group);
    ExcP err = it == groups_.end() ? NewRuntime("other")  // invalid program
                                   : TaskGroupCreateTask(it->second.get(), s->task);
    if (err) {
      Hit(RuleId::TG_10, "create_task refused");
      std::exception_ptr e = ProgramError(std::move(err));
      co_await RaiseNow(std::move(e));
    }
  } else if (const auto* s = std::get_if<Gather>(&op)) {
    co_await Pass(DoGather(*s));
  } else if (const auto* s = std::get_if<Timeout>(&op)) {
    co_await Pass(DoTimeout(*s));
  } else if (const auto* s = std::get_if<Reschedule>(&op)) {
    Hit(RuleId::TO_5, "reschedule");
    auto it = timeouts_.find(s->timeout);
    std::optional<Time> when;
    if (s->d) when = now + *s->d;
    ExcP err = it == timeouts_.end() ? NewRuntime("other")  // invalid program
                                     : TimeoutReschedule(it->second.get(), when);  // TO-5
    if (err) {
      std::exception_ptr e = ProgramError(std::move(err));
      co_await RaiseNow(std::move(e));
    }
  } else if (const auto* s = std::get_if<Shield>(&op)) {
    co_await Pass(DoShield(*s));
  } else if (const auto* s = std::get_if<WaitFor>(&op)) {
    co_await Pass(DoWaitFor(*s));
  } else if (const auto* s = std::get_if<Cancel>(&op)) {
    auto it = task_by_name_.find(s->target);
    if (it != task_by_name_.end()) it->second->Cancel(s->msg);  // CX-1
  } else if (const auto* s = std::get_if<Await>(&op)) {
    co_await Pass(DoAwait(*s));
  } else if (std::get_if<Uncancel>(&op)) {
    Task* t = current;
    Hit(RuleId::CX_9, "uncancel()");
    if (t->num_cancels_requested > 0) --t->num_cancels_requested;  // CX-9
    if (prof_.uncancel_clears_must_cancel && t->num_cancels_requested == 0) t->must_cancel = false;
  } else if (const auto* s = std::get_if<Try>(&op)) {
    co_await Pass(DoTry(*s));
  }
  co_return Unit{};
}

Co<Unit> Sim::DoAwait(const Await& a) {
  auto it = task_by_name_.find(a.target);
  if (it == task_by_name_.end()) {
    if (ExcP thrown = co_await BareYield{this}) {  // FORMAT.md: `await asyncio.sleep(0)`
      std::exception_ptr e = ProgramError(std::move(thrown));
      co_await RaiseNow(std::move(e));
    }
  } else {
    Caught<Value> r = co_await CatchFuture{{this, it->second}};  // CX-7, RT-4 (retrieves)
    if (r.exc) {
      std::exception_ptr e = ProgramError(std::move(r.exc));
      co_await RaiseNow(std::move(e));
    }
  }
  co_return Unit{};
}

void Sim::RecordScope(const std::string& name, const ExcP& raised, std::optional<Value> value,
                      std::optional<bool> expired, bool is_gather) {
  ScopeOutcome s;
  s.end = now;
  if (raised) s.raised = ToExc(raised);
  if (value) {
    if (is_gather) {
      std::vector<GatherItem> items;
      for (const auto& it : value->items) {
        GatherItem g;
        if (it.error) g.error = ToExc(it.error);
        else g.value = it.value;
        items.push_back(std::move(g));
      }
      s.items = std::move(items);
    } else {
      s.value = value->str;
    }
  }
  s.expired = expired;
  out_.scopes[name] = std::move(s);
}

// ---- TaskGroup (taskgroups.py) ----

ExcP Sim::TaskGroupCreateTask(TaskGroupObj* tg, const TaskDef& def) {
  // TG-10, checks in source order.
  const char* refused = !tg->entered                       ? "taskgroup_not_entered"
                        : tg->exiting && tg->tasks.empty() ? "taskgroup_finished"
                        : tg->aborting                     ? "taskgroup_shutting_down"
                                                           : nullptr;
  if (refused) {
    // RT-8: the refused coroutine, never started, warns when collected
    // unless create_task closed it (gh-115957).
    if (!prof_.tg_close_refused_coro) warnings_.push_back(WarningRecord{WarningRecord::Kind::kNeverAwaited, def.name});
    return NewRuntime(refused);
  }
  Task* t = NewTask(def.name, &def.body);
  Hit(RuleId::TG_12, "child of the group");
  tg->tasks.push_back(t);  // TG-12
  t->AddDoneCallback([this, tg](Future* f) { TaskGroupOnTaskDone(tg, static_cast<Task*>(f)); });
  return nullptr;
}

void Sim::TaskGroupAbort(TaskGroupObj* tg) {
  tg->aborting = true;
  // TG-2: cancel every child that is not done, in set order: a tie
  // (TiePoint::kGroupAbort), creation order by default.
  std::vector<Task*> snapshot = CancelOrder(TiePoint::kGroupAbort, tg->tasks);
  for (Task* t : snapshot)
    if (!t->done()) t->Cancel(std::nullopt);
}

void Sim::TaskGroupOnTaskDone(TaskGroupObj* tg, Task* task) {
  tg->tasks.erase(std::remove(tg->tasks.begin(), tg->tasks.end(), task), tg->tasks.end());
  if (tg->on_completed_fut && tg->tasks.empty() && !tg->on_completed_fut->done())
    tg->on_completed_fut->SetResult(Value{});  // TG-1
  if (task->cancelled()) {  // TG-6
    Hit(RuleId::TG_6, "cancelled child: no error");
    return;
  }
  ExcP exc = task->Exception();                // retrieves (RT-4)
  if (!exc) return;
  Hit(RuleId::TG_3, "child error collected");
  tg->errors.push_back(exc);  // TG-3: completion order
  if (IsBaseError(exc) && !tg->base_error) tg->base_error = exc;  // TG-5
  if (tg->parent->done()) {  // "Not sure if this case is possible"
    // RT-8: `self._loop.call_exception_handler({... 'exception': exc, 'task': task})`.
    handler_calls_.push_back(HandlerCall{HandlerCall::Kind::kParentDone, task->name, ToExc(exc)});
    return;
  }
  if (!tg->aborting && !tg->parent_cancel_requested) {
    // TG-2: abort and cancel the parent once.
    Hit(RuleId::TG_2, "first failure: abort, cancel the parent");
    TaskGroupAbort(tg);
    tg->parent_cancel_requested = true;
    tg->parent->Cancel(std::nullopt);
  }
}

Co<Unit> Sim::TaskGroupExit(TaskGroupObj* tg, ExcP exc) {
  tg->exiting = true;
  if (exc && IsBaseError(exc) && !tg->base_error) tg->base_error = exc;  // TG-5
  ExcP propagate = IsCancelled(exc) ? exc : nullptr;
  if (!prof_.tg_uncancel_after_wait && tg->parent_cancel_requested) {
    // TG-9 (3.11/3.12): uncancel at the top, before waiting.
    Hit(RuleId::TG_9, "uncancel the parent before waiting");
    if (--tg->parent->num_cancels_requested < 0) tg->parent->num_cancels_requested = 0;
    if (tg->parent->num_cancels_requested == 0) propagate = nullptr;
  }
  if (IsCancelled(exc)) Hit(RuleId::TG_7, "parent cancelled in the body");
  if (exc && !tg->aborting) TaskGroupAbort(tg);  // TG-4, TG-7
  Hit(RuleId::TG_1, "exit waits for the children");
  while (!tg->tasks.empty()) {                   // TG-1
    if (!tg->on_completed_fut) tg->on_completed_fut = NewFuture();
    Caught<Value> w = co_await CatchFuture{{this, tg->on_completed_fut}};
    if (w.exc) {
      if (!IsCancelled(w.exc)) {
        std::exception_ptr e = ProgramError(std::move(w.exc));
        co_await RaiseNow(std::move(e));
      }
      Hit(RuleId::TG_8, "parent cancelled in __aexit__");
      if (!tg->aborting) {  // TG-8
        propagate = w.exc;
        TaskGroupAbort(tg);
      }
    }
    tg->on_completed_fut = nullptr;
  }
  if (tg->base_error) {  // TG-5
    Hit(RuleId::TG_5, "base error propagates alone");
    std::exception_ptr e = ProgramError(tg->base_error);
    co_await RaiseNow(std::move(e));
  }
  if (prof_.tg_uncancel_after_wait && tg->parent_cancel_requested) {
    // TG-9 (3.13): uncancel after the wait.
    Hit(RuleId::TG_9, "uncancel the parent after waiting");
    Task* p = tg->parent;
    if (p->num_cancels_requested > 0) --p->num_cancels_requested;
    if (prof_.uncancel_clears_must_cancel && p->num_cancels_requested == 0) p->must_cancel = false;
    if (p->num_cancels_requested == 0) propagate = nullptr;
  }
  if (propagate && tg->errors.empty()) {  // TG-7
    std::exception_ptr e = ProgramError(std::move(propagate));
    co_await RaiseNow(std::move(e));
  }
  if (exc && !IsCancelled(exc)) Hit(RuleId::TG_4, "the body's error joins");
  if (exc && !IsCancelled(exc)) tg->errors.push_back(exc);        // TG-4
  if (!tg->errors.empty()) {
    if (tg->parent->num_cancels_requested > 0) Hit(RuleId::TG_11, "errors raised under an outer cancel");
    if (prof_.tg_recancel_parent && tg->parent->num_cancels_requested > 0) {
      // TG-11: uncancel + cancel keeps the count and re-arms delivery.
      Task* p = tg->parent;
      --p->num_cancels_requested;
      if (prof_.uncancel_clears_must_cancel && p->num_cancels_requested == 0) p->must_cancel = false;
      p->Cancel(std::nullopt);
    }
    ExcP g = NewGroup(tg->errors);  // TG-3, EG-1, EG-2
    Hit(RuleId::EG_1, IsException(g) ? "ExceptionGroup" : "BaseExceptionGroup");
    if (Recording() && std::any_of(g->children.begin(), g->children.end(),
                                   [](const ExcP& c) { return c->type == Exc::Type::kGroup; }))
      Hit(RuleId::EG_2, "a nested group is one child");
    tg->errors.clear();
    std::exception_ptr e = ProgramError(std::move(g));
    co_await RaiseNow(std::move(e));
  }
  co_return Unit{};
}

Co<Unit> Sim::DoGroup(const Group& g) {
  TaskGroupObj* tg = groups_.at(g.name).get();
  ExcP raised;
  // __aenter__ (no suspension).
  if (tg->entered) {
    raised = NewRuntime("other");  // "has already been entered"
  } else {
    tg->parent = current;
    tg->entered = true;
    ExcP body_exc = (co_await Catch(ExecBody(g.body))).exc;
    ExcP exit_exc = (co_await Catch(TaskGroupExit(tg, body_exc))).exc;
    // __aexit__ returned None: the body's exception goes on.
    raised = exit_exc ? exit_exc : body_exc;
  }
  RecordScope(g.name, raised, std::nullopt, std::nullopt, false);
  if (raised) {
    std::exception_ptr e = ProgramError(std::move(raised));
    co_await RaiseNow(std::move(e));
  }
  co_return Unit{};
}

// ---- gather ----

Co<Unit> Sim::DoGather(const Gather& g) {
  std::vector<Future*> children;
  Hit(RuleId::GA_1, "children in argument order");
  for (const TaskDef& c : g.children) children.push_back(NewTask(c.name, &c.body));  // GA-1
  GatheringFuture* outer = GatherFutures(children, g.return_exceptions);
  co_await Pass(AwaitOuter(g.name, outer, true));
  co_return Unit{};
}

// ---- timeout (timeouts.py) ----

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
    tm->state = TimeoutObj::State::kExpiring;
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
    if (t->num_cancels_requested > 0) --t->num_cancels_requested;  // uncancel()
    if (prof_.uncancel_clears_must_cancel && t->num_cancels_requested == 0) t->must_cancel = false;
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
  tm->state = TimeoutObj::State::kEntered;
  tm->task = current;
  tm->cancelling = current->num_cancels_requested;
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

// ---- shield (SH-1..SH-3) ----

Co<Unit> Sim::DoShield(const Shield& s) {
  Task* inner = NewTask(s.task.name, &s.task.body);
  Future* outer = NewFuture();
  int inner_cb = inner->AddDoneCallback([this, outer](Future* in) {
    if (outer->cancelled()) {
      // "Mark inner's result as retrieved." (3.14 dropped it: PR gh-134343.)
      if (!in->cancelled() && prof_.shield_leaves_error_to_rt4) in->Exception();
      return;
    }
    Hit(RuleId::SH_2, "inner's outcome reaches the outer");
    if (in->cancelled()) {
      outer->Cancel(std::nullopt);  // SH-2
    } else {
      ExcP e = in->Exception();
      if (e) outer->SetException(e);
      else outer->SetResult(in->raw_result());
    }
  });
  outer->AddDoneCallback([this, inner, inner_cb](Future*) {
    if (!inner->done()) Hit(RuleId::SH_1, "outer cancelled, inner keeps running");
    if (!inner->done() && Recording()) shield_orphans_.push_back(inner);
    if (!inner->done()) inner->RemoveDoneCallback(inner_cb);  // SH-3
    if (!inner->done() && !prof_.shield_leaves_error_to_rt4) {
      // 3.14+ (gh-134331): "Keep only one callback to log on cancel".
      auto [it, fresh] = shield_log_cb_.try_emplace(inner, 0);
      if (!fresh) inner->RemoveDoneCallback(it->second);
      it->second = inner->AddDoneCallback([this](Future* in) {  // tasks.py _log_on_exception
        if (in->cancelled()) return;
        if (ExcP e = in->Exception()) {
          handler_calls_.push_back(
              HandlerCall{HandlerCall::Kind::kShielded, static_cast<Task*>(in)->name, ToExc(e)});
        }
      });
    }
  });
  co_await Pass(AwaitOuter(s.name, outer, false));
  co_return Unit{};
}

// `await outer` for gather and shield: records the scope's exit (what the
// await raised or returned) and re-raises.
Co<Unit> Sim::AwaitOuter(const std::string& name, Future* outer, bool gather) {
  Caught<Value> r = co_await CatchFuture{{this, outer}};
  if (r.exc) {
    RecordScope(name, r.exc, std::nullopt, std::nullopt, gather);
    std::exception_ptr e = ProgramError(std::move(r.exc));
    co_await RaiseNow(std::move(e));
  }
  RecordScope(name, nullptr, r.value, std::nullopt, gather);
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
    tm->state = TimeoutObj::State::kEntered;
    tm->task = current;
    tm->cancelling = current->num_cancels_requested;
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

// ---- try / except / except* / finally (EG-3..EG-5) ----

// Plain `except K` (EG-5): matches the exception object itself.
bool PlainMatches(const Handler& h, const ExcP& e) {
  switch (h.kind) {
    case CatchKind::kCancelled: return e->type == Exc::Type::kCancelled;
    case CatchKind::kTimeout: return e->type == Exc::Type::kTimeout;
    case CatchKind::kError:
      return e->type == Exc::Type::kError && (!h.label || *h.label == e->label);
    case CatchKind::kBase:
      return e->type == Exc::Type::kBase && (!h.label || *h.label == e->label);
    case CatchKind::kGroup: return e->type == Exc::Type::kGroup;
    case CatchKind::kRuntime: return e->type == Exc::Type::kRuntime;
    case CatchKind::kException: return IsException(e);
    case CatchKind::kAny: return true;
  }
  return false;
}

// BaseExceptionGroup.split(type) (EG-3): the whole (sub)group matches if it
// is an instance of the type; else leaves are tested and subgroups rebuilt
// with derive(); empty parts are null.
void Split(const ExcP& e, const std::function<bool(const ExcP&)>& match, ExcP* m, ExcP* r) {
  if (match(e)) {
    *m = e;
    *r = nullptr;
    return;
  }
  if (e->type != Exc::Type::kGroup) {
    *m = nullptr;
    *r = e;
    return;
  }
  std::vector<ExcP> ms, rs;
  for (const auto& c : e->children) {
    ExcP cm, cr;
    Split(c, match, &cm, &cr);
    if (cm) ms.push_back(cm);
    if (cr) rs.push_back(cr);
  }
  // New groups even when one side took every child: CPython's
  // exceptiongroup_subset always derives, and identity counts in except*
  // (a group a handler raises is a re-raise only if it is orig itself, EG-4).
  *m = ms.empty() ? nullptr : NewGroup(ms);
  *r = rs.empty() ? nullptr : NewGroup(rs);
}

void Leaves(const ExcP& e, std::set<const PyExc*>* out) {
  if (e->type == Exc::Type::kGroup) {
    for (const auto& c : e->children) Leaves(c, out);
  } else {
    out->insert(e.get());
  }
}

// What one except* clause (or the unmatched rest) contributes to
// PREP_RERAISE_STAR, and whether CPython counts it as a re-raise.
// is_same_exception_metadata (Objects/exceptions.c) calls an exception a
// re-raise when its traceback, context, cause and notes are *the same
// objects* as orig's, compared when the try statement ends. The split
// products (bare `raise`, the rest) copied orig's metadata when the first
// clause split it (exceptiongroup_subset), so they are re-raises as long as
// orig's own metadata has not changed since; orig itself always is. Anything
// else a handler raises is new, even a subgroup of orig that comes back
// through `await` of the task that raised it (its traceback is its own). And
// orig's metadata does change when orig is raised again after the split, by
// `await` of the task that holds it, in the handler or in any other task
// (Future.result() sets its __traceback__): then the split products no longer
// match orig and count as newly raised, next to orig's projection (found
// twice by //fuzz:differential_fuzz, checked against CPython 3.11-3.13).
struct StarExc {
  ExcP exc;
  bool split;  // a split product of orig
};

// Objects/exceptions.c _PyExc_PrepReraiseStar (EG-4). `orig_reraised` is
// orig->reraised when the first clause split orig.
ExcP PrepReraiseStar(const ExcP& orig, unsigned orig_reraised, const std::vector<StarExc>& excs) {
  if (orig->type != Exc::Type::kGroup) {
    // A naked exception: at most one except* clause ran.
    return excs.empty() ? nullptr : excs[0].exc;
  }
  const bool split_is_orig_metadata = orig->reraised == orig_reraised;
  std::vector<ExcP> raised, reraised;
  for (const auto& [e, split] : excs) {
    if (!e) continue;
    if (e == orig || (split && split_is_orig_metadata)) reraised.push_back(e);
    else raised.push_back(e);
  }
  std::set<const PyExc*> keep;
  for (const auto& e : reraised) Leaves(e, &keep);
  ExcP proj, rest;
  if (!keep.empty())
    Split(orig, [&](const ExcP& x) { return x->type != Exc::Type::kGroup && keep.count(x.get()) > 0; },
          &proj, &rest);
  if (raised.empty()) return proj;
  std::vector<ExcP> keep_list = raised;
  if (proj) keep_list.push_back(proj);
  if (keep_list.size() == 1) return keep_list[0];
  return NewGroup(keep_list);
}

bool StarMatches(const Handler& h, const ExcP& e) {
  // isinstance(e, T) for the handler's type T; a group is an instance of
  // Exception (if an ExceptionGroup) and of BaseException.
  if (e->type == Exc::Type::kGroup) {
    if (h.kind == CatchKind::kAny) return true;
    if (h.kind == CatchKind::kException) return IsException(e);
    return false;
  }
  return PlainMatches(h, e);
}

Co<Unit> Sim::RunHandler(const Handler& h, ExcP* raised) {
  out_.blocks[h.name] = BlockOutcome{now, std::nullopt};
  if (ExcP e = (co_await Catch(ExecBody(h.body))).exc) {
    *raised = std::move(e);  // the block did not run to its end
    co_return Unit{};
  }
  if (h.then == Then::kUncancel) {
    Task* t = current;
    Hit(RuleId::CX_9, "uncancel()");
    if (t->num_cancels_requested > 0) --t->num_cancels_requested;  // CX-9
    if (prof_.uncancel_clears_must_cancel && t->num_cancels_requested == 0) t->must_cancel = false;
  }
  out_.blocks[h.name].end = now;
  co_return Unit{};
}

Co<Unit> Sim::DoTry(const Try& t) {
  ExcP pending = (co_await Catch(ExecBody(t.body))).exc;
  ExcP out;
  if (IsCancelled(pending) && (t.finally || !t.handlers.empty())) Hit(RuleId::CX_6, "cleanup after a cancel");
  if (pending && !t.handlers.empty()) {
    if (!t.handlers[0].star) {
      out = pending;
      for (const Handler& h : t.handlers) {
        if (!PlainMatches(h, pending)) continue;
        ExcP hexc;
        co_await RunHandler(h, &hexc);
        if (hexc) out = hexc;
        else if (h.then == Then::kReraise) out = pending;
        else out = nullptr;
        if (!out && IsCancelled(pending)) Hit(RuleId::CX_10, "CancelledError swallowed");
        if (pending->type == Exc::Type::kGroup) Hit(RuleId::EG_5, "plain except on a group");
        break;
      }
    } else {
      // except*: CHECK_EG_MATCH per clause, then PREP_RERAISE_STAR.
      ExcP orig = pending;
      const unsigned orig_reraised = orig->reraised;
      ExcP rest = orig;
      std::vector<StarExc> excs;
      for (const Handler& h : t.handlers) {
        if (!rest) break;
        ExcP match, newrest;
        if (rest->type != Exc::Type::kGroup) {
          if (StarMatches(h, rest)) {
            match = NewGroup({rest});  // naked exception wrapped (EG-3)
            newrest = nullptr;
          } else {
            newrest = rest;
          }
        } else {
          Split(rest, [&](const ExcP& x) { return StarMatches(h, x); }, &match, &newrest);
        }
        rest = newrest;
        if (!match) continue;
        Hit(RuleId::EG_3, "except* split");
        ExcP hexc;
        co_await RunHandler(h, &hexc);
        if (hexc) excs.push_back({hexc, false});
        else if (h.then == Then::kReraise) excs.push_back({match, true});
      }
      excs.push_back({rest, true});
      out = PrepReraiseStar(orig, orig_reraised, excs);
      Hit(RuleId::EG_4, "what leaves a try with except*");
    }
  } else {
    out = pending;
  }
  if (t.finally) {
    out_.blocks[t.finally->name] = BlockOutcome{now, std::nullopt};
    ExcP fexc = (co_await Catch(ExecBody(t.finally->body))).exc;
    if (fexc) out = fexc;  // an exception in finally replaces the pending one
    else out_.blocks[t.finally->name].end = now;
  }
  RecordScope(t.name, out, std::nullopt, std::nullopt, false);
  if (out) {
    std::exception_ptr e = ProgramError(std::move(out));
    co_await RaiseNow(std::move(e));
  }
  co_return Unit{};
}

// ---------------------------------------------------------------------------
// asyncio.run (RT-1..RT-5).

void Sim::Collect(const Body& body) {
  // The driver makes every TaskGroup object up front ("not entered", TG-10).
  for (const Step& st : body) {
    const auto& op = st.op;
    if (const auto* g = std::get_if<Group>(&op)) {
      auto tg = std::make_unique<TaskGroupObj>();
      tg->name = g->name;
      groups_[g->name] = std::move(tg);
      Collect(g->body);
    } else if (const auto* s = std::get_if<Timeout>(&op)) {
      Collect(s->body);
    } else if (const auto* s = std::get_if<Try>(&op)) {
      Collect(s->body);
      for (const auto& h : s->handlers) Collect(h.body);
      if (s->finally) Collect(s->finally->body);
    } else if (const auto* s = std::get_if<CreateTask>(&op)) {
      Collect(s->task.body);
    } else if (const auto* s = std::get_if<Spawn>(&op)) {
      Collect(s->task.body);
    } else if (const auto* s = std::get_if<Shield>(&op)) {
      Collect(s->task.body);
    } else if (const auto* s = std::get_if<WaitFor>(&op)) {
      Collect(s->task.body);
    } else if (const auto* s = std::get_if<Gather>(&op)) {
      for (const auto& c : s->children) Collect(c.body);
    }
  }
}

// runners.py _cancel_all_tasks (RT-2).
void Sim::CancelAllTasks() {
  std::vector<Task*> to_cancel;
  for (auto& t : tasks_)
    if (!t->done()) to_cancel.push_back(t.get());  // WeakSet order: creation order here
  if (to_cancel.empty()) return;
  Hit(RuleId::RT_2, "leftover tasks cancelled and drained");
  // The WeakSet's order is a tie (TiePoint::kRunCancel); gather's argument
  // order does not matter (its callbacks only count).
  for (Task* t : CancelOrder(TiePoint::kRunCancel, to_cancel)) t->Cancel(std::nullopt);
  std::vector<Future*> futs(to_cancel.begin(), to_cancel.end());
  Future* drain = GatherFutures(futs, /*return_exceptions=*/true);
  RunUntilComplete(drain);
  if (escape_ && IsBaseError(escape_) && !deadlock_ && drain->done() && prof_.run_reports_stopped_drain_errors) {
    // RT-4, INV-2: the drain's gather completed (it retrieved every
    // leftover's exception) but a base error stopped the loop before
    // _cancel_all_tasks reported them: they are reported all the same.
    for (Task* t : to_cancel) {
      if (t->cancelled() || t->internal) continue;
      if (ExcP e = t->raw_exception()) {
        shutdown_unretrieved_.push_back(Unretrieved{t->name, ToExc(e)});
        handler_calls_.push_back(HandlerCall{HandlerCall::Kind::kRunShutdown, t->name, ToExc(e)});
      }
    }
  }
  if (Escaping()) return;  // RT-5, RT-6: raised out of _cancel_all_tasks
  for (Task* t : to_cancel) {
    if (t->cancelled()) continue;
    ExcP e = t->Exception();
    if (e && !t->internal) {
      // RT-4: "unhandled exception during asyncio.run() shutdown".
      shutdown_unretrieved_.push_back(Unretrieved{t->name, ToExc(e)});
      handler_calls_.push_back(HandlerCall{HandlerCall::Kind::kRunShutdown, t->name, ToExc(e)});
    }
  }
}

ModelRun Sim::Run() {
  ModelRun r;
  Collect(program_.main);
  static const Body kEmpty;
  Task* main = NewTask("main", &program_.main);
  ExcP run_raised;
  Hit(RuleId::RT_1, "run waits for main");
  RunUntilComplete(main);  // RT-1
  if (escape_) {
    // RT-5 (not RT-6: no stop request is older than main's own).
    Hit(RuleId::RT_3, "run raises the base error");
    run_raised = std::exchange(escape_, nullptr);
  } else if (!deadlock_) {
    Value ignored;
    run_raised = main->TakeResult(&ignored);  // RT-3: `return future.result()`
    Hit(RuleId::RT_3, "run returns main's result or raises its exception");
  }
  // Runner.close(): drain, then shutdown_asyncgens and
  // shutdown_default_executor, each a task that finishes at once.
  if (!deadlock_) {
    try {
      CancelAllTasks();  // RT-2
      if (!Escaping()) RunUntilComplete(NewTask("", &kEmpty, /*internal=*/true));
      if (!Escaping()) RunUntilComplete(NewTask("", &kEmpty, /*internal=*/true));
      // RT-5, RT-6: a base error escaping the drain, or a stale stop's
      // RuntimeError, leaves Runner.close() and replaces what run raises
      // (`with Runner(): ...` __exit__ raising).
      if (escape_) Hit(RuleId::RT_3, "run raises what leaves the drain");
      if (escape_) run_raised = std::exchange(escape_, nullptr);
    } catch (PyRaise& e) {
      // Only the RecursionError of a cancel() through an await cycle (see
      // Task::Cancel) can get here; it too leaves Runner.close().
      run_raised = e.exc;
    }
  }
  r.deadlock = deadlock_;

  for (auto& t : tasks_) {
    if (t->internal) continue;
    TaskOutcome& o = out_.tasks[t->name];
    o.start = t->start;
    o.end = t->end;
    // RT-7: a task that never started and whose done callback never ran (a stop or
    // a base error ended the loop first) ended at the final time: time does
    // not move while callbacks are ready.
    if (t->done() && !o.end) Hit(RuleId::RT_7, "end at the final time");
    if (t->done() && !o.end) o.end = now;
    if (t->cancelled()) {
      o.state = TaskOutcome::State::kCancelled;
      o.error = ToExc(t->cancel_exc ? t->cancel_exc : NewCancelled(t->cancel_message()));
    } else if (t->done()) {
      if (t->raw_exception()) {
        o.state = TaskOutcome::State::kRaised;
        o.error = ToExc(t->raw_exception());
      } else {
        o.state = TaskOutcome::State::kReturned;
        o.value = t->raw_result().str;
      }
    } else {
      o.state = TaskOutcome::State::kPending;
    }
  }
  if (run_raised) out_.run = ToExc(run_raised);
  // RT-4: flag-based unretrieved plus run's shutdown reports, by name.
  std::map<std::string, Exc> unr;
  for (auto& t : tasks_) {
    if (t->internal || !t->done() || t->cancelled()) continue;
    if (t->raw_exception() && t->log_traceback()) unr.emplace(t->name, ToExc(t->raw_exception()));
  }
  for (auto& u : shutdown_unretrieved_) unr.emplace(u.task, u.error);
  for (auto& [name, e] : unr) out_.unretrieved.push_back(Unretrieved{name, e});
  if (!unr.empty()) Hit(RuleId::RT_4, "unretrieved exceptions listed");
  for (Task* t : shield_orphans_) {
    if (t->done() && !t->cancelled() && t->raw_exception()) Hit(RuleId::SH_3, "shielded task failed after its shield");
  }
  // RT-8: what the exception handler hears when the tasks are collected:
  // a still-flagged exception (Future.__del__), a task still pending
  // (Task.__del__, a drain that a base error stopped).
  for (auto& t : tasks_) {
    if (t->internal) continue;
    if (!t->done()) {
      handler_calls_.push_back(HandlerCall{HandlerCall::Kind::kDestroyedPending, t->name, std::nullopt});
      // Its coroutine, never started, goes with it: "never awaited".
      if (!t->start) warnings_.push_back(WarningRecord{WarningRecord::Kind::kNeverAwaited, t->name});
    } else if (!t->cancelled() && t->raw_exception() && t->log_traceback()) {
      handler_calls_.push_back(HandlerCall{HandlerCall::Kind::kNeverRetrieved, t->name, ToExc(t->raw_exception())});
    }
  }
  std::stable_sort(handler_calls_.begin(), handler_calls_.end());
  std::stable_sort(warnings_.begin(), warnings_.end());
  out_.handler = std::move(handler_calls_);
  out_.warnings = std::move(warnings_);
  out_.end_time = now;
  r.outcome = std::move(out_);
  r.tie_points = tie_points_;
  r.rules_hit = hits_;
  r.trace = std::move(trace_);
  return r;
}

void Sim::Record(RuleId r, const char* what) {
  hits_.set(static_cast<std::size_t>(r));
  if (recording_ == RuleRecording::kTrace) trace_.push_back({r, now, current ? current->name : std::string(), what});
}

// ---------------------------------------------------------------------------
// Freedom under ties.

bool ExcEquiv(const Exc& a, const Exc& b) {
  if (a.type != b.type) return false;
  if (a.type != Exc::Type::kGroup) return a == b;
  if (a.base_group != b.base_group || a.children.size() != b.children.size()) return false;
  std::vector<bool> used(b.children.size(), false);
  for (const Exc& ca : a.children) {
    bool found = false;
    for (size_t i = 0; i < b.children.size(); ++i) {
      if (!used[i] && ExcEquiv(ca, b.children[i])) {
        used[i] = true;
        found = true;
        break;
      }
    }
    if (!found) return false;
  }
  return true;
}

bool OptExcEquiv(const std::optional<Exc>& a, const std::optional<Exc>& b) {
  if (a.has_value() != b.has_value()) return false;
  return !a || ExcEquiv(*a, *b);
}

}  // namespace

ModelRun RunModelDetailed(const Program& program, const Profile& profile) {
  return RunModelDetailed(program, profile, nullptr);
}

ModelRun RunModelDetailed(const Program& program, const Profile& profile, TieOracle* oracle) {
  Sim sim(program, profile, oracle);
  return sim.Run();
}

Outcome RunModel(const Program& program, const Profile& profile) {
  return RunModelDetailed(program, profile).outcome;
}

ModelRun RunModelRecorded(const Program& program, const Profile& profile, RuleRecording recording) {
  Sim sim(program, profile, nullptr);
  sim.recording_ = recording;
  return sim.Run();
}

bool ExcEquivalent(const Exc& a, const Exc& b) { return ExcEquiv(a, b); }

bool OutcomeAllowed(const Outcome& m, const Outcome& o, std::string* why) {
  auto fail = [&](const std::string& s) {
    if (why) *why = s;
    return false;
  };
  if (m.end_time != o.end_time) return fail("end_time differs");
  if (!OptExcEquiv(m.run, o.run)) return fail("run differs (RT-3)");
  if (m.blocks != o.blocks) return fail("blocks differ");
  if (m.tasks.size() != o.tasks.size()) return fail("task sets differ");
  for (const auto& [name, mt] : m.tasks) {
    auto it = o.tasks.find(name);
    if (it == o.tasks.end()) return fail("task " + name + " missing");
    const TaskOutcome& ot = it->second;
    if (mt.start != ot.start || mt.end != ot.end || mt.state != ot.state || mt.value != ot.value ||
        !OptExcEquiv(mt.error, ot.error))
      return fail("task " + name + " differs");
  }
  if (m.scopes.size() != o.scopes.size()) return fail("scope sets differ");
  for (const auto& [name, ms] : m.scopes) {
    auto it = o.scopes.find(name);
    if (it == o.scopes.end()) return fail("scope " + name + " missing");
    const ScopeOutcome& os = it->second;
    if (ms.end != os.end || ms.value != os.value || ms.expired != os.expired ||
        !OptExcEquiv(ms.raised, os.raised))
      return fail("scope " + name + " differs");
    if (ms.items.has_value() != os.items.has_value()) return fail("scope " + name + " items differ");
    if (ms.items) {
      if (ms.items->size() != os.items->size()) return fail("scope " + name + " items differ");
      for (size_t i = 0; i < ms.items->size(); ++i) {
        if ((*ms.items)[i].value != (*os.items)[i].value ||
            !OptExcEquiv((*ms.items)[i].error, (*os.items)[i].error))
          return fail("scope " + name + " items differ");
      }
    }
  }
  // RT-8: the optional channels, when both sides observed them.
  if (m.handler && o.handler) {
    if (m.handler->size() != o.handler->size()) return fail("exception handler calls differ (RT-8)");
    for (size_t i = 0; i < m.handler->size(); ++i) {
      const HandlerCall &a = (*m.handler)[i], &b = (*o.handler)[i];
      if (a.kind != b.kind || a.task != b.task || !OptExcEquiv(a.error, b.error))
        return fail("exception handler calls differ (RT-8)");
    }
  }
  if (m.warnings && o.warnings && *m.warnings != *o.warnings) return fail("warnings differ (RT-8)");
  if (m.unretrieved.size() != o.unretrieved.size()) return fail("unretrieved differs (RT-4)");
  for (size_t i = 0; i < m.unretrieved.size(); ++i) {
    if (m.unretrieved[i].task != o.unretrieved[i].task ||
        !ExcEquiv(m.unretrieved[i].error, o.unretrieved[i].error))
      return fail("unretrieved differs (RT-4)");
  }
  return true;
}

}  // namespace asyncspec::spec
