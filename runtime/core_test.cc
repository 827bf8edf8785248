// Tests of tasks, sleep, cancellation delivery and try_await. Each names the
// rule of spec/RULES.md it checks.
#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "runtime/rt.h"

namespace asyncspec::rt {
namespace {

Nanos Now() { return Loop::Current()->Time(); }

TEST(Loop, VirtualClockJumpsToTheNextTimer) {
  const Nanos end = run([]() -> Coro<Nanos> {
    co_await sleep(Seconds(1000));
    co_return Now();
  }());
  EXPECT_EQ(end, Seconds(1000));
}

// SCHED-1 + RT-5: a callback that a base error interrupted goes back to the
// head of the ready queue (Loop::CallAgainFirst), ahead of what was queued
// after it, also when the ring is full and must grow first.
TEST(Loop, SCHED1_PushFrontRunsFirstAlsoWhenTheRingGrows) {
  detail::ReadyQueue q;
  std::vector<int> ran;
  static std::vector<int>* sink;
  sink = &ran;
  auto fn = [](void* p) { sink->push_back(static_cast<int>(reinterpret_cast<std::intptr_t>(p))); };
  auto push = [&](int i) { q.Push({fn, reinterpret_cast<void*>(static_cast<std::intptr_t>(i))}); };
  push(0);
  detail::Callback first = q.Pop();  // "running"
  for (int i = 1; i <= 1024; ++i) push(i);  // the 1024-slot ring is full again
  q.PushFront(first);
  EXPECT_EQ(q.Size(), 1025u);
  while (!q.Empty()) {
    detail::Callback c = q.Pop();
    c.fn(c.obj);
  }
  ASSERT_EQ(ran.size(), 1025u);
  for (int i = 0; i <= 1024; ++i) ASSERT_EQ(ran[i], i) << "SCHED-1: FIFO after the re-queued head";
}

TEST(Task, AwaitReturnsValueAndRethrowsError) {
  auto r = run([]() -> Coro<std::string> {
    auto ok = create_task([]() -> Coro<int> {
      co_await sleep(Seconds(1));
      co_return 7;
    }());
    auto bad = create_task([]() -> Coro<int> {
      co_await sleep(Seconds(2));
      throw ValueError("bad");
    }());
    int v = co_await ok;
    std::string caught;
    try {
      co_await bad;
    } catch (const ValueError& e) {
      caught = e.repr();
    }
    co_return std::to_string(v) + " " + caught;
  }());
  EXPECT_EQ(r, "7 ValueError('bad')");
}

// CX-2: cancellation lands at the task's next await, not before.
TEST(Cancel, ArrivesAtTheNextAwaitAndCountsRequests) {
  std::vector<std::string> log;
  run([&]() -> Coro<> {
    // Tasks outlive the statement that creates them: pass state as
    // parameters, never through a lambda capture (the closure dies).
    auto t = create_task([](std::vector<std::string>& log) -> Coro<> {
      log.push_back("start");
      auto r = co_await try_await(sleep(Seconds(10)));
      log.push_back(r.cancelled() ? "cancelled:" + *r.cancel_message() : "not cancelled");
      co_await std::move(r);
      log.push_back("unreachable");
    }(log));
    co_await sleep(Seconds(1));
    EXPECT_TRUE(t.cancel("stop"));
    EXPECT_EQ(t.cancelling(), 1u);  // CX-9
    EXPECT_FALSE(t.done());
    co_await try_await(t);
    EXPECT_TRUE(t.cancelled());
    EXPECT_FALSE(t.cancel());  // CX-8: cancel() of a done task is refused
  }());
  EXPECT_EQ(log, (std::vector<std::string>{"start", "cancelled:stop"}));
}

// CX-6: a handler may await during cleanup, then re-raise.
TEST(Cancel, CleanupMayAwaitThenReraise) {
  std::vector<std::string> log;
  run([&]() -> Coro<> {
    auto t = create_task([](std::vector<std::string>& log) -> Coro<> {
      auto r = co_await try_await(sleep(Seconds(10)));
      if (r.cancelled()) {
        co_await sleep(Seconds(2));
        log.push_back("cleanup done at " + std::to_string(Now() / Seconds(1)));
        co_await std::move(r);
      }
    }(log));
    co_await sleep(Seconds(1));
    t.cancel();
    auto r = co_await try_await(t);
    EXPECT_TRUE(r.cancelled());
    log.push_back("awaiter saw cancel at " + std::to_string(Now() / Seconds(1)));
  }());
  EXPECT_EQ(log, (std::vector<std::string>{"cleanup done at 3", "awaiter saw cancel at 3"}));
}

// CX-10: a task may swallow a cancellation and go on; uncancel() resets the count.
TEST(Cancel, SwallowAndUncancel) {
  auto v = run([]() -> Coro<int> {
    auto t = create_task([]() -> Coro<int> {
      auto r = co_await try_await(sleep(Seconds(10)));
      EXPECT_TRUE(r.cancelled());
      EXPECT_EQ(current_task().cancelling(), 1u);
      EXPECT_EQ(current_task().uncancel(), 0u);
      co_await sleep(Seconds(1));
      co_return 42;
    }());
    co_await sleep(0);
    t.cancel();
    co_return co_await t;
  }());
  EXPECT_EQ(v, 42);
}

// CX-3: a task cancelled before it ever ran never runs its body.
TEST(Cancel, BeforeFirstStepSkipsTheBody) {
  bool ran = false;
  run([&]() -> Coro<> {
    auto t = create_task([](bool& ran) -> Coro<> {
      ran = true;
      co_return;
    }(ran));
    t.cancel();
    co_await try_await(t);
    EXPECT_TRUE(t.cancelled());
  }());
  EXPECT_FALSE(ran);
}

// CX-7: cancelling a task that awaits another task cancels that one too.
TEST(Cancel, PropagatesIntoAwaitedTask) {
  run([]() -> Coro<> {
    auto inner = create_task([]() -> Coro<> { co_await sleep(Seconds(10)); }());
    auto outer = create_task([](TaskRef<> inner) -> Coro<> { co_await inner; }(inner));
    co_await sleep(Seconds(1));
    outer.cancel();
    co_await try_await(outer);
    EXPECT_TRUE(inner.cancelled());
    EXPECT_TRUE(outer.cancelled());
  }());
}

// RAII destructors run when a cancellation unwinds a frame without a catcher.
TEST(Cancel, UnwindRunsDestructorsInnermostFirst) {
  std::vector<std::string> log;
  struct Guard {
    std::vector<std::string>* log;
    std::string name;
    ~Guard() { log->push_back(name); }
  };
  run([&]() -> Coro<> {
    auto t = create_task([](std::vector<std::string>& log) -> Coro<> {
      Guard outer{&log, "outer"};
      co_await [&]() -> Coro<> {  // a temporary closure lives to the end of the co_await
        Guard inner{&log, "inner"};
        co_await sleep(Seconds(10));
      }();
    }(log));
    co_await sleep(Seconds(1));
    t.cancel();
    co_await try_await(t);
  }());
  EXPECT_EQ(log, (std::vector<std::string>{"inner", "outer"}));
}

// RT-2: run() cancels what is left when main returns.
TEST(Run, CancelsLeftoverTasks) {
  bool cleaned = false;
  run([&]() -> Coro<> {
    create_task([](bool& cleaned) -> Coro<> {
      auto r = co_await try_await(sleep(Seconds(100)));
      cleaned = r.cancelled();
    }(cleaned));
    co_await sleep(Seconds(1));
  }());
  EXPECT_TRUE(cleaned);
}

// RT-4: an error nobody retrieved is reported once.
TEST(Run, ReportsUnretrievedErrors) {
  std::vector<std::string> events;
  RunOptions opts;
  opts.exception_handler = [&](const LoopEvent& e) { events.push_back(e.message + ": " + Repr(e.error)); };
  run([]() -> Coro<> {
    create_task([]() -> Coro<> {
      throw ValueError("lost");
      co_return;
    }());
    co_await sleep(Seconds(1));
  }(), opts);
  EXPECT_EQ(events, (std::vector<std::string>{"Task exception was never retrieved: ValueError('lost')"}));
}

}  // namespace
}  // namespace asyncspec::rt

