// The event loop: one thread, a FIFO ready queue and a timer heap.
//
// It follows asyncio's BaseEventLoop._run_once, because the order in which
// callbacks run is observable (which error a gather reports first, the order
// of errors in an ExceptionGroup):
//   1. if nothing is ready, wait for the earliest timer: the virtual clock
//      jumps to it (a sleep of 1000 s costs nothing), the real clock sleeps;
//   2. every timer that is due is moved to the end of the ready queue;
//   3. the callbacks that were ready at this point run, in FIFO order;
//      callbacks they schedule run on the next iteration.
// Timers that fall due at the same instant run in the order they were
// armed (asyncio's heapq leaves that order unspecified; see RULES.md).
//
// Schedule perturbation (set_schedule_seed, off by default). The rules leave
// three orders free (RULES.md "Freedom under ties"): timers with equal
// deadlines (SCHED-2), the order in which a TaskGroup cancels its children
// (TG-2) and in which run() cancels leftovers (RT-2). With a nonzero seed the
// loop draws those orders from a seeded generator, so one program can be run
// under many schedules that all obey the rules; the ready queue itself stays
// FIFO (SCHED-1 pins it). Off, the cost is one predictable branch where a
// timer is armed and where a group aborts.
//
// Everything is intrusive: a ready entry is two words, a timer node lives in
// the object that armed it (a sleeping frame, a timeout). Nothing on the hot
// path allocates except when the ready ring or the heap grow.
#ifndef ASYNCSPEC_RUNTIME_LOOP_H_
#define ASYNCSPEC_RUNTIME_LOOP_H_

#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace asyncspec::rt {

using Nanos = std::int64_t;  // loop time, in nanoseconds since the loop started

// Loop time is a signed 64-bit count of nanoseconds: it reaches about 292
// years. Durations past that (asyncio accepts any float) saturate at the end
// of time instead of wrapping into the past: `sleep(Seconds(1e12))` must not
// wake at once. Callers that need exact times beyond 292 years pick a coarser
// unit of loop time (the conformance interpreter counts one program time unit
// as one nanosecond of virtual time).
inline constexpr Nanos kNanosMax = INT64_MAX;
inline constexpr Nanos kNanosMin = INT64_MIN;

constexpr Nanos Seconds(double s) {
  const double ns = s * 1e9;
  // 2^63 itself does not fit; every double below it converts exactly.
  if (ns >= 9223372036854775808.0) return kNanosMax;
  if (ns <= -9223372036854775808.0) return kNanosMin;
  if (ns != ns) return 0;  // NaN: no delay rather than undefined behaviour
  return static_cast<Nanos>(ns);
}

// a + b, saturated at the ends of loop time (a deadline `now + d`).
constexpr Nanos AddSaturating(Nanos a, Nanos b) {
  Nanos r = 0;
  if (__builtin_add_overflow(a, b, &r)) return b > 0 ? kNanosMax : kNanosMin;
  return r;
}

enum class ClockKind {
  kVirtual,  // time advances only to the next timer; deterministic
  kReal,     // std::chrono::steady_clock
};

struct TaskState;

namespace detail {

struct Callback {
  void (*fn)(void*);
  void* obj;
};

// FIFO of callbacks addressed by an ever-increasing sequence number, so that
// an entry can be neutralised after it was queued (a cancelled timer handle).
class ReadyQueue {
 public:
  ReadyQueue();
  ~ReadyQueue();
  ReadyQueue(const ReadyQueue&) = delete;
  ReadyQueue& operator=(const ReadyQueue&) = delete;

  std::uint64_t Push(Callback c) {
    if (tail_ - head_ == mask_ + 1) Grow();
    slots_[tail_ & mask_] = c;
    return tail_++;
  }
  bool Empty() const { return head_ == tail_; }
  std::uint64_t Size() const { return tail_ - head_; }
  Callback Pop() { return slots_[head_++ & mask_]; }
  // Puts `c` back at the head, to run before everything queued.
  // Precondition: something was popped (head_ > 0).
  void PushFront(Callback c) {
    if (tail_ - head_ == mask_ + 1) Grow();
    slots_[--head_ & mask_] = c;
  }
  // Turns the entry `seq` into a no-op. Precondition: it is still queued.
  void Neutralise(std::uint64_t seq) { slots_[seq & mask_].fn = &Noop; }
  // Give back a ring that a burst grew past 64K entries (1 MiB) once it is
  // nearly empty, so a million tasks asleep do not keep the 16 MiB that
  // starting them took.
  void ShrinkIfMostlyIdle() {
    if (mask_ + 1 > 65536 && (tail_ - head_) * 16 < mask_ + 1) Shrink();
  }
  bool Queued(std::uint64_t seq) const { return seq >= head_ && seq < tail_; }

