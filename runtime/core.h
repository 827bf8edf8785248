// The task machine: coroutine frames (Coro<T>), tasks (TaskState), scopes,
// and how cancellation unwinds a task without throwing.
//
// Design (see DESIGN.md for the long form)
// ----------------------------------------
// A *task* is asyncio's Task: a chain of coroutine frames that the loop
// steps. The root frame is the coroutine passed to create_task; each
// `co_await some_coro()` pushes a child frame that resumes its parent by
// symmetric transfer when it finishes, so a chain of 10,000 awaits costs no
// stack. The task remembers its innermost suspended frame.
//
// Cancellation follows asyncio 3.13's Task (tasks.py): cancel() counts the
// request (cancelling()), cancels what the task waits on (_fut_waiter) or
// sets must_cancel, and the CancelledError arrives when the task next
// resumes, at its innermost await (CX-2). In Python that error is thrown
// into the coroutine and unwinds it frame by frame. Here it is *not* thrown:
// the runtime destroys the frames from the innermost outwards (running their
// destructors, i.e. RAII cleanup) until it reaches a frame that catches
// cancellation, and a frame catches only by awaiting through a *scope*:
// try_await (the user-level idiom that turns an await into an Outcome),
// TaskGroup, timeout. Where nothing catches, cancelling a task costs no
// throw at all, which is what makes a cancel storm cheap (DESIGN.md).
// A CancelledError that user code throws itself is recognised when it
// reaches a scope or the task's root and unwinds the same way from there.
//
// Ordinary exceptions stay C++ exceptions: a frame that fails resumes its
// parent, whose co_await rethrows, so try/catch works as users expect.
#ifndef ASYNCSPEC_RUNTIME_CORE_H_
#define ASYNCSPEC_RUNTIME_CORE_H_

#include <cassert>
#include <coroutine>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include "runtime/detail/pool.h"
#include "runtime/errors.h"
#include "runtime/loop.h"
#include "runtime/mutants.h"

namespace asyncspec::rt {

template <class T = void>
class Coro;
template <class T = void>
class TaskRef;

// A cancel message (asyncio's `msg`); null means none.
using Msg = std::shared_ptr<const std::string>;
inline Msg MakeMsg(std::string s) { return std::make_shared<const std::string>(std::move(s)); }

enum class Completion : std::uint8_t { kNone, kValue, kError, kCancelled };

struct PromiseBase;
struct Scope;
class TaskGroup;

// Something a suspended task waits on (asyncio's Task._fut_waiter).
struct Waiter {
  // Future.cancel(msg): true if the wait absorbed the cancellation (it will
  // wake the task with CancelledError itself, or passed it on to a task).
  virtual bool Cancel(const Msg& msg) = 0;

 protected:
  ~Waiter() = default;
};

// A callback run when a task finishes (add_done_callback), intrusive.
struct DoneNode {
  DoneNode* next = nullptr;
  void (*fn)(DoneNode*, TaskState* done) = nullptr;
  TaskState* task = nullptr;  // the task being watched; null once run or removed
  void* ctx = nullptr;        // the callback's owner
  // Called instead of `fn` when the loop is destroyed with the callback
  // still queued (after a base error stopped it, RT-5): frees what `fn` would.
  void (*drop)(DoneNode*) = nullptr;
};

// What a scope wants to happen after it handled its body's completion.
struct Action {
  enum Kind : std::uint8_t { kResume, kUnwind, kSuspend } kind = kSuspend;
  PromiseBase* frame = nullptr;  // kResume: frame to resume; kUnwind: frame to unwind
  Msg msg;                       // kUnwind
  static Action Resume(PromiseBase* f) { return {kResume, f, {}}; }
  static Action Unwind(PromiseBase* f, Msg m) { return {kUnwind, f, std::move(m)}; }
  static Action Suspend() { return {}; }
};

// A catcher: something a frame awaits that receives its body's completion,
// including cancellation, instead of the frame itself.
struct Scope {
  // The body finished. kValue/kError: `body` is alive, read its result.
  // kCancelled: the body frame is already destroyed (`body` is null).
  virtual Action OnBodyDone(PromiseBase* body, Completion how, const Msg& msg) = 0;
  // The task was resumed while suspended in this scope's own wait.
  virtual Action OnWaitDone(bool cancelled, const Msg& msg);

