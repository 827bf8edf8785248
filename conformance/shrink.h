// A greedy shrinker for failing programs.
//
// Golden cases and replayed programs have no RapidCheck Shrinkable, so the
// checker shrinks structurally: it tries, biggest cut first, (1) removing one
// step of any body, (2) replacing a group/timeout/try/shield/wait_for/task by
// its body's steps, (3) removing a gather child, a handler or a finally
// block, (4) shortening delays (to 0, then halving), (5) dropping cancel
// messages and return values. Each candidate is made valid again with
// spec::gen::MakeValid (it resolves references to removed names) and must
// pass spec::Validate; the first candidate for which `still_fails` holds is
// taken and the search restarts from it, until no candidate is taken or the
// budget of `still_fails` calls is spent. The caller's predicate decides what
// "the same failure" is (the checker: the same rule ID).
#ifndef ASYNCSPEC_CONFORMANCE_SHRINK_H_
#define ASYNCSPEC_CONFORMANCE_SHRINK_H_

#include <functional>

#include "spec/program.h"

namespace asyncspec::conformance {

struct ShrinkStats {
  int attempts = 0;  // calls of still_fails
  int accepted = 0;  // shrinks taken
};

// Precondition: `program` is valid and still_fails(program) holds.
spec::Program Shrink(spec::Program program, const std::function<bool(const spec::Program&)>& still_fails,
                     int max_attempts, ShrinkStats* stats = nullptr);

// Number of steps in the program (all bodies), a size measure for reports.
std::size_t CountSteps(const spec::Program& program);

}  // namespace asyncspec::conformance

#endif  // ASYNCSPEC_CONFORMANCE_SHRINK_H_
