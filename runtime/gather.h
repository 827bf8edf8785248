// asyncio.gather (tasks.py, _GatheringFuture).
//
//   std::vector<int> v = co_await rt::gather(std::move(coros));          // return_exceptions=False
//   std::vector<rt::Outcome<int>> o = co_await rt::gather_outcomes(...); // return_exceptions=True
//
// Contract (spec/RULES.md):
// - Without return_exceptions, the first child to fail makes gather raise
//   that error at once; the other children keep running (GA-2). A child
//   cancelled on its own counts as a failure with CancelledError (GA-3).
// - With return_exceptions, gather waits for every child and returns every
//   outcome in input order, a cancelled child as a CancelledError outcome
//   (GA-4, GA-3).
// - Cancelling the task that awaits gather cancels every child not yet done;
//   the gather then ends with CancelledError whatever return_exceptions says
//   (GA-5).
#ifndef ASYNCSPEC_RUNTIME_GATHER_H_
#define ASYNCSPEC_RUNTIME_GATHER_H_

#include <memory>
#include <vector>

#include "runtime/core.h"
#include "runtime/mutants.h"
#include "runtime/try_await.h"

namespace asyncspec::rt {
namespace detail {

template <class T>
struct GatherState final : Waiter {
  std::vector<TaskRef<T>> children;
  std::vector<DoneNode> nodes;
  std::size_t nfinished = 0;
  std::size_t refs = 1;  // the awaiter + one per pending child callback
  bool return_exceptions = false;
  bool cancel_requested = false;
  bool outer_done = false;
  Completion outer_how = Completion::kNone;
  std::exception_ptr outer_error;
  Msg outer_msg;
  TaskState* waiting = nullptr;  // the task awaiting the outer future

