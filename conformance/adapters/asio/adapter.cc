// asio_adapter: runs asyncspec programs (spec/FORMAT.md) on Boost.Asio C++20
// coroutines and prints their outcomes, one JSON line per program, following
// the adapter protocol of conformance/ADAPTERS.md.
//
// What this maps, and why this way (README.md beside this file has the table):
//
// * A task is an `asio::awaitable<void>` started with `co_spawn`, with a
//   `cancellation_signal` of its own bound to the spawn as its cancellation
//   slot. `cancel t` is `signal.emit(cancellation_type::terminal)`. Asio's
//   cancellation carries no message, so `cancel t "why"` loses "why".
//   A cancelled Asio operation completes with `error::operation_aborted`,
//   which `use_awaitable` throws as `boost::system::system_error`; that
//   exception is what this adapter reports as a CancelledError.
// * Asio latches a cancellation in the coroutine's cancellation state, and
//   by default (`this_coro::throw_if_cancelled`, true) every later `co_await`
//   of an async operation throws `operation_aborted` again before it starts.
//   `uncancel` (and a handler's `then uncancel`) is
//   `this_coro::reset_cancellation_state()`, the documented way to clear it.
//   The adapter does not hide this latching: it is the behaviour under test
//   (it only moves Asio's check from its own helper coroutines to where the
//   mapped user code would co_await, see CancellationPoint).
// * `sleep d` waits on a `basic_waitable_timer` of a virtual clock (below);
//   `sleep 0` is `co_await asio::post(use_awaitable)`, Asio's yield.
// * `group g` is `experimental::make_parallel_group(body, supervisor)
//   .async_wait(experimental::wait_for_one_error(), use_awaitable)`: the body
//   runs as one operation (a co_spawned coroutine), and the supervisor, the
//   other operation, completes with an error as soon as a child of the group
//   fails (after signalling every live child to cancel), so the parallel
//   group cancels the body; when the body fails first, the parallel group
//   cancels the supervisor, which then cancels the children. Asio has no
//   dynamic nursery (a parallel group's operations are fixed when it starts),
//   so the children themselves are co_spawned with their own signals and
//   counted by the group; the group's exit waits until that count is zero,
//   uninterruptibly (an empty cancellation slot), then raises the children's
//   errors (in completion order) and the body's error (last) as a group.
//   Asio's own operators keep only the first error (`multiple_exceptions`);
//   collecting them all is this adapter's choice, stated in README.md.
// * `timeout tm d` is the documented Asio idiom
//   `co_await (body() || timer.async_wait(use_awaitable))`
//   (`experimental::awaitable_operators`). If the timer wins the body is
//   cancelled and awaited, and the adapter raises a TimeoutError. `||` waits
//   for one *success*, so a body that raises does not end the timeout: the
//   timer still has to fire. That is Asio's documented semantics; the check
//   reports where it departs from the rules.
// * `gather` is a ranged parallel group (wait_for_one_error, or wait_for_all
//   with return_exceptions); `wait_for` is `child || timer`. Their children
//   run behind a proxy operation (ChildOp) that forwards the group's
//   cancellation, so that `cancel c` by name reaches them too.
// * `task` is a co_spawn with a completion handler; `await` waits on an event
//   that the handler fires (Asio has no join); `shield` is such an await.
// * `try` / handlers / `finally` are C++ exceptions caught as exception_ptr
//   (a handler body may suspend, which C++ forbids inside `catch`).
//
// Virtual time. Asio has no virtual clock, but `basic_waitable_timer` takes
// any clock and `WaitTraits`. VClock::now() is a variable that only the
// driver loop below changes; VTraits says every wait is zero long, so the
// reactor never blocks. The loop runs `io_context::poll()` until nothing is
// ready, then jumps the clock to the earliest deadline still armed (this
// adapter keeps that set: the timers are its own), like asyncio's loop on a
// virtual clock: deterministic, no real sleeping. The timerfd is disabled
// (BOOST_ASIO_DISABLE_TIMERFD, see BUILD) because the epoll reactor only
// looks at its timer queues when the timerfd fires, and a timerfd runs on
// real time; without it the reactor checks the queues on every poll.
#include <chrono>
#include <cstdint>
#include <exception>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include <boost/asio.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/version.hpp>
#include <nlohmann/json.hpp>

#include "spec/json.h"
#include "spec/outcome.h"
#include "spec/program.h"
#include "spec/validate.h"
#include "tools/flags.h"
#include "absl/flags/flag.h"

namespace asio = boost::asio;
namespace spec = asyncspec::spec;
using asio::awaitable;
using asio::use_awaitable;
using spec::Time;