 protected:
  ~Scope() = default;
};

// The state of one task (asyncio.Task minus the coroutine). Allocated from
// the pool; freed when the task is done and no TaskRef is left.
struct TaskState {
  std::uint32_t refs = 1;            // the loop's, while not done, + TaskRefs + dispatch
  std::uint32_t num_cancels = 0;     // cancelling()
  Completion state = Completion::kNone;
  bool must_cancel = false;          // deliver CancelledError at the next step (CX-2)
  bool wake_cancelled = false;       // woken by a cancelled wait
  bool log_traceback = false;        // raised, exception not retrieved yet (RT-4)
  bool in_cancel = false;            // guards cancel() recursion through await cycles
  bool cancel_exc_taken = false;     // CX-5: the CancelledError was handed out once
  bool cancel_msg_sticky = false;    // CX-4: cancelled as it returned; every retrieval has the message
  Msg cancel_msg;                    // for must_cancel, then the final CancelledError's
  Msg wake_msg;
  std::exception_ptr error;

  std::coroutine_handle<> root_handle;  // null once the root frame is gone
  PromiseBase* innermost = nullptr;     // frame to resume / unwind from
  Waiter* fut_waiter = nullptr;
  Scope* wait_scope = nullptr;

  DoneNode* cb_head = nullptr;
  DoneNode* cb_tail = nullptr;
  TaskState* live_prev = nullptr;       // Loop's list of live tasks
  TaskState* live_next = nullptr;

  // Membership of a TaskGroup: its _on_task_done is always the task's first
  // done callback (added at creation), so it is a pointer, not a DoneNode.
  TaskGroup* group = nullptr;
  TaskState* group_prev = nullptr;
  TaskState* group_next = nullptr;

  std::unique_ptr<std::string> name;
  void (*destroy)(TaskState*) = nullptr;  // frees the typed object

  bool done() const { return state != Completion::kNone; }
  // Future._make_cancelled_error (C version): the first retrieval of a
  // cancelled task's error gets the CancelledError that ended it, with its
  // message; later ones get a new CancelledError without one (CX-5).
  // A task cancelled "right before coro stops" has no CancelledError of its
  // own: each retrieval makes CancelledError(_cancel_message) (CX-4).
  Msg TakeCancelMsg() {
    if (cancel_msg_sticky || ASYNCSPEC_MUTANT(M36)) return cancel_msg;  // M36: every retrieval gets it
    if (cancel_exc_taken) return nullptr;
    cancel_exc_taken = true;
    return cancel_msg;
  }
  bool cancelled() const { return state == Completion::kCancelled; }

