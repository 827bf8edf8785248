// Schedule exploration over the model's tie choice points (see ties.h).
#include "spec/ties.h"

#include <vector>

namespace asyncspec::spec {
namespace {

// Replays `prefix`, then answers 0 (CPython's order), recording every
// choice point it meets.
class ReplayOracle : public TieOracle {
 public:
  struct Choice {
    int answer;
    int n;
  };
  explicit ReplayOracle(std::vector<Choice> prefix) : trace_(std::move(prefix)) {}
  int Choose(TiePoint, int n) override {
    if (pos_ < trace_.size()) {
      // Determinism (INV-9) makes the replayed point the same one; if it is
      // not (n changed), the answer is clamped rather than trusted.
      Choice& c = trace_[pos_++];
      c.n = n;
      if (c.answer >= n) c.answer = n - 1;
      return c.answer;
    }
    trace_.push_back({0, n});
    ++pos_;
    return 0;
  }
  // The run's choices (only the ones met, if the replayed prefix was longer).
  std::vector<Choice> Trace() const { return {trace_.begin(), trace_.begin() + pos_}; }

 private:
  std::vector<Choice> trace_;
  std::size_t pos_ = 0;
};

// Answers at random (splitmix64), for the sampling half of the check.
class RandomOracle : public TieOracle {
 public:
  explicit RandomOracle(std::uint64_t seed) : s_(seed) {}
  int Choose(TiePoint, int n) override { return static_cast<int>(Next() % static_cast<std::uint64_t>(n)); }

 private:
  std::uint64_t Next() {
    std::uint64_t z = (s_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  std::uint64_t s_;
};

bool Matches(const ModelRun& run, const Outcome& observed) {
  return !run.deadlock && (run.outcome == observed || OutcomeAllowed(run.outcome, observed, nullptr));
}

}  // namespace

ScheduleSearch ForEachSchedule(const Program& program, const Profile& profile, int max_runs,
                               const std::function<bool(const ModelRun&)>& visit) {
  ScheduleSearch s;
  std::vector<ReplayOracle::Choice> next;  // the schedule to run: empty = CPython's
  while (s.runs < max_runs) {
    ReplayOracle oracle(next);
    ModelRun run = RunModelDetailed(program, profile, &oracle);
    ++s.runs;
    if (visit(run)) return s;
    // Depth first: bump the deepest answer that has an alternative left.
    next = oracle.Trace();
    while (!next.empty() && next.back().answer + 1 >= next.back().n) next.pop_back();
    if (next.empty()) {
      s.exhausted = true;
      return s;
    }
    ++next.back().answer;
  }
  return s;
}

TieCheck OutcomeAllowedUnderTies(const Program& program, const Profile& profile,
                                 const Outcome& observed, int budget, std::uint64_t seed) {
  TieCheck c;
  bool found = false, first = true;
  std::string why;
  const int dfs_budget = budget > 1 ? budget / 2 : 1;
  ScheduleSearch s = ForEachSchedule(program, profile, dfs_budget, [&](const ModelRun& run) {
    if (first) {  // CPython's schedule: keep how it differs, for the report
      first = false;
      if (run.deadlock) why = "the model deadlocks under CPython's schedule";
      else OutcomeAllowed(run.outcome, observed, &why);
    }
    return found = Matches(run, observed);
  });
  c.runs = s.runs;
  if (found) {
    c.verdict = TieVerdict::kAllowed;
    c.by_default = s.runs == 1;
    return c;
  }
  if (s.exhausted) {
    c.verdict = TieVerdict::kNotAllowed;
    c.why = why;
    return c;
  }
  for (int i = 0; c.runs < budget; ++i) {
    RandomOracle oracle(seed * 0x100000001b3ull + static_cast<std::uint64_t>(i));
    ModelRun run = RunModelDetailed(program, profile, &oracle);
    ++c.runs;
    if (Matches(run, observed)) {
      c.verdict = TieVerdict::kAllowed;
      return c;
    }
  }
  c.verdict = TieVerdict::kUndecided;
  return c;
}

}  // namespace asyncspec::spec
