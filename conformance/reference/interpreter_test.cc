// The interpreter on programs pinned for what the golden cases cannot
// cover: delays at the language's maximum (10^12, spec/FORMAT.md "Limits").
// CPython's loop waits at most a day per iteration (MAXIMUM_SELECT_TIMEOUT),
// so recording such a case from CPython would take millions of iterations;
// the expected outcome is the model's (the executable statement of the
// rules), and the end time is also checked against the sum written below.
#include <string>

#include <gtest/gtest.h>

#include "conformance/reference/interpreter.h"
#include "spec/json.h"
#include "spec/model/model.h"
#include "spec/text.h"
#include "spec/validate.h"

namespace asyncspec::conformance {
namespace {

// SCHED-3, TO-1, TO-5, WF-1 at 10^12: every deadline is exact. Before loop
// time was counted in program units, `sleep 1000000000000` (10^21 ns)
// overflowed 64-bit nanoseconds and woke at once (reported under CX-2).
constexpr char kMaxDelays[] = R"(program max_delays
main:
  sleep 1000000000000
  timeout beaten 1000000000000:
    sleep 999999999999
  timeout moved 5:
    reschedule moved 1000000000000
    sleep 999999999999
  try t:
    timeout expires 1000000000000:
      sleep 999999999999
      sleep 2
  except timeout as h then swallow:
    pass
  wait_for w slow 1000000000000:
    sleep 999999999999
    return late
  task long:
    sleep 1000000000000
    sleep 1000000000000
  sleep 1000000000000
)";

TEST(Interpreter, SCHED3_TO1_TO5_WF1_MaxDelaysAreExact) {
  auto program = spec::ProgramFromText(kMaxDelays);
  ASSERT_TRUE(program.ok()) << program.status();
  ASSERT_TRUE(spec::Validate(*program).ok());
  spec::Profile profile;
  profile = spec::SpecProfile();
  const spec::Outcome model = spec::RunModel(*program, profile);
  auto observed = RunOnReference(*program);
  ASSERT_TRUE(observed.ok()) << observed.status();
  // 10^12 (sleep) + (10^12 - 1) (beaten) + (10^12 - 1) (moved) + 10^12
  // (expires, its body would need 10^12 + 1) + (10^12 - 1) (w) + 10^12 (the
  // last sleep; `long` is still asleep then and run() cancels it).
  constexpr spec::Time kEnd = 6'000'000'000'000 - 3;
  EXPECT_EQ(model.end_time, kEnd) << "the model's sum";
  EXPECT_EQ(observed->end_time, kEnd) << "SCHED-3: the reference runtime's end time";
  EXPECT_EQ(spec::OutcomeToJson(*observed), spec::OutcomeToJson(model)) << "SCHED-3, TO-1, TO-5, WF-1";
}


// Programs the generator's composite shapes (conformance/bench/reach_shapes.patch)
// found, shrunk; CPython 3.13.0 (conformance/adapters/cpython/driver.py)
// gives the model's outcome on both. The reference runtime differs on both
// today, so the tests are disabled (run them with
// --test_arg=--gtest_also_run_disabled_tests). Both hinge on the order of
// timers with equal deadlines (SCHED-2): the runtime fires them in arming
// order, the model follows heapq, whose pops of four equal entries armed
// a, b, c, d come out a, b, d, c. In the TG-7 program the timers of main,
// t15, t19 and t1 are armed in that order at 0: the runtime wakes t19 (E1)
// before t1 (base error, RT-5), the model wakes t1 first and the drain
// cancels t19. Whether the runtime should follow heapq or the comparison
// should allow this tie ("Freedom under ties", item 3) is still open.
void ExpectModelOutcome(const char* text, const char* rules) {
  auto program = spec::ProgramFromText(text);
  ASSERT_TRUE(program.ok()) << program.status();
  ASSERT_TRUE(spec::Validate(*program).ok());
  const spec::Outcome model = spec::RunModel(*program, spec::SpecProfile());
  auto observed = RunOnReference(*program);
  ASSERT_TRUE(observed.ok()) << observed.status();
  EXPECT_EQ(spec::OutcomeToJson(*observed), spec::OutcomeToJson(model)) << rules;
}

// CX-3 + RT-5 + RT-2: t2 creates t3 in the iteration in which t4's base
// error stops the loop; t3's first step is still queued when run()'s drain
// cancels it, so it never runs (start null) and ends cancelled.
constexpr char kCreatedBeforeBaseStop[] = R"(program created_before_base_stop
main:
  task victim:
    shield sh0 t0:
      sleep 1
  task t1:
    sleep 1
  task t2:
    sleep 1
    task t3:
      pass
  gather ga0:
    child t4:
      sleep 1
      await t22
      raise base K1
  gather ga1 return_exceptions:
    child t22:
      pass
)";

TEST(Interpreter, DISABLED_CX3_RT5_TaskCreatedBeforeBaseErrorStopNeverStarts) {
  ExpectModelOutcome(kCreatedBeforeBaseStop, "CX-3, RT-5, RT-2");
}

// TG-7 + RT-5 + RT-2: t1 (inside t0's shield) raises a base error at the
// instant t19 would fail; the loop stops, run()'s drain cancels main (in
// the group's __aexit__) and the children: t19 ends cancelled, so the group
// has no error to raise and main ends cancelled.
constexpr char kGroupBaseStop[] = R"(program group_base_stop
main:
  group g0:
    spawn g0 t0:
      shield sh0 t1:
        sleep 1
        raise base ""
    spawn g0 t10:
      timeout tm1 1:
        pass
    spawn g0 t15:
      sleep 1
    spawn g0 t19:
      sleep 1
      raise E1
    sleep 1
)";

TEST(Interpreter, DISABLED_TG7_RT5_GroupCancelledByDrainRaisesCancelled) {
  ExpectModelOutcome(kGroupBaseStop, "TG-7, RT-5, RT-2");
}

}  // namespace
}  // namespace asyncspec::conformance
