// asio_emit_cc: the Asio adapter's reproducer command (conformance/
// ADAPTERS.md, "Reproducers"). It reads the check's reproducer input (one
// JSON object: the shrunk program, the rule, what the rules require per
// differing element) on stdin and prints a standalone Boost.Asio C++20 file
// that runs the program on plain Asio, the way adapter.cc maps it, and
// prints, per differing element, what this run observed and what the rule
// requires; exit 1 while any differs, 0 once Asio does what the rule says.
//
// The file needs only Boost (1.81, header-only Asio) and the standard
// library; its header comment has the g++ line. The program is the code:
// each task is an `awaitable<void>` function, started by `co_spawn` with a
// `cancellation_signal` of its own; `sleep` is a timer wait on the virtual
// clock, `timeout` the `body || timer` idiom (or, `--deadline=wait_for_one`,
// a parallel group with wait_for_one()), `gather` a ranged
// make_parallel_group, `group` a parallel group of the body and a
// supervisor, `try` a C++ try with the handlers after the catch (no
// co_await in a catch). What these helpers do is adapter.cc's mapping,
// rewritten over callables instead of the program's data (a reproducer
// cannot include the adapter); adapter_test.py checks, on judged failures,
// that a reproducer observes what the adapter reported.
//
//   asio_emit_cc [--deadline=or|wait_for_one] < input.json > repro.cc
//
// Programs with constructs the adapter does not map (except*, raise base,
// reschedule: the check never sends them) are refused: exit 1, why on stderr.
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <variant>

#include <nlohmann/json.hpp>

#include "spec/json.h"
#include "spec/program.h"
#include "spec/text.h"
#include "spec/validate.h"
#include "conformance/quote.h"
#include "tools/flags.h"
#include "absl/flags/flag.h"

namespace spec = asyncspec::spec;

