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

}  // namespace
}  // namespace asyncspec::conformance