namespace asyncspec::rt {
namespace {

Coro<> HoldAndSleep(std::shared_ptr<int> p) {
  co_await sleep(Seconds(10));
  (void)p;
}

// CX-6: a cancellation that unwinds a frame suspended in `co_await f(arg)`
// destroys the argument's copies exactly once (checked under ASan in CI).
// A `?:` of class type inside such a co_await is destroyed twice by GCC 12;
// DESIGN.md "Known compiler issue" says to name it first, as here.
TEST(Cancel, UnwindThroughAwaitWithArgumentsFreesThemOnce) {
  auto probe = std::make_shared<int>(7);
  std::weak_ptr<int> watch = probe;
  run([](std::shared_ptr<int> probe) -> Coro<> {
    auto t = create_task([](std::shared_ptr<int> p) -> Coro<> {
      std::shared_ptr<int> named = p ? p : nullptr;  // named, not a temporary in the co_await
      co_await HoldAndSleep(std::move(named));
    }(std::move(probe)));
    co_await sleep(Seconds(1));
    t.cancel();
    co_await try_await(t);
    EXPECT_TRUE(t.cancelled());
  }(std::move(probe)));
  EXPECT_TRUE(watch.expired()) << "CX-6: the unwound frames released their arguments";
}

}  // namespace
}  // namespace asyncspec::rt

