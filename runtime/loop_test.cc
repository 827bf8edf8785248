// Loop time at its ends (loop.h Seconds, AddSaturating): a delay past the
// 292 years that 64-bit nanoseconds hold saturates at the end of loop time;
// it never wraps into the past, where the timer would fire at once.
// CPython 3.13.0: `asyncio.sleep(1e12)` is still pending after any shorter
// sleep (the program language allows delays up to 10^12, spec/FORMAT.md).
#include <cstdint>
#include <optional>
#include <string>

#include <gtest/gtest.h>

#include "runtime/rt.h"

namespace asyncspec::rt {
namespace {

TEST(Seconds, ExactInRangeSaturatedOutside) {
  static_assert(Seconds(1) == 1'000'000'000);
  static_assert(Seconds(-2.5) == -2'500'000'000);
  static_assert(Seconds(9'223'372'036) == 9'223'372'036'000'000'000);
  static_assert(Seconds(9'223'372'037) == kNanosMax, "past 2^63 ns: saturated, not wrapped");
  static_assert(Seconds(1e12) == kNanosMax);
  static_assert(Seconds(-1e12) == kNanosMin);
  static_assert(AddSaturating(kNanosMax - 1, 5) == kNanosMax);
  static_assert(AddSaturating(kNanosMin + 1, -5) == kNanosMin);
  static_assert(AddSaturating(7, -3) == 4);
}

// SCHED-3: a sleep ends after its delay. With a delay past the end of loop
// time the sleeper must still be asleep when a shorter sleeper wakes (before
// the fix, `Time() + Seconds(1e12)` wrapped negative and woke it at once).
TEST(Loop, SCHED3_HugeSleepDoesNotWrap) {
  run([]() -> Coro<> {
    for (Nanos d : {Seconds(9'223'372'037), Seconds(1e12), kNanosMax}) {
      co_await sleep(Seconds(1));  // loop time is no longer 0: now + d overflows
      auto huge = create_task([](Nanos d) -> Coro<> { co_await sleep(d); }(d));
      co_await sleep(Seconds(3600));
      EXPECT_FALSE(huge.done()) << "SCHED-3: a sleep of " << d << " ns woke early";
      huge.cancel();
      co_await try_await(huge);
    }
  }());
}

// TO-1: a timeout whose deadline is past the end of loop time never expires
// before the body ends; wait_for likewise (WF-1).
TEST(Loop, TO1_HugeTimeoutDoesNotExpire) {
  run([]() -> Coro<> {
    co_await sleep(Seconds(1));
    auto r = co_await try_await(timeout(Seconds(1e12), []() -> Coro<int> {
      co_await sleep(Seconds(10));
      co_return 3;
    }));
    EXPECT_TRUE(r.ok()) << "TO-1: expired early";
    if (r.ok()) {
      EXPECT_EQ(r.value(), 3);
    }
    int v = co_await wait_for(
        []() -> Coro<int> {
          co_await sleep(Seconds(10));
          co_return 4;
        }(),
        Seconds(1e12));
    EXPECT_EQ(v, 4) << "WF-1";
  }());
}

}  // namespace
}  // namespace asyncspec::rt
