// asyncspec reproducer: TO-1 Deadline and handler
//
// Found by the asyncspec conformance check on asio-wait-one boost 1.81.0, asio 1.26.0, shrunk, and written here
// as plain Boost.Asio C++20 coroutines, mapped as conformance/adapters/asio/README.md says
// (timeouts as make_parallel_group(body, timer) with wait_for_one()), on a virtual clock. It prints, for each outcome
// element the check found different, what this run observed and what the rule requires,
// and exits 1 if any still differs (0: fixed). Only Boost 1.81 headers and the standard
// library; build and run it with
//
//   g++ -std=c++20 -DBOOST_ASIO_DISABLE_TIMERFD -o repro-6-TO-1 repro-6-TO-1.cc -pthread && ./repro-6-TO-1
//
// The program (spec/LANGUAGE.md):
//
//   main:
//     task t0:
//       sleep 0
//       timeout tm0 none:
//         pass
//
// Replay in the checker: bazel run //conformance:check -- --runtime=asio-wait-one --profile=3.13 --replay=8333663807355726931
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <boost/asio.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/experimental/parallel_group.hpp>

namespace asio = boost::asio;
using asio::awaitable;
using asio::use_awaitable;
using Time = std::int64_t;

// ---------------------------------------------------------------------------
// A virtual clock: now() is a variable that only the driver loop in main()
// moves; every wait is zero long for the reactor, so it never sleeps.
// (Compile with -DBOOST_ASIO_DISABLE_TIMERFD: the epoll reactor reads its
// timer queues only when a real-time timerfd fires.)
struct VClock {
  using rep = std::int64_t;
  using period = std::ratio<1>;
  using duration = std::chrono::duration<rep, period>;
  using time_point = std::chrono::time_point<VClock, duration>;
  static constexpr bool is_steady = true;
  static inline rep current = 0;
  static time_point now() noexcept { return time_point(duration(current)); }
};
struct VTraits {
  static VClock::duration to_wait_duration(const VClock::duration&) { return VClock::duration::zero(); }
  static VClock::duration to_wait_duration(const VClock::time_point&) { return VClock::duration::zero(); }
};
using Timer = asio::basic_waitable_timer<VClock, VTraits>;
Time Now() { return VClock::current; }

// The program's exceptions (besides Asio's operation_aborted, its CancelledError).
struct Err { std::string label; };                              // raise E1
struct TimeoutErr {};                                           // a timeout expired
struct RuntimeErr { std::string what, text; };                  // spawn into a closed group
struct GroupErr { std::vector<std::exception_ptr> children; };  // a group's errors
struct ChildFailed {};  // the supervisor's signal to its parallel group; never escapes

struct GroupRec;
struct TaskRec {
  std::string name;
  std::optional<Time> start, end;
  bool done = false;
  std::optional<std::string> value;  // set by `return`
  std::exception_ptr error;          // what the coroutine let escape
  GroupRec* group = nullptr;
  bool retrieved = false;            // an awaiter, group or parallel group received `error`
  std::vector<Timer*> waiters;       // awaiters' event timers, cancelled when it is done
  asio::cancellation_signal signal;  // bound to its co_spawn
};
struct GroupRec {
  enum class State { kNotEntered, kOpen, kAborting, kFinished };
  State state = State::kNotEntered;
  bool body_done = false;
  int live = 0;
  std::vector<TaskRec*> children;
  std::vector<std::exception_ptr> errors;  // children's, in completion order
  Timer* wakeup = nullptr;
};

std::multiset<Time> ARMED;  // deadlines of pending sleeps and timeouts: where the clock may jump
std::map<std::string, std::unique_ptr<TaskRec>> TASKS;
std::map<std::string, GroupRec> GROUPS;
std::map<std::string, std::map<std::string, std::string>> SCOPES, BLOCKS;  // outcome JSON fields
std::string INTERNAL;  // something no program step can cause happened
std::optional<asio::io_context> CTX;

