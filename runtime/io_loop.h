// The real-clock loop with I/O: an epoll readiness driver (IoPoller) plugged
// into the same Loop the virtual clock uses, and Runner, asyncio.Runner's
// role: one loop on which several mains run, one after the other.
//
// Why the same Loop: the scheduling rules (SCHED-1's FIFO ready queue, the
// order of done callbacks, TG/CX/TO's state machines) live in Loop and
// core.h; an I/O loop that re-implemented them could drift. The poller only
// adds _run_once's `select` step (loop.h, IoDriver): the handlers of ready
// descriptors are queued first, then the timers that are due, then the
// iteration runs in FIFO order.
//
// Readiness, not completion: a task that waits for a descriptor (IoWait)
// is woken when it is readable or writable, and performs the read or write
// itself once it runs again. So a cancellation that lands between the
// readiness and the task's next step (a timeout firing in the same
// iteration, IO-2 in RULES.md) loses no data: the bytes stay in the kernel,
// as they stay in a StreamReader's buffer in asyncio.
//
// Descriptors are registered once, edge-triggered (EPOLLET), when a socket
// is made; a wait costs no system call. That is correct because every wait
// follows an operation that returned EAGAIN (tcp.cc tries first), and an
// edge after that EAGAIN is reported by the next epoll_wait.
#ifndef ASYNCSPEC_RUNTIME_IO_LOOP_H_
#define ASYNCSPEC_RUNTIME_IO_LOOP_H_

#include <cstdint>
#include <vector>

#include "runtime/core.h"
#include "runtime/run.h"

namespace asyncspec::rt {

class IoPoller;
class IoWait;

// One registered descriptor and who waits on each direction. Not the
// owner of `fd`: the socket object that made it is (tcp.h).
struct IoHandle {
  int fd = -1;
  IoWait* reader = nullptr;
  IoWait* writer = nullptr;
};

class IoPoller final : public detail::IoDriver {
 public:
  IoPoller();  // throws OSError if epoll_create1 fails
  ~IoPoller();
  IoPoller(const IoPoller&) = delete;
  IoPoller& operator=(const IoPoller&) = delete;

  // The poller of the running loop. Precondition: a Runner's loop is running.
  static IoPoller& Current();

  // Registers h->fd (edge-triggered, both directions). Throws OSError.
  void Add(IoHandle* h);
  // Forgets h->fd. Call before closing it; precondition: nobody waits on it.
  void Remove(IoHandle* h);

  void Poll(Nanos timeout) override;
  bool Waiting() const override { return waiting_ != 0; }

 private:
  friend class IoWait;
  int epfd_;
  std::uint64_t waiting_ = 0;
};

// `co_await IoWait(handle, IoWait::kRead)`: suspends the task until the
// descriptor is readable (or writable), or the task is cancelled. On
// cancellation the wait is unregistered at once (IO-1) and nothing is
// closed: the descriptor belongs to whoever made it.
class [[nodiscard]] IoWait final : Waiter {
 public:
  enum Direction : std::uint8_t { kRead, kWrite };
  IoWait(IoHandle* h, Direction d) : handle_(h), dir_(d) {}
  IoWait(const IoWait&) = delete;
  IoWait& operator=(const IoWait&) = delete;
  ~IoWait() { Unregister(); }

  bool await_ready() const noexcept { return false; }
  template <class P>
  void await_suspend(std::coroutine_handle<P> h) {
    PromiseBase* frame = &h.promise();
    task_ = frame->task;
    Register();
    detail::SuspendOn(task_, frame, this);
  }
  void await_resume() const noexcept {}

 private:
  friend class IoPoller;
  IoWait*& slot() { return dir_ == kRead ? handle_->reader : handle_->writer; }
  void Register();
  void Unregister();
  // The descriptor is ready: the handler runs on this iteration (queued
  // behind what was ready before the poll), then the task on the next, as
  // a reader callback sets a future whose callback wakes the task.
  void Fire();
  static void Ready(void* self);
  bool Cancel(const Msg& msg) override;

  IoHandle* handle_;
  Direction dir_;
  enum State : std::uint8_t { kIdle, kRegistered, kQueued } state_ = kIdle;
  TaskState* task_ = nullptr;
  IoPoller* poller_ = nullptr;
};

// asyncio.Runner: a real-clock loop with I/O, on which run() runs mains one
// after another. Each run() is asyncio.run's sequence on that loop (RT-1 to
// RT-5): main runs to completion, then the tasks it left are cancelled and
// drained; so, unlike asyncio.Runner, no task outlives the run() that made
// it. The loop is this thread's current loop from construction to
// destruction; construct one Runner at a time per thread.
class Runner {
 public:
  explicit Runner(RunOptions opts = {});
  Runner(const Runner&) = delete;
  Runner& operator=(const Runner&) = delete;

  template <class T>
  T run(Coro<T> main) {
    TaskRef<T> t = create_task(std::move(main), "main");
    if (std::exception_ptr e = detail::RunLoop(loop_, t.state())) std::rethrow_exception(std::move(e));
    return t.result();
  }
  Loop& loop() { return loop_; }
  IoPoller& poller() { return poller_; }

 private:
  IoPoller poller_;  // declared first: the loop's destructor may destroy waits
  Loop loop_;
};

}  // namespace asyncspec::rt

#endif  // ASYNCSPEC_RUNTIME_IO_LOOP_H_