namespace {

// ---------------------------------------------------------------------------
// The virtual clock.

struct VClock {
  using rep = std::int64_t;
  using period = std::ratio<1>;
  using duration = std::chrono::duration<rep, period>;
  using time_point = std::chrono::time_point<VClock, duration>;
  static constexpr bool is_steady = true;
  static inline rep current = 0;  // the driver loop is the only writer
  static time_point now() noexcept { return time_point(duration(current)); }
};

struct VTraits {
  // Zero: the reactor never sleeps; the driver loop advances time instead.
  static VClock::duration to_wait_duration(const VClock::duration&) {
    return VClock::duration::zero();
  }
  static VClock::duration to_wait_duration(const VClock::time_point&) {
    return VClock::duration::zero();
  }
};

using Timer = asio::basic_waitable_timer<VClock, VTraits>;

// ---------------------------------------------------------------------------
// Exceptions a program raises (besides Asio's operation_aborted).

struct Err { std::string label; };                     // raise E1
struct TimeoutErr {};                                  // a timeout expired
struct RuntimeErr { std::string what, text; };         // spawn into a closed group
struct GroupErr { std::vector<std::exception_ptr> children; };  // a group's errors
struct ChildFailed {};  // the supervisor's signal to its parallel group; never escapes

// ---------------------------------------------------------------------------
// Per-program state.

struct GroupRec;

struct TaskRec {
  std::string name;
  std::optional<Time> start, end;
  bool done = false;
  std::optional<std::string> value;  // set by `return`
  std::exception_ptr error;          // what the coroutine let escape
  GroupRec* group = nullptr;         // the group it was spawned into
  bool retrieved = false;            // some awaiter, group or parallel group received `error`
  std::vector<Timer*> waiters;       // AwaitTask's events, cancelled when it is done
  asio::cancellation_signal signal;  // bound to its co_spawn (not for gather / wait_for children)
};

struct GroupRec {
  enum class State { kNotEntered, kOpen, kAborting, kFinished };
  State state = State::kNotEntered;
  bool body_done = false;
  int live = 0;                              // spawned, not yet done
  std::vector<TaskRec*> children;
  std::vector<std::exception_ptr> errors;    // children's, in completion order
  Timer* wakeup = nullptr;                   // the supervisor waits on it; lives in RunGroup's frame
};

struct Run {
  spec::Outcome out;
  std::multiset<Time> armed;                 // deadlines of pending sleeps and timeouts
  std::map<std::string, std::unique_ptr<TaskRec>> tasks;
  std::map<std::string, GroupRec> groups;
  std::string internal;                      // set when something no program step can cause happened
  // Last, so that it is destroyed first: pending coroutine frames go before
  // the records they point to.
  std::optional<asio::io_context> ctx;
};

Time Now() { return VClock::current; }

// Removes a deadline from Run::armed however the wait ends.
class Armed {
 public:
  Armed(Run& r, Time at) : r_(r), it_(r.armed.insert(at)) {}
  ~Armed() { r_.armed.erase(it_); }
  Armed(const Armed&) = delete;
  Armed& operator=(const Armed&) = delete;

