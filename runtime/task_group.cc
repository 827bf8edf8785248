#include "runtime/task_group.h"

#include <algorithm>
#include <cassert>
#include <vector>

#include "runtime/mutants.h"

namespace asyncspec::rt {

TaskGroup::~TaskGroup() {
  // A group is destroyed only after run() returned, so it has no children;
  // if the loop is being torn down with the group still entered, drop links.
  for (TaskState* t = head_; t;) {
    TaskState* next = t->group_next;
    t->group = nullptr;
    t->group_prev = t->group_next = nullptr;
    detail::Release(t);
    t = next;
  }
}

std::string TaskGroup::Repr() const {
  std::string s = "<TaskGroup";
  if (n_tasks_) s += " tasks=" + std::to_string(n_tasks_);
  if (!errors_.empty()) s += " errors=" + std::to_string(errors_.size());
  if (aborting_) {
    s += " cancelling";
  } else if (entered_) {
    s += " entered";
  }
  return s + ">";
}

// TaskGroup.create_task's refusals (TG-10).
std::exception_ptr TaskGroup::Refusal() const {
  if (!entered_) return std::make_exception_ptr(RuntimeError("TaskGroup " + Repr() + " has not been entered"));
  if (exiting_ && n_tasks_ == 0) return std::make_exception_ptr(RuntimeError("TaskGroup " + Repr() + " is finished"));
  assert(aborting_);
  return std::make_exception_ptr(RuntimeError("TaskGroup " + Repr() + " is shutting down"));
}

void TaskGroup::Adopt(TaskState* t) {
  detail::Retain(t);  // the group's reference, dropped in _on_task_done
  t->group_prev = tail_;
  t->group_next = nullptr;
  (tail_ ? tail_->group_next : head_) = t;
  tail_ = t;
  ++n_tasks_;
  t->group = this;  // _on_task_done, the task's first done callback
}

// __aenter__, then the body starts inline (no suspension point).
std::coroutine_handle<> TaskGroup::Enter(PromiseBase* parent) {
  if (entered_) throw RuntimeError("TaskGroup " + Repr() + " has already been entered");
  parent_task_ = parent->task;
  if (!parent_task_) throw RuntimeError("TaskGroup " + Repr() + " cannot determine the parent task");
  entered_ = true;
  parent_frame_ = parent;
  Attach(body_.promise(), parent, this, body_.handle_slot());
  return body_.handle();
}

std::exception_ptr TaskGroup::Exit() {
  body_.reset();
  return std::exchange(raise_, nullptr);
}

void TaskGroup::Abort() {
  aborting_ = true;
  Loop* loop = Loop::Current();
  if (loop && loop->perturbed()) {
    // TG-2: `_abort()` iterates a set; any order obeys the rules. Snapshot
    // first: Cancel() never unlinks a child (that happens in its done
    // callback, a later iteration), but the order must not depend on that.
    std::vector<TaskState*> order;
    for (TaskState* t = head_; t; t = t->group_next) order.push_back(t);
    loop->PerturbOrder(order);
    for (TaskState* t : order) {
      if (!t->done()) t->Cancel(nullptr);
    }
    return;
  }
  for (TaskState* t = head_; t; t = t->group_next) {
    if (!t->done()) t->Cancel(nullptr);
  }
}

// __aexit__(et, exc, tb): the body finished (TG-1, TG-7).
Action TaskGroup::OnBodyDone(PromiseBase* body, Completion how, const Msg& msg) {
  exiting_ = true;
  body_how_ = how;
  if (how == Completion::kError) {
    body_error_ = body->error;
    if (IsBaseError(body_error_) && !base_error_) base_error_ = body_error_;  // TG-5
  }
  if (how == Completion::kCancelled) {
    propagate_cancel_ = true;
    propagate_msg_ = msg;
  }
  if (ASYNCSPEC_MUTANT(M30) && parent_cancel_requested_) {
    // M30: 3.11/3.12's order, uncancel at the top of __aexit__: a cancel
    // that arrives during the wait is then absorbed and lost, and one the
    // group makes during the wait is never undone (Finish skips it).
    if (parent_task_->Uncancel() == 0) propagate_cancel_ = false;
  }
  if (how != Completion::kValue && !aborting_) Abort();  // TG-4, TG-7
  return WaitOrFinish();
}

// `while self._tasks: await self._on_completed_fut`
Action TaskGroup::WaitOrFinish() {
  if (n_tasks_ == 0) return Finish();
  if (ASYNCSPEC_MUTANT(M01) && aborting_) {
    // M01: "they were all cancelled, no need to wait": forget the children.
    for (TaskState* t = std::exchange(head_, nullptr); t;) {
      TaskState* next = t->group_next;
      t->group = nullptr;
      t->group_prev = t->group_next = nullptr;
      detail::Release(t);
      t = next;
    }
    tail_ = nullptr;
    n_tasks_ = 0;
    return Finish();
  }
  waiting_ = true;
  fut_done_ = false;
  parent_task_->wait_scope = this;
  detail::SuspendOn(parent_task_, parent_frame_, this);
  return Action::Suspend();
}

// The parent task resumed in the wait: children done, or cancelled (TG-8).
Action TaskGroup::OnWaitDone(bool cancelled, const Msg& msg) {
  waiting_ = false;
  if (cancelled && !aborting_) {
    // "wrapper" is being cancelled while "foo" is still running.
    propagate_cancel_ = true;
    propagate_msg_ = msg;
    Abort();
  }
  return WaitOrFinish();
}

bool TaskGroup::Cancel(const Msg& msg) {
  if (!waiting_ || fut_done_) return false;
  fut_done_ = true;
  detail::Wake(parent_task_, true, msg);
  return true;
}

// The rest of __aexit__, once no child is left.
Action TaskGroup::Finish() {
  assert(n_tasks_ == 0);
  if (ASYNCSPEC_MUTANT(M09) && base_error_) {
    // M09: the base error is grouped with the others.
    if (body_how_ == Completion::kError) errors_.push_back(body_error_);
    if (std::find(errors_.begin(), errors_.end(), base_error_) == errors_.end()) errors_.push_back(base_error_);
    raise_ = MakeGroup("unhandled errors in a TaskGroup", std::move(errors_));
    errors_.clear();
    return Action::Resume(parent_frame_);
  }
  if (base_error_) {  // TG-5: a base error propagates alone
    raise_ = base_error_;
    errors_.clear();
    return Action::Resume(parent_frame_);
  }
  if (parent_cancel_requested_ && !ASYNCSPEC_MUTANT(M03) && !ASYNCSPEC_MUTANT(M30)) {  // M03: no uncancel(); M30: done early
    // TG-9: we cancelled the parent ourselves; undo it. If no other
    // cancellation is pending, do not propagate CancelledError.
    if (parent_task_->Uncancel() == 0) propagate_cancel_ = false;
  }
  if (propagate_cancel_ && errors_.empty()) {  // TG-8: errors take priority
    return Action::Unwind(parent_frame_, propagate_msg_);
  }
  if (body_how_ == Completion::kError) errors_.push_back(body_error_);  // TG-4
  if (!errors_.empty()) {
    // 3.13: if the parent is being cancelled from outside, uncancel and
    // re-cancel it, keeping the count stable (TG-11).
    if (parent_task_->num_cancels > 0 && !ASYNCSPEC_MUTANT(M29)) {  // M29: the outer request is dropped
      parent_task_->Uncancel();
      parent_task_->Cancel(nullptr);
    }
    raise_ = MakeGroup("unhandled errors in a TaskGroup", std::move(errors_));  // TG-3
    errors_.clear();
  }
  return Action::Resume(parent_frame_);
}

// _on_task_done (TG-2).
void detail::GroupTaskDone(TaskGroup* g, TaskState* t) { g->OnTaskDone(t); }

void TaskGroup::OnTaskDone(TaskState* t) {
  TaskGroup* self = this;
  (t->group_prev ? t->group_prev->group_next : self->head_) = t->group_next;
  (t->group_next ? t->group_next->group_prev : self->tail_) = t->group_prev;
  t->group_prev = t->group_next = nullptr;
  --self->n_tasks_;
  if (self->waiting_ && !self->fut_done_ && self->n_tasks_ == 0) {
    self->fut_done_ = true;  // _on_completed_fut.set_result(True)
    detail::Wake(self->parent_task_, false, nullptr);
  }
  if (ASYNCSPEC_MUTANT(M13) && t->cancelled()) {
    // M13: "a cancelled child failed too": its CancelledError is an error.
    Msg m = t->TakeCancelMsg();
    t->error = std::make_exception_ptr(m ? CancelledError(*m) : CancelledError());
  } else if (t->state != Completion::kError) {
    detail::Release(t);
    return;
  }
  if (!ASYNCSPEC_MUTANT(M25)) t->log_traceback = false;  // task.exception() retrieves it; M25: not
  std::exception_ptr exc = t->error;
  // The handler call below names the task ('task': task), which Release may free.
  std::string name = self->parent_task_->done() && t->name ? *t->name : std::string();
  detail::Release(t);
  if (!(ASYNCSPEC_MUTANT(M02) && !self->errors_.empty())) self->errors_.push_back(exc);  // M02: first only
  if (!self->base_error_ && IsBaseError(exc)) self->base_error_ = exc;
  if (self->parent_task_->done()) {
    Loop::Current()->CallExceptionHandler(
        {"Task has errored out but its parent task is already completed", exc, std::move(name)});
    return;
  }
  if (!self->aborting_ && !self->parent_cancel_requested_) {
    if (ASYNCSPEC_MUTANT(M12)) {
      self->aborting_ = true;  // M12: marked aborting, but the siblings are not cancelled
    } else {
      self->Abort();
    }
    self->parent_cancel_requested_ = true;
    if (!ASYNCSPEC_MUTANT(M10)) self->parent_task_->Cancel(nullptr);  // M10: the body runs on
  }
}

}  // namespace asyncspec::rt
