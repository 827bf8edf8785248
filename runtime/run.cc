#include "runtime/run.h"

#include <vector>

namespace asyncspec::rt::detail {
namespace {

// _cancel_all_tasks: cancel what is left and run until all are done (RT-2).
void CancelAndDrain(Loop& loop) {
  std::vector<TaskRef<void>> left;
  for (TaskState* t = loop.first_live_task(); t; t = t->live_next) left.emplace_back(t);
  for (auto& t : left) t.cancel();
  while (loop.live_tasks() > 0 && !loop.stop_error() && loop.RunOnce()) {
  }
  // A base error out of the drain leaves _cancel_all_tasks before it reports.
  if (loop.stop_error()) return;
  for (auto& t : left) {
    if (!t.done() || t.cancelled()) continue;
    if (auto e = t.exception()) {
      loop.CallExceptionHandler({"unhandled exception during asyncio.run() shutdown", e, t.name()});
    }
  }
}

}  // namespace

void RunLoop(Loop& loop, TaskState* main) {
  // run_until_complete's _run_until_complete_cb: it reads main's exception
  // (so retrieves it) when it runs, which is only if the loop keeps running.
  DoneNode retrieve;
  retrieve.fn = [](DoneNode*, TaskState* t) {
    if (!t->cancelled()) t->log_traceback = false;
  };
  main->AddDoneCallback(&retrieve);
  struct Unhook {
    DoneNode& n;
    ~Unhook() {
      if (n.task) n.task->RemoveDoneCallback(&n);
    }
  } unhook{retrieve};
  while (!main->done() && !loop.stop_error()) {
    if (!loop.RunOnce()) throw Deadlock("run(): main can never finish (no task is ready, no timer is armed)");
  }
  std::exception_ptr stopped = loop.TakeStopError();
  CancelAndDrain(loop);
  if (std::exception_ptr again = loop.TakeStopError()) {
    // A base error out of the drain ends asyncio.run there: nothing more runs.
    std::rethrow_exception(again);
  }
  // Done callbacks scheduled by the last completions still run.
  while (!loop.stop_error() && loop.RunOnce()) {
  }
  // run_until_complete(main) raised: main's own result was never retrieved.
  if (stopped) std::rethrow_exception(stopped);
  if (!main->done()) throw Deadlock("run(): main did not finish");
}

}  // namespace asyncspec::rt::detail
