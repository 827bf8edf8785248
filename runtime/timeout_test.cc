// timeout / timeout_at / wait_for (timeout.h) against the TO and WF rules of
// spec/RULES.md.
//
// Expected values come from the equivalent Python programs run on CPython
// 3.13.0 (3.11.7 agrees on all of them); each test quotes its Python,
// shortened. Times are virtual seconds since the program started.
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "runtime/rt.h"

namespace asyncspec::rt {
namespace {

using Log = std::vector<std::string>;

Nanos Now() { return Loop::Current()->Time(); }
std::string At() { return " at " + std::to_string(Now() / Seconds(1)); }
std::uint32_t Cancelling() { return current_task().cancelling(); }

// `try: await sleep(d) / except CancelledError: log; raise`, returning `v`.
Coro<int> Sleeper(Nanos d, Log& log, std::string name, int v = 0) {
  auto r = co_await try_await(sleep(d));
  log.push_back(name + (r.cancelled() ? " cancelled" : " done") + At());
  co_await std::move(r);
  co_return v;
}

// What awaiting `c` ended with: the value, "cancelled" or the error's repr.
template <class T>
Coro<std::string> Describe(Coro<T> c) {
  auto r = co_await try_await(std::move(c));
  if (r.cancelled()) co_return "cancelled";
  if (r.failed()) co_return Repr(r.error());
  if constexpr (std::is_void_v<T>) {
    co_return "ok";
  } else {
    co_return std::to_string(r.value());
  }
}

// `async with timeout(d): body` as a Coro, so that it can go through
// try_await / Describe (the awaiter itself is not movable).
template <class F>
auto TimeoutC(std::optional<Nanos> d, F body) -> Coro<BodyValue<F>> {
  co_return co_await timeout(d, std::move(body));
}
template <class F>
auto TimeoutAtC(std::optional<Nanos> when, F body) -> Coro<BodyValue<F>> {
  co_return co_await timeout_at(when, std::move(body));
}

// TO-1: entering sets the deadline now + d and does not suspend (a task
// created just before has not run inside the block).
TEST(Timeout, TO1_EnterSetsDeadlineWithoutSuspending) {
  run([]() -> Coro<> {
    co_await sleep(Seconds(2));
    bool ran = false;
    auto other = create_task([](bool& ran) -> Coro<> {
      ran = true;
      co_return;
    }(ran));
    co_await timeout(Seconds(5), [&](Timeout& tm) -> Coro<> {
      EXPECT_EQ(tm.when(), std::optional<Nanos>(Seconds(7))) << "TO-1: now + d";
      EXPECT_FALSE(ran) << "TO-1: entering is not a suspension point";
      EXPECT_FALSE(tm.expired()) << "TO-4";
      co_return;
    });
    EXPECT_FALSE(ran) << "TO-1: leaving is not a suspension point either";
    co_await other;
  }());
}

// TO-1: None means no deadline.
TEST(Timeout, TO1_NoneMeansNoDeadline) {
  run([]() -> Coro<> {
    int v = co_await timeout(std::nullopt, [](Timeout& tm) -> Coro<int> {
      EXPECT_FALSE(tm.when().has_value()) << "TO-1";
      co_await sleep(Seconds(1000));
      co_return 3;
    });
    EXPECT_EQ(v, 3) << "TO-1";
    EXPECT_EQ(Now(), Seconds(1000));
  }());
}

// TO-2 + TO-3: expiry cancels the body at its await (no message); the
// cancellation leaving the block becomes TimeoutError; the count is restored.
TEST(Timeout, TO2_TO3_ExpiryBecomesTimeoutError) {
  Log log;
  run([](Log& log) -> Coro<> {
    std::string got = co_await Describe(TimeoutC(Seconds(1), [&](Timeout& tm) -> Coro<int> {
      auto r = co_await try_await(sleep(Seconds(10)));
      log.push_back(std::string(r.cancelled() ? "body cancelled" : "body done") + At() +
                    (r.cancel_message() ? " msg=" + *r.cancel_message() : " no msg") +
                    (tm.expired() ? " expired" : " not expired"));
      co_await std::move(r);
      co_return 1;
    }));
    EXPECT_EQ(got, "TimeoutError()") << "TO-3";
    EXPECT_EQ(Now(), Seconds(1)) << "TO-2";
    EXPECT_EQ(Cancelling(), 0u) << "TO-3: uncancel()";
    auto r = co_await try_await(sleep(Seconds(1)));
    EXPECT_TRUE(r.ok()) << "TO-3: nothing left pending";
  }(log));
  EXPECT_EQ(log, (Log{"body cancelled at 1 no msg expired"})) << "TO-2, TO-4";
}

// TO-3: a block that ends in time returns its value and the handler is
// disarmed (a later long sleep is not interrupted).
TEST(Timeout, TO3_InTimeReturnsValueAndDisarms) {
  run([]() -> Coro<> {
    int v = co_await timeout(Seconds(5), []() -> Coro<int> {
      co_await sleep(Seconds(1));
      co_return 7;
    });
    EXPECT_EQ(v, 7) << "TO-3";
    auto r = co_await try_await(sleep(Seconds(10)));
    EXPECT_TRUE(r.ok()) << "TO-3: the handler was cancelled on exit";
    EXPECT_EQ(Now(), Seconds(11));
  }());
}

// TO-3: a cancellation from elsewhere is not converted.
//   async with timeout(5): await sleep(10)   # t.cancel() at 1 -> CancelledError()
TEST(Timeout, TO3_ForeignCancelStaysCancelledError) {
  run([]() -> Coro<> {
    auto w = create_task([]() -> Coro<> {
      co_await timeout(Seconds(5), []() -> Coro<> { co_await sleep(Seconds(10)); });
    }());
    co_await sleep(Seconds(1));
    w.cancel();
    auto r = co_await try_await(w);
    EXPECT_TRUE(r.cancelled()) << "TO-3: not a TimeoutError";
    EXPECT_TRUE(w.cancelled()) << "TO-3";
  }());
}

// TO-3: expired, but an outer cancellation is also pending when the
// CancelledError leaves the block: it stays a CancelledError.
//   async with timeout(1):
//     try: await sleep(10)
//     except CancelledError: await sleep(5); raise     # t.cancel() at 2
// CPython 3.13: ['body cancelled at 1', 'CE at 2', 'w cancelled at 2']
TEST(Timeout, TO3_ExpiredPlusOuterCancelStaysCancelledError) {
  Log log;
  run([](Log& log) -> Coro<> {
    auto w = create_task([](Log& log) -> Coro<> {
      auto got = co_await Describe(TimeoutC(Seconds(1), [&]() -> Coro<> {
        auto r = co_await try_await(sleep(Seconds(10)));
        log.push_back("body cancelled" + At());
        co_await sleep(Seconds(5));
        log.push_back("cleanup finished (unreachable)");
        co_await std::move(r);
      }));
      log.push_back(got + At());
      co_await raise_cancelled();  // Describe swallowed it; re-raise as the Python does
    }(log));
    co_await sleep(Seconds(2));
    w.cancel();
    co_await try_await(w);
    EXPECT_TRUE(w.cancelled());
  }(log));
  EXPECT_EQ(log, (Log{"body cancelled at 1", "cancelled at 2"})) << "TO-3";
}

// TO-3 + CX-10: the body swallowed the timeout's cancellation; a later outer
// cancel leaves the block as CancelledError with cancelling() == 1.
// CPython 3.13: ['swallowed at 1', 'CE at 2 cancelling=1', 'w2 cancelled at 2']
TEST(Timeout, TO3_SwallowedThenOuterCancel) {
  Log log;
  run([](Log& log) -> Coro<> {
    auto w = create_task([](Log& log) -> Coro<> {
      auto r = co_await try_await(TimeoutC(Seconds(1), [&]() -> Coro<> {
        auto r = co_await try_await(sleep(Seconds(10)));
        if (r.cancelled()) log.push_back("swallowed" + At());
        co_await sleep(Seconds(5));
      }));
      log.push_back(std::string(r.cancelled() ? "CE" : r.failed() ? Repr(r.error()) : "ok") + At() +
                    " cancelling=" + std::to_string(Cancelling()));
      co_await std::move(r);
    }(log));
    co_await sleep(Seconds(2));
    w.cancel();
    co_await try_await(w);
    EXPECT_TRUE(w.cancelled());
  }(log));
  EXPECT_EQ(log, (Log{"swallowed at 1", "CE at 2 cancelling=1"})) << "TO-3, CX-10";
}

// TO-4: expired() is true once the handler fired, even if the body then
// swallows the cancellation and ends normally (the block raises nothing).
// CPython 3.13: TO4 True 1 0
TEST(Timeout, TO4_ExpiredEvenIfBodySwallows) {
  run([]() -> Coro<> {
    int v = co_await timeout(Seconds(1), [](Timeout& tm) -> Coro<int> {
      auto r = co_await try_await(sleep(Seconds(10)));
      EXPECT_TRUE(r.cancelled()) << "TO-2";
      EXPECT_TRUE(tm.expired()) << "TO-4";
      co_return 5;
    });
    EXPECT_EQ(v, 5) << "TO-3: nothing to convert";
    EXPECT_EQ(Now(), Seconds(1));
    EXPECT_EQ(Cancelling(), 0u) << "TO-3: uncancel() on exit even without error";
  }());
}

// TO-5: reschedule moves the deadline later, earlier, or removes it.
TEST(Timeout, TO5_RescheduleLaterEarlierOrNever) {
  run([]() -> Coro<> {
    auto later = co_await Describe(TimeoutC(Seconds(1), [](Timeout& tm) -> Coro<int> {
      tm.reschedule(*tm.when() + Seconds(5));
      co_await sleep(Seconds(3));
      co_return 1;
    }));
    EXPECT_EQ(later, "1") << "TO-5: deadline moved to 6";
    EXPECT_EQ(Now(), Seconds(3));
    auto earlier = co_await Describe(TimeoutC(Seconds(10), [](Timeout& tm) -> Coro<int> {
      tm.reschedule(Now() + Seconds(1));
      co_await sleep(Seconds(3));
      co_return 1;
    }));
    EXPECT_EQ(earlier, "TimeoutError()") << "TO-5";
    EXPECT_EQ(Now(), Seconds(4));
    auto never = co_await Describe(TimeoutC(Seconds(1), [](Timeout& tm) -> Coro<int> {
      tm.reschedule(std::nullopt);
      co_await sleep(Seconds(100));
      co_return 2;
    }));
    EXPECT_EQ(never, "2") << "TO-5: None removes the deadline";
  }());
}

// TO-5: a deadline in the past fires on the next iteration (TO-1, TO-7).
TEST(Timeout, TO5_RescheduleIntoThePast) {
  run([]() -> Coro<> {
    co_await sleep(Seconds(5));
    auto got = co_await Describe(TimeoutC(Seconds(10), [](Timeout& tm) -> Coro<int> {
      tm.reschedule(Seconds(1));
      co_await sleep(Seconds(3));
      co_return 1;
    }));
    EXPECT_EQ(got, "TimeoutError()") << "TO-5";
    EXPECT_EQ(Now(), Seconds(5)) << "TO-7: fires at once";
  }());
}

// TO-5: after expiry reschedule raises RuntimeError. CPython 3.13 (and
// 3.11.7, 3.12.1) text: "Cannot change state of expiring Timeout"
// (timeouts.py: f"Cannot change state of {self._state.value} Timeout").
TEST(Timeout, TO5_RescheduleAfterExpiryRaises) {
  std::string msg;
  run([](std::string& msg) -> Coro<> {
    co_await Describe(TimeoutC(Seconds(1), [&](Timeout& tm) -> Coro<int> {
      auto r = co_await try_await(sleep(Seconds(10)));
      try {
        tm.reschedule(std::nullopt);
      } catch (const RuntimeError& e) {
        msg = e.message();
      }
      co_await std::move(r);
      co_return 0;
    }));
  }(msg));
  EXPECT_EQ(msg, "Cannot change state of expiring Timeout") << "TO-5";
}

// TO-5: reschedule before entering or after a normal exit raises too.
// CPython 3.13: "Timeout has not been entered", "Cannot change state of finished Timeout"
TEST(Timeout, TO5_RescheduleNotEnteredOrFinished) {
  run([]() -> Coro<> {
    Timeout tm(Seconds(5));
    std::string msg;
    try {
      tm.reschedule(std::nullopt);
    } catch (const RuntimeError& e) {
      msg = e.message();
    }
    EXPECT_EQ(msg, "Timeout has not been entered") << "TO-5";
    tm.Enter(current_task().state());  // `async with t: pass`, by hand
    EXPECT_FALSE(tm.ExitConvertsCancel(Completion::kValue));
    msg.clear();
    try {
      tm.reschedule(std::nullopt);
    } catch (const RuntimeError& e) {
      msg = e.message();
    }
    EXPECT_EQ(msg, "Cannot change state of finished Timeout") << "TO-5";
    co_return;
  }());
}

// TO-6: nested, the outer expires first: the inner lets CancelledError
// through (count above its level), the outer converts it.
TEST(Timeout, TO6_OuterExpiresFirst) {
  Log log;
  run([](Log& log) -> Coro<> {
    auto got = co_await Describe(TimeoutC(Seconds(1), [&]() -> Coro<int> {
      auto inner = co_await try_await(TimeoutC(Seconds(5), []() -> Coro<int> {
        co_await sleep(Seconds(10));
        co_return 1;
      }));
      log.push_back(inner.cancelled() ? "inner: CancelledError passes" : "inner: " + Repr(inner.as_exception()));
      co_return co_await std::move(inner);
    }));
    EXPECT_EQ(got, "TimeoutError()") << "TO-6";
    EXPECT_EQ(Now(), Seconds(1));
  }(log));
  EXPECT_EQ(log, (Log{"inner: CancelledError passes"})) << "TO-6";
}

// TO-6: nested, the inner expires first: it converts its own cancellation;
// the outer is not expired and the block ends normally.
// CPython 3.13: inner TE at 1; outer ok False True at 2
TEST(Timeout, TO6_InnerExpiresFirst) {
  run([]() -> Coro<> {
    int v = co_await timeout(Seconds(5), [](Timeout& outer) -> Coro<int> {
      auto inner = co_await Describe(TimeoutC(Seconds(1), []() -> Coro<int> {
        co_await sleep(Seconds(10));
        co_return 1;
      }));
      EXPECT_EQ(inner, "TimeoutError()") << "TO-6";
      EXPECT_EQ(Now(), Seconds(1));
      co_await sleep(Seconds(1));
      EXPECT_FALSE(outer.expired()) << "TO-6, TO-4";
      co_return 2;
    });
    EXPECT_EQ(v, 2) << "TO-6";
    EXPECT_EQ(Now(), Seconds(2));
  }());
}

// TO-6: both expire at the same instant: the inner lets the CancelledError
// through, the outer converts it, and no cancellation is left over.
// CPython 3.13: inner CE passes; outer TE True True 0; no leaked cancel
TEST(Timeout, TO6_BothExpireAtOnce) {
  Log log;
  run([](Log& log) -> Coro<> {
    auto got = co_await Describe(TimeoutC(Seconds(1), [&]() -> Coro<int> {
      auto inner = co_await try_await(TimeoutC(Seconds(1), []() -> Coro<int> {
        co_await sleep(Seconds(10));
        co_return 1;
      }));
      log.push_back(inner.cancelled() ? "inner CE passes" : "inner " + Repr(inner.as_exception()));
      co_return co_await std::move(inner);
    }));
    log.push_back("outer " + got);
    EXPECT_EQ(Cancelling(), 0u) << "TO-6";
    auto r = co_await try_await(sleep(Seconds(1)));
    log.push_back(r.ok() ? "no leaked cancel" : "leaked cancel");
  }(log));
  EXPECT_EQ(log, (Log{"inner CE passes", "outer TimeoutError()", "no leaked cancel"})) << "TO-6";
}

// TO-7: timeout(0) expires at the body's first suspension point.
TEST(Timeout, TO7_ZeroExpiresAtFirstSuspension) {
  run([]() -> Coro<> {
    auto got = co_await Describe(TimeoutC(0, []() -> Coro<int> {
      co_await sleep(Seconds(1));
      co_return 1;
    }));
    EXPECT_EQ(got, "TimeoutError()") << "TO-7";
    EXPECT_EQ(Now(), 0) << "TO-7";
  }());
}

// TO-7: a body that never suspends leaves before the handler runs: not
// expired, no error, and the handler is cancelled (nothing leaks).
// CPython 3.13: TO7 False; TO7 no cancel
TEST(Timeout, TO7_ZeroWithoutSuspensionDoesNotExpire) {
  run([]() -> Coro<> {
    int v = co_await timeout(0, [](Timeout& tm) -> Coro<int> {
      EXPECT_FALSE(tm.expired()) << "TO-7";
      co_return 4;
    });
    EXPECT_EQ(v, 4) << "TO-7";
    auto r = co_await try_await(sleep(Seconds(1)));
    EXPECT_TRUE(r.ok()) << "TO-7: handler cancelled on exit";
  }());
}

// TO-7 known issue (gh-134471, the model follows CPython): a cancellation
// pending when timeout(0) is entered is converted to TimeoutError and the
// count stays raised.
// CPython 3.13: current_task().cancel(); async with timeout(0): await sleep(1)
//   -> TimeoutError, cancelling() == 1
TEST(Timeout, TO7_PendingCancelIsConvertedByZeroTimeout) {
  run([]() -> Coro<> {
    current_task().cancel();
    auto got = co_await Describe(TimeoutC(0, []() -> Coro<int> {
      co_await sleep(Seconds(1));
      co_return 1;
    }));
    EXPECT_EQ(got, "TimeoutError()") << "TO-7 (gh-134471)";
    EXPECT_EQ(Cancelling(), 1u) << "TO-7 (gh-134471)";
    current_task().uncancel();
  }());
}

// timeout_at: an absolute deadline (TO-1).
TEST(Timeout, TO1_TimeoutAtAbsoluteDeadline) {
  run([]() -> Coro<> {
    co_await sleep(Seconds(1));
    auto got = co_await Describe(TimeoutAtC(Seconds(3), [](Timeout& tm) -> Coro<int> {
      EXPECT_EQ(tm.when(), std::optional<Nanos>(Seconds(3))) << "TO-1";
      co_await sleep(Seconds(10));
      co_return 1;
    }));
    EXPECT_EQ(got, "TimeoutError()") << "TO-2";
    EXPECT_EQ(Now(), Seconds(3));
  }());
}

// TO-3 + TG-7: a timeout around a TaskGroup: the expiry cancels the body
// (a cancellation the group did not cause), the group aborts and propagates
// CancelledError, and the timeout converts it to TimeoutError. A timeout
// inside a group's child makes that child fail with TimeoutError (TG-2).
// CPython 3.13: ['child cancelled at 1', 'TimeoutError at 1 cancelling=0',
//   'sibling cancelled at 2', "ExceptionGroup(..., [TimeoutError()]) at 2"]
TEST(Timeout, TO3_TG7_TimeoutAroundAndInsideATaskGroup) {
  Log log;
  run([](Log& log) -> Coro<> {
    auto around = co_await Describe(TimeoutC(Seconds(1), [&]() -> Coro<> {
      co_await task_group([&](TaskGroup& g) -> Coro<> {
        g.create_task(Sleeper(Seconds(10), log, "child"));
        co_await sleep(Seconds(10));
      });
    }));
    log.push_back(around + At() + " cancelling=" + std::to_string(Cancelling()));
    auto inside = co_await Describe(task_group([&](TaskGroup& g) -> Coro<> {
      g.create_task(TimeoutC(Seconds(1), []() -> Coro<> { co_await sleep(Seconds(10)); }));
      g.create_task(Sleeper(Seconds(10), log, "sibling"));
      co_return;
    }));
    log.push_back(inside + At());
  }(log));
  EXPECT_EQ(log, (Log{"child cancelled at 1", "TimeoutError() at 1 cancelling=0", "sibling cancelled at 2",
                      "ExceptionGroup('unhandled errors in a TaskGroup', [TimeoutError()]) at 2"}))
      << "TO-3, TG-7, TG-2";
}

// WF-1: wait_for returns the value in time, or cancels the awaited work on
// expiry, waits for its cleanup, and raises TimeoutError.
TEST(WaitFor, WF1_ValueInTimeOrTimeoutError) {
  Log log;
  run([](Log& log) -> Coro<> {
    int v = co_await wait_for(Sleeper(Seconds(1), log, "fast", 9), Seconds(5));
    EXPECT_EQ(v, 9) << "WF-1";
    auto got = co_await Describe(wait_for(Sleeper(Seconds(10), log, "slow"), Seconds(2)));
    EXPECT_EQ(got, "TimeoutError()") << "WF-1";
    EXPECT_EQ(Now(), Seconds(3));
    auto none = co_await wait_for(Sleeper(Seconds(50), log, "no deadline", 4), std::nullopt);
    EXPECT_EQ(none, 4) << "WF-1: None = no deadline";
  }(log));
  EXPECT_EQ(log, (Log{"fast done at 1", "slow cancelled at 3", "no deadline done at 53"})) << "WF-1";
}

// WF-1: a child that swallows the cancellation and returns a value: that
// value is returned. CPython 3.13: WF1 sv, 1 s after the deadline.
TEST(WaitFor, WF1_SwallowedCancellationReturnsValue) {
  run([]() -> Coro<> {
    int v = co_await wait_for(
        []() -> Coro<int> {
          auto r = co_await try_await(sleep(Seconds(10)));
          if (r.cancelled()) {
            co_await sleep(Seconds(1));
            co_return 42;
          }
          co_return 0;
        }(),
        Seconds(1));
    EXPECT_EQ(v, 42) << "WF-1";
    EXPECT_EQ(Now(), Seconds(2));
  }());
}

// WF-1 on a task: expiry cancels the task (CX-7).
TEST(WaitFor, WF1_TaskIsCancelledOnExpiry) {
  Log log;
  run([](Log& log) -> Coro<> {
    auto t = create_task(Sleeper(Seconds(10), log, "t"));
    auto got = co_await Describe(wait_for(t, Seconds(1)));
    EXPECT_EQ(got, "TimeoutError()") << "WF-1";
    EXPECT_TRUE(t.cancelled()) << "WF-1, CX-7";
  }(log));
  EXPECT_EQ(log, (Log{"t cancelled at 1"}));
}

// WF-1 + TO-3: a foreign cancel of the task awaiting wait_for stays a
// CancelledError. CPython 3.13: wf foreign CancelledError() True
TEST(WaitFor, WF1_ForeignCancelStaysCancelledError) {
  run([]() -> Coro<> {
    auto w = create_task([]() -> Coro<> {
      co_await wait_for([]() -> Coro<int> {
        co_await sleep(Seconds(10));
        co_return 0;
      }(), Seconds(5));
    }());
    co_await sleep(Seconds(1));
    w.cancel();
    auto r = co_await try_await(w);
    EXPECT_TRUE(r.cancelled()) << "WF-1, TO-3";
  }());
}

// WF-2: d <= 0 cancels the child before it runs and raises TimeoutError; a
// task already done gives its result.
// CPython 3.13: WF2 TE [] ; WF2 done 5
TEST(WaitFor, WF2_NonPositiveTimeout) {
  run([]() -> Coro<> {
    bool ran = false;
    auto body = [](bool& ran) -> Coro<int> {
      ran = true;
      co_return 5;
    };
    auto zero = co_await Describe(wait_for(body(ran), 0));
    EXPECT_EQ(zero, "TimeoutError()") << "WF-2";
    auto negative = co_await Describe(wait_for(body(ran), -Seconds(1)));
    EXPECT_EQ(negative, "TimeoutError()") << "WF-2";
    EXPECT_FALSE(ran) << "WF-2: the body never runs";
    auto t = create_task(body(ran));
    co_await sleep(0);
    EXPECT_TRUE(t.done());
    int v = co_await wait_for(t, 0);
    EXPECT_EQ(v, 5) << "WF-2: a done task gives its result";
  }());
}

// WF-2 + CX-5: wait_for(t, 0) ends with `fut.result()`, the first retrieval
// of t's CancelledError, so a later `await t` gets one without message, even
// when t was cancelled with a message after wait_for's own cancel().
// CPython 3.11.7, 3.12.1, 3.13.0:
//   t = create_task(child()); w = create_task(waiter())  # wait_for(t, 0)
//   await sleep(0); t.cancel("bye")
//   await w  -> TimeoutError();  await t -> CancelledError()
TEST(WaitFor, WF2_CX5_ResultTakesTheCancelMessage) {
  run([]() -> Coro<> {
    auto t = create_task([]() -> Coro<int> {
      co_await sleep(Seconds(10));
      co_return 0;
    }());
    auto w = create_task([](TaskRef<int> t) -> Coro<std::string> { co_return co_await Describe(wait_for(t, 0)); }(t));
    co_await sleep(0);
    EXPECT_TRUE(t.cancel("bye"));
    EXPECT_EQ(co_await w, "TimeoutError()") << "WF-2";
    auto r = co_await try_await(t);
    EXPECT_TRUE(r.cancelled());
    EXPECT_EQ(Repr(r.as_exception()), "CancelledError()") << "CX-5: wait_for's result() took the message";
  }());
}

}  // namespace
}  // namespace asyncspec::rt