class Armed {  // a deadline in ARMED while a wait is pending
 public:
  explicit Armed(Time at) : it_(ARMED.insert(at)) {}
  ~Armed() { ARMED.erase(it_); }
  Armed(const Armed&) = delete;
  Armed& operator=(const Armed&) = delete;

 private:
  std::multiset<Time>::iterator it_;
};

void Wake(GroupRec& g) {
  if (g.wakeup != nullptr) g.wakeup->cancel();
}

// ---------------------------------------------------------------------------
// Exceptions as spec/FORMAT.md writes them (JSON, keys sorted).

std::string js(const std::string& s) {
  std::string o = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      o += '\\';
      o += static_cast<char>(c);
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      o += buf;
    } else {
      o += static_cast<char>(c);
    }
  }
  return o + "\"";
}
std::string obj(const std::map<std::string, std::string>& f) {
  std::string o = "{";
  for (const auto& [k, v] : f) o += (o.size() > 1 ? "," : "") + js(k) + ":" + v;
  return o + "}";
}

struct Exc {
  std::string type, label, what;
  std::vector<Exc> children;
};
Exc Classify(std::exception_ptr ep) {
  Exc e;
  try {
    std::rethrow_exception(ep);
  } catch (const Err& x) {
    e.type = "error";
    e.label = x.label;
  } catch (const TimeoutErr&) {
    e.type = "timeout";
  } catch (const RuntimeErr& x) {
    e.type = "runtime";
    e.what = x.what;
  } catch (const GroupErr& x) {
    e.type = "group";
    for (const auto& c : x.children) e.children.push_back(Classify(c));
  } catch (const asio::multiple_exceptions& x) {
    return Classify(x.first_exception());  // what `||` throws when both sides failed: the first
  } catch (const boost::system::system_error& x) {
    if (x.code() == asio::error::operation_aborted) {
      e.type = "cancelled";  // no message: Asio's cancellation has none
    } else {
      e.type = "runtime";
      e.what = "other";
      INTERNAL = std::string("Asio raised ") + x.what();
    }
  } catch (const std::exception& x) {
    e.type = "runtime";
    e.what = "other";
    INTERNAL = std::string("unexpected C++ exception: ") + x.what();
  } catch (...) {
    e.type = "runtime";
    e.what = "other";
    INTERNAL = "unexpected C++ exception of unknown type";
  }
  return e;
}
std::string json(const Exc& e) {
  std::map<std::string, std::string> f{{"type", js(e.type)}};
  if (e.type == "error") f["label"] = js(e.label);
  if (e.type == "runtime") f["what"] = js(e.what);
  if (e.type == "group") {
    std::string c = "[";
    for (const Exc& x : e.children) c += (c.size() > 1 ? "," : "") + json(x);
    f["base"] = "false";
    f["children"] = c + "]";
  }
  return obj(f);
}
std::string exc(std::exception_ptr ep) { return json(Classify(ep)); }
bool IsCancelled(std::exception_ptr ep) { return ep && Classify(ep).type == "cancelled"; }

// `except KIND ["label"]`.
enum class Catch { Cancelled, Timeout, Error, Group, Runtime, Exception, Any };
bool catches(std::exception_ptr ep, Catch k, const char* label = nullptr) {
  const Exc e = Classify(ep);
  switch (k) {
    case Catch::Cancelled: return e.type == "cancelled";
    case Catch::Timeout: return e.type == "timeout";
    case Catch::Error: return e.type == "error" && (!label || e.label == label);
    case Catch::Group: return e.type == "group";
    case Catch::Runtime: return e.type == "runtime";
    case Catch::Exception: return e.type != "cancelled";
    case Catch::Any: return true;
  }
  return false;
}

void scope_end(const std::string& name, std::exception_ptr ep) {
  auto& s = SCOPES[name];
  s["end"] = std::to_string(Now());
  if (ep) s["raised"] = exc(ep);
}
void block_start(const std::string& name) { BLOCKS[name] = {{"start", std::to_string(Now())}}; }
void block_end(const std::string& name) { BLOCKS[name]["end"] = std::to_string(Now()); }