namespace asyncspec::rt {
namespace {

Coro<> RaiseWith(Msg m) { co_await RaiseCancelled{m}; }

// CX-4, CX-5: raising a cancellation with a message from inside an awaited
// coroutine unwinds both frames, keeps the message and frees it once (ASan).
TEST(Cancel, RaiseCancelledWithMessageFreesItOnce) {
  Msg seen;
  run([](Msg& seen) -> Coro<> {
    auto t = create_task([]() -> Coro<> {
      auto r = co_await try_await(sleep(Seconds(10)));
      co_await RaiseWith(r.cancel_message());
    }());
    co_await sleep(Seconds(1));
    t.cancel("m");
    auto r = co_await try_await(t);
    EXPECT_TRUE(r.cancelled());
    seen = r.cancel_message();
  }(seen));
  ASSERT_TRUE(seen);
  EXPECT_EQ(*seen, "m") << "CX-5";
}

}  // namespace
}  // namespace asyncspec::rt

namespace asyncspec::rt {
namespace {

// RaiseError ends its frame with the error without a throw. The frame's
// awaiter sees it as after a throw (a Coro await rethrows it, try_await and a
// task's root take it), the raising frame's own catch blocks do not, and its
// locals are destroyed exactly once (ASan in CI). RT-3: the outcome is the
// same as a throw's.
Coro<int> RaiseIn(std::shared_ptr<int> local, bool* caught_inside) {
  try {
    std::exception_ptr e = std::make_exception_ptr(ValueError("v"));  // named: see RaiseError
    co_await RaiseError(std::move(e));
  } catch (...) {
    *caught_inside = true;  // not reached: nothing is thrown in this frame
  }
  co_return *local;
}

TEST(RaiseError, TheAwaiterSeesTheErrorAsAfterAThrow) {
  auto probe = std::make_shared<int>(1);
  std::weak_ptr<int> watch = probe;
  bool caught_inside = false;
  const std::string r = run([](std::shared_ptr<int> probe, bool* inside) -> Coro<std::string> {
    std::string seen;
    try {
      co_await RaiseIn(probe, inside);  // a Coro await rethrows it here
    } catch (const ValueError& e) {
      seen = e.repr();
    }
    auto o = co_await try_await(RaiseIn(probe, inside));  // a scope takes it
    seen += o.failed() ? " " + Repr(o.error()) : " not failed";
    auto t = create_task(RaiseIn(probe, inside));  // a task's root takes it
    auto tr = co_await try_await(t);
    seen += tr.failed() ? " " + Repr(tr.error()) : " not failed";
    co_return seen;
  }(std::move(probe), &caught_inside));
  EXPECT_EQ(r, "ValueError('v') ValueError('v') ValueError('v')");
  EXPECT_FALSE(caught_inside);
  EXPECT_TRUE(watch.expired()) << "the raising frames released their locals";
}

// CX-4: a CancelledError raised this way counts as a cancellation where a
// thrown one would (at a scope or a task's root), with its message.
TEST(RaiseError, ACancelledErrorIsACancellationAtAScope) {
  auto r = run([]() -> Coro<std::string> {
    auto o = co_await try_await([]() -> Coro<> {
      std::exception_ptr e = std::make_exception_ptr(CancelledError("why"));
      co_await RaiseError(std::move(e));
    }());
    co_return o.cancelled() && o.cancel_message() ? *o.cancel_message() : "not cancelled";
  }());
  EXPECT_EQ(r, "why");
}

}  // namespace
}  // namespace asyncspec::rt