namespace asyncspec::rt {
namespace {

// try_await(timeout(...)) takes what the block raises through
// TimeoutAwaiter::resume_error() (try_await.h, ResumesWithError), without a
// throw; it must be what `co_await timeout(...)` raises (TO-2, TO-3), and a
// foreign cancellation must stay one (TO-3).
template <class F>
Coro<std::string> TimeoutAsValue(std::optional<Nanos> d, F body) {
  auto r = co_await try_await(timeout(d, std::move(body)));
  if (r.cancelled()) co_return "cancelled";
  if (r.failed()) co_return Repr(r.error());
  co_return std::to_string(r.value());
}

TEST(TimeoutValueForm, TO2_TO3_TryAwaitIsWhatAwaitRaises) {
  auto in_time = []() -> Coro<int> {
    co_await sleep(Seconds(1));
    co_return 5;
  };
  auto too_slow = []() -> Coro<int> {
    co_await sleep(Seconds(10));
    co_return 5;
  };
  auto fails = []() -> Coro<int> {
    co_await sleep(Seconds(1));
    throw ValueError("v");
  };
  auto cancelled = []() -> Coro<int> {
    current_task().cancel();
    co_await sleep(Seconds(1));
    co_return 5;
  };
  Log thrown = run([&]() -> Coro<Log> {
    Log seen;
    seen.push_back(co_await Describe(TimeoutC(Seconds(2), in_time)));
    seen.push_back(co_await Describe(TimeoutC(Seconds(2), too_slow)));
    seen.push_back(co_await Describe(TimeoutC(Seconds(2), fails)));
    seen.push_back(co_await Describe(TimeoutC(Seconds(2), cancelled)));
    co_return seen;
  }());
  Log as_value = run([&]() -> Coro<Log> {
    Log seen;
    seen.push_back(co_await TimeoutAsValue(Seconds(2), in_time));
    seen.push_back(co_await TimeoutAsValue(Seconds(2), too_slow));
    seen.push_back(co_await TimeoutAsValue(Seconds(2), fails));
    seen.push_back(co_await TimeoutAsValue(Seconds(2), cancelled));
    co_return seen;
  }());
  const Log expected{"5", "TimeoutError()", "ValueError('v')", "cancelled"};
  EXPECT_EQ(thrown, expected) << "co_await timeout()";
  EXPECT_EQ(as_value, expected) << "try_await(timeout())";
}

}  // namespace
}  // namespace asyncspec::rt

