// The simulation of one asyncio.run(main()): the interpreter of a program's
// steps over the loop, futures and tasks, with asyncio's structured parts.
//
// Design. The model re-enacts asyncio rather than summarising it: exact
// outcomes (which child's error comes first in an ExceptionGroup, whether a
// cancellation is swallowed, which exceptions end up unretrieved) depend on
// the order in which callbacks run, and that order is the product of a few
// small mechanisms that are easy to state and to check against the CPython
// source. The files follow asyncio's own modules:
//   loop.h/.cc          base_events.py: ready queue, timer heap, virtual time
//   futures.h/.cc       futures.py, tasks.py Task: states, callbacks, cancel()
//   tasks.cc            tasks.py Task.__step, __wakeup, create_task (CX-*)
//   interpreter.cc      the program's steps as a coroutine's code
//   taskgroups.h/.cc    taskgroups.py (TG-*)
//   timeouts.h/.cc      timeouts.py, and wait_for (TO-*, WF-*)
//   gather.h/.cc        tasks.py gather and shield (GA-*, SH-*)
//   except_star.h/.cc   try/except/except* (EG-*): the exception-group algebra
//   runner.cc           runners.py asyncio.run: main, the drain, the outcome (RT-*)
// Sim is the one object of a run: it is the Loop (so every part schedules
// through it) and holds the program, the profile, the named objects
// (tasks, groups, timeouts) and the outcome being recorded. Its member
// functions are defined in the file of their concept; the state of each
// concept is its own class (Loop, Future, Task, TaskGroupObj, TimeoutObj,
// GatheringFuture). Each transition cites the rule it implements and
// records it (Hit) for RunModelRecorded.
//
// What is recorded (tasks, blocks, scopes, run, unretrieved, end_time) is
// what the CPython driver (conformance/adapters/cpython/driver.py) records,
// at the same points.
//
// Internal to //spec/model (see model.h for the API).
#ifndef ASYNCSPEC_SPEC_MODEL_SIM_H_
#define ASYNCSPEC_SPEC_MODEL_SIM_H_

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "spec/model/coro.h"
#include "spec/model/exceptions.h"
#include "spec/model/futures.h"
#include "spec/model/gather.h"
#include "spec/model/loop.h"
#include "spec/model/model.h"
#include "spec/model/profiles.h"
#include "spec/model/taskgroups.h"
#include "spec/model/timeouts.h"
#include "spec/outcome.h"
#include "spec/program.h"

namespace asyncspec::spec::sim {

class Sim : public Loop {
 public:
  Sim(const Program& program, const Profile& profile, TieOracle* oracle)
      : Loop(oracle), program_(program), prof_(profile) {}
  // runners.py asyncio.run (runner.cc).
  ModelRun Run();

 private:
  // ---- Tasks (tasks.cc; CX-*) ----
  Task* NewTask(const std::string& name, const Body* body, bool internal = false);
  void TaskStep(Task* t, ExcP exc);
  // The step's end: what the coroutine returned or raised settles the task.
  void TaskFinished(Task* t, Value result, ExcP raised);
  // The step's end: the coroutine yielded; wait on what it yielded.
  void TaskSuspended(Task* t);
  void Wakeup(Task* t, Future* f) {
    // tasks.py __wakeup: future.result() (marks it retrieved, RT-4); an
    // exception, including a CancelledError, is thrown into the task.
    Value ignored;
    TaskStep(t, f->TakeResult(&ignored));
  }

  // ---- The interpreter (interpreter.cc) ----
  Co<Value> TaskBody(Task* t, const Body* body);
  Co<Unit> ExecBody(const Body& body);
  Co<Unit> ExecStep(const Step& step);
  Co<Unit> DoSleep(Time d);
  Co<Unit> DoAwait(const Await& a);
  void RecordScope(const std::string& name, const ExcP& raised, std::optional<Value> value,
                   std::optional<bool> expired, bool is_gather);

  // ---- TaskGroup (taskgroups.cc; TG-*) ----
  Co<Unit> DoGroup(const Group& g);
  Co<Unit> TaskGroupExit(TaskGroupObj* tg, ExcP exc);
  void TaskGroupAbort(TaskGroupObj* tg);
  void TaskGroupOnTaskDone(TaskGroupObj* tg, Task* task);
  // The RuntimeError create_task raises (TG-10), or null.
  ExcP TaskGroupCreateTask(TaskGroupObj* tg, const TaskDef& def);

  // ---- timeout and wait_for (timeouts.cc; TO-*, WF-*) ----
  Co<Unit> DoTimeout(const Timeout& t);
  // The RuntimeError reschedule() raises (TO-5), or null.
  ExcP TimeoutReschedule(TimeoutObj* tm, std::optional<Time> when);
  // The TimeoutError its __aexit__ raises (TO-3), or null.
  ExcP TimeoutExit(TimeoutObj* tm, const ExcP& exc);
  Co<Unit> DoWaitFor(const WaitFor& w);
  Co<Value> WaitFor311(Task* fut, Time d);
  Co<Unit> CancelAndWait(Future* fut);

  // ---- gather and shield (gather.cc; GA-*, SH-*) ----
  GatheringFuture* GatherFutures(std::vector<Future*> children, bool return_exceptions);
  Co<Unit> DoGather(const Gather& g);
  Co<Unit> DoShield(const Shield& s);
  Co<Unit> AwaitOuter(const std::string& name, Future* outer, bool gather);

  // ---- try / except / except* / finally (except_star.cc; EG-*) ----
  Co<Unit> DoTry(const Try& t);
  Co<Unit> RunHandler(const Handler& h, ExcP* raised);

  // ---- asyncio.run (runner.cc; RT-*) ----
  void Collect(const Body& body);
  void CancelAllTasks();
  void ReportStoppedDrainErrors(const std::vector<Task*>& to_cancel);
  void RecordTasks();
  void RecordUnretrieved();

  template <typename F>
  F* Make(F* f) {
    futures_.emplace_back(f);
    return f;
  }
  Future* NewFuture() { return Make(new Future(this)); }

  const Program& program_;
  const Profile& prof_;
  std::vector<Task*> shield_orphans_;   // inners left running by a cancelled shield (SH-3)
  std::map<Task*, int> shield_log_cb_;  // the inner's logging callback (shield_leaves_error_to_rt4 off)
  std::map<Task*, int> open_timeouts_;  // timeout blocks open per task (TO-6)

  std::vector<std::unique_ptr<Task>> tasks_;
  std::vector<std::unique_ptr<Future>> futures_;
  std::map<std::string, Task*> task_by_name_;
  std::map<std::string, std::unique_ptr<TaskGroupObj>> groups_;
  std::map<std::string, std::unique_ptr<TimeoutObj>> timeouts_;
  std::vector<Unretrieved> shutdown_unretrieved_;
  // RT-8: the exception handler's calls and the warnings made so far (the
  // never-retrieved and destroyed-pending reports are added by Run()).
  std::vector<HandlerCall> handler_calls_;
  std::vector<WarningRecord> warnings_;
  Outcome out_;
};

}  // namespace asyncspec::spec::sim

#endif  // ASYNCSPEC_SPEC_MODEL_SIM_H_
