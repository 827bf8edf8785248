// asyncio.shield (tasks.py).
//
//   int v = co_await rt::shield(task);   // or rt::shield(coro()): a new task
//
// Contract (spec/RULES.md): cancelling the awaiting task cancels only the
// wait: the awaiting task gets CancelledError at once while the inner task
// keeps running (SH-1) and its later error is marked retrieved, not logged
// (SH-3). If the inner task is cancelled by other means, the await raises
// CancelledError too (SH-2). A shield around a task that is already done
// returns its outcome without suspending.
#ifndef ASYNCSPEC_RUNTIME_SHIELD_H_
#define ASYNCSPEC_RUNTIME_SHIELD_H_

#include "runtime/core.h"
#include "runtime/mutants.h"

namespace asyncspec::rt {
namespace detail {

template <class T>
struct ShieldState final : Waiter, OwnedCall {
  TaskRef<T> inner;
  DoneNode inner_cb;
  TaskState* waiting = nullptr;
  bool outer_done = false;
  bool outer_cancelled = false;
  int refs = 1;

  void Unref() {
    if (--refs == 0) delete this;
  }
  // _inner_done_callback
  static void OnInnerDone(DoneNode* n, TaskState* in) {
    auto* self = static_cast<ShieldState*>(n->ctx);
    if (self->outer_cancelled) {
      if (!in->cancelled() && !ASYNCSPEC_MUTANT(M21)) in->log_traceback = false;  // SH-3; M21: forgotten
    } else {
      self->outer_done = true;
      if (!in->cancelled()) in->log_traceback = false;  // outer.set_exception(inner.exception())
      if (self->waiting) Wake(self->waiting, in->cancelled(), nullptr);  // SH-2
    }
    self->Unref();
  }
  // outer.cancel(): the awaiting task is woken; the inner task is not touched (SH-1).
  bool Cancel(const Msg& msg) override {
    if (outer_done) return false;
    if (ASYNCSPEC_MUTANT(M06)) inner.state()->Cancel(msg);  // M06: the inner task is cancelled too
    outer_done = outer_cancelled = true;
    Wake(waiting, true, msg);
    // _outer_done_callback runs on a later iteration and removes the inner
    // callback. It holds a reference, which the loop drops if it is
    // destroyed first (a base error stopped it, RT-5).
    ++refs;
    run = [](OwnedCall* c) {
      auto* s = static_cast<ShieldState*>(c);
      if (!s->inner.done() && s->inner_cb.task) {  // `if not inner.done():`
        s->inner.state()->RemoveDoneCallback(&s->inner_cb);
        s->Unref();  // the callback's reference
      }
      s->Unref();
    };
    drop = [](OwnedCall* c) { static_cast<ShieldState*>(c)->Unref(); };
    Loop::Current()->CallSoon(&RunOwnedCall, static_cast<OwnedCall*>(this));
    return true;
  }
};

template <class T>
class ShieldAwaiter {
 public:
  explicit ShieldAwaiter(TaskRef<T> t) : inner_(std::move(t)) {}
  ShieldAwaiter(ShieldAwaiter&& o) noexcept : inner_(std::move(o.inner_)), s_(std::exchange(o.s_, nullptr)) {}
  ~ShieldAwaiter() {
    if (!s_) return;
    if (!s_->outer_done) s_->waiting = nullptr;
    s_->Unref();
  }
  bool await_ready() const noexcept { return inner_.done() && !inner_.cancelled(); }
  template <class P>
  std::coroutine_handle<> await_suspend(std::coroutine_handle<P> h) {
    if (inner_.done()) return Transfer(Unwind(&h.promise(), inner_.state()->TakeCancelMsg()));
    s_ = new ShieldState<T>();
    s_->inner = inner_;
    s_->waiting = h.promise().task;
    s_->inner_cb.fn = &ShieldState<T>::OnInnerDone;
    s_->inner_cb.drop = [](DoneNode* d) { static_cast<ShieldState<T>*>(d->ctx)->Unref(); };
    s_->inner_cb.ctx = s_;
    ++s_->refs;
    inner_.state()->AddDoneCallback(&s_->inner_cb);
    SuspendOn(s_->waiting, &h.promise(), s_);
    return std::noop_coroutine();
  }
  decltype(auto) await_resume() const { return inner_.result(); }
  // What await_resume() would throw, or null (try_await.h, ResumesWithError).
  std::exception_ptr resume_error() const { return inner_.result_error(); }

 private:
  TaskRef<T> inner_;
  ShieldState<T>* s_ = nullptr;
};

}  // namespace detail

template <class T>
detail::ShieldAwaiter<T> shield(TaskRef<T> t) {
  return detail::ShieldAwaiter<T>(std::move(t));
}
template <class T>
detail::ShieldAwaiter<T> shield(Coro<T> c) {
  return detail::ShieldAwaiter<T>(create_task(std::move(c)));
}

}  // namespace asyncspec::rt

#endif  // ASYNCSPEC_RUNTIME_SHIELD_H_
