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
  for (auto& t : left) {
    if (!t.done() || t.cancelled()) continue;
    if (auto e = t.exception()) {
      loop.CallExceptionHandler({"unhandled exception during asyncio.run() shutdown", e, t.name()});
    }
  }
}

}  // namespace

void RunLoop(Loop& loop, TaskState* main) {
  while (!main->done() && !loop.stop_error()) {
    if (!loop.RunOnce()) throw Deadlock("run(): main can never finish (no task is ready, no timer is armed)");
  }
  std::exception_ptr stopped = loop.TakeStopError();
  CancelAndDrain(loop);
  if (std::exception_ptr again = loop.TakeStopError()) stopped = again;  // a base error in the drain
  // Done callbacks scheduled by the last completions still run.
  while (!loop.stop_error() && loop.RunOnce()) {
  }
  if (stopped) {
    if (main->state == Completion::kError && main->error == stopped) main->log_traceback = false;
    std::rethrow_exception(stopped);
  }
  if (!main->done()) throw Deadlock("run(): main did not finish");
}

}  // namespace asyncspec::rt::detail