namespace asyncspec::rt {
namespace {

// TO-5: reschedule_error() is the RuntimeError reschedule() throws, in each
// state that refuses, and null (having rescheduled) where it reschedules.
std::string RescheduleThrows(Timeout& tm, std::optional<Nanos> when) {
  try {
    tm.reschedule(when);
  } catch (const RuntimeError& e) {
    return e.repr();
  }
  return "rescheduled";
}
std::string RescheduleError(Timeout& tm, std::optional<Nanos> when) {
  std::exception_ptr e = tm.reschedule_error(when);
  return e ? Repr(e) : "rescheduled";
}

TEST(TimeoutValueForm, TO5_RescheduleErrorIsWhatRescheduleThrows) {
  for (bool as_value : {false, true}) {
    Log seen = run([](bool as_value) -> Coro<Log> {
      Log seen;
      auto resched = [&](Timeout& tm, std::optional<Nanos> when) {
        seen.push_back(as_value ? RescheduleError(tm, when) : RescheduleThrows(tm, when));
      };
      Timeout tm(Seconds(1));
      resched(tm, Seconds(3));
      co_await Describe(TimeoutC(Seconds(1), [&](Timeout& tm) -> Coro<int> {
        resched(tm, Now() + Seconds(2));
        seen.push_back(std::to_string(*tm.when() / Seconds(1)));
        auto r = co_await try_await(sleep(Seconds(10)));
        resched(tm, std::nullopt);  // expiring
        co_await std::move(r);
        co_return 0;
      }));
      tm.Enter(current_task().state());  // `async with tm: pass`, by hand
      EXPECT_FALSE(tm.ExitConvertsCancel(Completion::kValue));
      resched(tm, std::nullopt);
      co_return seen;
    }(as_value));
    EXPECT_EQ(seen, (Log{"RuntimeError('Timeout has not been entered')", "rescheduled", "2",
                         "RuntimeError('Cannot change state of expiring Timeout')",
                         "RuntimeError('Cannot change state of finished Timeout')"}))
        << (as_value ? "reschedule_error" : "reschedule");
  }
}

}  // namespace
}  // namespace asyncspec::rt
