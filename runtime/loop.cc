#include "runtime/loop.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "runtime/core.h"

namespace asyncspec::rt {
namespace detail {

ReadyQueue::ReadyQueue() : slots_(static_cast<Callback*>(std::malloc(sizeof(Callback) * 1024))), mask_(1023) {
  if (!slots_) throw std::bad_alloc();
}
ReadyQueue::~ReadyQueue() { std::free(slots_); }

void ReadyQueue::Grow() { Resize((mask_ + 1) * 2); }

void ReadyQueue::Shrink() {
  std::uint64_t cap = 1024;
  while (cap < 4 * (tail_ - head_)) cap *= 2;
  Resize(cap);
}

void ReadyQueue::Resize(std::uint64_t cap) {
  // Keep every queued entry at index seq & mask, so Neutralise(seq) stays
  // valid: the live sequence numbers are consecutive and fewer than cap.
  auto* n = static_cast<Callback*>(std::malloc(sizeof(Callback) * cap));
  if (!n) throw std::bad_alloc();
  for (std::uint64_t s = head_; s != tail_; ++s) n[s & (cap - 1)] = slots_[s & mask_];
  std::free(slots_);
  slots_ = n;
  mask_ = cap - 1;
}

void TimerHeap::Insert(TimerNode* n) {
  n->heap_index = heap_.size();
  heap_.push_back(n);
  SiftUp(n->heap_index);
}

TimerHeap::~TimerHeap() {
  for (TimerNode* n : heap_) {
    if (n->tomb) delete n;
  }
  for (TimerNode* n : free_tombs_) delete n;
}

void TimerHeap::Remove(TimerNode* n) {
  const std::size_t i = n->heap_index;
  assert(i < heap_.size() && heap_[i] == n);
  TimerNode* t;
  if (free_tombs_.empty()) {
    t = new TimerNode;
    t->tomb = true;
  } else {
    t = free_tombs_.back();
    free_tombs_.pop_back();
  }
  t->when = n->when;
  t->order = n->order;
  t->heap_index = i;
  heap_[i] = t;
  n->heap_index = TimerNode::kNotInHeap;
  if (++tombs_ > 64 && tombs_ * 2 > heap_.size()) Compact();
}

TimerNode* TimerHeap::Top() {
  while (!heap_.empty() && heap_[0]->tomb) {
    TimerNode* t = heap_[0];
    RemoveAt(0);
    --tombs_;
    free_tombs_.push_back(t);
  }
  return heap_.empty() ? nullptr : heap_[0];
}

void TimerHeap::PopTop() {
  RemoveAt(0);
}

void TimerHeap::Compact() {
  std::size_t w = 0;
  for (TimerNode* n : heap_) {
    if (n->tomb) {
      free_tombs_.push_back(n);
    } else {
      heap_[w++] = n;
    }
  }
  heap_.resize(w);
  tombs_ = 0;
  for (std::size_t i = 0; i < w; ++i) heap_[i]->heap_index = i;
  for (std::size_t i = w / 2; i-- > 0;) SiftDown(i);
  if (free_tombs_.size() > 4096) {  // keep a few for the next storm
    for (std::size_t i = 4096; i < free_tombs_.size(); ++i) delete free_tombs_[i];
    free_tombs_.resize(4096);
  }
}

void TimerHeap::RemoveAt(std::size_t i) {
  TimerNode* n = heap_[i];
  TimerNode* last = heap_.back();
  heap_.pop_back();
  n->heap_index = TimerNode::kNotInHeap;
  if (last == n) return;
  heap_[i] = last;
  last->heap_index = i;
  SiftUp(i);
  SiftDown(last->heap_index);
}

void TimerHeap::SiftUp(std::size_t i) {
  TimerNode* n = heap_[i];
  while (i > 0) {
    const std::size_t parent = (i - 1) / 2;
    if (!Less(n, heap_[parent])) break;
    heap_[i] = heap_[parent];
    heap_[i]->heap_index = i;
    i = parent;
  }
  heap_[i] = n;
  n->heap_index = i;
}

void TimerHeap::SiftDown(std::size_t i) {
  TimerNode* n = heap_[i];
  const std::size_t size = heap_.size();
  for (;;) {
    std::size_t c = 2 * i + 1;
    if (c >= size) break;
    if (c + 1 < size && Less(heap_[c + 1], heap_[c])) ++c;
    if (!Less(heap_[c], n)) break;
    heap_[i] = heap_[c];
    heap_[i]->heap_index = i;
    i = c;
  }
  heap_[i] = n;
  n->heap_index = i;
}

}  // namespace detail

thread_local Loop* Loop::current_ = nullptr;

Loop::Loop(ClockKind clock) : previous_(current_), clock_(clock), real_start_(std::chrono::steady_clock::now()) {
  current_ = this;
}

Loop::~Loop() {
  // Tasks still alive here were never finished (the loop was dropped without
  // run() draining it): destroy their frames so nothing leaks.
  while (TaskState* t = live_head_) {
    Unlink(t);
    if (t->root_handle) {
      // Destroying the root destroys the whole chain of awaited frames.
      std::exchange(t->root_handle, {}).destroy();
    }
    t->state = Completion::kCancelled;
    t->log_traceback = false;
    // Its done callbacks will never run; free what they own (the frames
    // destroyed above have already unlinked the callbacks they owned).
    detail::DropDoneCallbacks(t);
    detail::Release(t);
  }
  while (!ready_.Empty()) detail::DropReadyEntry(ready_.Pop());
  current_ = previous_;
}

Nanos Loop::Time() const {
  if (clock_ == ClockKind::kVirtual) return virtual_now_;
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - real_start_)
      .count();
}

