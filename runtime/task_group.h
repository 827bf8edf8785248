// asyncio.TaskGroup (3.13's taskgroups.py), as a scope.
//
//   rt::TaskGroup tg;
//   co_await tg.run([&]() -> rt::Coro<> {      // async with TaskGroup() as tg:
//     auto a = tg.create_task(work(1));        //     a = tg.create_task(work(1))
//     co_await rt::sleep(1);
//   });                                        // waits for every child
//
// or `co_await rt::task_group([&](rt::TaskGroup& tg) -> rt::Coro<> {...})`.
//
// The contract, each rule in spec/RULES.md:
// - run() returns only when every child is done (TG-1).
// - The first child to fail with something other than CancelledError makes
//   the group abort: every other child is cancelled and so is the parent
//   task, which interrupts the body at its current await (TG-2).
// - All errors of the children and of the body are raised together, in the
//   order they happened, as ExceptionGroup('unhandled errors in a TaskGroup',
//   [...]) (BaseExceptionGroup if a leaf is a base exception) (TG-3, TG-4).
// - A KeyboardInterrupt or SystemExit from a child or the body is raised
//   alone, ungrouped, once all children are done (TG-5).
// - A cancellation of the parent from outside (in the body or while run()
//   waits for the children) aborts the group and propagates as
//   CancelledError, unless errors take priority (TG-7, TG-8).
// - The group cancels its parent only once and undoes that with uncancel()
//   when it exits, so an outer cancellation is never swallowed (TG-9).
// - create_task on a group not entered, finished, or shutting down throws
//   RuntimeError (TG-10).
// Differences with 3.11 and 3.12 are listed in DESIGN.md.
#ifndef ASYNCSPEC_RUNTIME_TASK_GROUP_H_
#define ASYNCSPEC_RUNTIME_TASK_GROUP_H_

#include <cassert>
#include <cstddef>
#include <exception>
#include <functional>
#include <vector>

#include "runtime/core.h"
#include "runtime/mutants.h"

namespace asyncspec::rt {

class TaskGroup final : Scope, Waiter {
 public:
  TaskGroup() = default;
  TaskGroup(const TaskGroup&) = delete;
  TaskGroup& operator=(const TaskGroup&) = delete;
  ~TaskGroup();

  // Precondition: called from the task that awaits run() (or any task, as in
  // asyncio) while the group is alive.
  template <class T>
  TaskRef<T> create_task(Coro<T> c) {
    CheckCanCreate();
    TaskRef<T> ref(detail::Spawn(std::move(c)));
    Adopt(ref.state());
    return ref;
  }
  template <class T>
  TaskRef<T> create_task(Coro<T> c, std::string name) {
    CheckCanCreate();
    TaskRef<T> ref(detail::Spawn(std::move(c)));
    ref.set_name(std::move(name));
    Adopt(ref.state());
    return ref;
  }

  // `async with self:` around `body()`. F is a callable returning Coro<void>,
  // taking no argument or TaskGroup&.
  template <class F>
  auto run(F body) {
    return RunAwaiter<F>(*this, std::move(body));
  }

  // The RuntimeError create_task would throw now (TG-10), or null when it
  // would create the task. For a caller that passes the refusal on without
  // a throw (rt::RaiseError); create_task itself still throws it.
  std::exception_ptr create_task_error() const { return Refuses() ? Refusal() : nullptr; }

  std::size_t size() const { return n_tasks_; }
  bool entered() const { return entered_; }
  bool aborting() const { return aborting_; }

 private:
  // Not an aggregate (GCC 12 destroyed braced aggregate awaiters twice, see
  // RaiseCancelled); its destructor is idempotent anyway.
  template <class F>
  class RunAwaiter {
   public:
    RunAwaiter(TaskGroup& g, F f) : tg(g), fn(std::move(f)) {}
    RunAwaiter(const RunAwaiter&) = delete;
    // For a frame of its own (try_await). Precondition: `o` not awaited yet.
    RunAwaiter(RunAwaiter&& o) : tg(o.tg), fn(std::move(o.fn)) { assert(!o.suspended); }
    // The awaiting frame destroyed while suspended in run() (the loop torn
    // down with the task still pending, RT-5): the body goes with it, now,
    // while the loop is alive, rather than when the group is destroyed,
    // which may be after the loop if the group is not a local of the frame
    // (its timers and awaits unregister from the loop; found by
    // //fuzz:differential_fuzz as a use of the loop after it was gone).
    ~RunAwaiter() {
      if (suspended) tg.body_.reset();
    }
    bool await_ready() const noexcept { return false; }
    template <class P>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<P> h) {
      if constexpr (std::is_invocable_v<F&, TaskGroup&>) {
        tg.body_ = fn(tg);
      } else {
        tg.body_ = fn();
      }
      std::coroutine_handle<> body = tg.Enter(&h.promise());  // may refuse (throw)
      suspended = true;
      return detail::Transfer(body);
    }
    void await_resume() {
      if (std::exception_ptr e = resume_error()) std::rethrow_exception(std::move(e));
    }
    // What await_resume() would throw, or null (try_await.h, ResumesWithError).
    std::exception_ptr resume_error() {
      suspended = false;
      return tg.Exit();
    }

   private:
    TaskGroup& tg;
    F fn;
    bool suspended = false;
  };

  std::string Repr() const;
  bool Refuses() const {
    return !entered_ || (exiting_ && n_tasks_ == 0) || (aborting_ && !ASYNCSPEC_MUTANT(M11));
  }
  void CheckCanCreate() const {
    if (Refuses()) std::rethrow_exception(Refusal());
  }
  // Precondition: Refuses().
  std::exception_ptr Refusal() const;
  void Adopt(TaskState* t);
  std::coroutine_handle<> Enter(PromiseBase* parent);
  // __aexit__'s end: what run() raises, or null.
  std::exception_ptr Exit();
  void Abort();
  Action WaitOrFinish();
  Action Finish();
  friend void detail::GroupTaskDone(TaskGroup* g, TaskState* t);
  void OnTaskDone(TaskState* t);

  Action OnBodyDone(PromiseBase* body, Completion how, const Msg& msg) override;
  Action OnWaitDone(bool cancelled, const Msg& msg) override;
  bool Cancel(const Msg& msg) override;  // _on_completed_fut.cancel()

  // State (the names are taskgroups.py's).
  bool entered_ = false;
  bool exiting_ = false;
  bool aborting_ = false;
  bool parent_cancel_requested_ = false;
  TaskState* parent_task_ = nullptr;
  PromiseBase* parent_frame_ = nullptr;
  TaskState* head_ = nullptr;  // children not done yet, in creation order
  TaskState* tail_ = nullptr;
  std::size_t n_tasks_ = 0;
  std::vector<std::exception_ptr> errors_;
  std::exception_ptr base_error_;
  // __aexit__'s locals.
  Completion body_how_ = Completion::kNone;
  std::exception_ptr body_error_;
  bool propagate_cancel_ = false;
  Msg propagate_msg_;
  // _on_completed_fut: exists while __aexit__ waits.
  bool waiting_ = false;
  bool fut_done_ = false;
  std::exception_ptr raise_;  // what run() raises
  Coro<void> body_;
};

// `async with asyncio.TaskGroup() as tg: body(tg)` with a group of its own.
template <class F>
Coro<void> task_group(F body) {
  TaskGroup tg;
  co_await tg.run(std::move(body));
}

}  // namespace asyncspec::rt

#endif  // ASYNCSPEC_RUNTIME_TASK_GROUP_H_
