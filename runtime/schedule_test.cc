// Schedule perturbation (loop.h "Schedule perturbation", RunOptions::
// schedule_seed): with a seed, the orders that RULES.md leaves free (SCHED-2
// equal-deadline timers, TG-2 a group's abort order, RT-2 run's cancel order)
// vary with the seed, and nothing else does: the ready queue stays FIFO
// (SCHED-1), times and the set of what happens are unchanged, and a seed
// replays the same schedule (INV-9). Each test says which order it watches.
#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "runtime/rt.h"

namespace asyncspec::rt {
namespace {

using Log = std::vector<std::string>;

std::string At() { return "@" + std::to_string(Loop::Current()->Time() / Seconds(1)); }

Log Sorted(Log l) {
  std::sort(l.begin(), l.end());
  return l;
}

RunOptions Seed(std::uint64_t s) {
  RunOptions o;
  o.schedule_seed = s;
  o.exception_handler = [](const LoopEvent&) {};
  return o;
}

const char* const kNames[] = {"a", "b", "c", "d", "e", "f"};

// Six tasks asleep until t=1: their timers tie (SCHED-2).
Log TimerTies(std::uint64_t seed) {
  Log log;
  run([](Log& log) -> Coro<> {
    std::vector<TaskRef<void>> ts;
    for (const char* n : kNames) {
      ts.push_back(create_task([](Log& log, std::string n) -> Coro<> {
        co_await sleep(Seconds(1));
        log.push_back(n + At());
      }(log, n)));
    }
    for (auto& t : ts) co_await t;
  }(log), Seed(seed));
  return log;
}

TEST(Schedule, SCHED2_OffByDefaultTimerTiesFireInArmingOrder) {
  const Log want = {"a@1", "b@1", "c@1", "d@1", "e@1", "f@1"};
  EXPECT_EQ(TimerTies(0), want) << "SCHED-2: seed 0 is the fixed order";
  Log log;
  run([](Log& log) -> Coro<> {  // RunOptions{}: no perturbation
    auto a = create_task([](Log& log) -> Coro<> { co_await sleep(Seconds(1)); log.push_back("a"); }(log));
    auto b = create_task([](Log& log) -> Coro<> { co_await sleep(Seconds(1)); log.push_back("b"); }(log));
    co_await a;
    co_await b;
  }(log));
  EXPECT_EQ(log, (Log{"a", "b"})) << "SCHED-2";
}

TEST(Schedule, SCHED2_SeedsPermuteEqualDeadlinesOnly) {
  const Log fixed = TimerTies(0);
  std::set<Log> orders;
  for (std::uint64_t s = 1; s <= 20; ++s) {
    Log l = TimerTies(s);
    EXPECT_EQ(Sorted(l), Sorted(fixed)) << "seed " << s << ": same events, same times (SCHED-2)";
    EXPECT_EQ(TimerTies(s), l) << "seed " << s << ": a seed replays its schedule (INV-9)";
    orders.insert(l);
  }
  // 20 draws of 720 orders: all equal would mean the seed does nothing.
  EXPECT_GE(orders.size(), 10u) << "SCHED-2: perturbation changes the order of ties";
}

TEST(Schedule, SCHED2_DistinctDeadlinesKeepTheirOrder) {
  for (std::uint64_t s = 0; s <= 10; ++s) {
    Log log;
    run([](Log& log) -> Coro<> {
      std::vector<TaskRef<void>> ts;
      for (int i = 5; i >= 1; --i) {
        ts.push_back(create_task([](Log& log, int i) -> Coro<> {
          co_await sleep(Seconds(i));
          log.push_back(std::to_string(i));
        }(log, i)));
      }
      for (auto& t : ts) co_await t;
    }(log), Seed(s));
    EXPECT_EQ(log, (Log{"1", "2", "3", "4", "5"})) << "SCHED-2: timers by deadline, seed " << s;
  }
}

TEST(Schedule, SCHED1_ReadyQueueStaysFifoUnderPerturbation) {
  // Round robin of sleep(0): every step is call_soon'ed, so the order is
  // pinned (SCHED-1, SCHED-3) whatever the seed.
  auto rr = [](std::uint64_t seed) {
    Log log;
    run([](Log& log) -> Coro<> {
      std::vector<TaskRef<void>> ts;
      for (const char* n : kNames) {
        ts.push_back(create_task([](Log& log, std::string n) -> Coro<> {
          for (int k = 0; k < 3; ++k) {
            log.push_back(n + std::to_string(k));
            co_await sleep(0);
          }
        }(log, n)));
      }
      for (auto& t : ts) co_await t;
    }(log), Seed(seed));
    return log;
  };
  const Log fixed = rr(0);
  for (std::uint64_t s = 1; s <= 10; ++s) EXPECT_EQ(rr(s), fixed) << "SCHED-1: seed " << s;
}

// A group whose first child fails at t=1 while five others sleep; each
// sleeper logs when its cancellation arrives. The group cancels them in set
// order (TG-2), and each wake-up is queued in that order.
Log AbortOrder(std::uint64_t seed) {
  Log log;
  try {
    run([](Log& log) -> Coro<> {
      co_await task_group([&log](TaskGroup& g) -> Coro<> {
        g.create_task([]() -> Coro<> {
          co_await sleep(Seconds(1));
          throw ValueError("boom");
        }());
        for (int i = 1; i < 6; ++i) {
          g.create_task([](Log& log, std::string n) -> Coro<> {
            auto r = co_await try_await(sleep(Seconds(100)));
            log.push_back(n + (r.cancelled() ? " cancelled" : " woke") + At());
            co_await std::move(r);
          }(log, kNames[i]));
        }
        co_return;
      });
    }(log), Seed(seed));
  } catch (const ExceptionGroup&) {
  }
  return log;
}

TEST(Schedule, TG2_AbortOrderVariesWithTheSeed) {
  const Log fixed = AbortOrder(0);
  EXPECT_EQ(fixed, (Log{"b cancelled@1", "c cancelled@1", "d cancelled@1", "e cancelled@1", "f cancelled@1"}))
      << "TG-2: the fixed order is creation order";
  std::set<Log> orders;
  for (std::uint64_t s = 1; s <= 20; ++s) {
    Log l = AbortOrder(s);
    EXPECT_EQ(Sorted(l), Sorted(fixed)) << "TG-2: the same children are cancelled, seed " << s;
    orders.insert(l);
  }
  EXPECT_GE(orders.size(), 5u) << "TG-2: perturbation changes the abort order";
}

// Five leftovers asleep when main returns at t=1: run cancels them (RT-2).
Log DrainOrder(std::uint64_t seed) {
  Log log;
  run([](Log& log) -> Coro<> {
    for (const char* n : kNames) {
      create_task([](Log& log, std::string n) -> Coro<> {
        auto r = co_await try_await(sleep(Seconds(100)));
        log.push_back(n + (r.cancelled() ? " cancelled" : " woke") + At());
        co_await std::move(r);
      }(log, n));
    }
    co_await sleep(Seconds(1));
  }(log), Seed(seed));
  return log;
}

TEST(Schedule, RT2_DrainCancelOrderVariesWithTheSeed) {
  const Log fixed = DrainOrder(0);
  EXPECT_EQ(fixed.size(), 6u);
  EXPECT_EQ(fixed.front(), "a cancelled@1") << "RT-2: the fixed order is creation order";
  std::set<Log> orders;
  for (std::uint64_t s = 1; s <= 20; ++s) {
    Log l = DrainOrder(s);
    EXPECT_EQ(Sorted(l), Sorted(fixed)) << "RT-2: every leftover is cancelled, seed " << s;
    orders.insert(l);
  }
  EXPECT_GE(orders.size(), 5u) << "RT-2: perturbation changes the drain's cancel order";
}

}  // namespace
}  // namespace asyncspec::rt
