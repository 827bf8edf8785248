// Tasks: tasks.py Task.__step, __wakeup and create_task (see sim.h).
//
// Design. Task.__step is where cancellation becomes an exception, and it is
// transcribed rule by rule: a pending _must_cancel turns whatever is thrown
// in into a CancelledError (CX-2); a coroutine that never ran and gets an
// exception raises it at once without running (CX-3); a CancelledError that
// escapes the coroutine cancels the task, and a return while _must_cancel
// is set cancels it too (CX-4); a base error is set on the task and leaves
// the loop (RT-5). Otherwise the coroutine yielded: a bare yield reschedules
// the step (SCHED-3), a future gets the task's __wakeup as done callback and
// becomes its _fut_waiter, cancelled at once if a cancel is still pending
// (CX-2). One step resumes the task's coroutine exactly once, with `current`
// set, as asyncio's current_task() is.
#include <stdexcept>
#include <utility>

#include "spec/model/sim.h"

namespace asyncspec::spec::sim {

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
    TaskFinished(t, std::move(result), std::move(raised));
    return;
  }
  TaskSuspended(t);
}

// The end of __step_run_and_handle_result when the coroutine stopped: its
// return value or exception settles the task (CX-4, RT-5).
void Sim::TaskFinished(Task* t, Value result, ExcP raised) {
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
}

// The end of __step_run_and_handle_result when the coroutine yielded: a bare
// yield reschedules the step (SCHED-3); a future is waited on (CX-2, CX-11).
void Sim::TaskSuspended(Task* t) {
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

}  // namespace asyncspec::spec::sim
