#include "runtime/core.h"

#include <cstdio>

#include "runtime/mutants.h"

namespace asyncspec::rt {

Action Scope::OnWaitDone(bool, const Msg&) {
  assert(false && "this scope never waits by itself");
  return Action::Suspend();
}

// Task.cancel (tasks.py): count the request, then cancel what the task waits
// on; if that cannot absorb it, deliver CancelledError at the next step.
bool TaskState::Cancel(const Msg& msg) {
  if (ASYNCSPEC_MUTANT(M34) && done()) return false;  // M34: the "done" check first, nothing retrieved
  log_traceback = false;  // as asyncio: cancel() of a failed task retrieves it
  if (done()) return false;
  if (!ASYNCSPEC_MUTANT(M14)) ++num_cancels;  // M14: requests not counted
  if (fut_waiter && !in_cancel) {
    in_cancel = true;  // an await cycle would recurse forever (RecursionError in CPython)
    const bool absorbed = fut_waiter->Cancel(msg);
    in_cancel = false;
    if (absorbed) return true;
  }
  if (!(ASYNCSPEC_MUTANT(M35) && must_cancel)) cancel_msg = msg;  // M35: the first request's message stays
  must_cancel = true;
  if (ASYNCSPEC_MUTANT(M15)) cancel_msg = nullptr;  // M15: message dropped
  return true;
}

namespace detail {
namespace {
// One done callback added to a task that was already done.
void DispatchOne(void* p) {
  auto* node = static_cast<DoneNode*>(p);
  TaskState* t = node->task;
  node->task = nullptr;
  node->fn(node, t);
  Release(t);
}
}  // namespace
}  // namespace detail

void TaskState::AddDoneCallback(DoneNode* n) {
  n->task = this;
  n->next = nullptr;
  if (done()) {  // add_done_callback on a done future schedules it at once
    detail::Retain(this);
    Loop::Current()->CallSoon(&detail::DispatchOne, n);
    return;
  }
  if (cb_tail) cb_tail->next = n; else cb_head = n;
  cb_tail = n;
}

void TaskState::RemoveDoneCallback(DoneNode* n) {
  DoneNode* prev = nullptr;
  for (DoneNode* c = cb_head; c; prev = c, c = c->next) {
    if (c != n) continue;
    (prev ? prev->next : cb_head) = c->next;
    if (cb_tail == c) cb_tail = prev;
    n->task = nullptr;
    return;
  }
}

TaskRef<void> current_task() {
  Loop* loop = Loop::Current();
  return TaskRef<void>(loop ? loop->current_task() : nullptr);
}

void add_done_callback(const TaskRef<void>& task, std::function<void()> fn) {
  struct Node {
    DoneNode node;
    std::function<void()> fn;
  };
  auto* n = new Node{{}, std::move(fn)};
  n->node.ctx = n;
  n->node.drop = [](DoneNode* d) { delete static_cast<Node*>(d->ctx); };
  n->node.fn = [](DoneNode* d, TaskState*) {
    auto* self = static_cast<Node*>(d->ctx);
    self->fn();
    delete self;
  };
  task.state()->AddDoneCallback(&n->node);
}

namespace detail {

void Destroy(TaskState* t) {
  if (t->log_traceback) {
    if (Loop* loop = Loop::Current()) {
      loop->CallExceptionHandler(
          {"Task exception was never retrieved", t->error, t->name ? *t->name : std::string()});
    }
  }
  t->destroy(t);
}

namespace {

// Future.__schedule_callbacks: asyncio queues each done callback as its own
// handle; one dispatch runs them all, in the same order. A callback that
// ends a task with a base error (a woken awaiter raising KeyboardInterrupt)
// stops the loop at once (RT-5), and asyncio's later callbacks stay queued,
// first in line: the drain's cancel() reaches an awaiter of this task before
// its wakeup runs (CX-4, found by //fuzz:differential_fuzz). So the rest of
// the dispatch goes back to the head of the ready queue.
void Dispatch(void* p) {
  auto* t = static_cast<TaskState*>(p);
  Loop* loop = Loop::Current();
  if (TaskGroup* g = std::exchange(t->group, nullptr)) GroupTaskDone(g, t);
  while (DoneNode* n = t->cb_head) {
    if (loop->stop_error()) {
      loop->CallAgainFirst(&Dispatch, t);  // keeps the loop's reference
      return;
    }
    t->cb_head = n->next;
    if (!t->cb_head) t->cb_tail = nullptr;
    n->task = nullptr;
    n->fn(n, t);
  }
  Release(t);
}

}  // namespace

void RunOwnedCall(void* call) {
  auto* c = static_cast<OwnedCall*>(call);
  c->run(c);
}

void DropDoneCallbacks(TaskState* t) {
  while (DoneNode* n = t->cb_head) {
    t->cb_head = n->next;
    n->task = nullptr;
    if (n->drop) n->drop(n);
  }
  t->cb_tail = nullptr;
}

void DropReadyEntry(Callback c) {
  if (c.fn == &Dispatch) {
    auto* t = static_cast<TaskState*>(c.obj);
    t->group = nullptr;  // the group, if alive, drops its own reference
    DropDoneCallbacks(t);
    Release(t);
  } else if (c.fn == &DispatchOne) {
    auto* n = static_cast<DoneNode*>(c.obj);
    TaskState* t = n->task;
    n->task = nullptr;
    if (n->drop) n->drop(n);
    Release(t);
  } else if (c.fn == &RunOwnedCall) {
    auto* o = static_cast<OwnedCall*>(c.obj);
    if (o->drop) o->drop(o);
  }
  // Task steps and timer firings own nothing.
}

namespace {

void DestroyFrame(PromiseBase* p) {
  if (p->owner) *p->owner = nullptr;
  p->self.destroy();
}

// A CancelledError that user code threw is a cancellation, not an error, once
// it reaches a scope or the task's root (CX-4). Returns its message.
Msg ReclassifyThrownCancel(PromiseBase* p) {
  const CancelledError* e = ExceptionAs<CancelledError>(p->error);
  if (!e) return nullptr;
  Msg msg = e->has_message() ? MakeMsg(e->message()) : nullptr;
  p->completion = Completion::kCancelled;
  p->error = nullptr;  // (after reading *e: this may free it)
  return msg;
}

}  // namespace

void CompleteTask(TaskState* t, Completion how, const Msg& msg) {
  t->state = how;
  t->innermost = nullptr;
  t->fut_waiter = nullptr;
  Loop* loop = Loop::Current();
  if (how == Completion::kError) {
    t->log_traceback = !ASYNCSPEC_MUTANT(M23);  // M23: never flagged as unretrieved
    if (IsBaseError(t->error) && !ASYNCSPEC_MUTANT(M28)) loop->Stop(t->error);  // RT-5; M28: loop runs on
  }
  if (how == Completion::kCancelled) t->cancel_msg = msg;
  loop->Unlink(t);
  if (t->cb_head || t->group) {
    loop->CallSoon(&Dispatch, t);  // the loop's reference goes to the dispatch
  } else {
    Release(t);  // the loop's reference
  }
}

std::coroutine_handle<> Unwind(PromiseBase* p, Msg msg) {
  for (;;) {
    TaskState* t = p->task;
    if (p->is_root) {
      DestroyFrame(p);
      CompleteTask(t, Completion::kCancelled, msg);
      return std::noop_coroutine();
    }
    Scope* s = p->scope;
    PromiseBase* parent = p->parent;
    DestroyFrame(p);
    if (!s) {
      p = parent;
      continue;
    }
    Action a = s->OnBodyDone(nullptr, Completion::kCancelled, msg);
    if (a.kind != Action::kUnwind) return Apply(t, std::move(a));
    p = a.frame;
    msg = std::move(a.msg);
  }
}

std::coroutine_handle<> Apply(TaskState* t, Action a) {
  switch (a.kind) {
    case Action::kResume:
      t->innermost = a.frame;
      return a.frame->self;
    case Action::kUnwind:
      return Unwind(a.frame, std::move(a.msg));
    case Action::kSuspend:
      break;
  }
  return std::noop_coroutine();
}

std::coroutine_handle<> OnFrameDone(PromiseBase* p) {
  TaskState* t = p->task;
  if (p->completion == Completion::kError && (p->is_root || p->scope)) {
    Msg msg = ReclassifyThrownCancel(p);
    if (p->completion == Completion::kCancelled) return Unwind(p, std::move(msg));
  }
  if (p->is_root) {
    Completion how = p->completion;
    Msg msg;
    if (how == Completion::kValue && t->must_cancel) {
      // Task.__step: "Task is cancelled right before coro stops."
      t->must_cancel = false;
      how = Completion::kCancelled;
      msg = t->cancel_msg;
      t->cancel_msg_sticky = true;
    } else if (how == Completion::kValue) {
      p->to_task(p, t);
    } else {
      t->error = std::move(p->error);
    }
    DestroyFrame(p);
    CompleteTask(t, how, msg);
    return std::noop_coroutine();
  }
  if (p->scope) return Apply(t, p->scope->OnBodyDone(p, p->completion, nullptr));
  t->innermost = p->parent;
  return p->parent->self;
}

void SuspendOn(TaskState* t, PromiseBase* frame, Waiter* w) {
  t->innermost = frame;
  t->fut_waiter = w;
  // Task.__step_run_and_handle_result: a cancel() that came while the task
  // ran goes to the future it now waits on.
  if (ASYNCSPEC_MUTANT(M16)) return;  // M16: the pending request waits for the next step
  if (t->must_cancel && w && w->Cancel(t->cancel_msg)) t->must_cancel = false;
}

void Wake(TaskState* t, bool cancelled, const Msg& msg) {
  if (cancelled) {
    t->wake_cancelled = true;
    t->wake_msg = msg;
  }
  Loop::Current()->CallSoon(&Step, t);
}

// Task.__step. Delivers a pending cancellation at the innermost await (CX-2)
// or resumes the task where it waits.
void Step(void* p) {
  auto* t = static_cast<TaskState*>(p);
  if (t->done()) return;
  Loop* loop = Loop::Current();
  loop->set_current_task(t);
  t->fut_waiter = nullptr;
  std::coroutine_handle<> next;
  const bool cancel = t->must_cancel || t->wake_cancelled;
  Msg msg;
  if (cancel) {
    msg = t->wake_cancelled ? std::move(t->wake_msg) : t->cancel_msg;
    t->must_cancel = t->wake_cancelled = false;
  }
  if (Scope* s = t->wait_scope) {
    t->wait_scope = nullptr;
    next = Apply(t, s->OnWaitDone(cancel, msg));
  } else if (cancel) {
    next = Unwind(t->innermost, std::move(msg));
  } else {
    next = t->innermost->self;
  }
  ResumeChain(next);
  loop->set_current_task(nullptr);
}

}  // namespace detail
}  // namespace asyncspec::rt