  // Task.cancel(msg) / cancelling() / uncancel() (CX-8, CX-9, CX-10).
  bool Cancel(const Msg& msg);
  std::uint32_t Uncancel() {
    if (ASYNCSPEC_MUTANT(M31) && num_cancels == 0) return --num_cancels;  // M31: no "not below 0" guard
    if (num_cancels > 0 && --num_cancels == 0 && !ASYNCSPEC_MUTANT(M26)) must_cancel = false;  // M26: kept
    return num_cancels;
  }
  void AddDoneCallback(DoneNode* n);
  void RemoveDoneCallback(DoneNode* n);
};

namespace detail {

void Destroy(TaskState* t);  // refs reached 0
void GroupTaskDone(TaskGroup* g, TaskState* t);  // TaskGroup._on_task_done
inline void Release(TaskState* t) {
  if (--t->refs == 0) Destroy(t);
}
inline void Retain(TaskState* t) { ++t->refs; }
// Frees a ready-queue entry that will never run (Loop's destructor).
void DropReadyEntry(Callback c);
// A loop callback that owns something (a reference): scheduled with
// CallSoon(&RunOwnedCall, call). If the loop is destroyed before it runs (a
// base error stopped it, RT-5), DropReadyEntry calls `drop` instead.
struct OwnedCall {
  void (*run)(OwnedCall*) = nullptr;
  void (*drop)(OwnedCall*) = nullptr;
};
void RunOwnedCall(void* call);
// Frees the done callbacks of a task whose callbacks will never run (the
// loop is destroyed with the task unfinished, or its dispatch unrun).
void DropDoneCallbacks(TaskState* t);


// The loop callback that runs one step of a task (Task.__step).
void Step(void* task);
// Complete `t` (root frame gone) and schedule its done callbacks.
void CompleteTask(TaskState* t, Completion how, const Msg& msg);
// Unwind a cancellation from frame `p` outwards; returns what to resume.
std::coroutine_handle<> Unwind(PromiseBase* p, Msg msg);
std::coroutine_handle<> Apply(TaskState* t, Action a);
// The frame `p` reached final_suspend.
std::coroutine_handle<> OnFrameDone(PromiseBase* p);
// A task suspends at a leaf await (sleep, await task, gather...).
void SuspendOn(TaskState* t, PromiseBase* frame, Waiter* w);
// Wake a task whose wait ended (call_soon(__wakeup)).
void Wake(TaskState* t, bool cancelled, const Msg& msg);

}  // namespace detail

namespace detail {
// Symmetric transfer. An await_suspend that returns the next frame's handle
// relies on the compiler turning that resume into a tail call; g++ 12 does so
// only when optimising and never under -fsanitize=address, where a chain of
// 10,000 nested awaits or TaskGroups would then overflow the stack. In those
// builds the handle is handed to a trampoline in Step instead, which resumes
// it after the current frame has returned: the same order, a flat stack.
#if defined(ASYNCSPEC_NO_POOL) || !defined(__OPTIMIZE__)
#define ASYNCSPEC_TRAMPOLINE 1
inline thread_local std::coroutine_handle<> trampoline_next;
inline std::coroutine_handle<> Transfer(std::coroutine_handle<> h) {
  if (h.address() == std::noop_coroutine().address()) return h;
  trampoline_next = h;
  return std::noop_coroutine();
}
inline void ResumeChain(std::coroutine_handle<> h) {
  h.resume();
  while (std::coroutine_handle<> n = std::exchange(trampoline_next, {})) n.resume();
}
#else
inline std::coroutine_handle<> Transfer(std::coroutine_handle<> h) { return h; }
inline void ResumeChain(std::coroutine_handle<> h) { h.resume(); }
#endif
}  // namespace detail

// The part of a Coro promise that the runtime sees.
struct PromiseBase {
  std::coroutine_handle<> self;          // this frame
  PromiseBase* parent = nullptr;         // the frame awaiting this one
  Scope* scope = nullptr;                 // the parent awaits through this scope
  std::coroutine_handle<>* owner = nullptr;  // the handle slot to clear if the runtime destroys us
  TaskState* task = nullptr;
  Completion completion = Completion::kNone;
  bool is_root = false;
  std::exception_ptr error;
  void (*to_task)(PromiseBase*, TaskState*) = nullptr;  // root: move the value into the task

  static void* operator new(std::size_t n) { return detail::Pool::Allocate(n); }
  static void operator delete(void* p, std::size_t n) noexcept { detail::Pool::Free(p, n); }

  std::suspend_always initial_suspend() noexcept { return {}; }
  struct FinalAwaiter {
    bool await_ready() noexcept { return false; }
    template <class P>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<P> h) noexcept {
      return detail::Transfer(detail::OnFrameDone(&h.promise()));
    }
    void await_resume() noexcept {}
  };
  FinalAwaiter final_suspend() noexcept { return {}; }
  void unhandled_exception() noexcept {
    error = std::current_exception();
    completion = Completion::kError;
  }
};