  void Unref() {
    if (--refs == 0) delete this;
  }
  // outer.set_result / set_exception: wakes the awaiting task next iteration.
  void SetOuter(Completion how, std::exception_ptr e, Msg m) {
    outer_done = true;
    outer_how = how;
    outer_error = std::move(e);
    outer_msg = std::move(m);
    if (waiting) Wake(waiting, how == Completion::kCancelled, outer_msg);
  }
  // _GatheringFuture.cancel (GA-5).
  bool Cancel(const Msg& msg) override {
    if (outer_done) return false;
    bool ret = false;
    for (auto& c : children) {
      if (c.state()->Cancel(msg)) ret = true;
    }
    if (ret) cancel_requested = true;
    return ret;
  }
  // _done_callback.
  static void OnChildDone(DoneNode* n, TaskState* fut) {
    auto* self = static_cast<GatherState*>(n->ctx);
    self->OnChild(fut);
    self->Unref();
  }
  void OnChild(TaskState* fut) {
    ++nfinished;
    if (outer_done) {
      if (!fut->cancelled()) fut->log_traceback = false;  // mark retrieved
      return;
    }
    if (!return_exceptions) {
      if (fut->cancelled() && !ASYNCSPEC_MUTANT(M19)) {  // GA-3; M19: treated as a result
        // M38: the child's message is not carried (gh-112534's kind of loss).
        SetOuter(Completion::kCancelled, nullptr, ASYNCSPEC_MUTANT(M38) ? nullptr : fut->TakeCancelMsg());
        return;
      }
      if (fut->state == Completion::kError) {  // GA-2
        fut->log_traceback = false;
        SetOuter(Completion::kError, fut->error, nullptr);
        if (ASYNCSPEC_MUTANT(M07)) {  // M07: "the gather failed, stop the rest"
          for (auto& c : children) c.state()->Cancel(nullptr);
        }
        return;
      }
    }
    if (nfinished == children.size()) {
      for (auto& c : children) {
        if (c.state()->state == Completion::kError) c.state()->log_traceback = false;
      }
      if (cancel_requested && !(ASYNCSPEC_MUTANT(M18) && return_exceptions)) {  // M18: outcomes returned
        // `exc = fut._make_cancelled_error()` with `fut` the last child: a
        // child that swallowed its cancellation and returned still has the
        // _cancel_message its cancel() stored (CX-5).
        TaskState* last = children.back().state();
        SetOuter(Completion::kCancelled, nullptr, last->cancelled() ? last->TakeCancelMsg() : last->cancel_msg);  // GA-5
      } else {
        SetOuter(Completion::kValue, nullptr, nullptr);
      }
    }
  }
};

template <class T, bool kOutcomes>
class GatherAwaiter final {
 public:
  using Result = std::vector<std::conditional_t<kOutcomes, Outcome<T>, std::conditional_t<std::is_void_v<T>, char, T>>>;
  explicit GatherAwaiter(std::vector<TaskRef<T>> children) : s_(new GatherState<T>()) {
    s_->return_exceptions = kOutcomes;
    s_->children = std::move(children);
    s_->nodes.resize(s_->children.size());
    for (std::size_t i = 0; i < s_->children.size(); ++i) {
      DoneNode& n = s_->nodes[i];
      n.fn = &GatherState<T>::OnChildDone;
      n.drop = [](DoneNode* d) { static_cast<GatherState<T>*>(d->ctx)->Unref(); };
      n.ctx = s_;
      ++s_->refs;
      s_->children[i].state()->AddDoneCallback(&n);
    }
    if (s_->children.empty()) s_->SetOuter(Completion::kValue, nullptr, nullptr);
  }
  GatherAwaiter(GatherAwaiter&& o) noexcept : s_(std::exchange(o.s_, nullptr)) {}
  ~GatherAwaiter() {
    if (!s_) return;
    if (s_->waiting && !s_->outer_done) s_->waiting = nullptr;
    s_->Unref();
  }
  bool await_ready() const noexcept { return s_->outer_done && s_->outer_how != Completion::kCancelled; }
  template <class P>
  std::coroutine_handle<> await_suspend(std::coroutine_handle<P> h) {
    if (s_->outer_done) return Transfer(Unwind(&h.promise(), s_->outer_msg));
    s_->waiting = h.promise().task;
    SuspendOn(s_->waiting, &h.promise(), s_);
    return std::noop_coroutine();
  }
  // What await_resume() would throw, or null (try_await.h, ResumesWithError).
  // Raising it counts as raising the stored group again (RaisedAgain, EG-4).
  std::exception_ptr resume_error() const {
    return s_->outer_how == Completion::kError ? RaisedAgain(s_->outer_error) : nullptr;
  }
  Result await_resume() {
    if (std::exception_ptr e = resume_error()) std::rethrow_exception(std::move(e));
    Result out;
    out.reserve(s_->children.size());
    for (auto& c : s_->children) {
      TaskState* t = c.state();
      if constexpr (kOutcomes) {
        if (t->cancelled()) {
          // gather builds CancelledError('' if fut._cancel_message is None
          // else ...), and a finished task's _cancel_message is None (GA-4),
          // except for a task cancelled as it returned (CX-4, GA-3).
          out.push_back(Outcome<T>::Cancelled(t->cancel_msg_sticky && t->cancel_msg ? t->cancel_msg : MakeMsg("")));
        } else if (t->state == Completion::kError) {
          out.push_back(Outcome<T>::Error(t->error));
        } else if constexpr (std::is_void_v<T>) {
          out.push_back(Outcome<T>());
        } else {
          out.push_back(Outcome<T>::Value(c.result()));
        }
      } else if constexpr (std::is_void_v<T>) {
        out.push_back(0);
      } else {
        out.push_back(c.result());
      }
    }
    return out;
  }

 private:
  GatherState<T>* s_;
};

}  // namespace detail

template <class T>
auto gather(std::vector<TaskRef<T>> children) {
  return detail::GatherAwaiter<T, false>(std::move(children));
}
template <class T>
auto gather(std::vector<Coro<T>> coros) {
  std::vector<TaskRef<T>> ts;
  ts.reserve(coros.size());
  for (auto& c : coros) ts.push_back(create_task(std::move(c)));
  return gather(std::move(ts));
}
template <class T>
auto gather_outcomes(std::vector<TaskRef<T>> children) {
  return detail::GatherAwaiter<T, true>(std::move(children));
}
template <class T>
auto gather_outcomes(std::vector<Coro<T>> coros) {
  std::vector<TaskRef<T>> ts;
  ts.reserve(coros.size());
  for (auto& c : coros) ts.push_back(create_task(std::move(c)));
  return gather_outcomes(std::move(ts));
}
// gather(a(), b(), c()) for coroutines of one type.
template <class T, class... Rest>
auto gather(Coro<T> first, Rest... rest) {
  std::vector<Coro<T>> v;
  v.push_back(std::move(first));
  (v.push_back(std::move(rest)), ...);
  return gather(std::move(v));
}
template <class T, class... Rest>
auto gather_outcomes(Coro<T> first, Rest... rest) {
  std::vector<Coro<T>> v;
  v.push_back(std::move(first));
  (v.push_back(std::move(rest)), ...);
  return gather_outcomes(std::move(v));
}

}  // namespace asyncspec::rt

#endif  // ASYNCSPEC_RUNTIME_GATHER_H_