namespace asyncspec::rt {
namespace {

// TaskRef::result_error() against result(): for each state of a task the
// value form gives the exception the throwing form throws (the same object
// for a failed task), or null where result() returns, with the same
// effects: the error counts as retrieved (RT-4), and only the first
// retrieval of a cancellation has its message (CX-5).
std::string Thrown(const TaskRef<int>& t) {
  try {
    return "returned " + std::to_string(t.result());
  } catch (...) {
    return Repr(std::current_exception());
  }
}
std::string AsValue(const TaskRef<int>& t) {
  std::exception_ptr e = t.result_error();
  return e ? Repr(e) : "returned " + std::to_string(t.result());
}

TEST(TaskResultError, RT3_RT4_CX5_SameAsResult) {
  auto r = run([]() -> Coro<std::vector<std::string>> {
    std::vector<std::string> seen;
    auto make = [](int kind) -> Coro<int> {
      co_await sleep(Seconds(1));
      if (kind == 1) throw ValueError("v");
      co_return 7;
    };
    for (bool by_value : {false, true}) {
      auto get = [&](const TaskRef<int>& t) { return by_value ? AsValue(t) : Thrown(t); };
      auto returns = create_task(make(0));
      auto fails = create_task(make(1));
      auto cancelled = create_task(make(0));
      seen.push_back(get(returns));  // not done yet
      cancelled.cancel("m");
      co_await sleep(Seconds(2));
      seen.push_back(get(returns));
      EXPECT_TRUE(fails.state()->log_traceback);
      seen.push_back(get(fails));
      EXPECT_FALSE(fails.state()->log_traceback) << "RT-4: retrieved";
      seen.push_back(get(cancelled));
      seen.push_back(get(cancelled));
    }
    co_return seen;
  }());
  const std::vector<std::string> once = {"RuntimeError('Result is not set.')", "returned 7", "ValueError('v')",
                                         "CancelledError('m')", "CancelledError()"};
  std::vector<std::string> twice = once;
  twice.insert(twice.end(), once.begin(), once.end());
  EXPECT_EQ(r, twice);
}

TEST(TaskResultError, AFailedTasksErrorIsTheObjectResultThrows) {
  run([]() -> Coro<> {
    auto t = create_task([]() -> Coro<int> { throw ValueError("v"); co_return 0; }());
    co_await sleep(0);
    std::exception_ptr thrown;
    try {
      t.result();
    } catch (...) {
      thrown = std::current_exception();
    }
    EXPECT_TRUE(thrown);
    EXPECT_EQ(t.result_error(), thrown);
  }());
}

}  // namespace
}  // namespace asyncspec::rt