// ---------------------------------------------------------------------------
// Cancellation points. Asio checks a latched cancellation at every co_await
// of an awaitable (this_coro::throw_if_cancelled, on by default). The helper
// coroutines below are not user code, so every coroutine this file starts
// turns that off and checks (CancellationPoint) exactly where user code
// would co_await an Asio operation: a timer wait, a post, a parallel group,
// an awaitable operator. The check is Asio's own, with its exception.
awaitable<void> NoImplicitCancellationPoints() { co_await asio::this_coro::throw_if_cancelled(false); }

awaitable<void> CancellationPoint() {
  asio::cancellation_state cs = co_await asio::this_coro::cancellation_state;
  if (cs.cancelled() != asio::cancellation_type::none) {
    boost::asio::detail::throw_error(asio::error::operation_aborted, "co_await");
  }
}

awaitable<void> WaitTimer(Time d) {
  Timer t(co_await asio::this_coro::executor);
  t.expires_at(VClock::now() + VClock::duration(d));
  Armed armed(Now() + d);
  co_await t.async_wait(use_awaitable);
}

// `sleep d` (d = 0: Asio's yield, a post).
awaitable<void> sleep_for(Time d) {
  co_await CancellationPoint();
  if (d == 0) {
    co_await asio::post(co_await asio::this_coro::executor, use_awaitable);
  } else {
    co_await WaitTimer(d);
  }
}

// ---------------------------------------------------------------------------
// Tasks: co_spawn with a signal of its own and a completion handler that
// records how the task ended.
using Body = awaitable<void> (*)(TaskRec* self);

void Record(TaskRec* t, std::exception_ptr ep) {
  t->done = true;
  t->end = Now();
  t->error = ep;
  for (Timer* w : t->waiters) w->cancel();
  t->waiters.clear();
}
void Finish(TaskRec* t, std::exception_ptr ep) {
  Record(t, ep);
  if (GroupRec* g = t->group) {
    t->retrieved = true;  // the group collects it
    --g->live;
    if (ep && !IsCancelled(ep)) g->errors.push_back(ep);
    Wake(*g);
  }
}
awaitable<void> RunTask(TaskRec* t, Body body) {
  co_await NoImplicitCancellationPoints();
  t->start = Now();
  co_await body(t);
}
TaskRec* NewTask(const std::string& name) {
  auto& slot = TASKS[name];
  slot = std::make_unique<TaskRec>();
  slot->name = name;
  return slot.get();
}
void StartTask(TaskRec* t, Body body) {
  asio::co_spawn(*CTX, RunTask(t, body),
                 asio::bind_cancellation_slot(t->signal.slot(), [t](std::exception_ptr ep) { Finish(t, ep); }));
}
// `task a`: co_spawn with a completion handler (fire and forget).
void create_task(const std::string& name, Body body) { StartTask(NewTask(name), body); }

// `cancel t`: a terminal cancellation on its signal (no message: emit takes none).
void cancel(const std::string& name) {
  auto it = TASKS.find(name);
  if (it != TASKS.end() && !it->second->done) it->second->signal.emit(asio::cancellation_type::terminal);
}

