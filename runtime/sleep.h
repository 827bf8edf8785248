// asyncio.sleep: `co_await rt::sleep(d)` suspends the task for `d` of loop
// time; `rt::sleep(0)` yields once (a bare `yield` in asyncio: the task is
// rescheduled behind what is ready now). Either is a suspension point where
// a cancellation can land (CX-2).
#ifndef ASYNCSPEC_RUNTIME_SLEEP_H_
#define ASYNCSPEC_RUNTIME_SLEEP_H_

#include "runtime/core.h"
#include "runtime/mutants.h"

namespace asyncspec::rt {

class [[nodiscard]] SleepAwaiter final : Waiter {
 public:
  explicit SleepAwaiter(Nanos d) : delay_(d) {}
  // Movable only before it is awaited (try_await moves it into a frame).
  SleepAwaiter(SleepAwaiter&& o) noexcept : delay_(o.delay_) {}
  SleepAwaiter& operator=(const SleepAwaiter&) = delete;
  ~SleepAwaiter() {
    // No loop: it was destroyed first (a frame owned by an object that
    // outlived run(), e.g. a TaskGroup's body after RT-5); its heap is gone
    // and nothing refers to the node any more.
    if (armed_)
      if (Loop* loop = Loop::Current()) loop->Disarm(&node_);
  }
  bool await_ready() const noexcept { return ASYNCSPEC_MUTANT(M24) && delay_ <= 0; }  // M24: no yield
  template <class P>
  void await_suspend(std::coroutine_handle<P> h) {
    PromiseBase* frame = &h.promise();
    task_ = frame->task;
    Loop* loop = Loop::Current();
    if (delay_ <= 0) {  // asyncio.sleep(0): bare yield, no future to cancel
      detail::SuspendOn(task_, frame, nullptr);
      loop->CallSoon(&detail::Step, task_);
      return;
    }
    node_.fire = &SleepAwaiter::Fire;
    node_.ctx = this;
    armed_ = true;
    loop->Arm(&node_, AddSaturating(loop->Time(), delay_));
    detail::SuspendOn(task_, frame, this);
  }
  void await_resume() const noexcept {}

 private:
  // futures._set_result_unless_cancelled, then the future's callback wakes
  // the task on the next iteration.
  static void Fire(detail::TimerNode* n) {
    auto* self = static_cast<SleepAwaiter*>(n->ctx);
    self->armed_ = false;
    detail::Wake(self->task_, false, nullptr);
  }
  bool Cancel(const Msg& msg) override {
    if (!armed_) return false;  // already fired: the wake-up is on its way
    armed_ = false;
    Loop::Current()->Disarm(&node_);
    detail::Wake(task_, true, msg);
    return true;
  }

  Nanos delay_;
  TaskState* task_ = nullptr;
  bool armed_ = false;
  detail::TimerNode node_;
};

inline SleepAwaiter sleep(Nanos d) { return SleepAwaiter(d); }
inline SleepAwaiter sleep_for(double seconds) { return SleepAwaiter(Seconds(seconds)); }

}  // namespace asyncspec::rt

#endif  // ASYNCSPEC_RUNTIME_SLEEP_H_
