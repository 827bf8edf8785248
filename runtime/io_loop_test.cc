// The I/O loop keeps the virtual loop's scheduling: the same programs give
// the same traces (SCHED-1 FIFO within an iteration, SCHED-2 timer order),
// and a Runner runs several mains on one loop (RT-1..RT-3 each time).
#include "runtime/io_loop.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "runtime/rt.h"

namespace rt = asyncspec::rt;

namespace {

using Trace = std::vector<std::string>;

rt::Coro<> Stepper(Trace& t, std::string name, int steps) {
  for (int i = 0; i < steps; ++i) {
    t.push_back(name + std::to_string(i));
    co_await rt::sleep(0);
  }
}

// Interleaved sleep(0) steps of three tasks and a TaskGroup's completion
// order: only the ready queue decides it.
rt::Coro<Trace> FifoProgram() {
  Trace t;
  co_await rt::task_group([&](rt::TaskGroup& tg) -> rt::Coro<> {
    tg.create_task(Stepper(t, "a", 3));
    tg.create_task(Stepper(t, "b", 2));
    tg.create_task(Stepper(t, "c", 3));
    co_return;
  });
  co_return t;
}

// Timers of distinct deadlines fire in deadline order, whatever the order
// they were armed in (SCHED-2).
rt::Coro<> Sleeper(Trace& t, std::string name, double s) {
  co_await rt::sleep_for(s);
  t.push_back(name);
}
rt::Coro<Trace> TimerProgram() {
  Trace t;
  co_await rt::task_group([&](rt::TaskGroup& tg) -> rt::Coro<> {
    tg.create_task(Sleeper(t, "late", 0.030));
    tg.create_task(Sleeper(t, "early", 0.001));
    tg.create_task(Sleeper(t, "middle", 0.015));
    co_return;
  });
  co_return t;
}

TEST(IoLoop, Sched1SameFifoTraceAsTheVirtualLoop) {
  const Trace virt = rt::run(FifoProgram());
  rt::Runner runner;
  EXPECT_EQ(runner.run(FifoProgram()), virt) << "SCHED-1: the I/O loop ran ready callbacks in another order";
  EXPECT_EQ(virt, (Trace{"a0", "b0", "c0", "a1", "b1", "c1", "a2", "c2"}));
}

TEST(IoLoop, Sched2TimersInDeadlineOrder) {
  rt::Runner runner;
  EXPECT_EQ(runner.run(TimerProgram()), (Trace{"early", "middle", "late"}))
      << "SCHED-2: real-clock timers fired out of deadline order";
}

TEST(IoLoop, RealClockAdvances) {
  rt::Runner runner;
  const rt::Nanos waited = runner.run([]() -> rt::Coro<rt::Nanos> {
    const rt::Nanos t0 = rt::Loop::Current()->Time();
    co_await rt::sleep_for(0.005);
    co_return rt::Loop::Current()->Time() - t0;
  }());
  // A lower bound only: a timer never fires before its deadline.
  EXPECT_GE(waited, rt::Seconds(0.005)) << "SCHED-2: a real-clock timer fired before its deadline";
}

TEST(IoLoop, RunnerRunsSeveralMainsOnOneLoop) {
  rt::Runner runner;
  rt::Loop* loop = &runner.loop();
  for (int i = 0; i < 3; ++i) {
    const int v = runner.run([](int i) -> rt::Coro<int> {
      co_await rt::sleep(0);
      co_return i * 10;
    }(i));
    EXPECT_EQ(v, i * 10) << "RT-3: run() returns main's value";
    EXPECT_EQ(rt::Loop::Current(), loop);
  }
  // RT-3: main's error is what run() raises, and the loop stays usable.
  EXPECT_THROW(runner.run([]() -> rt::Coro<> {
                 co_await rt::sleep(0);
                 throw rt::ValueError("boom");
               }()),
               rt::ValueError);
  EXPECT_EQ(runner.run([]() -> rt::Coro<int> { co_return 7; }()), 7);
}

TEST(IoLoop, RunnerCancelsLeftoversAfterEachMain) {
  rt::Runner runner;
  rt::TaskRef<void> left;
  runner.run([](rt::TaskRef<void>& left) -> rt::Coro<> {
    left = rt::create_task([]() -> rt::Coro<> { co_await rt::sleep_for(3600); }());
    co_await rt::sleep(0);
  }(left));
  EXPECT_TRUE(left.cancelled()) << "RT-2: a task left by main is cancelled when run() ends";
}

}  // namespace