void Loop::FireQueued(void* p) {
  auto* n = static_cast<detail::TimerNode*>(p);
  n->queued_seq = detail::TimerNode::kNotQueued;
  n->fire(n);
}

void Loop::Arm(detail::TimerNode* n, Nanos when) {
  assert(n->heap_index == detail::TimerNode::kNotInHeap && n->queued_seq == detail::TimerNode::kNotQueued);
  n->when = when;
  // The heap breaks deadline ties by `order`: arming order, or a random key
  // under schedule perturbation (SCHED-2 leaves the order of ties free).
  n->order = perturb_ ? NextRandom() : timer_order_++;
  if (when <= Time()) {
    n->queued_seq = CallSoon(&FireQueued, n);  // Timeout.reschedule: call_soon when due
  } else {
    timers_.Insert(n);
  }
}

void Loop::Disarm(detail::TimerNode* n) {
  if (n->heap_index != detail::TimerNode::kNotInHeap) timers_.Remove(n);
  if (n->queued_seq != detail::TimerNode::kNotQueued) {
    if (ready_.Queued(n->queued_seq)) ready_.Neutralise(n->queued_seq);
    n->queued_seq = detail::TimerNode::kNotQueued;
  }
}

bool Loop::RunOnce() {
  ready_.ShrinkIfMostlyIdle();
  if (io_ && !PollIo()) return false;
  if (ready_.Empty()) {
    detail::TimerNode* top = timers_.Top();
    if (!top) return false;
    if (clock_ == ClockKind::kVirtual) {
      if (top->when > virtual_now_) virtual_now_ = top->when;
    } else {
      // sleep_for the rest rather than sleep_until the deadline: a deadline
      // saturated at the end of loop time (Seconds) would overflow the
      // time_point that sleep_until needs.
      const Nanos now = Time();
      if (top->when > now) std::this_thread::sleep_for(std::chrono::nanoseconds(top->when - now));
    }
  }
  const Nanos now = Time();
  while (detail::TimerNode* top = timers_.Top()) {
    if (top->when > now) break;
    timers_.PopTop();
    top->queued_seq = ready_.Push({&FireQueued, top});
  }
  for (std::uint64_t n = ready_.Size(); n > 0 && !stop_error_; --n) {
    detail::Callback c = ready_.Pop();
    c.fn(c.obj);
  }
  return true;
}

// _run_once's select: no wait when something is ready, else until the
// earliest timer, else (a task waits for a descriptor) without limit. Returns
// false when there is nothing at all left to do. Loops until a handler is
// queued or a timer is due, so a wake-up with nothing to do (EINTR) is not
// taken for the end of the program.
bool Loop::PollIo() {
  // Precondition (Runner): the real clock; a virtual one never reaches a timer here.
  if (!ready_.Empty()) {
    if (io_->Waiting()) io_->Poll(0);
    return true;
  }
  for (;;) {
    if (detail::TimerNode* top = timers_.Top()) {
      const Nanos left = top->when - Time();
      if (left <= 0) {  // select(0): descriptors ready now still come first
        if (io_->Waiting()) io_->Poll(0);
        return true;
      }
      if (!io_->Waiting()) {
        std::this_thread::sleep_for(std::chrono::nanoseconds(left));
        return true;
      }
      io_->Poll(left);
    } else {
      if (!io_->Waiting()) return false;
      io_->Poll(detail::IoDriver::kForever);
    }
    if (!ready_.Empty()) return true;
  }
}

void Loop::CallExceptionHandler(const LoopEvent& e) {
  if (handler_) {
    handler_(e);
    return;
  }
  std::fprintf(stderr, "%s%s%s: %s\n", e.message.c_str(), e.task_name.empty() ? "" : " in task ",
               e.task_name.c_str(), Repr(e.error).c_str());
}

void Loop::Link(TaskState* t) {
  t->live_prev = live_tail_;
  t->live_next = nullptr;
  (live_tail_ ? live_tail_->live_next : live_head_) = t;
  live_tail_ = t;
  ++live_count_;
}

void Loop::Unlink(TaskState* t) {
  (t->live_prev ? t->live_prev->live_next : live_head_) = t->live_next;
  (t->live_next ? t->live_next->live_prev : live_tail_) = t->live_prev;
  t->live_prev = t->live_next = nullptr;
  --live_count_;
}

}  // namespace asyncspec::rt
