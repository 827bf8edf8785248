// The event loop: virtual time, the ready queue, the timer heap, and the
// choice points the rules leave free.
//
// Design. Which callback runs first decides most exact outcomes (the order
// of an ExceptionGroup's children, whether a cancellation is swallowed), and
// asyncio's order is the product of one small mechanism:
// BaseEventLoop._run_once. So Loop re-enacts it and nothing else: a FIFO
// ready queue of handles (call_soon, SCHED-1) and a binary heap of timers
// compared by deadline only (call_at, SCHED-2), popped with Python's heapq
// algorithm so that equal deadlines pop in CPython's order. Time is an
// integer that only jumps to the earliest timer when nothing is ready (the
// virtual selector's wait); nothing ready and no timer is asyncio.run
// hanging (deadlock_).
//
// The loop also holds what belongs to one run rather than to one concept:
// the running task (current_task()), the tie oracle consulted at each choice
// point (model.h TieOracle: equal-deadline timers here, cancel orders for
// the group abort and the run's drain), the rule recording (Hit), and the
// exception leaving run_until_complete (escape_: a base error, RT-5, or a
// stale stop, RT-6), which travels as a value: each caller returns at once
// when it is set, which is where the raise would unwind to.
//
// Internal to //spec/model (see model.h for the API).
#ifndef ASYNCSPEC_SPEC_MODEL_LOOP_H_
#define ASYNCSPEC_SPEC_MODEL_LOOP_H_

#include <algorithm>
#include <bitset>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <stdexcept>
#include <vector>

#include "spec/model/exceptions.h"
#include "spec/model/model.h"
#include "spec/program.h"
#include "spec/rule_ids.h"

namespace asyncspec::spec::sim {

class Future;
class Task;

// events.py Handle / TimerHandle.
struct HandleObj {
  std::function<void()> fn;
  bool cancelled = false;
  bool timer = false;
  bool scheduled = false;  // TimerHandle._scheduled: still in the heap
  Time when = 0;
};
using HandleP = std::shared_ptr<HandleObj>;

class Loop {
 public:
  explicit Loop(TieOracle* oracle) : oracle_(oracle) {}

  // Rule recording (model.h RunModelRecorded): every transition the model
  // makes because of a rule calls Hit; when off, that is one untaken branch.
  RuleRecording recording_ = RuleRecording::kOff;
  bool Recording() const { return recording_ != RuleRecording::kOff; }
  void Hit(RuleId r, const char* what) {
    if (Recording()) [[unlikely]] Record(r, what);
  }
  void Record(RuleId r, const char* what);

  // call_soon / call_at (SCHED-1, SCHED-2).
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
  int NextCallbackId() { return next_cb_id_++; }

  Task* current = nullptr;  // current_task()
  Time now = 0;             // loop.time()
  int cancel_depth = 0;     // nesting of Task::Cancel through await chains

 protected:
  // base_events.py run_until_complete with _run_until_complete_cb. When
  // Escaping() on return, it raises escape_ (RT-5, RT-6), or the loop hangs:
  // the caller goes on as if that had been raised here.
  void RunUntilComplete(Future* f);

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
  std::vector<Task*> CancelOrder(TiePoint point, const std::vector<Task*>& tasks);

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

  int tie_points_ = 0;
  std::bitset<kRuleCount> hits_;
  std::vector<ModelRun::RuleEvent> trace_;

 private:
  // heapq (Lib/heapq.py, same algorithm as _heapqmodule.c), comparing
  // TimerHandles by `when` only (events.py TimerHandle.__lt__).
  static bool Lt(const HandleP& a, const HandleP& b) { return a->when < b->when; }
  void SiftDown(size_t startpos, size_t pos);
  void SiftUp(size_t pos);
  void HeapPush(HandleP h) {
    heap_.push_back(std::move(h));
    SiftDown(0, heap_.size() - 1);
  }
  HandleP HeapPop();
  void Heapify() {
    for (size_t i = heap_.size() / 2; i-- > 0;) SiftUp(i);
  }

  // base_events.py _run_once (SCHED-1, SCHED-2).
  void RunOnce();
  void RunForever();

  TieOracle* oracle_;
  std::deque<HandleP> ready_;
  std::vector<HandleP> heap_;
  long timer_cancelled_count_ = 0;
  bool stopping_ = false;
  int next_cb_id_ = 1;
};

inline void Loop::SiftDown(size_t startpos, size_t pos) {
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
inline void Loop::SiftUp(size_t pos) {
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
inline HandleP Loop::HeapPop() {
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

}  // namespace asyncspec::spec::sim

#endif  // ASYNCSPEC_SPEC_MODEL_LOOP_H_