// `await t`: no join in Asio, so an event timer that the task's completion cancels.
awaitable<void> AwaitTask(TaskRec* t) {
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
awaitable<void> await_task(const std::string& name) {
  auto it = TASKS.find(name);
  if (it == TASKS.end()) {
    co_await sleep_for(0);  // no such task yet: FORMAT.md makes it `sleep 0`
  } else {
    co_await AwaitTask(it->second.get());
  }
}

// ---------------------------------------------------------------------------
// `group g`: make_parallel_group(body, supervisor).async_wait(wait_for_one_error()),
// the children co_spawned with their own signals and drained at the exit.
void spawn(const std::string& group, const std::string& name, Body body) {
  GroupRec& g = GROUPS.at(group);
  switch (g.state) {
    case GroupRec::State::kNotEntered: throw RuntimeErr{"taskgroup_not_entered", "group " + group + " was not entered"};
    case GroupRec::State::kFinished: throw RuntimeErr{"taskgroup_finished", "group " + group + " is finished"};
    case GroupRec::State::kAborting: throw RuntimeErr{"taskgroup_shutting_down", "group " + group + " is shutting down"};
    case GroupRec::State::kOpen: break;
  }
  TaskRec* t = NewTask(name);
  t->group = &g;
  ++g.live;
  g.children.push_back(t);
  asio::co_spawn(*CTX, RunTask(t, body),
                 asio::bind_cancellation_slot(t->signal.slot(), [t](std::exception_ptr ep) { Finish(t, ep); }));
}

awaitable<void> DrainChildren(GroupRec& g) {  // immune to cancellation: an empty slot
  while (g.live > 0) {
    co_await g.wakeup->async_wait(asio::bind_cancellation_slot(asio::cancellation_slot(), asio::as_tuple(use_awaitable)));
  }
}
void AbortChildren(GroupRec& g) {
  g.state = GroupRec::State::kAborting;
  for (TaskRec* c : g.children) {
    if (!c->done) c->signal.emit(asio::cancellation_type::terminal);
  }
}
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
      g.state = GroupRec::State::kFinished;
      co_return;
    }
    co_await g.wakeup->async_wait(asio::as_tuple(use_awaitable));
  }
}
template <class F>
awaitable<void> GroupBody(GroupRec& g, F body) {
  co_await NoImplicitCancellationPoints();
  std::exception_ptr ep;
  try {
    co_await body();
  } catch (...) {
    ep = std::current_exception();
  }
  g.body_done = true;
  Wake(g);
  if (ep) std::rethrow_exception(ep);
}
template <class F>
awaitable<void> group(const std::string& name, F body) {
  auto ex = co_await asio::this_coro::executor;
  GroupRec& g = GROUPS.at(name);
  co_await CancellationPoint();
  Timer wakeup(ex);
  wakeup.expires_at(VClock::time_point::max());
  g.wakeup = &wakeup;
  g.state = GroupRec::State::kOpen;
  struct Close {
    GroupRec& g;
    ~Close() {
      g.wakeup = nullptr;
      g.state = GroupRec::State::kFinished;
    }
  } close{g};
  auto [order, body_ep, sup_ep] =
      co_await asio::experimental::make_parallel_group(asio::co_spawn(ex, GroupBody(g, std::move(body)), asio::deferred),
                                                       asio::co_spawn(ex, Supervise(g), asio::deferred))
          .async_wait(asio::experimental::wait_for_one_error(), use_awaitable);
  (void)order;
  co_await DrainChildren(g);
  g.state = GroupRec::State::kFinished;
  std::vector<std::exception_ptr> errors = g.errors;
  if (body_ep && !IsCancelled(body_ep)) errors.push_back(body_ep);
  std::exception_ptr raised;
  if (!errors.empty()) {
    raised = std::make_exception_ptr(GroupErr{errors});
  } else if (body_ep) {
    raised = body_ep;
  } else if (sup_ep) {
    raised = sup_ep;
  }
  scope_end(name, raised);
  if (raised) std::rethrow_exception(raised);
}

// ---------------------------------------------------------------------------
// Deadlines: `timeout` and `wait_for` race their body against a timer.
enum class Deadline { kOr, kWaitForOne };
extern const Deadline DEADLINE;