 private:
  Run& r_;
  std::multiset<Time>::iterator it_;
};

void Wake(GroupRec& g) {
  if (g.wakeup != nullptr) g.wakeup->cancel();
}

// ---------------------------------------------------------------------------
// Exceptions as the outcome format writes them.

spec::Exc Classify(Run& r, std::exception_ptr ep) {
  spec::Exc e;
  try {
    std::rethrow_exception(ep);
  } catch (const Err& x) {
    e.type = spec::Exc::Type::kError;
    e.label = x.label;
  } catch (const TimeoutErr&) {
    e.type = spec::Exc::Type::kTimeout;
  } catch (const RuntimeErr& x) {
    e.type = spec::Exc::Type::kRuntime;
    e.what = x.what;
  } catch (const GroupErr& x) {
    e.type = spec::Exc::Type::kGroup;
    for (const auto& c : x.children) e.children.push_back(Classify(r, c));
  } catch (const asio::multiple_exceptions& x) {
    // What `&&` / `||` throw when both sides failed: Asio keeps only the first.
    return Classify(r, x.first_exception());
  } catch (const boost::system::system_error& x) {
    if (x.code() == asio::error::operation_aborted) {
      e.type = spec::Exc::Type::kCancelled;  // no message: Asio's cancellation has none
    } else {
      e.type = spec::Exc::Type::kRuntime;
      e.what = "other";
      r.internal = std::string("Asio raised ") + x.what();
    }
  } catch (const std::exception& x) {
    e.type = spec::Exc::Type::kRuntime;
    e.what = "other";
    r.internal = std::string("unexpected C++ exception: ") + x.what();
  } catch (...) {
    e.type = spec::Exc::Type::kRuntime;
    e.what = "other";
    r.internal = "unexpected C++ exception of unknown type";
  }
  return e;
}

bool IsCancelled(Run& r, std::exception_ptr ep) {
  return ep && Classify(r, ep).type == spec::Exc::Type::kCancelled;
}

// FORMAT.md "Catch kinds"; a CancelledError is a BaseException, not an Exception.
bool Matches(const spec::Handler& h, const spec::Exc& e) {
  using K = spec::CatchKind;
  using T = spec::Exc::Type;
  switch (h.kind) {
    case K::kCancelled: return e.type == T::kCancelled;
    case K::kTimeout: return e.type == T::kTimeout;
    case K::kError: return e.type == T::kError && (!h.label || *h.label == e.label);
    case K::kBase: return e.type == T::kBase && (!h.label || *h.label == e.label);
    case K::kGroup: return e.type == T::kGroup;
    case K::kRuntime: return e.type == T::kRuntime;
    case K::kException: return e.type != T::kCancelled && e.type != T::kBase;
    case K::kAny: return true;
  }
  return false;
}

// ---------------------------------------------------------------------------
// Running steps.

awaitable<void> RunBody(Run& r, const spec::Body& body, TaskRec* self);

// Asio checks a latched cancellation at *every* co_await of an awaitable or
// an async operation (awaitable_frame_base::await_transform, when
// this_coro::throw_if_cancelled is on, its default). A program step maps to
// one such co_await in user code, but this adapter also co_awaits its own
// helper coroutines (RunBody, RunTry, ...) where user code would have none,
// so every thread the adapter starts turns the flag off
// (NoImplicitCancellationPoints) and calls CancellationPoint() exactly where
// the mapped user code would co_await an Asio operation: before a timer
// wait, a post, a parallel group, an awaitable operator. The check is the
// one Asio makes, with the same exception.
awaitable<void> NoImplicitCancellationPoints() {
  co_await asio::this_coro::throw_if_cancelled(false);
}

awaitable<void> CancellationPoint() {
  asio::cancellation_state cs = co_await asio::this_coro::cancellation_state;
  if (cs.cancelled() != asio::cancellation_type::none) {
    boost::asio::detail::throw_error(asio::error::operation_aborted, "co_await");
  }
}

awaitable<void> WaitTimer(Run& r, Time d) {
  Timer t(co_await asio::this_coro::executor);
  t.expires_at(VClock::now() + VClock::duration(d));
  Armed armed(r, Now() + d);
  co_await t.async_wait(use_awaitable);
}

// The co_spawn completion of every task: records how it ended, tells its group.
// Records how a task ended and wakes its awaiters.
void Record(TaskRec* t, std::exception_ptr ep) {
  t->done = true;
  t->end = Now();
  t->error = ep;
  for (Timer* w : t->waiters) w->cancel();
  t->waiters.clear();
}

void Finish(Run& r, TaskRec* t, std::exception_ptr ep) {
  Record(t, ep);
  if (GroupRec* g = t->group) {
    t->retrieved = true;  // the group collects it
    --g->live;
    if (ep && !IsCancelled(r, ep)) g->errors.push_back(ep);
    Wake(*g);
  }
}

awaitable<void> RunTask(Run& r, TaskRec* t, const spec::Body& body) {
  co_await NoImplicitCancellationPoints();
  t->start = Now();
  co_await RunBody(r, body, t);
}

TaskRec* NewTask(Run& r, const std::string& name) {
  auto& slot = r.tasks[name];
  slot = std::make_unique<TaskRec>();
  slot->name = name;
  return slot.get();
}

void Spawn(Run& r, const spec::Spawn& s) {
  GroupRec& g = r.groups.at(s.group);
  switch (g.state) {
    case GroupRec::State::kNotEntered:
      throw RuntimeErr{"taskgroup_not_entered", "group " + s.group + " was not entered"};
    case GroupRec::State::kFinished:
      throw RuntimeErr{"taskgroup_finished", "group " + s.group + " is finished"};
    case GroupRec::State::kAborting:
      throw RuntimeErr{"taskgroup_shutting_down", "group " + s.group + " is shutting down"};
    case GroupRec::State::kOpen:
      break;
  }
  TaskRec* t = NewTask(r, s.task.name);
  t->group = &g;
  ++g.live;
  g.children.push_back(t);
  asio::co_spawn(*r.ctx, RunTask(r, t, s.task.body),
                 asio::bind_cancellation_slot(t->signal.slot(), [&r, t](std::exception_ptr ep) {
                   Finish(r, t, ep);
                 }));
}

// Waits until `g` has no live children, immune to cancellation: an empty
// slot is bound to the wait (and no thread of this adapter throws on a
// latched cancellation, see CancellationPoint).
awaitable<void> DrainChildren(GroupRec& g) {
  while (g.live > 0) {
    co_await g.wakeup->async_wait(
        asio::bind_cancellation_slot(asio::cancellation_slot(), asio::as_tuple(use_awaitable)));
  }
}

void AbortChildren(GroupRec& g) {
  g.state = GroupRec::State::kAborting;
  for (TaskRec* c : g.children) {
    if (!c->done) c->signal.emit(asio::cancellation_type::terminal);
  }
}

// The group's second operation: completes normally once the body is done and
// no child is live, with an error as soon as a child failed, and with
// operation_aborted when the parallel group (or the parent) cancels it.
awaitable<void> Supervise(GroupRec& g) {
  co_await NoImplicitCancellationPoints();
  asio::cancellation_state cs = co_await asio::this_coro::cancellation_state;
  for (;;) {
    if (!g.errors.empty()) {
      AbortChildren(g);
      throw ChildFailed{};
    }
    if (cs.cancelled() != asio::cancellation_type::none) {
      AbortChildren(g);
      throw boost::system::system_error(asio::error::operation_aborted);
    }
    if (g.body_done && g.live == 0) {
      g.state = GroupRec::State::kFinished;  // in the same step as the check: no spawn slips in
      co_return;
    }
    co_await g.wakeup->async_wait(asio::as_tuple(use_awaitable));  // woken by Wake or by cancellation
  }
}

awaitable<void> GroupBody(Run& r, GroupRec& g, const spec::Body& body, TaskRec* self) {
  co_await NoImplicitCancellationPoints();
  std::exception_ptr ep;
  try {
    co_await RunBody(r, body, self);
  } catch (...) {
    ep = std::current_exception();
  }
  g.body_done = true;
  Wake(g);
  if (ep) std::rethrow_exception(ep);
}

awaitable<void> RunGroup(Run& r, const spec::Group& gs, TaskRec* self) {
  auto ex = co_await asio::this_coro::executor;
  GroupRec& g = r.groups.at(gs.name);
  co_await CancellationPoint();  // a latched cancellation: the group is never entered
  Timer wakeup(ex);
  wakeup.expires_at(VClock::time_point::max());
  g.wakeup = &wakeup;
  g.state = GroupRec::State::kOpen;
  // However this frame ends (also destroyed while suspended), the group is
  // closed and no child's completion touches the timer afterwards.
  struct Close {
    GroupRec& g;
    ~Close() {
      g.wakeup = nullptr;
      g.state = GroupRec::State::kFinished;
    }
  } close{g};
  auto [order, body_ep, sup_ep] =
      co_await asio::experimental::make_parallel_group(
          asio::co_spawn(ex, GroupBody(r, g, gs.body, self), asio::deferred),
          asio::co_spawn(ex, Supervise(g), asio::deferred))
          .async_wait(asio::experimental::wait_for_one_error(), use_awaitable);
  (void)order;
  co_await DrainChildren(g);
  g.state = GroupRec::State::kFinished;

  std::vector<std::exception_ptr> errors = g.errors;
  if (body_ep && !IsCancelled(r, body_ep)) errors.push_back(body_ep);
  std::exception_ptr raised;
  if (!errors.empty()) {
    raised = std::make_exception_ptr(GroupErr{errors});
  } else if (body_ep) {
    raised = body_ep;  // cancelled from outside
  } else if (sup_ep) {
    raised = sup_ep;   // cancelled from outside after the body ended
  }
  spec::ScopeOutcome& so = r.out.scopes[gs.name];
  so.end = Now();
  if (raised) {
    so.raised = Classify(r, raised);
    std::rethrow_exception(raised);
  }
}

awaitable<void> TimeoutBody(Run& r, const spec::Body& body, TaskRec* self) {
  co_await NoImplicitCancellationPoints();
  co_await RunBody(r, body, self);
}

// How `timeout` and `wait_for` race their body against the deadline (the
// adapter's command-line flag, one runtime name each in adapter.json):
// kOr: `co_await (body || timer.async_wait(use_awaitable))`, the documented
//   idiom; `||` is wait_for_one_success(), so a body that raises does not end
//   the race. Runtime "asio".
// kWaitForOne: `make_parallel_group(body, timer wait)
//   .async_wait(wait_for_one(), ...)`: whichever completes first, in any way,
//   cancels the other, i.e. a cancellation after a timer; the deadline counts
//   as expired when the timer completed first and successfully, and the
//   body's operation_aborted then becomes TimeoutError (what else the body
//   ended with is passed on). Runtime "asio-wait-one".
enum class Deadline { kOr, kWaitForOne };
Deadline g_deadline = Deadline::kOr;

struct RaceResult {
  bool expired = false;
  std::exception_ptr raised;
};

// Precondition: a CancellationPoint() was just passed (the race is one Asio
// operation of the mapped user code).
awaitable<RaceResult> RaceDeadline(Run& r, awaitable<void> body, Time d) {
  using namespace asio::experimental::awaitable_operators;
  RaceResult res;
  if (g_deadline == Deadline::kOr) {
    try {
      auto won = co_await (std::move(body) || WaitTimer(r, d));
      if (won.index() == 1) {
        res.expired = true;
        res.raised = std::make_exception_ptr(TimeoutErr{});
      }
    } catch (...) {
      res.raised = std::current_exception();
    }
    co_return res;
  }
  // The timer is WaitTimer, co_spawned, rather than a bare async_wait, so
  // that its deadline leaves Run::armed when the wait ends, not when this
  // frame does (the race may outlive it: a body that cannot be cancelled).
  auto ex = co_await asio::this_coro::executor;
  auto [order, body_ep, timer_ep] =
      co_await asio::experimental::make_parallel_group(
          asio::co_spawn(ex, std::move(body), asio::deferred),
          asio::co_spawn(ex, WaitTimer(r, d), asio::deferred))
          .async_wait(asio::experimental::wait_for_one(), use_awaitable);
  res.expired = order[0] == 1 && !timer_ep;
  res.raised = res.expired && IsCancelled(r, body_ep) ? std::make_exception_ptr(TimeoutErr{}) : body_ep;
  co_return res;
}

awaitable<void> RunTimeout(Run& r, const spec::Timeout& ts, TaskRec* self) {
  bool expired = false;
  std::exception_ptr ep;
  try {
    if (!ts.d) {
      co_await RunBody(r, ts.body, self);
    } else {
      co_await CancellationPoint();
      RaceResult res = co_await RaceDeadline(r, TimeoutBody(r, ts.body, self), *ts.d);
      expired = res.expired;
      ep = res.raised;
    }
  } catch (...) {
    ep = std::current_exception();
  }
  spec::ScopeOutcome& so = r.out.scopes[ts.name];
  so.end = Now();
  so.expired = expired;
  if (ep) {
    so.raised = Classify(r, ep);
    std::rethrow_exception(ep);
  }
}

awaitable<void> RunTry(Run& r, const spec::Try& ts, TaskRec* self) {
  std::exception_ptr ep;
  try {
    co_await RunBody(r, ts.body, self);
  } catch (...) {
    ep = std::current_exception();
  }
  if (ep) {
    const spec::Exc e = Classify(r, ep);
    for (const spec::Handler& h : ts.handlers) {
      if (!Matches(h, e)) continue;
      spec::BlockOutcome& b = r.out.blocks[h.name];
      b.start = Now();
      std::exception_ptr hep;
      try {
        co_await RunBody(r, h.body, self);
      } catch (...) {
        hep = std::current_exception();
      }
      if (hep) {
        ep = hep;
      } else {
        r.out.blocks[h.name].end = Now();
        if (h.then == spec::Then::kUncancel) co_await asio::this_coro::reset_cancellation_state();
        if (h.then != spec::Then::kReraise) ep = nullptr;
      }
      break;
    }
  }
  if (ts.finally) {
    r.out.blocks[ts.finally->name].start = Now();
    std::exception_ptr fep;
    try {
      co_await RunBody(r, ts.finally->body, self);
    } catch (...) {
      fep = std::current_exception();
    }
    if (fep) {
      ep = fep;
    } else {
      r.out.blocks[ts.finally->name].end = Now();
    }
  }
  spec::ScopeOutcome& so = r.out.scopes[ts.name];
  so.end = Now();
  if (ep) {
    so.raised = Classify(r, ep);
    std::rethrow_exception(ep);
  }
}

// Starts task `t` as a co_spawned coroutine with its own signal.
void StartTask(Run& r, TaskRec* t, const spec::Body& body) {
  asio::co_spawn(*r.ctx, RunTask(r, t, body),
                 asio::bind_cancellation_slot(t->signal.slot(), [&r, t](std::exception_ptr ep) {
                   Finish(r, t, ep);
                 }));
}

// A child as one operation of a parallel group (gather, wait_for). The
// operation's cancellation slot is the group's, and a task's is its own
// signal (so that `cancel c` reaches it by name), so the operation is a
// proxy: it starts the child, completes when the child does and with its
// exception, and forwards a cancellation of the operation to the child
// (once; then it waits for the child to finish). The parallel group sees
// what it would see with the child itself as the operation, at the same
// virtual instant.
awaitable<void> ChildOp(Run& r, TaskRec* t, const spec::Body& body) {
  co_await NoImplicitCancellationPoints();
  t->retrieved = true;  // the parallel group receives its exception
  StartTask(r, t, body);
  if (!t->done) {
    asio::cancellation_state cs = co_await asio::this_coro::cancellation_state;
    Timer ev(co_await asio::this_coro::executor);
    ev.expires_at(VClock::time_point::max());
    t->waiters.push_back(&ev);
    struct Unlist {
      TaskRec* t;
      Timer* ev;
      ~Unlist() { std::erase(t->waiters, ev); }
    } unlist{t, &ev};
    bool forwarded = false;
    while (!t->done) {
      co_await ev.async_wait(asio::as_tuple(use_awaitable));  // woken by Record or by cancellation
      if (!t->done && !forwarded && cs.cancelled() != asio::cancellation_type::none) {
        forwarded = true;
        t->signal.emit(asio::cancellation_type::terminal);
      }
    }
  }
  if (t->error) std::rethrow_exception(t->error);
}

// `gather G` is a ranged experimental::make_parallel_group of the children
// (ChildOp, co_spawned deferred) in argument order, waited with
// wait_for_one_error() (return_exceptions false: the first failure cancels
// the others; gather raises it) or wait_for_all() (return_exceptions true:
// every outcome, in argument order).

awaitable<void> RunGather(Run& r, const spec::Gather& gs) {
  auto ex = co_await asio::this_coro::executor;
  using Deferred = decltype(asio::co_spawn(ex, std::declval<awaitable<void>>(), asio::deferred));
  std::vector<TaskRec*> recs;
  std::vector<Deferred> ops;
  for (const spec::TaskDef& c : gs.children) {
    TaskRec* t = NewTask(r, c.name);
    recs.push_back(t);
    ops.push_back(asio::co_spawn(ex, ChildOp(r, t, c.body), asio::deferred));
  }
  co_await CancellationPoint();
  std::vector<std::size_t> order;
  std::vector<std::exception_ptr> errs;
  if (gs.return_exceptions) {
    std::tie(order, errs) = co_await asio::experimental::make_parallel_group(std::move(ops))
                                .async_wait(asio::experimental::wait_for_all(), use_awaitable);
  } else {
    std::tie(order, errs) = co_await asio::experimental::make_parallel_group(std::move(ops))
                                .async_wait(asio::experimental::wait_for_one_error(), use_awaitable);
  }
  for (std::size_t i = 0; i < recs.size(); ++i) {
    if (!recs[i]->done && !recs[i]->start) {  // the operation was cancelled before ChildOp ran
      Record(recs[i], errs[i]);
      recs[i]->retrieved = true;
    }
  }
  spec::ScopeOutcome& so = r.out.scopes[gs.name];
  so.end = Now();
  std::exception_ptr raised;
  if (!gs.return_exceptions) {
    for (std::size_t i : order) {
      if (errs[i]) {
        raised = errs[i];
        break;
      }
    }
  }
  if (raised) {
    so.raised = Classify(r, raised);
    std::rethrow_exception(raised);
  }
  so.items.emplace();
  for (std::size_t i = 0; i < recs.size(); ++i) {
    spec::GatherItem item;
    if (errs[i]) {
      item.error = Classify(r, errs[i]);
    } else {
      item.value = recs[i]->value;
    }
    so.items->push_back(std::move(item));
  }
}

// `task a`: co_spawn with a completion handler (Asio's fire-and-forget, which
// `detached` would be, except that the handler records the outcome).
TaskRec* StartFreeTask(Run& r, const spec::TaskDef& def) {
  TaskRec* t = NewTask(r, def.name);
  StartTask(r, t, def.body);
  return t;
}

// `await a`: Asio has no join for a co_spawned coroutine, so the awaiter
// waits on an event timer that the task's completion cancels. Cancelling
// the awaiter cancels that wait only, not the task.
awaitable<void> AwaitTask(Run& r, TaskRec* t) {
  if (!t->done) {
    co_await CancellationPoint();
    Timer ev(co_await asio::this_coro::executor);
    ev.expires_at(VClock::time_point::max());
    t->waiters.push_back(&ev);
    struct Unlist {
      TaskRec* t;
      Timer* ev;
      ~Unlist() { std::erase(t->waiters, ev); }
    } unlist{t, &ev};
    co_await ev.async_wait(asio::as_tuple(use_awaitable));
    if (!t->done) boost::asio::detail::throw_error(asio::error::operation_aborted, "co_await");
  }
  t->retrieved = true;
  if (t->error) std::rethrow_exception(t->error);
}

// `shield S a`: a free task awaited as above; the awaiter's cancellation ends
// its wait and leaves the task running.
awaitable<void> RunShield(Run& r, const spec::Shield& ss) {
  TaskRec* t = StartFreeTask(r, ss.task);
  std::exception_ptr ep;
  try {
    co_await AwaitTask(r, t);
  } catch (...) {
    ep = std::current_exception();
  }
  spec::ScopeOutcome& so = r.out.scopes[ss.name];
  so.end = Now();
  if (ep) {
    so.raised = Classify(r, ep);
    std::rethrow_exception(ep);
  }
  so.value = t->value;
}

// `wait_for W a d`: `co_await (co_spawn(ex, a, use_awaitable) || timer)`, the
// Asio timeout idiom around a spawned child (whose slot is then the
// operator's), like `timeout`; d null: `co_await co_spawn(ex, a, use_awaitable)`.
awaitable<void> RunWaitFor(Run& r, const spec::WaitFor& ws) {
  TaskRec* t = NewTask(r, ws.task.name);
  std::exception_ptr ep;
  try {
    co_await CancellationPoint();
    if (!ws.d) {
      co_await ChildOp(r, t, ws.task.body);
    } else {
      ep = (co_await RaceDeadline(r, ChildOp(r, t, ws.task.body), *ws.d)).raised;
    }
  } catch (...) {
    ep = std::current_exception();
  }
  if (!t->done && !t->start) {  // the operation was cancelled before ChildOp ran
    Record(t, ep);
    t->retrieved = true;
  }
  spec::ScopeOutcome& so = r.out.scopes[ws.name];
  so.end = Now();
  if (ep) {
    so.raised = Classify(r, ep);
    std::rethrow_exception(ep);
  }
  so.value = t->value;
}

awaitable<void> RunBody(Run& r, const spec::Body& body, TaskRec* self) {
  for (const spec::Step& step : body) {
    if (auto* s = std::get_if<spec::Sleep>(&step.op)) {
      co_await CancellationPoint();
      if (s->d == 0) {
        co_await asio::post(co_await asio::this_coro::executor, use_awaitable);
      } else {
        co_await WaitTimer(r, s->d);
      }
    } else if (auto* s = std::get_if<spec::Raise>(&step.op)) {
      throw Err{s->label};
    } else if (auto* s = std::get_if<spec::Return>(&step.op)) {
      self->value = s->value;
      co_return;
    } else if (auto* s = std::get_if<spec::Group>(&step.op)) {
      co_await RunGroup(r, *s, self);
    } else if (auto* s = std::get_if<spec::Spawn>(&step.op)) {
      Spawn(r, *s);
    } else if (auto* s = std::get_if<spec::Gather>(&step.op)) {
      co_await RunGather(r, *s);
    } else if (auto* s = std::get_if<spec::CreateTask>(&step.op)) {
      StartFreeTask(r, s->task);
    } else if (auto* s = std::get_if<spec::Await>(&step.op)) {
      auto it = r.tasks.find(s->target);
      if (it == r.tasks.end()) {  // FORMAT.md: then it is `sleep 0`
        co_await CancellationPoint();
        co_await asio::post(co_await asio::this_coro::executor, use_awaitable);
      } else {
        co_await AwaitTask(r, it->second.get());
      }
    } else if (auto* s = std::get_if<spec::Shield>(&step.op)) {
      co_await RunShield(r, *s);
    } else if (auto* s = std::get_if<spec::WaitFor>(&step.op)) {
      co_await RunWaitFor(r, *s);
    } else if (auto* s = std::get_if<spec::Timeout>(&step.op)) {
      co_await RunTimeout(r, *s, self);
    } else if (auto* s = std::get_if<spec::Cancel>(&step.op)) {
      auto it = r.tasks.find(s->target);
      if (it != r.tasks.end() && !it->second->done) {
        it->second->signal.emit(asio::cancellation_type::terminal);  // s->msg has no Asio carrier
      }
    } else if (std::get_if<spec::Uncancel>(&step.op)) {
      co_await asio::this_coro::reset_cancellation_state();
    } else if (auto* s = std::get_if<spec::Try>(&step.op)) {
      co_await RunTry(r, *s, self);
    } else {
      // Unsupported() refuses these before the run starts.
      throw std::logic_error("step without an Asio mapping reached the runner");
    }
  }
}

// ---------------------------------------------------------------------------
// What a program may use (the hello's capabilities), and the check of it.

const std::vector<std::string>& Capabilities() {
  static const std::vector<std::string> caps = {
      "sleep", "raise", "return", "task", "await", "group", "spawn", "gather",
      "timeout", "shield", "wait_for",
      "cancel", "uncancel", "try", "catch_group"};
  return caps;
}

// Walks `body`: registers every group in `r`, and returns where the first
// construct this adapter has no mapping for is ("" if none).
std::string Prepare(Run& r, const spec::Body& body, const std::string& where) {
  for (std::size_t i = 0; i < body.size(); ++i) {
    const std::string at = where + "/" + std::to_string(i);
    std::string bad;
    std::visit(
        [&](const auto& s) {
          using S = std::decay_t<decltype(s)>;
          if constexpr (std::is_same_v<S, spec::Raise>) {
            if (s.base) bad = at + " raise base (C++ has no BaseException; base errors are not mapped)";
          } else if constexpr (std::is_same_v<S, spec::Group>) {
            r.groups[s.name];
            bad = Prepare(r, s.body, at + " group " + s.name);
          } else if constexpr (std::is_same_v<S, spec::Spawn>) {
            bad = Prepare(r, s.task.body, at + " spawn " + s.task.name);
          } else if constexpr (std::is_same_v<S, spec::Gather>) {
            for (const spec::TaskDef& c : s.children) {
              if (bad.empty()) bad = Prepare(r, c.body, at + " gather " + s.name + "/child " + c.name);
            }
          } else if constexpr (std::is_same_v<S, spec::CreateTask>) {
            bad = Prepare(r, s.task.body, at + " task " + s.task.name);
          } else if constexpr (std::is_same_v<S, spec::Shield>) {
            bad = Prepare(r, s.task.body, at + " shield " + s.name + "/task " + s.task.name);
          } else if constexpr (std::is_same_v<S, spec::WaitFor>) {
            bad = Prepare(r, s.task.body, at + " wait_for " + s.name + "/task " + s.task.name);
          } else if constexpr (std::is_same_v<S, spec::Timeout>) {
            bad = Prepare(r, s.body, at + " timeout " + s.name);
          } else if constexpr (std::is_same_v<S, spec::Try>) {
            bad = Prepare(r, s.body, at + " try " + s.name);
            for (const spec::Handler& h : s.handlers) {
              if (!bad.empty()) break;
              if (h.star) {
                bad = at + " try " + s.name + "/handler " + h.name +
                      " except* (Asio has no exception groups to split)";
              } else {
                bad = Prepare(r, h.body, at + " try " + s.name + "/handler " + h.name);
              }
            }
            if (bad.empty() && s.finally) {
              bad = Prepare(r, s.finally->body, at + " try " + s.name + "/finally " + s.finally->name);
            }
          } else if constexpr (std::is_same_v<S, spec::Sleep> || std::is_same_v<S, spec::Return> ||
                               std::is_same_v<S, spec::Uncancel> || std::is_same_v<S, spec::Await> ||
                               std::is_same_v<S, spec::Cancel>) {
            // mapped
          } else {
            bad = at + " (no Asio mapping for this op; see README.md)";
          }
        },
        body[i].op);
    if (!bad.empty()) return bad;
  }
  return "";
}

nlohmann::json ErrorLine(const std::string& what, const char* kind, int line,
                         const std::string& where = "") {
  nlohmann::json e = {{"error", what}, {"kind", kind}, {"line", line}};
  if (!where.empty()) e["where"] = where;
  return e;
}

spec::TaskOutcome TaskOutcomeOf(Run& r, const TaskRec& t) {
  spec::TaskOutcome o;
  o.start = t.start;
  o.end = t.done ? t.end : std::nullopt;
  if (!t.done) {
    o.state = spec::TaskOutcome::State::kPending;
  } else if (!t.error) {
    o.state = spec::TaskOutcome::State::kReturned;
    o.value = t.value;
  } else {
    o.error = Classify(r, t.error);
    o.state = o.error->type == spec::Exc::Type::kCancelled ? spec::TaskOutcome::State::kCancelled
                                                             : spec::TaskOutcome::State::kRaised;
  }
  return o;
}

// One program, one output line (an outcome or an error object).
std::string RunProgram(const spec::Program& program, int line) {
  Run r;
  const std::string bad = Prepare(r, program.main, "main");
  if (!bad.empty()) {
    return ErrorLine("unsupported by the Asio adapter: " + bad, "unsupported", line, bad).dump();
  }
  VClock::current = 0;
  r.ctx.emplace(1);
  TaskRec* main = NewTask(r, "main");
  asio::co_spawn(*r.ctx, RunTask(r, main, program.main),
                 asio::bind_cancellation_slot(main->signal.slot(), [&r, main](std::exception_ptr ep) {
                   Finish(r, main, ep);
                 }));
  // The driver loop: run what is ready; when nothing is, jump to the next deadline.
  int idle_without_progress = 0;
  for (;;) {
    if (r.ctx->stopped()) r.ctx->restart();
    std::size_t ran = 0;
    try {
      ran = r.ctx->poll();
    } catch (const std::exception& e) {
      // An exception that leaves a handler leaves io_context::poll() (Asio
      // documents this). The known case is chriskohlhoff/asio#1452: a
      // coroutine cancelled before it first suspended throws from
      // co_spawn_entry_point. NoImplicitCancellationPoints() avoids it; if
      // it happens anyway, say so rather than invent an outcome.
      r.ctx.reset();
      return ErrorLine(std::string("an exception escaped io_context::poll(): ") + e.what() +
                           " (cf. chriskohlhoff/asio#1452)",
                       "internal", line)
          .dump();
    }
    if (ran > 0) {
      idle_without_progress = 0;
      continue;
    }
    if (r.armed.empty()) {
      // io_context::run() returns when no work is left; tasks still waiting
      // on an event (an await that can never end) are reported pending.
      if (main->done) break;
      r.ctx.reset();  // destroys the suspended coroutines
      return ErrorLine("every task waits and no timer is armed", "deadlock", line).dump();
    }
    const Time next = *r.armed.begin();
    if (next <= VClock::current && ++idle_without_progress > 2) {
      r.ctx.reset();
      return ErrorLine("a timer is due but Asio does not run it (adapter bug)", "internal", line).dump();
    }
    VClock::current = std::max(next, VClock::current);
  }
  r.out.end_time = Now();
  for (const auto& [name, t] : r.tasks) r.out.tasks[name] = TaskOutcomeOf(r, *t);
  if (main->error) r.out.run = Classify(r, main->error);
  for (const auto& [name, t] : r.tasks) {  // std::map: in name order
    if (name == "main" || !t->done || t->retrieved || !t->error) continue;
    spec::Exc e = Classify(r, t->error);
    if (e.type != spec::Exc::Type::kCancelled) r.out.unretrieved.push_back({name, e});
  }
  r.ctx.reset();
  if (!r.internal.empty()) return ErrorLine(r.internal, "internal", line).dump();
  return spec::OutcomeToJson(r.out);
}

std::string Version() {
  return "boost " + std::to_string(BOOST_VERSION / 100000) + "." +
         std::to_string(BOOST_VERSION / 100 % 1000) + "." + std::to_string(BOOST_VERSION % 100) +
         ", asio " + std::to_string(BOOST_ASIO_VERSION / 100000) + "." +
         std::to_string(BOOST_ASIO_VERSION / 100 % 1000) + "." +
         std::to_string(BOOST_ASIO_VERSION % 100);
}

}  // namespace

