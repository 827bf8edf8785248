// The event loop (see loop.h).
#include "spec/model/loop.h"

#include "spec/model/futures.h"

namespace asyncspec::spec::sim {

namespace {

// A cancel() with effects beyond flags and counts (see Loop::CancelOrder).
bool CancelHasEffects(const Task* t) {
  return !t->done() && t->fut_waiter && !t->fut_waiter->done();
}

}  // namespace

// base_events.py _run_once (SCHED-1, SCHED-2).
void Loop::RunOnce() {
  const size_t sched_count = heap_.size();
  if (sched_count > 100 && static_cast<double>(timer_cancelled_count_) / sched_count > 0.5) {
    std::vector<HandleP> keep;
    for (auto& h : heap_) {
      if (h->cancelled) h->scheduled = false;
      else keep.push_back(h);
    }
    heap_ = std::move(keep);
    Heapify();
    timer_cancelled_count_ = 0;
  } else {
    while (!heap_.empty() && heap_[0]->cancelled) {
      --timer_cancelled_count_;
      HandleP h = HeapPop();
      h->scheduled = false;
    }
  }
  if (ready_.empty() && !stopping_) {
    if (heap_.empty()) {
      deadlock_ = true;  // the selector would wait forever
      return;
    }
    now = std::max(now, heap_[0]->when);  // the virtual selector's wait
  }
  // The due timers all have deadline `now` (time only jumps to the
  // earliest one); their order is a tie (SCHED-2). Cancelled ones are
  // skipped when run, so only the live ones are permuted.
  std::vector<HandleP> due, dead;
  while (!heap_.empty() && heap_[0]->when <= now) {
    HandleP h = HeapPop();
    h->scheduled = false;
    (h->cancelled ? dead : due).push_back(h);
  }
  Permute(TiePoint::kTimers, due);
  if (!due.empty()) Hit(RuleId::SCHED_2, "timers due");
  for (auto& h : due) ready_.push_back(std::move(h));
  for (auto& h : dead) ready_.push_back(std::move(h));
  const size_t ntodo = ready_.size();
  for (size_t i = 0; i < ntodo; ++i) {
    HandleP h = ready_.front();
    ready_.pop_front();
    if (h->cancelled) continue;
    try {
      h->fn();
    } catch (PyRaise&) {
      // events.py Handle._run: an exception from a callback goes to the
      // loop's exception handler and the loop goes on.
    }
    // Handle._run re-raises (KeyboardInterrupt, SystemExit) (RT-5): the
    // rest of this iteration stays in the queue.
    if (escape_) return;
  }
}

void Loop::RunForever() {
  struct Reset {
    bool& s;
    ~Reset() { s = false; }
  } reset{stopping_};
  while (true) {
    RunOnce();
    if (stopping_ || Escaping()) break;
  }
}

// base_events.py run_until_complete with _run_until_complete_cb (see loop.h).
void Loop::RunUntilComplete(Future* f) {
  int id = f->AddDoneCallback([this](Future* fut) {
    if (!fut->cancelled()) {
      ExcP e = fut->Exception();
      if (IsBaseError(e)) return;  // "run_forever() already finished"
    }
    stopping_ = true;
  });
  RunForever();
  f->RemoveDoneCallback(id);  // `finally: future.remove_done_callback(...)`
  if (Escaping()) return;
  // RT-6: a stale stop request (the done callback of an earlier
  // run_until_complete, already queued) can end the loop early:
  // RuntimeError('Event loop stopped before Future completed.').
  if (!f->done()) {
    Hit(RuleId::RT_6, "stale stop: loop stopped before the future completed");
    escape_ = NewRuntime("other");
  }
}

// (see loop.h)
std::vector<Task*> Loop::CancelOrder(TiePoint point, const std::vector<Task*>& tasks) {
  std::vector<Task*> waiting;
  for (Task* t : tasks)
    if (CancelHasEffects(t)) waiting.push_back(t);
  if (waiting.size() < 2) return tasks;
  Permute(point, waiting);
  std::vector<Task*> order = tasks;
  std::size_t k = 0;
  for (Task*& t : order)
    if (CancelHasEffects(t)) t = waiting[k++];
  return order;
}

void Loop::Record(RuleId r, const char* what) {
  hits_.set(static_cast<std::size_t>(r));
  if (recording_ == RuleRecording::kTrace) trace_.push_back({r, now, current ? current->name : std::string(), what});
}

}  // namespace asyncspec::spec::sim