struct RaceResult {
  bool expired = false;
  std::exception_ptr raised;
};
awaitable<RaceResult> RaceDeadline(awaitable<void> body, Time d) {
  using namespace asio::experimental::awaitable_operators;
  RaceResult res;
  if (DEADLINE == Deadline::kOr) {  // co_await (body || timer): wait_for_one_success
    try {
      auto won = co_await (std::move(body) || WaitTimer(d));
      if (won.index() == 1) {
        res.expired = true;
        res.raised = std::make_exception_ptr(TimeoutErr{});
      }
    } catch (...) {
      res.raised = std::current_exception();
    }
    co_return res;
  }
  auto ex = co_await asio::this_coro::executor;  // make_parallel_group(body, timer), wait_for_one
  auto [order, body_ep, timer_ep] =
      co_await asio::experimental::make_parallel_group(asio::co_spawn(ex, std::move(body), asio::deferred),
                                                       asio::co_spawn(ex, WaitTimer(d), asio::deferred))
          .async_wait(asio::experimental::wait_for_one(), use_awaitable);
  res.expired = order[0] == 1 && !timer_ep;
  res.raised = res.expired && IsCancelled(body_ep) ? std::make_exception_ptr(TimeoutErr{}) : body_ep;
  co_return res;
}
template <class F>
awaitable<void> TimeoutBody(F body) {
  co_await NoImplicitCancellationPoints();
  co_await body();
}
template <class F>
awaitable<void> timeout(const std::string& name, std::optional<Time> d, F body) {
  bool expired = false;
  std::exception_ptr ep;
  try {
    if (!d) {
      co_await body();
    } else {
      co_await CancellationPoint();
      RaceResult res = co_await RaceDeadline(TimeoutBody(std::move(body)), *d);
      expired = res.expired;
      ep = res.raised;
    }
  } catch (...) {
    ep = std::current_exception();
  }
  scope_end(name, ep);
  SCOPES[name]["expired"] = expired ? "true" : "false";
  if (ep) std::rethrow_exception(ep);
}

// ---------------------------------------------------------------------------
// gather / shield / wait_for: children behind a proxy operation (ChildOp)
// that forwards the operation's cancellation to the child's own signal.
awaitable<void> ChildOp(TaskRec* t, Body body) {
  co_await NoImplicitCancellationPoints();
  t->retrieved = true;
  StartTask(t, body);
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
      co_await ev.async_wait(asio::as_tuple(use_awaitable));
      if (!t->done && !forwarded && cs.cancelled() != asio::cancellation_type::none) {
        forwarded = true;
        t->signal.emit(asio::cancellation_type::terminal);
      }
    }
  }
  if (t->error) std::rethrow_exception(t->error);
}

std::string items_json(const std::vector<TaskRec*>& recs, const std::vector<std::exception_ptr>& errs) {
  std::string o = "[";
  for (std::size_t i = 0; i < recs.size(); ++i) {
    o += i ? "," : "";
    if (errs[i]) {
      o += obj({{"error", exc(errs[i])}});
    } else {
      o += recs[i]->value ? obj({{"value", js(*recs[i]->value)}}) : "{}";
    }
  }
  return o + "]";
}

// `gather`: a ranged make_parallel_group, wait_for_one_error() or (return_exceptions) wait_for_all().
awaitable<void> gather(const std::string& name, bool return_exceptions,
                       std::vector<std::pair<std::string, Body>> children) {
  auto ex = co_await asio::this_coro::executor;
  using Deferred = decltype(asio::co_spawn(ex, std::declval<awaitable<void>>(), asio::deferred));
  std::vector<TaskRec*> recs;
  std::vector<Deferred> ops;
  for (const auto& [child, body] : children) {
    TaskRec* t = NewTask(child);
    recs.push_back(t);
    ops.push_back(asio::co_spawn(ex, ChildOp(t, body), asio::deferred));
  }
  co_await CancellationPoint();
  std::vector<std::size_t> order;
  std::vector<std::exception_ptr> errs;
  if (return_exceptions) {
    std::tie(order, errs) = co_await asio::experimental::make_parallel_group(std::move(ops))
                                .async_wait(asio::experimental::wait_for_all(), use_awaitable);
  } else {
    std::tie(order, errs) = co_await asio::experimental::make_parallel_group(std::move(ops))
                                .async_wait(asio::experimental::wait_for_one_error(), use_awaitable);
  }
  for (std::size_t i = 0; i < recs.size(); ++i) {
    if (!recs[i]->done && !recs[i]->start) {  // cancelled before ChildOp ran
      Record(recs[i], errs[i]);
      recs[i]->retrieved = true;
    }
  }
  std::exception_ptr raised;
  if (!return_exceptions) {
    for (std::size_t i : order) {
      if (errs[i]) {
        raised = errs[i];
        break;
      }
    }
  }
  scope_end(name, raised);
  if (raised) std::rethrow_exception(raised);
  SCOPES[name]["value"] = items_json(recs, errs);
}

