#include "runtime/run.h"

#include <vector>

namespace asyncspec::rt::detail {

void RunLoop(Loop& loop, TaskState* main) {
  while (!main->done()) {
    if (!loop.RunOnce()) {
      // asyncio would wait forever for I/O that never comes; with no I/O in
      // this runtime that is a deadlock. Cancel main so its frames unwind.
      main->Cancel(MakeMsg("deadlock: nothing left to run"));
      while (!main->done() && loop.RunOnce()) {
      }
      if (!main->done()) break;
      throw RuntimeError("asyncspec::rt::run: main can never finish (every task waits)");
    }
  }
  // _cancel_all_tasks: cancel what is left, run until all are done.
  std::vector<TaskRef<void>> left;
  for (TaskState* t = loop.first_live_task(); t; t = t->live_next) left.emplace_back(t);
  for (auto& t : left) t.cancel();
  while (loop.live_tasks() > 0 && loop.RunOnce()) {
  }
  for (auto& t : left) {
    if (!t.done() || t.cancelled()) continue;
    if (auto e = t.exception()) {
      loop.CallExceptionHandler({"unhandled exception during asyncio.run() shutdown", e, t.name()});
    }
  }
  left.clear();
  // Callbacks scheduled by the last completions (done callbacks) still run.
  while (loop.RunOnce()) {
  }
}

}  // namespace asyncspec::rt::detail