namespace asyncspec::rt {
namespace {

// try_await(task) takes the task's error through Awaiter::resume_error()
// (try_await.h, ResumesWithError) instead of a rethrow; what it gives must
// be what `co_await task` throws or does: the value, the same error object,
// the RuntimeError of a task awaiting itself (CX-11), or the cancellation.
TEST(TaskAwaitValueForm, CX7_CX11_TryAwaitOfATaskIsWhatAwaitThrows) {
  auto r = run([]() -> Coro<std::vector<std::string>> {
    std::vector<std::string> seen;
    auto fails = create_task([]() -> Coro<int> {
      co_await sleep(Seconds(1));
      throw ValueError("v");
    }());
    auto returns = create_task([]() -> Coro<int> { co_return 7; }());
    auto cancelled = create_task([]() -> Coro<int> {
      co_await sleep(Seconds(5));
      co_return 0;
    }());
    cancelled.cancel("m");
    std::exception_ptr thrown;
    try {
      co_await fails;
    } catch (...) {
      thrown = std::current_exception();
    }
    auto o = co_await try_await(fails);
    EXPECT_TRUE(o.failed());
    EXPECT_EQ(o.error(), thrown) << "the same error object";
    seen.push_back(Repr(o.error()));
    auto v = co_await try_await(returns);
    seen.push_back(v.ok() ? std::to_string(v.value()) : "not ok");
    auto c = co_await try_await(cancelled);
    seen.push_back(c.cancelled() && c.cancel_message() ? *c.cancel_message() : "not cancelled with its message");
    // CX-11: a task awaiting itself, both ways.
    auto self_thrown = create_task([]() -> Coro<std::string> {
      TaskRef<void> me = current_task();
      try {
        co_await me;
      } catch (...) {
        co_return Repr(std::current_exception());
      }
      co_return "no error";
    }(), "t");
    auto self_value = create_task([]() -> Coro<std::string> {
      auto o = co_await try_await(current_task());
      co_return o.failed() ? Repr(o.error()) : "no error";
    }(), "t");
    seen.push_back(co_await self_thrown);
    seen.push_back(co_await self_value);
    co_return seen;
  }());
  const std::string self = "RuntimeError(\"Task cannot await on itself: <Task pending name='t'>\")";
  EXPECT_EQ(r, (std::vector<std::string>{"ValueError('v')", "7", "m", self, self}));
}

}  // namespace
}  // namespace asyncspec::rt

namespace asyncspec::rt {
namespace {

// Outcome::pass_on() re-raises as `co_await outcome` does (the value, the
// same error object, the cancellation with its message, CX-4), except that
// the error ends the frame as RaiseError does: the frame's own catch block
// does not see it.
Coro<int> PassingOn(Coro<int> c, bool by_pass_on, bool* caught_inside) {
  auto r = co_await try_await(std::move(c));
  try {
    if (by_pass_on) co_return co_await std::move(r).pass_on();
    co_return co_await std::move(r);
  } catch (...) {
    *caught_inside = true;
    throw;
  }
}

TEST(OutcomePassOn, CX4_SameAsReraiseWithoutAThrow) {
  for (bool by_pass_on : {false, true}) {
    bool caught_inside = false;
    auto r = run([](bool by_pass_on, bool* inside) -> Coro<std::vector<std::string>> {
      std::vector<std::string> seen;
      auto v = co_await try_await(PassingOn([]() -> Coro<int> { co_return 3; }(), by_pass_on, inside));
      seen.push_back(v.ok() ? std::to_string(v.value()) : "not ok");
      std::exception_ptr err = std::make_exception_ptr(ValueError("v"));
      auto e = co_await try_await(PassingOn([](std::exception_ptr e) -> Coro<int> {
        co_await RaiseError(std::move(e));
        co_return 0;
      }(err), by_pass_on, inside));
      seen.push_back(e.failed() && e.error() == err ? "the same " + Repr(e.error()) : "not the same error");
      auto c = co_await try_await(PassingOn([]() -> Coro<int> {
        co_await raise_cancelled("m");
        co_return 0;
      }(), by_pass_on, inside));
      seen.push_back(c.cancelled() && c.cancel_message() ? "cancelled " + *c.cancel_message() : "not cancelled");
      co_return seen;
    }(by_pass_on, &caught_inside));
    EXPECT_EQ(r, (std::vector<std::string>{"3", "the same ValueError('v')", "cancelled m"})) << by_pass_on;
    EXPECT_EQ(caught_inside, !by_pass_on) << "only the Reraise form throws in the passing frame";
  }
}

}  // namespace
}  // namespace asyncspec::rt