// `shield S a`: a free task awaited; the awaiter's cancellation ends the wait only.
awaitable<void> shield(const std::string& name, const std::string& task, Body body) {
  TaskRec* t = NewTask(task);
  StartTask(t, body);
  std::exception_ptr ep;
  try {
    co_await AwaitTask(t);
  } catch (...) {
    ep = std::current_exception();
  }
  scope_end(name, ep);
  if (ep) std::rethrow_exception(ep);
  if (t->value) SCOPES[name]["value"] = js(*t->value);
}

// `wait_for W a d`: the child raced against the deadline like `timeout`.
awaitable<void> wait_for(const std::string& name, const std::string& task, Body body, std::optional<Time> d) {
  TaskRec* t = NewTask(task);
  std::exception_ptr ep;
  try {
    co_await CancellationPoint();
    if (!d) {
      co_await ChildOp(t, body);
    } else {
      ep = (co_await RaceDeadline(ChildOp(t, body), *d)).raised;
    }
  } catch (...) {
    ep = std::current_exception();
  }
  if (!t->done && !t->start) {
    Record(t, ep);
    t->retrieved = true;
  }
  scope_end(name, ep);
  if (ep) std::rethrow_exception(ep);
  if (t->value) SCOPES[name]["value"] = js(*t->value);
}

// ---------------------------------------------------------------------------
// asyncio.run's stand-in: co_spawn main, then the driver loop: run what is
// ready; when nothing is, jump the clock to the next deadline; stop when
// main is done and no work is left (leftover tasks are not cancelled: Asio
// has no such step). Returns the outcome's elements by name.
awaitable<void> main_(TaskRec* self);
void declare_groups();

std::map<std::string, std::string> observe() {
  std::map<std::string, std::string> el;
  declare_groups();
  CTX.emplace(1);
  TaskRec* main = NewTask("main");
  asio::co_spawn(*CTX, RunTask(main, &main_),
                 asio::bind_cancellation_slot(main->signal.slot(), [main](std::exception_ptr ep) { Finish(main, ep); }));
  int idle = 0;
  for (;;) {
    if (CTX->stopped()) CTX->restart();
    std::size_t ran = 0;
    try {
      ran = CTX->poll();
    } catch (const std::exception& e) {
      std::printf("an exception escaped io_context::poll(): %s (cf. chriskohlhoff/asio#1452)\n", e.what());
      el["run"] = js("internal error");
      return el;
    }
    if (ran > 0) {
      idle = 0;
      continue;
    }
    if (ARMED.empty()) {
      if (main->done) break;
      std::printf("the program deadlocks: every task waits and no timer is armed\n");
      el["run"] = js("deadlock");
      return el;
    }
    const Time next = *ARMED.begin();
    if (next <= VClock::current && ++idle > 2) {
      std::printf("a timer is due but Asio does not run it\n");
      el["run"] = js("internal error");
      return el;
    }
    VClock::current = std::max(next, VClock::current);
  }
  el["end_time"] = std::to_string(Now());
  el["run"] = main->error ? exc(main->error) : "null";
  for (const auto& [name, t] : TASKS) {
    std::map<std::string, std::string> d;
    if (t->start) d["start"] = std::to_string(*t->start);
    if (!t->done) {
      d["state"] = js("pending");
    } else {
      d["end"] = std::to_string(*t->end);
      if (!t->error) {
        d["state"] = js("returned");
        if (t->value) d["value"] = js(*t->value);
      } else {
        const Exc e = Classify(t->error);
        d["state"] = js(e.type == "cancelled" ? "cancelled" : "raised");
        d["error"] = json(e);
        if (name != "main" && !t->retrieved && e.type != "cancelled") el["unretrieved." + name] = json(e);
      }
    }
    el["tasks." + name] = obj(d);
  }
  for (const auto& [name, f] : SCOPES) el["scopes." + name] = obj(f);
  for (const auto& [name, f] : BLOCKS) el["blocks." + name] = obj(f);
  if (!INTERNAL.empty()) std::printf("note: %s\n", INTERNAL.c_str());
  return el;
}

