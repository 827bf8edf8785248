// The interpreter on programs pinned for what the golden cases cannot
// cover: delays at the language's maximum (10^12, spec/FORMAT.md "Limits"),
// and programs whose reference-runtime outcome is another schedule's than
// CPython's (a golden case records only CPython's).
// CPython's loop waits at most a day per iteration (MAXIMUM_SELECT_TIMEOUT),
// so recording such a case from CPython would take millions of iterations;
// the expected outcome is the model's (the executable statement of the
// rules), and the end time is also checked against the sum written below.
#include <string>

#include <gtest/gtest.h>

#include "conformance/reference/interpreter.h"
#include "spec/json.h"
#include "spec/model/model.h"
#include "spec/ties.h"
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

// Programs the generator's composite shapes (spec/program_gen.h) found,
// shrunk. The reference runtime's outcome differs from CPython 3.13.0's
// (conformance/adapters/cpython/driver.py), which is the model's default
// schedule; both hinge on timers with equal deadlines (SCHED-2), whose order
// is free ("Freedom under ties", item 3). The runtime fires them in arming
// order; CPython's heapq pops four equal entries armed a, b, c, d as a, b,
// d, c. The runtime's outcome must be the outcome of some schedule the rules
// allow (spec::OutcomeAllowedUnderTies), as the conformance check judges it.
void ExpectAllowedUnderTies(const char* text, const char* rules) {
  auto program = spec::ProgramFromText(text);
  ASSERT_TRUE(program.ok()) << program.status();
  ASSERT_TRUE(spec::Validate(*program).ok());
  const spec::Profile profile = spec::SpecProfile();
  auto observed = RunOnReference(*program);
  ASSERT_TRUE(observed.ok()) << observed.status();
  const spec::TieCheck c = spec::OutcomeAllowedUnderTies(*program, profile, *observed, 200);
  EXPECT_EQ(c.verdict, spec::TieVerdict::kAllowed)
      << rules << ": no model schedule yields the reference runtime's outcome (" << c.runs
      << " schedules): " << spec::OutcomeToJson(*observed);
  // The check can refuse: an outcome in which main returned is no schedule's.
  spec::Outcome wrong = *observed;
  wrong.tasks.at("main").state = spec::TaskOutcome::State::kReturned;
  wrong.tasks.at("main").error.reset();
  EXPECT_NE(spec::OutcomeAllowedUnderTies(*program, profile, wrong, 200).verdict, spec::TieVerdict::kAllowed)
      << rules << ": the tie check accepted main returning";
}

// CX-3 + RT-5 + RT-2 under SCHED-2 ties. At 1 the timers of t1, t2, t4 and
// t0 (victim's shielded task) are due; t2 creates t3 and t4 raises a base
// error that stops the loop (RT-5). In CPython's schedule the drain cancels
// t3 before its first step (CX-3, RT-2: start null, cancelled); in the
// runtime's arming order t3's first step runs before the stop and t3
// returns. Another order of those timers yields that outcome too.
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

TEST(Interpreter, CX3_RT5_SCHED2_TaskCreatedAtBaseErrorStopIsATie) {
  ExpectAllowedUnderTies(kCreatedBeforeBaseStop, "CX-3, RT-5, RT-2, SCHED-2");
}

// TG-7 + TG-8 + RT-5 under SCHED-2 ties. At 1 the timers of main, t15, t19
// and t1 are due. In CPython's order t1's base error (RT-5) comes before t19
// fails; the drain cancels main in __aexit__ (TG-8) and t19, the group has
// no error and main ends cancelled (TG-7). In arming order t19 raises E1 in
// the same iteration before t1 stops the loop; its error, delivered during
// the drain, has priority over the CancelledError (TG-7): main raises the
// group with E1.
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

TEST(Interpreter, TG7_TG8_RT5_SCHED2_GroupErrorAtBaseErrorStopIsATie) {
  ExpectAllowedUnderTies(kGroupBaseStop, "TG-7, TG-8, RT-5, SCHED-2");
}

}  // namespace
}  // namespace asyncspec::conformance