namespace {

constexpr char kPrelude[] = R"CC(#include <chrono>
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
bool catches(std::exception_ptr ep, Catch k, const std::optional<std::string>& label = std::nullopt) {
  const Exc e = Classify(ep);
  switch (k) {
    case Catch::Cancelled: return e.type == "cancelled";
    case Catch::Timeout: return e.type == "timeout";
    case Catch::Error: return e.type == "error" && (!label || e.label == *label);
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
)CC";

// Every string of the program as a std::string expression with its exact
// bytes, NULs included (conformance/quote.h).
std::string Lit(const std::string& s) { return asyncspec::conformance::CcStr(s); }
using asyncspec::conformance::CcCStr;
using asyncspec::conformance::CommentText;

// The check's element JSON with nulls dropped (keys stay sorted).
std::string Canonical(const nlohmann::json& v) {
  std::function<nlohmann::json(const nlohmann::json&)> clean = [&](const nlohmann::json& x) -> nlohmann::json {
    if (x.is_object()) {
      nlohmann::json o = nlohmann::json::object();
      for (auto& [k, y] : x.items()) {
        if (!y.is_null()) o[k] = clean(y);
      }
      return o;
    }
    if (x.is_array()) {
      nlohmann::json a = nlohmann::json::array();
      for (const auto& y : x) a.push_back(clean(y));
      return a;
    }
    return x;
  };
  return clean(v).dump();
}

std::string OptTime(const std::optional<spec::Time>& d) { return d ? std::to_string(*d) : "std::nullopt"; }

class Writer {
 public:
  std::string bad;  // the first construct without a mapping

  std::string Program(const spec::Body& main) {
    TaskFn("main", main, "main_");
    std::string decls = "void declare_groups() {\n";
    for (const std::string& g : groups_) decls += "  GROUPS[" + Lit(g) + "];\n";
    decls += "}\n\n";
    return decls + protos_ + "\n" + fns_;
  }

 private:
  void Line(int in, const std::string& s) { out_ << std::string(2 * in, ' ') << s << "\n"; }

  std::string Fn(const std::string& name) {
    std::string id = "task_";
    for (char c : name) id += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
    while (used_.count(id)) id += "_";
    used_.insert(id);
    return id;
  }

  // A task's function; returns its name (a Body).
  std::string TaskFn(const std::string& name, const spec::Body& body, std::string fn = "") {
    if (fn.empty()) fn = Fn(name);
    protos_ += "awaitable<void> " + fn + "(TaskRec* self);\n";
    std::ostringstream saved;
    saved.swap(out_);
    Line(0, "awaitable<void> " + fn + "(TaskRec* self) {  // task " + name);
    for (const spec::Step& s : body) Step(s, 1);
    Line(1, "co_return;");
    Line(0, "}");
    fns_ += out_.str() + "\n";
    out_.swap(saved);
    return "&" + fn;
  }

  std::string Lambda() { return "[&]() -> awaitable<void> {"; }

  void Body(const spec::Body& body, int in) {
    for (const spec::Step& s : body) Step(s, in);
    Line(in, "co_return;");
  }

  static std::string CatchArgs(const spec::Handler& h) {
    using K = spec::CatchKind;
    switch (h.kind) {
      case K::kCancelled: return "Catch::Cancelled";
      case K::kTimeout: return "Catch::Timeout";
      case K::kError: return h.label ? "Catch::Error, " + Lit(*h.label) : "Catch::Error";
      case K::kGroup: return "Catch::Group";
      case K::kRuntime: return "Catch::Runtime";
      case K::kException: return "Catch::Exception";
      case K::kAny: return "Catch::Any";
      case K::kBase: return "";  // refused (no base errors in C++)
    }
    return "";
  }

  void Try(const spec::Try& tr, int in) {
    const std::string ep = "ep_" + std::to_string(++n_);
    Line(in, "{  // try " + tr.name);
    Line(in + 1, "std::exception_ptr " + ep + ";");
    Line(in + 1, "try {");
    for (const spec::Step& s : tr.body) Step(s, in + 2);
    Line(in + 1, "} catch (...) {");
    Line(in + 2, ep + " = std::current_exception();");
    Line(in + 1, "}");
    if (!tr.handlers.empty()) {
      Line(in + 1, "if (" + ep + ") {  // the handlers run after the catch: C++ has no co_await in one");
      bool first = true;
      for (const spec::Handler& h : tr.handlers) {
        if (h.star || h.kind == spec::CatchKind::kBase) {
          bad = "try " + tr.name + ", handler " + h.name + ": except* and base errors have no Asio mapping";
          return;
        }
        const std::string hep = "hep_" + std::to_string(++n_);
        Line(in + 2, std::string(first ? "if" : "} else if") + " (catches(" + ep + ", " + CatchArgs(h) + ")) {  // " +
                         h.name);
        first = false;
        Line(in + 3, "block_start(" + Lit(h.name) + ");");
        Line(in + 3, "std::exception_ptr " + hep + ";");
        Line(in + 3, "try {");
        for (const spec::Step& s : h.body) Step(s, in + 4);
        Line(in + 3, "} catch (...) {");
        Line(in + 4, hep + " = std::current_exception();");
        Line(in + 3, "}");
        Line(in + 3, "if (" + hep + ") {");
        Line(in + 4, ep + " = " + hep + ";");
        Line(in + 3, "} else {");
        Line(in + 4, "block_end(" + Lit(h.name) + ");");
        if (h.then == spec::Then::kUncancel) Line(in + 4, "co_await asio::this_coro::reset_cancellation_state();");
        if (h.then != spec::Then::kReraise) Line(in + 4, ep + " = nullptr;  // handled");
        Line(in + 3, "}");
      }
      Line(in + 2, "}");
      Line(in + 1, "}");
    }
    if (tr.finally) {
      const std::string fep = "fep_" + std::to_string(++n_);
      Line(in + 1, "block_start(" + Lit(tr.finally->name) + ");  // finally");
      Line(in + 1, "std::exception_ptr " + fep + ";");
      Line(in + 1, "try {");
      for (const spec::Step& s : tr.finally->body) Step(s, in + 2);
      Line(in + 1, "} catch (...) {");
      Line(in + 2, fep + " = std::current_exception();");
      Line(in + 1, "}");
      Line(in + 1, "if (" + fep + ") {");
      Line(in + 2, ep + " = " + fep + ";");
      Line(in + 1, "} else {");
      Line(in + 2, "block_end(" + Lit(tr.finally->name) + ");");
      Line(in + 1, "}");
    }
    Line(in + 1, "scope_end(" + Lit(tr.name) + ", " + ep + ");");
    Line(in + 1, "if (" + ep + ") std::rethrow_exception(" + ep + ");");
    Line(in, "}");
  }

  void Step(const spec::Step& step, int in) {
    if (!bad.empty()) return;
    std::visit(
        [&](const auto& op) {
          using S = std::decay_t<decltype(op)>;
          if constexpr (std::is_same_v<S, spec::Sleep>) {
            Line(in, "co_await sleep_for(" + std::to_string(op.d) + ");");
          } else if constexpr (std::is_same_v<S, spec::Raise>) {
            if (op.base) bad = "raise base " + op.label + ": C++ has no BaseException";
            Line(in, "throw Err{" + Lit(op.label) + "};");
          } else if constexpr (std::is_same_v<S, spec::Return>) {
            Line(in, "self->value = " + Lit(op.value) + ";");
            Line(in, "co_return;");
          } else if constexpr (std::is_same_v<S, spec::CreateTask>) {
            Line(in, "create_task(" + Lit(op.task.name) + ", " + TaskFn(op.task.name, op.task.body) + ");");
          } else if constexpr (std::is_same_v<S, spec::Group>) {
            groups_.insert(op.name);
            Line(in, "co_await group(" + Lit(op.name) + ", " + Lambda() + "  // group " + CommentText(op.name));
            Body(op.body, in + 1);
            Line(in, "});");
          } else if constexpr (std::is_same_v<S, spec::Spawn>) {
            groups_.insert(op.group);
            Line(in, "spawn(" + Lit(op.group) + ", " + Lit(op.task.name) + ", " + TaskFn(op.task.name, op.task.body) + ");");
          } else if constexpr (std::is_same_v<S, spec::Gather>) {
            // Pushed one by one: GCC 12 rejects a braced list inside a co_await.
            const std::string v = "children_" + std::to_string(++n_);
            Line(in, "{");
            Line(in + 1, "std::vector<std::pair<std::string, Body>> " + v + ";");
            for (const spec::TaskDef& c : op.children) {
              Line(in + 1, v + ".emplace_back(" + Lit(c.name) + ", " + TaskFn(c.name, c.body) + ");");
            }
            Line(in + 1, "co_await gather(" + Lit(op.name) + ", " + (op.return_exceptions ? "true" : "false") +
                             ", std::move(" + v + "));  // gather " + op.name);
            Line(in, "}");
          } else if constexpr (std::is_same_v<S, spec::Timeout>) {
            Line(in, "co_await timeout(" + Lit(op.name) + ", " + OptTime(op.d) + ", " + Lambda() + "  // timeout " + CommentText(op.name));
            Body(op.body, in + 1);
            Line(in, "});");
          } else if constexpr (std::is_same_v<S, spec::Reschedule>) {
            bad = "reschedule " + op.timeout + ": Asio's timer idiom has no reschedule";
          } else if constexpr (std::is_same_v<S, spec::Shield>) {
            Line(in, "co_await shield(" + Lit(op.name) + ", " + Lit(op.task.name) + ", " +
                         TaskFn(op.task.name, op.task.body) + ");");
          } else if constexpr (std::is_same_v<S, spec::WaitFor>) {
            Line(in, "co_await wait_for(" + Lit(op.name) + ", " + Lit(op.task.name) + ", " +
                         TaskFn(op.task.name, op.task.body) + ", " + OptTime(op.d) + ");");
          } else if constexpr (std::is_same_v<S, spec::Cancel>) {
            Line(in, "cancel(" + Lit(op.target) + ");" + (op.msg ? "  // message " + CommentText(*op.msg) + ": Asio has no carrier" : ""));
          } else if constexpr (std::is_same_v<S, spec::Await>) {
            Line(in, "co_await await_task(" + Lit(op.target) + ");");
          } else if constexpr (std::is_same_v<S, spec::Uncancel>) {
            Line(in, "co_await asio::this_coro::reset_cancellation_state();  // uncancel");
          } else if constexpr (std::is_same_v<S, spec::Try>) {
            Try(op, in);
          }
        },
        step.op);
  }

  std::ostringstream out_;
  std::string fns_, protos_;
  std::set<std::string> groups_, used_;
  int n_ = 0;
};

std::string Comment(const std::string& text) {
  std::string out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out += "//   " + CommentText(line) + "\n";
  return out;
}

}  // namespace

ABSL_FLAG(std::string, deadline, "or",
          "the mapping of timeout and wait_for the reproducer uses, as the adapter's flag: `or` (runtime asio) "
          "or `wait_for_one` (runtime asio-wait-one)");

int main(int argc, char** argv) {
  asyncspec::ParseFlagsOrExit(argc, argv,
                              "usage: asio_emit_cc [--deadline=or|wait_for_one] < input.json > repro.cc\n"
                              "Writes a standalone Boost.Asio reproducer from the check's reproducer input\n"
                              "(conformance/ADAPTERS.md, \"Reproducers\").");
  const std::string deadline = absl::GetFlag(FLAGS_deadline);
  if (deadline != "or" && deadline != "wait_for_one") {
    asyncspec::FlagError("--deadline must be or or wait_for_one, got '" + deadline + "'");
  }
  const bool wait_for_one = deadline == "wait_for_one";
  std::ostringstream input;
  input << std::cin.rdbuf();
  const nlohmann::json in = nlohmann::json::parse(input.str(), nullptr, false);
  if (in.is_discarded() || !in.is_object() || !in.contains("program") || !in.contains("rule") ||
      !in.contains("required")) {
    std::cerr << "asio_emit_cc: standard input is not the check's reproducer input (ADAPTERS.md, \"Reproducers\")\n";
    return 1;
  }
  absl::StatusOr<spec::Program> program = spec::ProgramFromJson(in["program"].dump());
  if (!program.ok()) {
    std::cerr << "asio_emit_cc: program: " << program.status().message() << "\n";
    return 1;
  }
  if (absl::Status v = spec::Validate(*program); !v.ok()) {
    std::cerr << "asio_emit_cc: program: " << v.message() << "\n";
    return 1;
  }
  Writer w;
  const std::string code = w.Program(program->main);
  if (!w.bad.empty()) {
    std::cerr << "asio_emit_cc: no Asio mapping for " << w.bad << "\n";
    return 1;
  }
  const nlohmann::json& rule = in["rule"];
  const std::string id = rule.value("id", "?");
  // The name the check saves it under (ADAPTERS.md: "file"), else a stand-in.
  const std::string file = in.value("file", std::string("repro-") + id + ".cc");
  const std::string name = file.size() > 3 && file.ends_with(".cc") ? file.substr(0, file.size() - 3) : file;
  std::ostringstream cc;
  // Everything from the request is adapter or program text: comments get
  // it escaped (a newline must not end the comment), code gets literals.
  cc << "// asyncspec reproducer: " << CommentText(id) << " " << CommentText(rule.value("title", "")) << "\n//\n";
  cc << "// Found by the asyncspec conformance check on " << CommentText(in.value("runtime", "Boost.Asio"))
     << ", shrunk, and written here\n"
        "// as plain Boost.Asio C++20 coroutines, mapped as conformance/adapters/asio/README.md says\n"
        "// (timeouts as "
     << (wait_for_one ? "make_parallel_group(body, timer) with wait_for_one()" : "`co_await (body || timer)`")
     << "), on a virtual clock. It prints, for each outcome\n"
        "// element the check found different, what this run observed and what the rule requires,\n"
        "// and exits 1 if any still differs (0: fixed). Only Boost 1.81 headers and the standard\n"
        "// library; build and run it with\n//\n"
        "//   g++ -std=c++20 -DBOOST_ASIO_DISABLE_TIMERFD -o " << CommentText(name) << " " << CommentText(file)
     << " -pthread && ./" << CommentText(name)
     << "\n//\n";
  cc << "// The program (spec/LANGUAGE.md):\n//\n"
     << Comment(in.contains("program_text") ? in["program_text"].get<std::string>() : spec::ProgramToText(*program))
     << "//\n";
  if (in.contains("replay")) cc << "// Replay in the checker: " << CommentText(in["replay"].get<std::string>()) << "\n";
  cc << kPrelude << "\n";
  cc << "const Deadline DEADLINE = " << (wait_for_one ? "Deadline::kWaitForOne" : "Deadline::kOr") << ";\n\n";
  cc << code << "\n";
  cc << "// What the rules require for the elements that differed (the model's outcome).\n";
  cc << "const char* const RULE = " << CcCStr(id) << ";\nconst char* const TITLE = " << CcCStr(rule.value("title", ""))
     << ";\nconst char* const STATEMENT = " << CcCStr(rule.value("statement", "")) << ";\nconst char* const PROFILE = "
     << CcCStr(in.value("profile", "")) << ";\nconst char* const RUNTIME = " << CcCStr(in.value("runtime", "")) << ";\n";
  cc << "const std::vector<Required> REQUIRED = {\n";
  for (auto& [key, v] : in["required"].items()) {
    cc << "    {" << CcCStr(key) << ", " << CcCStr(v.is_null() ? nlohmann::json("(absent)").dump() : Canonical(v)) << "},\n";
  }
  cc << "};\n\n";
  // std::_Exit: coroutine frames still suspended would be destroyed with
  // the io_context; what this file shows is printed.
  cc << "int main() {\n  const int code = report();\n  std::fflush(stdout);\n  std::_Exit(code);\n}\n";
  std::cout << cc.str();
  return 0;
}