 private:
  static void Noop(void*) {}
  void Grow();
  void Shrink();
  void Resize(std::uint64_t cap);  // cap: a power of two > Size()
  Callback* slots_;
  std::uint64_t mask_;
  std::uint64_t head_ = 0, tail_ = 0;
};

// A timer armed by some object; lives inside that object. The owner must
// Cancel() it before it dies (destructors do).
struct TimerNode {
  Nanos when = 0;
  std::uint64_t order = 0;               // arming order, breaks ties
  std::size_t heap_index = kNotInHeap;   // position in the heap, if armed
  std::uint64_t queued_seq = kNotQueued; // ready-queue entry, once due
  void (*fire)(TimerNode*) = nullptr;
  void* ctx = nullptr;                   // the owner, for `fire`
  bool tomb = false;                     // a heap-owned stand-in for a removed timer
  static constexpr std::size_t kNotInHeap = ~std::size_t{0};
  static constexpr std::uint64_t kNotQueued = ~std::uint64_t{0};
};

// A binary heap of armed timers ordered by (when, arming order).
// Remove() is O(1): the node is replaced in place by a tombstone that the
// heap owns (so the owner of the node may die at once), and tombstones are
// dropped when they reach the top or, past half of the heap, all at once.
// Why: a TaskGroup aborting 100,000 sleeping children removes 100,000
// timers of equal deadline; sifting each removal costs ~500 instructions.
class TimerHeap {
 public:
  ~TimerHeap();
  void Insert(TimerNode* n);
  void Remove(TimerNode* n);
  // The earliest live timer, or null. Drops tombstones found on top.
  TimerNode* Top();
  void PopTop();  // Precondition: Top() != nullptr.
  std::size_t Size() const { return heap_.size() - tombs_; }

 private:
  void RemoveAt(std::size_t i);
  void Compact();
  std::vector<TimerNode*> free_tombs_;
  std::size_t tombs_ = 0;

  static bool Less(const TimerNode* a, const TimerNode* b) {
    return a->when < b->when || (a->when == b->when && a->order < b->order);
  }
  void SiftUp(std::size_t i);
  void SiftDown(std::size_t i);
  std::vector<TimerNode*> heap_;
};

// Readiness of real file descriptors (io_loop.h's IoPoller), for a loop that
// does I/O. RunOnce polls it first, as _run_once selects before it moves due
// timers: handlers of ready descriptors are queued ahead of the timers due in
// the same iteration. A loop without one (the default, the virtual clock) pays
// one branch per iteration.
struct IoDriver {
  // Waits at most `timeout` ns (0: do not block; kForever: no limit) and
  // queues (CallSoon) the handler of every descriptor found ready.
  virtual void Poll(Nanos timeout) = 0;
  // Whether some task waits for a descriptor (then the loop is not finished
  // even when nothing is ready and no timer is armed).
  virtual bool Waiting() const = 0;
  static constexpr Nanos kForever = -1;

 protected:
  ~IoDriver() = default;
};

}  // namespace detail

// What the loop tells when a task's exception was never retrieved, or an
// error happened where nobody can receive it (asyncio's exception handler).
struct LoopEvent {
  std::string message;        // e.g. "Task exception was never retrieved"
  std::exception_ptr error;
  std::string task_name;
};

class Loop {
 public:
  explicit Loop(ClockKind clock = ClockKind::kVirtual);
  ~Loop();
  Loop(const Loop&) = delete;
  Loop& operator=(const Loop&) = delete;

  // The loop running on this thread, or null.
  static Loop* Current() { return current_; }

