// asyncio.run (runners.py; RT-1..RT-8): main, the drain, the outcome; and
// the model's API (model.h).
//
// Design. asyncio.run is Runner.run then Runner.close, and its outcome is
// decided by the order of three loops: run_until_complete(main) (RT-1,
// RT-3), _cancel_all_tasks (cancel every leftover, in a tie order, and run
// a gather of them to completion, RT-2, RT-4), then two helper tasks that
// finish at once (shutdown_asyncgens, shutdown_default_executor). A base
// error (RT-5) or a stale stop (RT-6) ends any of them early and replaces
// what run raises. Then the run is read off: each task's outcome, the
// unretrieved exceptions (flag-based, plus the drain's reports, RT-4), and
// the exception handler's calls and warnings (RT-8), in the order and form
// the CPython driver records them.
#include <algorithm>
#include <exception>
#include <map>
#include <utility>
#include <variant>

#include "spec/model/model.h"
#include "spec/model/sim.h"

namespace asyncspec::spec {
namespace sim {

void Sim::Collect(const Body& body) {
  // The driver makes every TaskGroup object up front ("not entered", TG-10).
  for (const Step& st : body) {
    const auto& op = st.op;
    if (const auto* g = std::get_if<Group>(&op)) {
      auto tg = std::make_unique<TaskGroupObj>();
      tg->name = g->name;
      groups_[g->name] = std::move(tg);
      Collect(g->body);
    } else if (const auto* s = std::get_if<Timeout>(&op)) {
      Collect(s->body);
    } else if (const auto* s = std::get_if<Try>(&op)) {
      Collect(s->body);
      for (const auto& h : s->handlers) Collect(h.body);
      if (s->finally) Collect(s->finally->body);
    } else if (const auto* s = std::get_if<CreateTask>(&op)) {
      Collect(s->task.body);
    } else if (const auto* s = std::get_if<Spawn>(&op)) {
      Collect(s->task.body);
    } else if (const auto* s = std::get_if<Shield>(&op)) {
      Collect(s->task.body);
    } else if (const auto* s = std::get_if<WaitFor>(&op)) {
      Collect(s->task.body);
    } else if (const auto* s = std::get_if<Gather>(&op)) {
      for (const auto& c : s->children) Collect(c.body);
    }
  }
}

// runners.py _cancel_all_tasks (RT-2).
void Sim::CancelAllTasks() {
  std::vector<Task*> to_cancel;
  for (auto& t : tasks_)
    if (!t->done()) to_cancel.push_back(t.get());  // WeakSet order: creation order here
  if (to_cancel.empty()) return;
  Hit(RuleId::RT_2, "leftover tasks cancelled and drained");
  // The WeakSet's order is a tie (TiePoint::kRunCancel); gather's argument
  // order does not matter (its callbacks only count).
  for (Task* t : CancelOrder(TiePoint::kRunCancel, to_cancel)) t->Cancel(std::nullopt);
  std::vector<Future*> futs(to_cancel.begin(), to_cancel.end());
  Future* drain = GatherFutures(futs, /*return_exceptions=*/true);
  RunUntilComplete(drain);
  if (escape_ && IsBaseError(escape_) && !deadlock_ && drain->done() && prof_.run_reports_stopped_drain_errors)
    ReportStoppedDrainErrors(to_cancel);
  if (Escaping()) return;  // RT-5, RT-6: raised out of _cancel_all_tasks
  for (Task* t : to_cancel) {
    if (t->cancelled()) continue;
    ExcP e = t->Exception();
    if (e && !t->internal) {
      // RT-4: "unhandled exception during asyncio.run() shutdown".
      shutdown_unretrieved_.push_back(Unretrieved{t->name, ToExc(e)});
      handler_calls_.push_back(HandlerCall{HandlerCall::Kind::kRunShutdown, t->name, ToExc(e)});
    }
  }
}

// RT-4, INV-2: the drain's gather completed (it retrieved every leftover's
// exception) but a base error stopped the loop before _cancel_all_tasks
// reported them: they are reported all the same.
void Sim::ReportStoppedDrainErrors(const std::vector<Task*>& to_cancel) {
  for (Task* t : to_cancel) {
    if (t->cancelled() || t->internal) continue;
    if (ExcP e = t->raw_exception()) {
      shutdown_unretrieved_.push_back(Unretrieved{t->name, ToExc(e)});
      handler_calls_.push_back(HandlerCall{HandlerCall::Kind::kRunShutdown, t->name, ToExc(e)});
    }
  }
}

ModelRun Sim::Run() {
  ModelRun r;
  Collect(program_.main);
  static const Body kEmpty;
  Task* main = NewTask("main", &program_.main);
  ExcP run_raised;
  Hit(RuleId::RT_1, "run waits for main");
  RunUntilComplete(main);  // RT-1
  if (escape_) {
    // RT-5 (not RT-6: no stop request is older than main's own).
    Hit(RuleId::RT_3, "run raises the base error");
    run_raised = std::exchange(escape_, nullptr);
  } else if (!deadlock_) {
    Value ignored;
    run_raised = main->TakeResult(&ignored);  // RT-3: `return future.result()`
    Hit(RuleId::RT_3, "run returns main's result or raises its exception");
  }
  // Runner.close(): drain, then shutdown_asyncgens and
  // shutdown_default_executor, each a task that finishes at once.
  if (!deadlock_) {
    try {
      CancelAllTasks();  // RT-2
      if (!Escaping()) RunUntilComplete(NewTask("", &kEmpty, /*internal=*/true));
      if (!Escaping()) RunUntilComplete(NewTask("", &kEmpty, /*internal=*/true));
      // RT-5, RT-6: a base error escaping the drain, or a stale stop's
      // RuntimeError, leaves Runner.close() and replaces what run raises
      // (`with Runner(): ...` __exit__ raising).
      if (escape_) Hit(RuleId::RT_3, "run raises what leaves the drain");
      if (escape_) run_raised = std::exchange(escape_, nullptr);
    } catch (PyRaise& e) {
      // Only the RecursionError of a cancel() through an await cycle (see
      // Task::Cancel) can get here; it too leaves Runner.close().
      run_raised = e.exc;
    }
  }
  r.deadlock = deadlock_;
  RecordTasks();
  if (run_raised) out_.run = ToExc(run_raised);
  RecordUnretrieved();
  std::stable_sort(handler_calls_.begin(), handler_calls_.end());
  std::stable_sort(warnings_.begin(), warnings_.end());
  out_.handler = std::move(handler_calls_);
  out_.warnings = std::move(warnings_);
  out_.end_time = now;
  r.outcome = std::move(out_);
  r.tie_points = tie_points_;
  r.rules_hit = hits_;
  r.trace = std::move(trace_);
  return r;
}

// The outcome of every task (FORMAT.md): its times and how it ended.
void Sim::RecordTasks() {
  for (auto& t : tasks_) {
    if (t->internal) continue;
    TaskOutcome& o = out_.tasks[t->name];
    o.start = t->start;
    o.end = t->end;
    // RT-7: a task that never started and whose done callback never ran (a stop or
    // a base error ended the loop first) ended at the final time: time does
    // not move while callbacks are ready.
    if (t->done() && !o.end) Hit(RuleId::RT_7, "end at the final time");
    if (t->done() && !o.end) o.end = now;
    if (t->cancelled()) {
      o.state = TaskOutcome::State::kCancelled;
      o.error = ToExc(t->cancel_exc ? t->cancel_exc : NewCancelled(t->cancel_message()));
    } else if (t->done()) {
      if (t->raw_exception()) {
        o.state = TaskOutcome::State::kRaised;
        o.error = ToExc(t->raw_exception());
      } else {
        o.state = TaskOutcome::State::kReturned;
        o.value = t->raw_result().str;
      }
    } else {
      o.state = TaskOutcome::State::kPending;
    }
  }
}

// RT-4: the unretrieved list; SH-3; RT-8: what the exception handler hears
// when the tasks are collected.
void Sim::RecordUnretrieved() {
  // RT-4: flag-based unretrieved plus run's shutdown reports, by name.
  std::map<std::string, Exc> unr;
  for (auto& t : tasks_) {
    if (t->internal || !t->done() || t->cancelled()) continue;
    if (t->raw_exception() && t->log_traceback()) unr.emplace(t->name, ToExc(t->raw_exception()));
  }
  for (auto& u : shutdown_unretrieved_) unr.emplace(u.task, u.error);
  for (auto& [name, e] : unr) out_.unretrieved.push_back(Unretrieved{name, e});
  if (!unr.empty()) Hit(RuleId::RT_4, "unretrieved exceptions listed");
  for (Task* t : shield_orphans_) {
    if (t->done() && !t->cancelled() && t->raw_exception()) Hit(RuleId::SH_3, "shielded task failed after its shield");
  }
  // RT-8: what the exception handler hears when the tasks are collected:
  // a still-flagged exception (Future.__del__), a task still pending
  // (Task.__del__, a drain that a base error stopped).
  for (auto& t : tasks_) {
    if (t->internal) continue;
    if (!t->done()) {
      handler_calls_.push_back(HandlerCall{HandlerCall::Kind::kDestroyedPending, t->name, std::nullopt});
      // Its coroutine, never started, goes with it: "never awaited".
      if (!t->start) warnings_.push_back(WarningRecord{WarningRecord::Kind::kNeverAwaited, t->name});
    } else if (!t->cancelled() && t->raw_exception() && t->log_traceback()) {
      handler_calls_.push_back(HandlerCall{HandlerCall::Kind::kNeverRetrieved, t->name, ToExc(t->raw_exception())});
    }
  }
}

}  // namespace sim

ModelRun RunModelDetailed(const Program& program, const Profile& profile) {
  return RunModelDetailed(program, profile, nullptr);
}

ModelRun RunModelDetailed(const Program& program, const Profile& profile, TieOracle* oracle) {
  sim::Sim s(program, profile, oracle);
  return s.Run();
}

Outcome RunModel(const Program& program, const Profile& profile) {
  return RunModelDetailed(program, profile).outcome;
}

ModelRun RunModelRecorded(const Program& program, const Profile& profile, RuleRecording recording) {
  sim::Sim s(program, profile, nullptr);
  s.recording_ = recording;
  return s.Run();
}

}  // namespace asyncspec::spec
