#include "conformance/reference/interpreter.h"

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "runtime/mutants.h"
#include "runtime/rt.h"

namespace asyncspec::conformance {
namespace {

using spec::Exc;
using Val = std::optional<std::string>;
template <class T = void>
using Coro = rt::Coro<T>;

// One unit of program time is one nanosecond of (virtual) loop time, not a
// second: the language allows delays up to 10^12 and programs whose times
// add up to 10^17 (spec/program.h kMaxDelay, kMaxSteps), which 64-bit
// nanoseconds hold exactly only at this scale (10^12 s would saturate, see
// rt::Seconds). The virtual clock makes the scale unobservable otherwise.
constexpr rt::Nanos kUnit = 1;

// The program's labelled errors (driver.py's Err and BaseErr: BaseErr is a
// KeyboardInterrupt, so a TaskGroup lets it through alone, TG-5).
struct Err : rt::Exception {
  explicit Err(std::string l) : BaseException(l), Exception(l), label(std::move(l)) {}
  const char* type_name() const override { return "Err"; }
  std::string label;
};
struct BaseErr : rt::KeyboardInterrupt {
  explicit BaseErr(std::string l) : BaseException(l), KeyboardInterrupt(l), label(std::move(l)) {}
  const char* type_name() const override { return "BaseErr"; }
  std::string label;
};

bool EndsWith(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// (rt::ExceptionAs inspects without a rethrow; the tests below keep the
// order of the catch clauses they replace.)
Exc ToExc(const std::exception_ptr& e) {
  Exc x;
  if (const auto* b = rt::ExceptionAs<BaseErr>(e)) {
    x.type = Exc::Type::kBase;
    x.label = b->label;
  } else if (const auto* b = rt::ExceptionAs<Err>(e)) {
    x.type = Exc::Type::kError;
    x.label = b->label;
  } else if (const auto* c = rt::ExceptionAs<rt::CancelledError>(e)) {
    x.type = Exc::Type::kCancelled;
    if (c->has_message()) x.msg = c->message();
  } else if (rt::ExceptionAs<rt::TimeoutError>(e)) {
    x.type = Exc::Type::kTimeout;
  } else if (const auto* g = rt::ExceptionAs<rt::BaseExceptionGroup>(e)) {
    x.type = Exc::Type::kGroup;
    x.base_group = dynamic_cast<const rt::ExceptionGroup*>(g) == nullptr;
    for (const auto& c : g->exceptions()) x.children.push_back(ToExc(c));
  } else if (const auto* r = rt::ExceptionAs<rt::RuntimeError>(e)) {
    x.type = Exc::Type::kRuntime;
    const std::string& t = r->message();
    x.what = "other";
    if (t.rfind("TaskGroup ", 0) == 0) {
      if (EndsWith(t, " is finished")) x.what = "taskgroup_finished";
      if (EndsWith(t, " has not been entered")) x.what = "taskgroup_not_entered";
      if (EndsWith(t, " is shutting down")) x.what = "taskgroup_shutting_down";
    }
  } else if (const auto* s = rt::ExceptionAs<std::exception>(e)) {
    x.type = Exc::Type::kRuntime;
    x.what = "other";
    x.msg = std::string("C++: ") + s->what();
  } else {
    std::rethrow_exception(e);  // not a C++ exception the interpreter knows: as before, not caught here
  }
  return x;
}

Exc CancelledExc(const rt::Msg& m) {
  Exc x;
  x.type = Exc::Type::kCancelled;
  if (m) x.msg = *m;
  return x;
}

// `except <kind>` against one exception (or, for except*, one leaf).
bool Matches(const spec::Handler& h, const std::exception_ptr& e) {
  using K = spec::CatchKind;
  if (h.kind == K::kAny) return true;
  if (const auto* b = rt::ExceptionAs<BaseErr>(e)) {
    return h.kind == K::kBase && (!h.label || *h.label == b->label);
  }
  if (const auto* b = rt::ExceptionAs<Err>(e)) {
    return (h.kind == K::kError && (!h.label || *h.label == b->label)) || h.kind == K::kException;
  }
  if (rt::ExceptionAs<rt::CancelledError>(e)) return h.kind == K::kCancelled;
  if (rt::ExceptionAs<rt::TimeoutError>(e)) return h.kind == K::kTimeout || h.kind == K::kException;
  if (rt::ExceptionAs<rt::ExceptionGroup>(e)) return h.kind == K::kGroup || h.kind == K::kException;
  if (rt::ExceptionAs<rt::BaseExceptionGroup>(e)) return h.kind == K::kGroup;
  if (rt::ExceptionAs<rt::RuntimeError>(e)) return h.kind == K::kRuntime || h.kind == K::kException;
  return h.kind == K::kException;
}

bool IsGroup(const std::exception_ptr& e) { return rt::ExceptionAs<rt::BaseExceptionGroup>(e) != nullptr; }

// `co_await coro` in a frame that catches nothing, passing a failure on
// with rt::RaiseError instead of a rethrow, and a cancellation as usual (see
// "How errors travel" in Interp). A macro because co_await cannot be put in
// a function for its caller.
#define ASYNCSPEC_AWAIT_PASSING_ON(...)                                    \
  do {                                                                     \
    auto passing_on = co_await rt::try_await(__VA_ARGS__);                 \
    if (passing_on.failed()) co_await rt::RaiseError(passing_on.error());  \
    co_await std::move(passing_on);                                        \
  } while (0)

class Interp {
 public:
  explicit Interp(const spec::Program& p) : program_(p) { MakeGroups(p.main); }

  absl::StatusOr<spec::Outcome> Run(std::uint64_t schedule_seed) {
    rt::Loop loop(rt::ClockKind::kVirtual);
    loop.set_schedule_seed(schedule_seed);
    // RT-8: the run's exception handler records every call it gets; the
    // shutdown reports are also RT-4's unretrieved entries.
    loop.set_exception_handler([this](const rt::LoopEvent& e) {
      using K = spec::HandlerCall::Kind;
      if (e.message.rfind("unhandled exception during asyncio.run() shutdown", 0) == 0) {
        shutdown_errors_.push_back({e.task_name, ToExc(e.error)});  // RT-4
        handler_.push_back({K::kRunShutdown, e.task_name, ToExc(e.error)});
      } else if (e.message.rfind("Task has errored out but its parent task is already completed", 0) == 0) {
        handler_.push_back({K::kParentDone, e.task_name, ToExc(e.error)});
      } else if (e.message.rfind("Task exception was never retrieved", 0) == 0) {
        handler_.push_back({K::kNeverRetrieved, e.task_name, ToExc(e.error)});
      }
    });
    rt::TaskRef<Val> main = Register("main", rt::create_task(TaskBody("main", &program_.main), "main"));
    // What run() would raise, taken as a value (RunLoop's error, else
    // main's result_error()) rather than thrown and caught: an unwind costs
    // thousands of instructions. The catch is for what RunLoop
    // still throws (std::bad_alloc), as before.
    std::exception_ptr error;
    try {
      error = rt::detail::RunLoop(loop, main.state());
      if (!error) error = main.result_error();
    } catch (...) {
      error = std::current_exception();
    }
    std::optional<Exc> raised;
    if (error) {
      if (const auto* d = rt::ExceptionAs<rt::Deadlock>(error)) {
        return absl::FailedPreconditionError(std::string("deadlock: ") + d->what());
      }
      raised = ToExc(error);
    }
    out_.run = raised;
    out_.end_time = loop.Time() / kUnit;
    CollectTasks();
    return std::move(out_);
  }

 private:
  spec::Time Now() const { return rt::Loop::Current()->Time() / kUnit; }

  void MakeGroups(const spec::Body& body) {
    for (const spec::Step& st : body) {
      std::visit(
          [&](const auto& op) {
            using T = std::decay_t<decltype(op)>;
            if constexpr (std::is_same_v<T, spec::Group>) {
              groups_[op.name] = std::make_unique<rt::TaskGroup>();
              MakeGroups(op.body);
            } else if constexpr (std::is_same_v<T, spec::Timeout>) {
              MakeGroups(op.body);
            } else if constexpr (std::is_same_v<T, spec::Try>) {
              MakeGroups(op.body);
              for (const auto& h : op.handlers) MakeGroups(h.body);
              if (op.finally) MakeGroups(op.finally->body);
            } else if constexpr (std::is_same_v<T, spec::CreateTask> || std::is_same_v<T, spec::Spawn> ||
                                 std::is_same_v<T, spec::Shield> || std::is_same_v<T, spec::WaitFor>) {
              MakeGroups(op.task.body);
            } else if constexpr (std::is_same_v<T, spec::Gather>) {
              for (const auto& c : op.children) MakeGroups(c.body);
            }
          },
          st.op);
    }
  }

  rt::TaskRef<Val> Register(const std::string& name, rt::TaskRef<Val> t) {
    tasks_[name] = t;
    out_.tasks[name];
    // Tasks cancelled before they ran have no body to record their end (CX-3).
    rt::add_done_callback(t, [this, name] { ends_.emplace(name, Now()); });
    return t;
  }

  rt::TaskRef<Val> NewTask(const spec::TaskDef& d) {
    return Register(d.name, rt::create_task(TaskBody(d.name, &d.body), d.name));
  }

  // How errors travel between the interpreter's own frames: none of them
  // catches anything, so each awaits its callee through rt::try_await and
  // passes a failure on with rt::RaiseError, and a cancellation with the
  // Outcome's co_await, rather than by rethrowing (an unwind per frame per
  // error was most of this interpreter's time). The program's own
  // `raise` is an rt::RaiseError too. What a program observes is the same:
  // these frames have no catch blocks and no locals whose destruction is
  // observable, except TaskBody's EndGuard, which a task's root destroys at
  // once either way.

  // The task's coroutine: records when it starts and when it ends, however
  // it ends (returning, raising, or unwound by a cancellation).
  Coro<Val> TaskBody(std::string name, const spec::Body* body) {
    out_.tasks[name].start = Now();
    struct EndGuard {
      Interp* in;
      const std::string& name;
      ~EndGuard() { in->ends_.emplace(name, in->Now()); }
    } guard{this, name};
    auto r = co_await rt::try_await(RunBody(*body));
    if (r.failed()) co_await rt::RaiseError(r.error());
    co_return co_await std::move(r);
  }

  Coro<Val> RunBody(const spec::Body& body) {
    for (const spec::Step& st : body) {
      if (const auto* r = std::get_if<spec::Return>(&st.op)) co_return r->value;
      ASYNCSPEC_AWAIT_PASSING_ON(RunStep(st));
    }
    co_return std::nullopt;
  }
  Coro<> RunBlock(const spec::Body& body) { ASYNCSPEC_AWAIT_PASSING_ON(RunBody(body)); }

  // Records a scope's exit (FORMAT.md "scopes") around `inner`, re-raising
  // whatever left it, cancellation included.
  template <class T>
  Coro<> Scoped(const std::string& name, Coro<T> inner, spec::ScopeOutcome* extra = nullptr) {
    auto r = co_await rt::try_await(std::move(inner));
    spec::ScopeOutcome& sc = out_.scopes[name];
    if (extra) sc = *extra;
    sc.end = Now();
    if (r.failed()) sc.raised = ToExc(r.error());
    if (r.cancelled()) sc.raised = CancelledExc(r.cancel_message());
    if constexpr (std::is_same_v<T, std::vector<spec::GatherItem>>) {
      if (r.ok()) sc.items = r.value();
    } else if constexpr (!std::is_void_v<T>) {
      if (r.ok()) sc.value = r.value();
    }
    if (r.failed()) co_await rt::RaiseError(r.error());
    co_await std::move(r);
  }

  Coro<> RunStep(const spec::Step& st) {
    if (const auto* s = std::get_if<spec::Sleep>(&st.op)) {
      co_await rt::sleep(s->d * kUnit);
    } else if (const auto* s = std::get_if<spec::Raise>(&st.op)) {
      // Named first: this frame is destroyed while suspended in the
      // co_await, and GCC 12 mishandles some temporaries of such an
      // expression (runtime/DESIGN.md, "Known compiler issue").
      std::exception_ptr e =
          s->base ? std::make_exception_ptr(BaseErr(s->label)) : std::make_exception_ptr(Err(s->label));
      co_await rt::RaiseError(std::move(e));
    } else if (const auto* s = std::get_if<spec::CreateTask>(&st.op)) {
      NewTask(s->task);
    } else if (const auto* s = std::get_if<spec::Group>(&st.op)) {
      rt::TaskGroup& tg = *groups_[s->name];
      ASYNCSPEC_AWAIT_PASSING_ON(Scoped(s->name, [](rt::TaskGroup& tg, Interp* in, const spec::Body* b) -> Coro<> {
        ASYNCSPEC_AWAIT_PASSING_ON(tg.run([&]() -> Coro<> { ASYNCSPEC_AWAIT_PASSING_ON(in->RunBlock(*b)); }));
      }(tg, this, &s->body)));
    } else if (const auto* s = std::get_if<spec::Spawn>(&st.op)) {
      const spec::TaskDef& d = s->task;
      rt::TaskGroup& g = *groups_[s->group];
      // The refusal (TG-10) raised without a throw; the task's coroutine,
      // which the refusing create_task would have destroyed unstarted, is
      // then not made at all (nothing observable either way).
      if (std::exception_ptr refused = g.create_task_error()) co_await rt::RaiseError(std::move(refused));
      Register(d.name, g.create_task(TaskBody(d.name, &d.body), d.name));
    } else if (const auto* s = std::get_if<spec::Gather>(&st.op)) {
      ASYNCSPEC_AWAIT_PASSING_ON(Scoped(s->name, RunGather(*s)));
    } else if (const auto* s = std::get_if<spec::Timeout>(&st.op)) {
      ASYNCSPEC_AWAIT_PASSING_ON(RunTimeout(*s));
    } else if (const auto* s = std::get_if<spec::Reschedule>(&st.op)) {
      rt::Timeout* tm = tms_[s->timeout];
      std::optional<rt::Nanos> when;
      if (s->d) when = rt::Loop::Current()->Time() + *s->d * kUnit;
      if (std::exception_ptr e = tm->reschedule_error(when)) co_await rt::RaiseError(std::move(e));  // TO-5
    } else if (const auto* s = std::get_if<spec::Shield>(&st.op)) {
      ASYNCSPEC_AWAIT_PASSING_ON(Scoped(s->name, rt::detail::AwaitInCoro(rt::shield(NewTask(s->task)))));
    } else if (const auto* s = std::get_if<spec::WaitFor>(&st.op)) {
      std::optional<rt::Nanos> d;
      if (s->d) d = *s->d * kUnit;
      ASYNCSPEC_AWAIT_PASSING_ON(Scoped(s->name, rt::wait_for(NewTask(s->task), d)));
    } else if (const auto* s = std::get_if<spec::Cancel>(&st.op)) {
      auto it = tasks_.find(s->target);
      if (it != tasks_.end()) {
        if (s->msg) {
          it->second.cancel(*s->msg);
        } else {
          it->second.cancel();
        }
      }
    } else if (const auto* s = std::get_if<spec::Await>(&st.op)) {
      auto it = tasks_.find(s->target);
      if (it == tasks_.end()) {
        co_await rt::sleep(0);
      } else {
        rt::TaskRef<Val> t = it->second;
        ASYNCSPEC_AWAIT_PASSING_ON(t);
      }
    } else if (std::get_if<spec::Uncancel>(&st.op)) {
      rt::current_task().uncancel();
    } else if (const auto* s = std::get_if<spec::Try>(&st.op)) {
      ASYNCSPEC_AWAIT_PASSING_ON(Scoped(s->name, RunTry(*s)));
    }
  }

  Coro<std::vector<spec::GatherItem>> RunGather(const spec::Gather& g) {
    std::vector<rt::TaskRef<Val>> children;
    for (const auto& c : g.children) children.push_back(NewTask(c));
    std::vector<spec::GatherItem> items;
    if (g.return_exceptions) {
      auto outs = co_await rt::gather_outcomes(std::move(children));
      for (const auto& o : outs) {
        spec::GatherItem it;
        if (o.ok()) {
          it.value = o.value();
        } else if (o.failed()) {
          it.error = ToExc(o.error());
        } else {
          it.error = CancelledExc(o.cancel_message());
        }
        items.push_back(std::move(it));
      }
    } else {
      auto r = co_await rt::try_await(rt::gather(std::move(children)));
      auto vals = co_await std::move(r).pass_on();
      for (auto& v : vals) items.push_back({v, std::nullopt});
    }
    co_return items;
  }

  Coro<> RunTimeout(const spec::Timeout& s) {
    std::optional<rt::Nanos> when;
    if (s.d) when = rt::Loop::Current()->Time() + *s.d * kUnit;
    rt::Timeout tm(when);
    tms_[s.name] = &tm;
    auto r = co_await rt::try_await([](rt::Timeout& tm, Interp* in, const spec::Body* b) -> Coro<> {
      ASYNCSPEC_AWAIT_PASSING_ON(tm.run([&]() -> Coro<> { ASYNCSPEC_AWAIT_PASSING_ON(in->RunBlock(*b)); }));
    }(tm, this, &s.body));
    tms_.erase(s.name);
    spec::ScopeOutcome& sc = out_.scopes[s.name];
    sc.end = Now();
    sc.expired = tm.expired();
    if (r.failed()) sc.raised = ToExc(r.error());
    if (r.cancelled()) sc.raised = CancelledExc(r.cancel_message());
    if (r.failed()) co_await rt::RaiseError(r.error());
    co_await std::move(r);
  }

  // try / except (plain or star) / finally.
  Coro<> RunTry(const spec::Try& tr) {
    if (!tr.finally) {
      ASYNCSPEC_AWAIT_PASSING_ON(RunTryExcept(tr));
      co_return;
    }
    auto r = co_await rt::try_await(RunTryExcept(tr));
    const std::string& fname = tr.finally->name;
    out_.blocks[fname].start = Now();
    ASYNCSPEC_AWAIT_PASSING_ON(RunBlock(tr.finally->body));
    out_.blocks[fname].end = Now();
    if (r.failed()) co_await rt::RaiseError(r.error());
    co_await std::move(r);
  }

  Coro<> RunTryExcept(const spec::Try& tr) {
    auto r = co_await rt::try_await(RunBlock(tr.body));
    if (r.ok() || tr.handlers.empty() || (ASYNCSPEC_MUTANT(M08) && r.cancelled())) {  // M08: except skipped
      if (r.failed()) co_await rt::RaiseError(r.error());
      co_await std::move(r);
      co_return;
    }
    if (tr.handlers.front().star) {
      // Named locals, not a ?: temporary inside the co_await: GCC 12
      // destroys such a temporary twice when the frame is destroyed while
      // suspended in that expression (DESIGN.md, "Known compiler issue").
      std::exception_ptr orig = r.as_exception();
      rt::Msg msg;
      if (r.cancelled()) msg = r.cancel_message();
      ASYNCSPEC_AWAIT_PASSING_ON(RunStar(tr, std::move(orig), std::move(msg)));
      co_return;
    }
    const std::exception_ptr e = r.as_exception();
    for (const spec::Handler& h : tr.handlers) {
      if (!Matches(h, e)) continue;
      out_.blocks[h.name].start = Now();
      ASYNCSPEC_AWAIT_PASSING_ON(RunBlock(h.body));
      if (h.then == spec::Then::kUncancel) rt::current_task().uncancel();
      out_.blocks[h.name].end = Now();
      if (h.then == spec::Then::kReraise) {
        if (r.failed()) co_await rt::RaiseError(r.error());
        co_await std::move(r);
      }
      co_return;
    }
    if (r.failed()) co_await rt::RaiseError(r.error());  // no handler matched
    co_await std::move(r);
  }

  // except* (PEP 654): the runtime's TryStar combines what the clauses
  // raised and re-raised with what none of them matched (EG-3, EG-4).
  Coro<> RunStar(const spec::Try& tr, std::exception_ptr orig, rt::Msg cancel_msg) {
    rt::TryStar t(orig);
    for (const spec::Handler& h : tr.handlers) {
      std::exception_ptr match = t.Take([&](const std::exception_ptr& leaf) { return Matches(h, leaf); });
      if (!match) continue;
      out_.blocks[h.name].start = Now();
      auto hr = co_await rt::try_await(RunBlock(h.body));
      if (!hr.ok()) {
        t.Raised(hr.as_exception());
        continue;
      }
      if (h.then == spec::Then::kUncancel) rt::current_task().uncancel();
      out_.blocks[h.name].end = Now();
      if (h.then == spec::Then::kReraise) t.Reraise(match);
    }
    std::exception_ptr result = t.Result();
    if (!result) co_return;
    if (!IsGroup(result) && rt::Classify(result) == rt::ErrorKind::kCancelled) {
      // A naked CancelledError left the try: it goes on as a cancellation,
      // with the message of the one that left (ours, or a handler's).
      rt::Msg msg;
      if (result == orig) {
        msg = cancel_msg;
      } else if (const auto* c = rt::ExceptionAs<rt::CancelledError>(result); c && c->has_message()) {
        msg = rt::MakeMsg(c->message());
      }
      co_await rt::RaiseCancelled{std::move(msg)};
    }
    co_await rt::RaiseError(result);
  }

  void CollectTasks() {
    for (auto& [name, t] : tasks_) {
      spec::TaskOutcome& o = out_.tasks[name];
      auto it = ends_.find(name);
      if (it != ends_.end()) o.end = it->second;
      rt::TaskState* s = t.state();
      // A task whose done callbacks never ran (asyncio.run stopped first)
      // ended by the final time, as the CPython driver reports it.
      if (s->done() && !o.end) o.end = out_.end_time;
      if (!s->done()) {
        o.state = spec::TaskOutcome::State::kPending;
        o.end.reset();
        // RT-8: asyncio's Task.__del__ would report it when collected.
        handler_.push_back({spec::HandlerCall::Kind::kDestroyedPending, name, std::nullopt});
        if (!o.start) warnings_.push_back({spec::WarningRecord::Kind::kNeverAwaited, name});
      } else if (s->cancelled()) {
        o.state = spec::TaskOutcome::State::kCancelled;
        o.error = CancelledExc(s->cancel_msg);
      } else if (s->state == rt::Completion::kError) {
        o.state = spec::TaskOutcome::State::kRaised;
        o.error = ToExc(s->error);
        if (s->log_traceback) {
          // RT-4, and RT-8's never-retrieved call that Destroy() makes when
          // the task goes (here: after the loop, so it is taken from the flag).
          unretrieved_[name] = *o.error;
          handler_.push_back({spec::HandlerCall::Kind::kNeverRetrieved, name, *o.error});
        }
      } else {
        o.state = spec::TaskOutcome::State::kReturned;
        o.value = t.result();
      }
    }
    for (auto& [name, e] : shutdown_errors_) unretrieved_.emplace(name, e);
    for (auto& [name, e] : unretrieved_) out_.unretrieved.push_back({name, e});
    std::stable_sort(handler_.begin(), handler_.end());
    out_.handler = std::move(handler_);
    // A refused spawn's coroutine is destroyed with its refusal (TG-10, as
    // 3.13 closes it); a pending task that never started leaves one.
    std::stable_sort(warnings_.begin(), warnings_.end());
    out_.warnings = std::move(warnings_);
  }

  const spec::Program& program_;
  spec::Outcome out_;
  std::map<std::string, rt::TaskRef<Val>> tasks_;
  std::map<std::string, std::unique_ptr<rt::TaskGroup>> groups_;
  std::map<std::string, rt::Timeout*> tms_;
  std::map<std::string, spec::Time> ends_;
  std::vector<std::pair<std::string, Exc>> shutdown_errors_;
  std::map<std::string, Exc> unretrieved_;
  std::vector<spec::HandlerCall> handler_;
  std::vector<spec::WarningRecord> warnings_;
};

}  // namespace

absl::StatusOr<spec::Outcome> RunOnReference(const spec::Program& program, std::uint64_t schedule_seed) {
  Interp interp(program);
  return interp.Run(schedule_seed);
}

}  // namespace asyncspec::conformance
