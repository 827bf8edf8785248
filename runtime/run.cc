// asyncio.run, step by step (runners.py, base_events.py), because what runs
// after main finishes is observable:
//   1. run_until_complete(main): the loop runs until main's done callback
//      (_run_until_complete_cb) calls loop.stop(); the iteration in which it
//      runs is finished first (run_forever checks _stopping after each
//      _run_once). The callback also retrieves main's exception (RT-1, RT-3).
//   2. _cancel_all_tasks: cancel every task not done, then
//      run_until_complete(gather(*to_cancel, return_exceptions=True)); the
//      gather retrieves their exceptions once all are done; then each one
//      that raised is reported (RT-2, RT-4). A stop() still queued from
//      step 1 ends this loop early: "Event loop stopped before Future
//      completed." (RT-5's golden case rt_base_error_after_main_returned).
//   3. shutdown_asyncgens and shutdown_default_executor: two more
//      run_until_complete calls of a coroutine that returns at once, i.e.
//      four more iterations, without waiting for timers.
// A KeyboardInterrupt/SystemExit out of a task leaves whichever step is
// running at once (RT-5); the last exception raised is what run() raises.
#include "runtime/run.h"

#include <vector>

#include "runtime/mutants.h"

namespace asyncspec::rt::detail {
namespace {

// A DoneNode that is unlinked if still registered when it goes out of scope.
struct ScopedNode {
  DoneNode n;
  ~ScopedNode() {
    if (n.task) n.task->RemoveDoneCallback(&n);
  }
};

struct RunState {
  Loop& loop;
  bool stopping = false;  // BaseEventLoop._stopping
  // Step 2's gather.
  std::vector<TaskRef<void>> to_cancel{};
  std::size_t nfinished = 0;
  bool drain_done = false;
};

void Noop(void*) {}

// run_forever: iterations until stop() was called (or a base error).
// Returns false if nothing at all was left to run.
bool RunForever(RunState& s) {
  while (!s.stopping && !s.loop.stop_error()) {
    if (!s.loop.RunOnce()) return false;
  }
  s.stopping = false;
  return true;
}

}  // namespace

std::exception_ptr RunLoop(Loop& loop, TaskState* main) {
  RunState s{loop};
  std::exception_ptr raised;

  // 1. run_until_complete(main).
  ScopedNode main_cb;
  main_cb.n.ctx = &s;
  main_cb.n.fn = [](DoneNode* n, TaskState* t) {  // _run_until_complete_cb
    auto* st = static_cast<RunState*>(n->ctx);
    if (!t->cancelled()) {
      t->log_traceback = false;  // fut.exception()
      if (t->state == Completion::kError && IsBaseError(t->error)) return;
    }
    st->stopping = true;
  };
  main->AddDoneCallback(&main_cb.n);
  if (!RunForever(s)) return std::make_exception_ptr(Deadlock("run(): main can never finish (no task is ready, no timer is armed)"));
  raised = loop.TakeStopError();
  // run_until_complete's `finally: future.remove_done_callback(...)`: only a
  // callback already scheduled (main is done) survives, and stops the drain.
  if (!main->done() && main_cb.n.task) main->RemoveDoneCallback(&main_cb.n);
  // `return future.result()` retrieves a cancelled main's CancelledError
  // now, before step 2, so a leftover that awaits main during the drain gets
  // a later retrieval's CancelledError without message (CX-5); the caller's
  // own result() after RunLoop *is* that retrieval, so the retrieval state
  // main had before it is given back after the drain (found by
  // //fuzz:differential_fuzz).
  struct GiveBack {
    TaskState* main;
    bool on, was_taken;
    ~GiveBack() {
      if (on) main->cancel_exc_taken = was_taken;
    }
  } give_back{main, !raised && main->cancelled(), main->cancel_exc_taken};
  if (give_back.on) main->TakeCancelMsg();

  // 2. _cancel_all_tasks.
  for (TaskState* t = loop.first_live_task(); t; t = t->live_next) s.to_cancel.emplace_back(t);
  if (!s.to_cancel.empty()) {
    {
      // RT-2: the WeakSet's order is free; a perturbed loop shuffles it.
      std::vector<TaskRef<void>*> order;
      for (auto& t : s.to_cancel) order.push_back(&t);
      loop.PerturbOrder(order);
      for (TaskRef<void>* t : order) {
        if (!ASYNCSPEC_MUTANT(M22)) t->cancel();  // M22: left to finish on their own
      }
    }
    std::vector<ScopedNode> nodes(s.to_cancel.size());
    for (std::size_t i = 0; i < nodes.size(); ++i) {
      nodes[i].n.ctx = &s;
      nodes[i].n.fn = [](DoneNode* n, TaskState*) {  // gather's _done_callback
        auto* st = static_cast<RunState*>(n->ctx);
        if (++st->nfinished < st->to_cancel.size()) return;
        for (auto& c : st->to_cancel) {
          if (!c.cancelled()) c.state()->log_traceback = false;  // res = fut.exception()
        }
        st->drain_done = true;
        // outer.set_result(): its _run_until_complete_cb runs next iteration.
        st->loop.CallSoon([](void* p) { static_cast<RunState*>(p)->stopping = true; }, st);
      };
      s.to_cancel[i].state()->AddDoneCallback(&nodes[i].n);
    }
    if (!RunForever(s)) return std::make_exception_ptr(Deadlock("run(): a cancelled task never finished"));
    if (std::exception_ptr e = loop.TakeStopError()) {
      // RT-4, INV-2: the drain's gather completed (it retrieved every
      // leftover's exception) but a base error stopped the loop before the
      // report below: they are reported all the same (asyncio 3.11-3.13
      // drop them: a finding, RULES.md RT-4).
      if (s.drain_done && !ASYNCSPEC_MUTANT(M33)) {  // M33: dropped
        for (auto& t : s.to_cancel) {
          TaskState* st = t.state();
          if (!st->cancelled() && st->state == Completion::kError) {
            loop.CallExceptionHandler({"unhandled exception during asyncio.run() shutdown", st->error, t.name()});
          }
        }
      }
      return e;
    }
    if (!s.drain_done) return std::make_exception_ptr(RuntimeError("Event loop stopped before Future completed."));
    for (auto& t : s.to_cancel) {
      if (t.cancelled() || (ASYNCSPEC_MUTANT(M33) && raised)) continue;  // M33: "the run fails anyway"
      if (auto e = t.exception()) {
        loop.CallExceptionHandler({"unhandled exception during asyncio.run() shutdown", e, t.name()});
      }
    }
  }

  // 3. shutdown_asyncgens(), shutdown_default_executor(): 2 iterations each.
  for (int i = 0; i < 4; ++i) {
    loop.CallSoon(&Noop, nullptr);  // the shutdown task's step, then its callback
    loop.RunOnce();
    if (std::exception_ptr e = loop.TakeStopError()) return e;
  }
  return raised;
}

}  // namespace asyncspec::rt::detail