// Wire `child` to run inside the task of `parent_frame`, awaited by it.
inline void Attach(PromiseBase& child, PromiseBase* parent_frame, Scope* scope,
                   std::coroutine_handle<>* owner) {
  child.parent = parent_frame;
  child.task = parent_frame->task;
  child.scope = scope;
  child.owner = owner;
}

namespace detail {
template <class T>
struct ValuePromise : PromiseBase {
  template <class U>
  void return_value(U&& v) {
    value.emplace(std::forward<U>(v));
    completion = Completion::kValue;
  }
  T take() { return std::move(*value); }
  std::optional<T> value;
};
template <>
struct ValuePromise<void> : PromiseBase {
  void return_void() { completion = Completion::kValue; }
  void take() {}
};
}  // namespace detail

// A lazily started coroutine: runs when awaited (inside the awaiting task)
// or when handed to create_task / TaskGroup::create_task (as a new task).
// Move-only; destroying an unstarted Coro destroys its frame (coro.close()).
template <class T>
class [[nodiscard]] Coro {
 public:
  using value_type = T;
  struct promise_type : detail::ValuePromise<T> {
    Coro get_return_object() {
      auto h = std::coroutine_handle<promise_type>::from_promise(*this);
      this->self = h;
      return Coro(h);
    }
  };
  using handle_type = std::coroutine_handle<promise_type>;

  Coro() = default;
  Coro(Coro&& o) noexcept : h_(std::exchange(o.h_, {})) {}
  Coro& operator=(Coro&& o) noexcept {
    if (this != &o) {
      reset();
      h_ = std::exchange(o.h_, {});
    }
    return *this;
  }
  ~Coro() { reset(); }
  void reset() {
    if (h_) std::exchange(h_, {}).destroy();
  }
  explicit operator bool() const { return static_cast<bool>(h_); }
  promise_type& promise() const { return handle_type::from_address(h_.address()).promise(); }
  std::coroutine_handle<> handle() const { return h_; }
  std::coroutine_handle<>* handle_slot() { return &h_; }
  std::coroutine_handle<> release() { return std::exchange(h_, {}); }

  // Awaiting a Coro runs it in the awaiting task (`await coro()`).
  struct Awaiter {
    Coro& coro;
    bool await_ready() const noexcept { return false; }
    template <class P>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<P> parent) noexcept {
      static_assert(std::is_base_of_v<PromiseBase, P>, "await a Coro only from a Coro");
      Attach(coro.promise(), &parent.promise(), nullptr, coro.handle_slot());
      return detail::Transfer(coro.handle());
    }
    T await_resume() {
      auto& p = coro.promise();
      if (p.completion == Completion::kError) std::rethrow_exception(p.error);
      return p.take();
    }
  };
  Awaiter operator co_await() & { return Awaiter{*this}; }
  Awaiter operator co_await() && { return Awaiter{*this}; }

 private:
  explicit Coro(std::coroutine_handle<> h) : h_(h) {}
  std::coroutine_handle<> h_;
};

namespace detail {
template <class T>
struct TypedTask : TaskState {
  std::optional<T> value;
  static void Destroy(TaskState* t) {
    auto* self = static_cast<TypedTask*>(t);
    self->~TypedTask();
    Pool::Free(self, sizeof(TypedTask));
  }
  static void ToTask(PromiseBase* p, TaskState* t) {
    static_cast<TypedTask*>(t)->value.emplace(static_cast<ValuePromise<T>*>(p)->take());
  }
};
template <>
struct TypedTask<void> : TaskState {
  static void Destroy(TaskState* t) {
    auto* self = static_cast<TypedTask*>(t);
    self->~TypedTask();
    Pool::Free(self, sizeof(TypedTask));
  }
  static void ToTask(PromiseBase*, TaskState*) {}
};

// asyncio's loop.create_task: a new task whose first step is scheduled.
template <class T>
TypedTask<T>* Spawn(Coro<T>&& c) {
  void* mem = Pool::Allocate(sizeof(TypedTask<T>));
  auto* t = new (mem) TypedTask<T>();
  t->destroy = &TypedTask<T>::Destroy;
  auto& p = c.promise();
  p.is_root = true;
  p.task = t;
  p.to_task = &TypedTask<T>::ToTask;
  p.owner = &t->root_handle;
  t->root_handle = c.release();
  t->innermost = &p;
  Loop* loop = Loop::Current();
  assert(loop && "create_task needs a running loop (rt::run)");
  loop->Link(t);
  loop->CallSoon(&Step, t);
  return t;
}
}  // namespace detail

