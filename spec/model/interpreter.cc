// The interpreter: a program's steps as the code of a task's coroutine.
//
// Design. Each step of the program language (spec/FORMAT.md) is what a line
// of Python would do inside `async def`: ExecStep dispatches on the step
// and awaits the coroutine of its concept (a group, a timeout, gather, ...)
// through Pass(), so that an exception ends the frames that do not catch it
// without a C++ throw (coro.h). Only the awaitables of futures.h suspend,
// so a task yields to the loop exactly where Python's coroutine would: at
// `await` of a pending future and at sleep(0)'s bare yield. Scopes (groups,
// timeouts, gather, shield, wait_for, try) record what left them with
// RecordScope, at the moment the driver records it.
#include <exception>
#include <utility>
#include <variant>

#include "spec/model/sim.h"

namespace asyncspec::spec::sim {

Co<Value> Sim::TaskBody(Task* t, const Body* body) {
  (void)t;
  for (const Step& st : *body) {
    if (const auto* r = std::get_if<Return>(&st.op)) {
      Value v;
      v.str = r->value;
      co_return v;
    }
    co_await Pass(ExecStep(st));
  }
  co_return Value{};
}

Co<Unit> Sim::ExecBody(const Body& body) {
  for (const Step& st : body) co_await Pass(ExecStep(st));
  co_return Unit{};
}

Co<Unit> Sim::DoSleep(Time d) {
  Hit(RuleId::SCHED_3, d <= 0 ? "sleep(0): bare yield" : "sleep(d): timer");
  if (d <= 0) {
    if (ExcP thrown = co_await BareYield{this}) {  // SCHED-3
      std::exception_ptr e = ProgramError(std::move(thrown));
      co_await RaiseNow(std::move(e));
    }
    co_return Unit{};
  }
  Future* f = NewFuture();
  HandleP h = CallAt(now + d, [f] {
    if (!f->done()) f->SetResult(Value{});  // futures._set_result_unless_cancelled
  });
  Caught<Value> r = co_await CatchFuture{{this, f}};
  CancelHandle(h);  // `finally: h.cancel()`
  if (r.exc) {
    std::exception_ptr e = ProgramError(std::move(r.exc));
    co_await RaiseNow(std::move(e));
  }
  co_return Unit{};
}

Co<Unit> Sim::ExecStep(const Step& st) {
  const auto& op = st.op;
  if (const auto* s = std::get_if<Sleep>(&op)) {
    co_await Pass(DoSleep(s->d));
  } else if (const auto* s = std::get_if<Raise>(&op)) {
    // Named first: this frame is destroyed while suspended in the co_await
    // below, and GCC 12 destroys an aggregate temporary of such an
    // expression twice (runtime/DESIGN.md, "Known compiler issue").
    std::exception_ptr e = std::make_exception_ptr(PyRaise{NewError(s->label, s->base)});
    co_await RaiseNow(std::move(e));
  } else if (std::get_if<Return>(&op)) {
    // Only the last step of a task body; TaskBody handles it.
  } else if (const auto* s = std::get_if<CreateTask>(&op)) {
    NewTask(s->task.name, &s->task.body);
  } else if (const auto* s = std::get_if<Group>(&op)) {
    co_await Pass(DoGroup(*s));
  } else if (const auto* s = std::get_if<Spawn>(&op)) {
    auto it = groups_.find(s->group);
    ExcP err = it == groups_.end() ? NewRuntime("other")  // invalid program
                                   : TaskGroupCreateTask(it->second.get(), s->task);
    if (err) {
      Hit(RuleId::TG_10, "create_task refused");
      std::exception_ptr e = ProgramError(std::move(err));
      co_await RaiseNow(std::move(e));
    }
  } else if (const auto* s = std::get_if<Gather>(&op)) {
    co_await Pass(DoGather(*s));
  } else if (const auto* s = std::get_if<Timeout>(&op)) {
    co_await Pass(DoTimeout(*s));
  } else if (const auto* s = std::get_if<Reschedule>(&op)) {
    Hit(RuleId::TO_5, "reschedule");
    auto it = timeouts_.find(s->timeout);
    std::optional<Time> when;
    if (s->d) when = now + *s->d;
    ExcP err = it == timeouts_.end() ? NewRuntime("other")  // invalid program
                                     : TimeoutReschedule(it->second.get(), when);  // TO-5
    if (err) {
      std::exception_ptr e = ProgramError(std::move(err));
      co_await RaiseNow(std::move(e));
    }
  } else if (const auto* s = std::get_if<Shield>(&op)) {
    co_await Pass(DoShield(*s));
  } else if (const auto* s = std::get_if<WaitFor>(&op)) {
    co_await Pass(DoWaitFor(*s));
  } else if (const auto* s = std::get_if<Cancel>(&op)) {
    auto it = task_by_name_.find(s->target);
    if (it != task_by_name_.end()) it->second->Cancel(s->msg);  // CX-1
  } else if (const auto* s = std::get_if<Await>(&op)) {
    co_await Pass(DoAwait(*s));
  } else if (std::get_if<Uncancel>(&op)) {
    Hit(RuleId::CX_9, "uncancel()");
    current->Uncancel(prof_.uncancel_clears_must_cancel);  // CX-9
  } else if (const auto* s = std::get_if<Try>(&op)) {
    co_await Pass(DoTry(*s));
  }
  co_return Unit{};
}

Co<Unit> Sim::DoAwait(const Await& a) {
  auto it = task_by_name_.find(a.target);
  if (it == task_by_name_.end()) {
    if (ExcP thrown = co_await BareYield{this}) {  // FORMAT.md: `await asyncio.sleep(0)`
      std::exception_ptr e = ProgramError(std::move(thrown));
      co_await RaiseNow(std::move(e));
    }
  } else {
    Caught<Value> r = co_await CatchFuture{{this, it->second}};  // CX-7, RT-4 (retrieves)
    if (r.exc) {
      std::exception_ptr e = ProgramError(std::move(r.exc));
      co_await RaiseNow(std::move(e));
    }
  }
  co_return Unit{};
}

void Sim::RecordScope(const std::string& name, const ExcP& raised, std::optional<Value> value,
                      std::optional<bool> expired, bool is_gather) {
  ScopeOutcome s;
  s.end = now;
  if (raised) s.raised = ToExc(raised);
  if (value) {
    if (is_gather) {
      std::vector<GatherItem> items;
      for (const auto& it : value->items) {
        GatherItem g;
        if (it.error) g.error = ToExc(it.error);
        else g.value = it.value;
        items.push_back(std::move(g));
      }
      s.items = std::move(items);
    } else {
      s.value = value->str;
    }
  }
  s.expired = expired;
  out_.scopes[name] = std::move(s);
}

}  // namespace asyncspec::spec::sim
