// gather / gather_outcomes (gather.h) against the GA rules of spec/RULES.md.
//
// Expected values come from the equivalent Python programs run on CPython
// 3.13.0 (and 3.11.7, which agrees); each test quotes its Python, shortened.
// Times are virtual seconds since the program started.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "runtime/rt.h"

namespace asyncspec::rt {
namespace {

using Log = std::vector<std::string>;

Nanos Now() { return Loop::Current()->Time(); }
std::string At() { return " at " + std::to_string(Now() / Seconds(1)); }

// `await sleep(d); return v`, logging when it starts.
Coro<std::string> Value(Nanos d, std::string v, Log& log) {
  log.push_back("start " + v);
  co_await sleep(d);
  co_return v;
}

template <class E>
Coro<std::string> FailAfter(Nanos d, E e) {
  co_await sleep(d);
  throw e;
}

// `try: await sleep(d); return name / except CancelledError: log; raise`
Coro<std::string> Sleeper(Nanos d, Log& log, std::string name) {
  auto r = co_await try_await(sleep(d));
  log.push_back(name + (r.cancelled() ? " cancelled" : " done") + At());
  co_await std::move(r);
  co_return name;
}

// `try: await sleep(10) / except CancelledError: return "swallowed"`
Coro<std::string> Swallow() {
  auto r = co_await try_await(sleep(Seconds(10)));
  if (r.cancelled()) co_return "swallowed";
  co_return "slept";
}

std::string Describe(const Outcome<std::string>& o) {
  if (o.ok()) return "'" + o.value() + "'";
  if (o.cancelled()) return "CancelledError(" + (o.cancel_message() ? "'" + *o.cancel_message() + "'" : "") + ")";
  return Repr(o.error());
}

RunOptions Recording(Log& events) {
  RunOptions o;
  o.exception_handler = [&events](const LoopEvent& e) { events.push_back(e.message + ": " + Repr(e.error)); };
  return o;
}

// GA-1: results in argument order whatever the completion order; children
// are created (and start) in argument order.
TEST(Gather, GA1_ResultsAndStartsInArgumentOrder) {
  Log log;
  run([](Log& log) -> Coro<> {
    auto v = co_await gather(Value(Seconds(3), "a", log), Value(Seconds(1), "b", log), Value(Seconds(2), "c", log));
    EXPECT_EQ(v, (std::vector<std::string>{"a", "b", "c"})) << "GA-1";
    EXPECT_EQ(Now(), Seconds(3));
  }(log));
  EXPECT_EQ(log, (Log{"start a", "start b", "start c"})) << "GA-1";
}

// GA-1: an empty gather returns an empty list.
TEST(Gather, GA1_EmptyGather) {
  run([]() -> Coro<> {
    auto v = co_await gather(std::vector<Coro<std::string>>{});
    EXPECT_TRUE(v.empty()) << "GA-1";
    EXPECT_EQ(Now(), 0);
  }());
}

// GA-2 + GA-6: the first error propagates at once; the others are not
// cancelled and run on; their later errors are marked retrieved (no report).
//   gather(fail(1, ValueError('x')), sleeper(3, 'slow'), fail(2, TypeError('late')))
TEST(Gather, GA2_FirstErrorPropagatesOthersKeepRunning) {
  Log log, events;
  run([](Log& log) -> Coro<> {
    std::string got;
    try {
      co_await gather(FailAfter(Seconds(1), ValueError("x")), Sleeper(Seconds(3), log, "slow"),
                      FailAfter(Seconds(2), TypeError("late")));
    } catch (const ValueError& e) {
      got = e.repr() + At();
    }
    EXPECT_EQ(got, "ValueError('x') at 1") << "GA-2";
    co_await sleep(Seconds(5));
  }(log), Recording(events));
  EXPECT_EQ(log, (Log{"slow done at 3"})) << "GA-2/GA-6: siblings are not cancelled";
  EXPECT_TRUE(events.empty()) << "GA-2/RT-4: later errors are retrieved by gather: " << events.front();
}

// GA-3: a child cancelled on its own makes gather raise CancelledError with
// the child's message, in a task that was not cancelled itself.
//   t = create_task(sleeper(10)); (1 s later) t.cancel("bye")
//   await gather(t, val(2, 1))   -> CancelledError('bye') at 1, cancelling() == 0
TEST(Gather, GA3_ChildCancelledAloneRaisesCancelledError) {
  Log log;
  run([](Log& log) -> Coro<> {
    auto t = create_task(Sleeper(Seconds(10), log, "c"));
    create_task([](TaskRef<std::string> t) -> Coro<> {
      co_await sleep(Seconds(1));
      t.cancel("bye");
    }(t));
    std::vector<TaskRef<std::string>> kids = {t, create_task(Value(Seconds(2), "v", log))};
    auto r = co_await try_await(gather(std::move(kids)));
    EXPECT_TRUE(r.cancelled()) << "GA-3";
    EXPECT_EQ(r.cancel_message() ? *r.cancel_message() : "<none>", "bye") << "GA-3/CX-5: the child's message";
    EXPECT_EQ(Now(), Seconds(1)) << "GA-3: at once";
    EXPECT_EQ(current_task().cancelling(), 0u) << "GA-3: the awaiting task was not cancelled";
    auto more = co_await try_await(sleep(Seconds(1)));
    EXPECT_TRUE(more.ok()) << "GA-3: nothing pending on the awaiting task";
  }(log));
}

// GA-3 with return_exceptions: the entry is a CancelledError with an empty
// message (CPython: [CancelledError(''), 1]).
TEST(Gather, GA3_ReturnExceptionsEntryIsCancelledErrorWithoutMessage) {
  Log log;
  run([](Log& log) -> Coro<> {
    auto t = create_task(Sleeper(Seconds(10), log, "c"));
    create_task([](TaskRef<std::string> t) -> Coro<> {
      co_await sleep(Seconds(1));
      t.cancel("bye");
    }(t));
    std::vector<TaskRef<std::string>> kids = {t, create_task(Value(Seconds(2), "v", log))};
    auto v = co_await gather_outcomes(std::move(kids));
    EXPECT_EQ(v.size(), 2u);
    if (v.size() != 2) co_return;  // (no ASSERT_* in a coroutine)
    EXPECT_TRUE(v[0].cancelled()) << "GA-3";
    EXPECT_TRUE(!v[0].cancel_message() || v[0].cancel_message()->empty())
        << "GA-3: message is always empty, got " << *v[0].cancel_message();
    EXPECT_EQ(Describe(v[1]), "'v'") << "GA-4";
    EXPECT_EQ(Now(), Seconds(2)) << "GA-4: waits for every child";
  }(log));
}

// GA-3 with return_exceptions, for a child cancelled as it returned (CX-4):
// its _cancel_message is kept, so the entry carries it. Found by
// //conformance/mutation's unmutated control run (tree 16984977504128995180).
//   async def t1(): asyncio.current_task().cancel("stop"); return None
//   await gather(create_task(t1()), return_exceptions=True)  # [CancelledError('stop')]
TEST(Gather, GA3_ChildCancelledAsItReturnedKeepsItsMessage) {
  run([]() -> Coro<> {
    std::vector<TaskRef<std::string>> kids = {create_task([]() -> Coro<std::string> {
      current_task().cancel("stop");
      co_return "never";
    }())};
    auto v = co_await gather_outcomes(std::move(kids));
    EXPECT_EQ(v.size(), 1u);
    if (v.size() != 1) co_return;
    EXPECT_EQ(Describe(v[0]), "CancelledError('stop')") << "GA-3/CX-4";
  }());
}

// GA-5: gather was cancelled, but its last child swallowed the cancellation
// and returned; the CancelledError is `fut._make_cancelled_error()` of that
// child, which still has the message its cancel() stored (CX-5).
//   async def child(m):
//     try: m.cancel("why"); await asyncio.sleep(0)
//     except BaseException: asyncio.current_task().uncancel()
//   await gather(create_task(child(main)), return_exceptions=True)  # CancelledError('why')
TEST(Gather, GA5_LastChildSwallowedTheCancelMessageStillArrives) {
  run([]() -> Coro<> {
    TaskRef<void> self = current_task();
    std::vector<TaskRef<std::string>> kids = {create_task([](TaskRef<void> m) -> Coro<std::string> {
      m.cancel("why");
      auto r = co_await try_await(sleep(0));
      if (r.cancelled()) current_task().uncancel();
      co_return "swallowed";
    }(self))};
    auto r = co_await try_await(gather_outcomes(std::move(kids)));
    EXPECT_TRUE(r.cancelled()) << "GA-5";
    EXPECT_EQ(r.cancel_message() ? *r.cancel_message() : "<none>", "why") << "GA-5/CX-5";
    current_task().uncancel();
  }());
}

// GA-4: return_exceptions=True waits for all and returns every outcome in
// argument order; nothing is raised and nothing is unretrieved.
TEST(Gather, GA4_EveryOutcomeInArgumentOrder) {
  Log log, events;
  run([](Log& log) -> Coro<> {
    auto v = co_await gather_outcomes(FailAfter(Seconds(2), ValueError("a")), Value(Seconds(3), "b", log),
                                      FailAfter(Seconds(1), TypeError("c")));
    std::string s;
    for (auto& o : v) s += Describe(o) + ";";
    EXPECT_EQ(s, "ValueError('a');'b';TypeError('c');") << "GA-4";
    EXPECT_EQ(Now(), Seconds(3)) << "GA-4";
  }(log), Recording(events));
  EXPECT_TRUE(events.empty()) << "RT-4: " << events.front();
}

// GA-5: cancelling the task that awaits gather cancels every child; with
// return_exceptions=True gather still ends with CancelledError even though
// a child swallowed its cancellation and returned.
//   w = create_task(gather(swallow(), sleeper(10, 'g5'), return_exceptions=True))
//   (1 s later) w.cancel("m")  -> CancelledError('m') at 1, 'g5 cancelled'
TEST(Gather, GA5_CancelGatherReturnExceptionsStillCancelled) {
  Log log;
  run([](Log& log) -> Coro<> {
    auto w = create_task([](Log& log) -> Coro<std::string> {
      auto v = co_await gather_outcomes(Swallow(), Sleeper(Seconds(10), log, "g5"));
      co_return "returned " + std::to_string(v.size());
    }(log));
    co_await sleep(Seconds(1));
    w.cancel("m");
    auto r = co_await try_await(w);
    EXPECT_TRUE(r.cancelled()) << "GA-5: CancelledError regardless of return_exceptions";
    EXPECT_TRUE(w.cancelled()) << "GA-5";
    EXPECT_EQ(Now(), Seconds(1));
    // The last child (argument order) ended with CancelledError('m'); CPython
    // raises that one (tasks.py: `exc = fut._make_cancelled_error()`).
    EXPECT_TRUE(r.cancel_message() && *r.cancel_message() == "m")
        << "GA-5/CX-5: CPython 3.13 raises CancelledError('m'); got "
        << (r.cancel_message() ? "'" + *r.cancel_message() + "'" : std::string("no message"));
  }(log));
  EXPECT_EQ(log, (Log{"g5 cancelled at 1"})) << "GA-5";
}

// GA-5 + CX-4: the last child accepted the cancellation (it was running,
// so it only got _must_cancel) but then raised: it ends raised, and gather's
// `fut._make_cancelled_error()` still carries that cancel()'s message.
// Found by the tie-heavy conformance run; CPython 3.13.0 on
//   async def c(): main.cancel("why"); raise Err("E2")
//   await gather(c(), return_exceptions=True)   # in main
// raises CancelledError('why') in main.
TEST(Gather, GA5_LastChildRaisedAfterAcceptingTheCancelKeepsItsMessage) {
  std::string got = "nothing";
  try {
    run([]() -> Coro<> {
      TaskState* main = Loop::Current()->current_task();
      (void)co_await gather_outcomes([](TaskState* main) -> Coro<> {
        TaskRef<void>(main).cancel("why");
        throw ValueError("E2");
        co_return;
      }(main));
    }(), RunOptions{.exception_handler = [](const LoopEvent&) {}});
  } catch (const CancelledError& e) {
    got = e.repr();
  }
  EXPECT_EQ(got, "CancelledError('why')") << "GA-5/CX-5";
}

// GA-3 + CX-4: with return_exceptions=True a child cancelled as it returned
// (it cancelled itself and never suspended) keeps its cancel()'s message in
// gather's list. Found by the tie-heavy conformance run; CPython 3.13.0 on
//   async def c(): tasks["t0"].cancel("stop")     # itself, then returns
//   await gather(c(), return_exceptions=True)  -> [CancelledError('stop')]
TEST(Gather, GA3_ChildCancelledAsItReturnedKeepsItsMessageInTheList) {
  std::string got;
  run([](std::string& got) -> Coro<> {
    auto v = co_await gather_outcomes([]() -> Coro<std::string> {
      TaskRef<void>(Loop::Current()->current_task()).cancel("stop");
      co_return "returned";
    }());
    got = Describe(v[0]);
  }(got));
  EXPECT_EQ(got, "CancelledError('stop')") << "GA-3/CX-4";
}

// GA-5 without return_exceptions: CancelledError('m2') too (the first child
// to end cancelled completes the gather, GA-3).
TEST(Gather, GA5_CancelGatherWithoutReturnExceptions) {
  Log log;
  run([](Log& log) -> Coro<> {
    auto w = create_task([](Log& log) -> Coro<> {
      co_await gather(Swallow(), Sleeper(Seconds(10), log, "g6"));
    }(log));
    co_await sleep(Seconds(1));
    w.cancel("m2");
    auto r = co_await try_await(w);
    EXPECT_TRUE(r.cancelled()) << "GA-5";
    EXPECT_TRUE(r.cancel_message() && *r.cancel_message() == "m2") << "GA-5/CX-5";
  }(log));
  EXPECT_EQ(log, (Log{"g6 cancelled at 1"})) << "GA-5";
}

// GA-5 + CX-1: if every child is already done when the awaiting task is
// cancelled (the gather's callback has not run yet), no child accepts the
// cancellation; the awaiting task gets it itself (_must_cancel) at the await
// of the gather, whose result is dropped.
// (rule_checks/ga5.py) CPython 3.13: ['c done: True', 'x cancels: True', 'w cancelled'] True
TEST(Gather, GA5_AllChildrenDoneCancelGoesToTheAwaiter) {
  Log log;
  run([](Log& log) -> Coro<> {
    auto c = create_task([]() -> Coro<std::string> {  // created by main here, by w in the Python;
      co_await sleep(0);                              // one extra yield keeps the same timer order
      co_await sleep(Seconds(1));
      co_return "c";
    }());
    auto w = create_task([](TaskRef<std::string> c, Log& log) -> Coro<> {
      auto r = co_await try_await(gather(std::vector<TaskRef<std::string>>(1, c)));
      log.push_back(r.cancelled() ? "w cancelled" : "gather returned");
      co_await std::move(r);
    }(c, log));
    auto x = create_task([](TaskRef<std::string> c, TaskRef<> w, Log& log) -> Coro<> {
      co_await sleep(0);
      co_await sleep(0);
      co_await sleep(Seconds(1));
      log.push_back(std::string("c done: ") + (c.done() ? "True" : "False"));
      log.push_back(std::string("x cancels: ") + (w.cancel() ? "True" : "False"));
    }(c, w, log));
    co_await try_await(w);
    co_await x;
    EXPECT_TRUE(w.cancelled()) << "GA-5";
  }(log));
  EXPECT_EQ(log, (Log{"c done: True", "x cancels: True", "w cancelled"})) << "GA-5, CX-1";
}

// GA-5 + CX-7: the gather's children are cancelled with the awaiting task's
// cancel message, and each child's cleanup runs before gather finishes.
TEST(Gather, GA5_ChildrenCleanupRunsBeforeTheAwaiterResumes) {
  Log log;
  run([](Log& log) -> Coro<> {
    auto w = create_task([](Log& log) -> Coro<> {
      auto r = co_await try_await(gather_outcomes(
          [](Log& log) -> Coro<std::string> {
            auto r = co_await try_await(sleep(Seconds(10)));
            log.push_back(std::string("child got ") + (r.cancelled() && r.cancel_message() ? *r.cancel_message() : "?") + At());
            co_await sleep(Seconds(2));
            log.push_back("child cleanup done" + At());
            co_await std::move(r);
            co_return "x";
          }(log)));
      log.push_back(std::string(r.cancelled() ? "gather cancelled" : "gather returned") + At());
      co_await std::move(r);
    }(log));
    co_await sleep(Seconds(1));
    w.cancel("stop");
    co_await try_await(w);
  }(log));
  EXPECT_EQ(log, (Log{"child got stop at 1", "child cleanup done at 3", "gather cancelled at 3"})) << "GA-5";
}

}  // namespace
}  // namespace asyncspec::rt