// Reference to a task, like a Python variable holding an asyncio.Task.
// Copying shares the task. Preconditions: used on the loop's thread, and not
// kept past the run() that created the task.
template <class T>
class TaskRef {
 public:
  TaskRef() = default;
  explicit TaskRef(TaskState* t) : t_(t) {
    if (t_) detail::Retain(t_);
  }
  TaskRef(const TaskRef& o) : TaskRef(o.t_) {}
  TaskRef(TaskRef&& o) noexcept : t_(std::exchange(o.t_, nullptr)) {}
  TaskRef& operator=(TaskRef o) noexcept {
    std::swap(t_, o.t_);
    return *this;
  }
  ~TaskRef() {
    if (t_) detail::Release(t_);
  }
  template <class U>
  TaskRef(const TaskRef<U>& o) requires std::is_void_v<T> : TaskRef(o.state()) {}

  explicit operator bool() const { return t_ != nullptr; }
  TaskState* state() const { return t_; }
  bool done() const { return t_->done(); }
  bool cancelled() const { return t_->cancelled(); }
  bool cancel() { return t_->Cancel(nullptr); }
  bool cancel(std::string msg) { return t_->Cancel(MakeMsg(std::move(msg))); }
  std::uint32_t cancelling() const { return t_->num_cancels; }
  std::uint32_t uncancel() { return t_->Uncancel(); }
  std::string name() const { return t_->name ? *t_->name : std::string(); }
  void set_name(std::string n) { t_->name = std::make_unique<std::string>(std::move(n)); }
  const Msg& cancel_message() const { return t_->cancel_msg; }

  // Task.exception(): null if it returned; marks the error retrieved.
  // Precondition: done and not cancelled.
  std::exception_ptr exception() const {
    assert(done() && !cancelled());
    t_->log_traceback = false;
    return t_->error;
  }
  // Task.result(): the value, or throws its exception / CancelledError /
  // RuntimeError (InvalidStateError) if not done.
  decltype(auto) result() const {
    if (std::exception_ptr e = result_error()) std::rethrow_exception(std::move(e));
    if constexpr (!std::is_void_v<T>) return static_cast<const T&>(*static_cast<detail::TypedTask<T>*>(t_)->value);
  }

  // result() without a throw: the exception result() would throw, or null
  // when it would return (the value is then result()'s). The effects are
  // result()'s: a failed task's error counts as retrieved (RT-4), and a
  // cancelled task's first retrieval takes its message, later ones get a
  // CancelledError without one (CX-5); so call it once where result() would
  // have been called once. For callers that only pass the error on (an
  // unwind costs thousands of instructions).
  std::exception_ptr result_error() const {
    if (!done()) return std::make_exception_ptr(RuntimeError("Result is not set."));
    if (cancelled()) {
      Msg m = t_->TakeCancelMsg();
      return m ? std::make_exception_ptr(CancelledError(*m)) : std::make_exception_ptr(CancelledError());
    }
    if (t_->state == Completion::kError) {
      t_->log_traceback = false;
      return RaisedAgain(t_->error);
    }
    return nullptr;
  }

