// TaskGroup: taskgroups.py's create_task, _abort, _on_task_done, __aenter__
// and __aexit__ (TG-1..TG-12), over the state machine of taskgroups.h.
//
// Design. A group is structured concurrency's contract: its block does not
// end before every child has (TG-1); the first failure cancels the rest and
// the parent once (TG-2), and the errors leave as one ExceptionGroup in
// completion order (TG-3, EG-1), a base error alone (TG-5). Everything else
// is how the group shares the parent's cancel count with whoever else
// cancels the parent: it cancels the parent at most once
// (parent_cancel_requested), withdraws exactly that request (TG-9, before
// or after the wait depending on the release), absorbs an outside
// cancellation only while it has no errors to raise (TG-7, TG-8), and
// re-arms one it would lose (TG-11). Each function is the CPython method of
// the same name, in CPython's statement order, because the order of
// cancel() calls and done callbacks is the outcome.
#include <algorithm>
#include <exception>
#include <utility>

#include "spec/model/sim.h"

namespace asyncspec::spec::sim {

ExcP Sim::TaskGroupCreateTask(TaskGroupObj* tg, const TaskDef& def) {
  // TG-10, checks in source order.
  const char* refused = !tg->entered()                       ? "taskgroup_not_entered"
                        : tg->exiting() && tg->tasks.empty() ? "taskgroup_finished"
                        : tg->aborting()                     ? "taskgroup_shutting_down"
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
  tg->BeginAbort();
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
  if (!tg->aborting() && !tg->parent_cancel_requested) {
    // TG-2: abort and cancel the parent once.
    Hit(RuleId::TG_2, "first failure: abort, cancel the parent");
    TaskGroupAbort(tg);
    tg->parent_cancel_requested = true;
    tg->parent->Cancel(std::nullopt);
  }
}

Co<Unit> Sim::TaskGroupExit(TaskGroupObj* tg, ExcP exc) {
  tg->BeginExit();
  if (exc && IsBaseError(exc) && !tg->base_error) tg->base_error = exc;  // TG-5
  ExcP propagate = IsCancelled(exc) ? exc : nullptr;
  if (!prof_.tg_uncancel_after_wait && tg->parent_cancel_requested) {
    // TG-9 (3.11/3.12): uncancel at the top, before waiting.
    Hit(RuleId::TG_9, "uncancel the parent before waiting");
    if (--tg->parent->num_cancels_requested < 0) tg->parent->num_cancels_requested = 0;
    if (tg->parent->num_cancels_requested == 0) propagate = nullptr;
  }
  if (IsCancelled(exc)) Hit(RuleId::TG_7, "parent cancelled in the body");
  if (exc && !tg->aborting()) TaskGroupAbort(tg);  // TG-4, TG-7
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
      if (!tg->aborting()) {  // TG-8
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
    if (tg->parent->Uncancel(prof_.uncancel_clears_must_cancel) == 0) propagate = nullptr;
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
      tg->parent->Uncancel(prof_.uncancel_clears_must_cancel);
      tg->parent->Cancel(std::nullopt);
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
  if (tg->entered()) {
    raised = NewRuntime("other");  // "has already been entered"
  } else {
    tg->Enter(current);
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

}  // namespace asyncspec::spec::sim
