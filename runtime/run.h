// asyncio.run: run `main` as a task on a new loop, then cancel every task
// still alive and wait for them (RT-2), report errors nobody retrieved
// (RT-4), and return main's value or raise its error (RT-3).
#ifndef ASYNCSPEC_RUNTIME_RUN_H_
#define ASYNCSPEC_RUNTIME_RUN_H_

#include <functional>

#include "runtime/core.h"

namespace asyncspec::rt {

struct RunOptions {
  ClockKind clock = ClockKind::kVirtual;
  // Receives "Task exception was never retrieved" and the like; default:
  // printed to stderr, as asyncio logs them.
  std::function<void(const LoopEvent&)> exception_handler;
  // Nonzero: run under a perturbed schedule (Loop::set_schedule_seed): the
  // orders the rules leave free (SCHED-2 timer ties, TG-2, RT-2) are drawn
  // from this seed. 0: the fixed default order.
  std::uint64_t schedule_seed = 0;
};

// Thrown by run() when main can never finish: no task is ready and no timer
// is armed (asyncio would wait forever for I/O that cannot come).
class Deadlock : public RuntimeError {
 public:
  explicit Deadlock(std::string m) : BaseException(m), RuntimeError(m) {}
  const char* type_name() const override { return "Deadlock"; }
};

namespace detail {
// Runs the loop until `main` is done, then cancels and drains the rest
// (RT-1, RT-2). Returns what run() raises whatever main did: a Deadlock,
// RuntimeError("Event loop stopped before Future completed."), or the base
// error that stopped the loop (RT-5); null when main's own result() is what
// run() returns or raises. Returned, not thrown, because the interpreter of
// the conformance check only records it (an unwind costs thousands of
// instructions); run() throws it. Whatever else escapes the loop's
// callbacks (std::bad_alloc) still propagates as an exception.
[[nodiscard]] std::exception_ptr RunLoop(Loop& loop, TaskState* main);
}  // namespace detail

template <class T>
T run(Coro<T> main, RunOptions opts = {}) {
  Loop loop(opts.clock);
  if (opts.exception_handler) loop.set_exception_handler(std::move(opts.exception_handler));
  loop.set_schedule_seed(opts.schedule_seed);
  TaskRef<T> t = create_task(std::move(main), "main");
  if (std::exception_ptr e = detail::RunLoop(loop, t.state())) std::rethrow_exception(std::move(e));
  return t.result();
}

}  // namespace asyncspec::rt

#endif  // ASYNCSPEC_RUNTIME_RUN_H_