  // `await task`: waits for it; if the awaiting task is cancelled meanwhile,
  // the cancellation is passed on to this task (CX-7). A cancelled task's
  // CancelledError propagates without a throw.
  struct Awaiter final : Waiter {
    TaskState* target;
    TaskState* waiting = nullptr;
    bool self_await = false;
    DoneNode node;
    explicit Awaiter(TaskState* t) : target(t) {}
    ~Awaiter() {
      if (node.task) target->RemoveDoneCallback(&node);
    }
    bool await_ready() const noexcept { return target->done() && !target->cancelled(); }
    template <class P>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<P> h) {
      PromiseBase* frame = &h.promise();
      if (target->done()) return detail::Transfer(detail::Unwind(frame, target->TakeCancelMsg()));  // awaiting a cancelled task
      waiting = frame->task;
      if (target == waiting) {
        // Task.__step: RuntimeError('Task cannot await on itself') is thrown
        // in at the next step, one iteration later (CX-11).
        self_await = true;
        detail::SuspendOn(waiting, frame, nullptr);
        Loop::Current()->CallSoon(&detail::Step, waiting);
        return std::noop_coroutine();
      }
      node.fn = &Awaiter::OnDone;
      node.ctx = this;
      target->AddDoneCallback(&node);
      detail::SuspendOn(waiting, frame, this);
      return std::noop_coroutine();
    }
    decltype(auto) await_resume() const {
      if (std::exception_ptr e = resume_error()) std::rethrow_exception(std::move(e));
      if constexpr (!std::is_void_v<T>) return static_cast<const T&>(*static_cast<detail::TypedTask<T>*>(target)->value);
    }
    // What await_resume() would throw, or null (try_await.h, ResumesWithError).
    std::exception_ptr resume_error() const {
      if (self_await) {
        return std::make_exception_ptr(RuntimeError("Task cannot await on itself: <Task pending name='" +
                                                    (target->name ? *target->name : std::string()) + "'>"));
      }
      if (target->state == Completion::kError) {
        target->log_traceback = false;
        return RaisedAgain(target->error);
      }
      return nullptr;
    }
    bool Cancel(const Msg& msg) override {
      if (ASYNCSPEC_MUTANT(M17)) {  // M17: stop waiting, leave the awaited task alone
        if (!node.task) return false;
        target->RemoveDoneCallback(&node);
        detail::Wake(waiting, true, msg);
        return true;
      }
      // M32: "it is finishing, its wake-up will come": the cancel counts as
      // absorbed, so no _must_cancel and the awaiter resumes with the result.
      if (ASYNCSPEC_MUTANT(M32) && target->done()) return true;
      return target->Cancel(msg);
    }
    static void OnDone(DoneNode* n, TaskState*) {  // Task.__wakeup, run as the done callback
      auto* self = static_cast<Awaiter*>(n->ctx);
      TaskState* w = self->waiting;
      if (self->target->cancelled()) {
        w->wake_cancelled = true;
        w->wake_msg = self->target->TakeCancelMsg();
      }
      detail::Step(w);
    }
  };
  Awaiter operator co_await() const { return Awaiter(t_); }

 private:
  TaskState* t_ = nullptr;
};

// asyncio.create_task(coro): a task outside any group.
template <class T>
TaskRef<T> create_task(Coro<T> c) {
  return TaskRef<T>(detail::Spawn(std::move(c)));
}
template <class T>
TaskRef<T> create_task(Coro<T> c, std::string name) {
  TaskRef<T> r(detail::Spawn(std::move(c)));
  r.set_name(std::move(name));
  return r;
}

// asyncio.current_task(). Precondition: called from inside a task.
TaskRef<void> current_task();

// task.add_done_callback(fn): `fn` runs on a loop iteration after the task is
// done (at once-scheduled if it already is). Allocates; not for hot paths.
void add_done_callback(const TaskRef<void>& task, std::function<void()> fn);

}  // namespace asyncspec::rt

#endif  // ASYNCSPEC_RUNTIME_CORE_H_