ABSL_FLAG(std::string, deadline, "or",
          "how timeout and wait_for put a deadline on their child: `or` (the documented `body || timer` "
          "idiom; runtime asio) or `wait_for_one` (make_parallel_group(body, timer).async_wait(wait_for_one()); "
          "runtime asio-wait-one)");

int main(int argc, char** argv) {
  std::ios::sync_with_stdio(false);
  asyncspec::ParseFlagsOrExit(argc, argv,
                              "usage: asio_adapter [--deadline=or|wait_for_one] < programs.jsonl > outcomes.jsonl\n"
                              "asyncspec programs on Boost.Asio C++20 coroutines, speaking conformance/ADAPTERS.md\n"
                              "(protocol 2); conformance/adapters/asio/README.md says what maps to what.");
  const std::string deadline = absl::GetFlag(FLAGS_deadline);
  if (deadline == "or") {
    g_deadline = Deadline::kOr;
  } else if (deadline == "wait_for_one") {
    g_deadline = Deadline::kWaitForOne;
  } else {
    asyncspec::FlagError("--deadline must be or or wait_for_one, got '" + deadline + "'");
  }
  nlohmann::json hello = {{"hello",
                           {{"protocol", 2},
                            {"runtime", g_deadline == Deadline::kOr ? "asio" : "asio-wait-one"},
                            {"version", Version()},
                            {"capabilities", Capabilities()},
                            {"model", "3.13"},
                            {"rules", "structured"},
                            {"clock", "virtual"}}}};
  std::cout << hello.dump() << std::endl;
  std::string text;
  int line = 0;
  while (std::getline(std::cin, text)) {
    ++line;
    // Protocol 2: the check writes the program's id first, {"id":N,...};
    // the answer repeats it.
    std::string id;
    if (text.rfind("{\"id\":", 0) == 0) {
      const auto comma = text.find(',');
      id = text.substr(6, comma == std::string::npos ? std::string::npos : comma - 6);
      text = comma == std::string::npos ? "" : "{" + text.substr(comma + 1);
    }
    std::string answer;
    try {
      absl::StatusOr<spec::Program> program = spec::ProgramFromJson(text);
      if (!program.ok()) {
        answer = ErrorLine(std::string(program.status().message()), "input", line).dump();
      } else if (absl::Status valid = spec::Validate(*program); !valid.ok()) {
        answer = ErrorLine(std::string(valid.message()), "input", line).dump();
      } else {
        answer = RunProgram(*program, line);
      }
    } catch (const std::exception& e) {
      answer = ErrorLine(std::string("adapter failed: ") + e.what(), "internal", line).dump();
    } catch (...) {
      answer = ErrorLine("adapter failed with an unknown exception", "internal", line).dump();
    }
    if (!id.empty()) answer = "{\"id\":" + id + "," + answer.substr(1);
    std::cout << answer << std::endl;
  }
  return 0;
}