  Nanos Time() const;
  ClockKind clock() const { return clock_; }

  // call_soon: run `fn(obj)` on a later iteration, after what is queued now.
  std::uint64_t CallSoon(void (*fn)(void*), void* obj) { return ready_.Push({fn, obj}); }
  // Puts `fn(obj)` back at the head of the ready queue, for the rest of a
  // callback that a base error interrupted (RT-5): asyncio would still have
  // it queued there, ahead of everything queued after it. Precondition:
  // called from a callback that RunOnce popped.
  void CallAgainFirst(void (*fn)(void*), void* obj) { ready_.PushFront({fn, obj}); }

  // Arm `n` to fire at `when` (or on the next iteration when `when` has
  // passed, like Timeout.reschedule's call_soon). Precondition: not armed.
  void Arm(detail::TimerNode* n, Nanos when);
  // Disarm `n` whether it is in the heap, queued, or already fired.
  void Disarm(detail::TimerNode* n);

  // One iteration of the loop (see the file comment). Returns false when
  // there is nothing at all left to do.
  bool RunOnce();

  // Real I/O: set by io_loop.h's Runner before anything runs; null (the
  // default) for a loop without descriptors.
  void set_io(detail::IoDriver* io) { io_ = io; }
  detail::IoDriver* io() const { return io_; }

  // Exception handler: called for unretrieved task exceptions and the like.
  // The default prints to stderr as asyncio does.
  void set_exception_handler(std::function<void(const LoopEvent&)> h) { handler_ = std::move(h); }
  void CallExceptionHandler(const LoopEvent& e);

  // Tasks not yet done, in creation order (for run()'s final cancellation).
  TaskState* first_live_task() const { return live_head_; }
  void Link(TaskState* t);
  void Unlink(TaskState* t);
  std::size_t live_tasks() const { return live_count_; }

  // RT-5: a task that ends with KeyboardInterrupt/SystemExit stops the loop
  // at once (asyncio re-raises it out of run_once); what was still to run in
  // this iteration stays queued. run() then drains and raises it.
  void Stop(std::exception_ptr base_error) {
    if (!stop_error_) stop_error_ = std::move(base_error);
  }
  const std::exception_ptr& stop_error() const { return stop_error_; }
  std::exception_ptr TakeStopError() { return std::exchange(stop_error_, nullptr); }

  TaskState* current_task() const { return current_task_; }
  void set_current_task(TaskState* t) { current_task_ = t; }

  // Schedule perturbation (see the file comment). 0: off (the default,
  // arming order and creation order). Set before anything is armed.
  void set_schedule_seed(std::uint64_t seed) {
    perturb_ = seed != 0;
    rng_ = seed;
  }
  bool perturbed() const { return perturb_; }
  // A uniform draw in [0, n), n >= 1, from the schedule generator.
  // Precondition: perturbed().
  std::uint64_t ScheduleDraw(std::uint64_t n) { return NextRandom() % n; }
  // Shuffles v (Fisher-Yates) if perturbed(); otherwise leaves it alone.
  template <class T>
  void PerturbOrder(std::vector<T>& v) {
    if (!perturb_) return;
    for (std::size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[ScheduleDraw(i)]);
  }

 private:
  static void FireQueued(void* node);
  bool PollIo();
  std::uint64_t NextRandom() {  // splitmix64
    std::uint64_t z = (rng_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  static thread_local Loop* current_;
  Loop* previous_;
  ClockKind clock_;
  Nanos virtual_now_ = 0;
  std::chrono::steady_clock::time_point real_start_;
  std::uint64_t timer_order_ = 0;
  detail::ReadyQueue ready_;
  detail::TimerHeap timers_;
  TaskState* current_task_ = nullptr;
  TaskState* live_head_ = nullptr;
  TaskState* live_tail_ = nullptr;
  std::size_t live_count_ = 0;
  std::function<void(const LoopEvent&)> handler_;
  std::exception_ptr stop_error_;
  bool perturb_ = false;
  std::uint64_t rng_ = 0;
  detail::IoDriver* io_ = nullptr;
};

}  // namespace asyncspec::rt

#endif  // ASYNCSPEC_RUNTIME_LOOP_H_
