// asyncio.run: run `main` as a task on a new loop, then cancel every task
// still alive and wait for them (RT-1), report errors nobody retrieved
// (RT-3), and return main's value or raise its error (RT-2).
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
};

namespace detail {
// Runs the loop until `main` is done, then cancels and drains the rest.
// Throws RuntimeError if main can never finish (nothing left to run).
void RunLoop(Loop& loop, TaskState* main);
}  // namespace detail

template <class T>
T run(Coro<T> main, RunOptions opts = {}) {
  Loop loop(opts.clock);
  if (opts.exception_handler) loop.set_exception_handler(std::move(opts.exception_handler));
  TaskRef<T> t = create_task(std::move(main), "main");
  detail::RunLoop(loop, t.state());
  return t.result();
}

}  // namespace asyncspec::rt

#endif  // ASYNCSPEC_RUNTIME_RUN_H_