struct Required {
  const char* element;
  const char* json;  // the model's element as the check writes it; "(absent)" if it has none
};
extern const char* const RULE;
extern const char* const TITLE;
extern const char* const STATEMENT;
extern const char* const PROFILE;
extern const char* const RUNTIME;
extern const std::vector<Required> REQUIRED;

int report() {
  std::map<std::string, std::string> observed = observe();
  std::printf("asyncspec reproducer: rule %s, %s\n  %s\n", RULE, TITLE, STATEMENT);
  std::printf("checked on: %s; this run: Boost %d.%d.%d, Asio %d.%d.%d\n\n", RUNTIME, BOOST_VERSION / 100000,
              BOOST_VERSION / 100 % 1000, BOOST_VERSION % 100, BOOST_ASIO_VERSION / 100000,
              BOOST_ASIO_VERSION / 100 % 1000, BOOST_ASIO_VERSION % 100);
  int differ = 0;
  for (const Required& r : REQUIRED) {
    auto it = observed.find(r.element);
    const std::string got = it == observed.end() ? js("(absent)") : it->second;
    const bool same = got == r.json;
    differ += !same;
    std::printf("%s: %s\n  observed: %s\n  required: %s  (model, profile %s)\n", r.element,
                same ? "as required" : "DIFFERS", got.c_str(), r.json, PROFILE);
  }
  std::printf("\n");
  if (differ) {
    std::printf("FAIL %s: %d of %zu elements differ from what the rules require\n", RULE, differ, REQUIRED.size());
    return 1;
  }
  std::printf("PASS: Asio now does what %s requires for this program\n", RULE);
  return 0;
}

// ---------------------------------------------------------------------------
// The program.

const Deadline DEADLINE = Deadline::kWaitForOne;

void declare_groups() {
}

awaitable<void> main_(TaskRec* self);
awaitable<void> task_t0(TaskRec* self);

awaitable<void> task_t0(TaskRec* self) {  // task t0
  co_await sleep_for(0);
  co_await timeout("tm0", std::nullopt, [&]() -> awaitable<void> {  // timeout tm0
    co_return;
  });
  co_return;
}

awaitable<void> main_(TaskRec* self) {  // task main
  create_task("t0", &task_t0);
  co_return;
}


// What the rules require for the elements that differed (the model's outcome).
const char* const RULE = "TO-1";
const char* const TITLE = "Deadline and handler";
const char* const STATEMENT = "`timeout(d)` sets the deadline `now + d` (`timeout_at(when)` is the same with an absolute deadline; the program language writes deadlines relative to now); entering records `self._cancelling = self._task.cancelling()` and calls `reschedule(when)`: `if when <= loop.time(): self._timeout_handler = loop.call_soon(self._on_timeout)` else `loop.call_at(when, self._on_timeout)`; `None` means no deadline. Entering does not suspend. Versions: all.";
const char* const PROFILE = "3.13";
const char* const RUNTIME = "asio-wait-one boost 1.81.0, asio 1.26.0";
const std::vector<Required> REQUIRED = {
    {"scopes.tm0", "\"(absent)\""},
    {"tasks.t0", "{\"end\":0,\"error\":{\"type\":\"cancelled\"},\"start\":0,\"state\":\"cancelled\"}"},
};

int main() {
  const int code = report();
  std::fflush(stdout);
  std::_Exit(code);
}