namespace asyncspec::rt {
namespace {

// try_await(gather(...)) takes the first error through
// GatherAwaiter::resume_error() (try_await.h, ResumesWithError), without a
// throw; it must be what `co_await gather(...)` raises (GA-2: the first
// error, the same object) or returns (GA-1).
Coro<std::vector<std::string>> AwaitGather(std::vector<TaskRef<std::string>> ts) {
  co_return co_await gather(std::move(ts));
}

TEST(GatherValueForm, GA1_GA2_TryAwaitIsWhatAwaitGives) {
  for (bool as_value : {false, true}) {
    Log seen = run([](bool as_value) -> Coro<Log> {
      Log log;
      std::exception_ptr err = std::make_exception_ptr(ValueError("first"));
      auto make = [&](bool failing) {
        std::vector<TaskRef<std::string>> ts;
        ts.push_back(create_task(Value(Seconds(2), "a", log)));
        ts.push_back(create_task([](std::exception_ptr e, bool failing) -> Coro<std::string> {
          co_await sleep(Seconds(1));
          if (failing) co_await RaiseError(std::move(e));
          co_return "b";
        }(err, failing)));
        return ts;
      };
      Log seen;
      for (bool failing : {false, true}) {
        // (Not a ?: of co_awaits: GCC 12 mishandles its temporaries, DESIGN.md.)
        Outcome<std::vector<std::string>> o;
        if (as_value) {
          o = co_await try_await(gather(make(failing)));
        } else {
          o = co_await try_await(AwaitGather(make(failing)));
        }
        if (o.ok()) {
          std::string all;
          for (const auto& v : o.value()) all += v;
          seen.push_back(all);
        } else {
          seen.push_back(o.failed() && o.error() == err ? "the same " + Repr(o.error()) : "not the same error");
        }
      }
      co_await sleep(Seconds(5));  // the other child of the failed gather runs on (GA-2)
      co_return seen;
    }(as_value));
    EXPECT_EQ(seen, (Log{"ab", "the same ValueError('first')"})) << (as_value ? "try_await" : "co_await");
  }
}

}  // namespace
}  // namespace asyncspec::rt
