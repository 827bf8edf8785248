// Reach of the random trees: which rules the check's own random programs
// exercise, and how often its profile flags matter.
//
//   bazel run -c opt //conformance/bench:reach -- --trees=1000
//   bazel run -c opt //conformance/bench:reach -- --trees=1000 --ties=free --check
//
// For each of N trees (TreeProgram(TreeSeed(seed, i)), the programs
// `check --trees=N --seed=S` draws) the model runs with rule recording on
// (spec::RunModelRecorded) under the default profile (spec), and once more
// under each profile that differs from it in one departure flag
// (spec/model/profiles.h: a place where a shipped release departs from spec). It prints, per rule of spec/RULES.md, how many trees take one of the
// rule's transitions under the default profile, and under the default or a
// one-flag variant (WF-3 is 3.11's wait_for: only a variant reaches it); and,
// per flag, how many trees' outcomes change when the flag flips (the reach of
// the check for that fix: a runtime without the fix fails only on them).
// Targets (--check exits 1 when one is missed; --rule_target/--flag_target
// change them, per 1,000 trees): every rule with transitions in >= 2% of the
// trees (20 of 1,000), every flag flipping >= 0.5% (1 in 200);
// //conformance/bench:reach_test holds the generator to them. INV-* rules are properties of whole runs, checked on every program;
// they have no transitions of their own. RT-8 (the exception handler and
// warnings channels) is counted from the outcome: a tree exercises it when
// the model predicts a handler call or a warning. CX-11 and its flag
// (self_await_unmarks_task) need a program the validator refuses; IO-1..3
// need real sockets, which programs do not have: neither is counted against
// the targets, and the table names the tests that exercise them instead.
#include <bitset>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "conformance/capabilities.h"
#include "spec/model/model.h"
#include "spec/rule_ids.h"

namespace ac = asyncspec::conformance;
namespace spec = asyncspec::spec;

namespace {

// The flags flipped are the departures of spec/model/profiles.h: each
// encodes a place where a shipped release departs from spec.

int Usage(const std::string& why) {
  std::cerr << "reach: " << why << "\n"
            << "usage: reach [--trees=N] [--seed=S] [--ties=free|heavy] [--check] [--rule_target=R] "
               "[--flag_target=F]\n"
            << "  targets per 1,000 trees (default 20 and 5): every rule in >= R, every flag flipping >= F\n";
  return 2;
}

bool IsInvariant(int r) { return std::string(spec::kRuleNames[r]).rfind("INV-", 0) == 0; }

// Rules no valid program can exercise, why, and the tests that exercise them
// instead (not counted against the target).
const char* Inexpressible(spec::RuleId r) {
  switch (r) {
    case spec::RuleId::CX_11:
      return "not reachable: spec/validate.h refuses a task awaiting itself; //spec/model:model_test "
             "CX_11_AwaitingOneself, //runtime:run_test";
    case spec::RuleId::IO_1:
      return "not reachable: real sockets; //runtime:tcp_test, //runtime:http_client_test";
    case spec::RuleId::IO_2:
    case spec::RuleId::IO_3:
      return "not reachable: real sockets; //runtime:tcp_test";
    default:
      return nullptr;
  }
}

// The same for departure flags: the flag's rule is not reachable.
const char* InexpressibleFlag(const spec::Departure& d) {
  const std::optional<spec::RuleId> r = spec::ParseRuleId(d.rule);
  return r ? Inexpressible(*r) : nullptr;
}

// RT-8's channels are outcome fields, not transitions.
bool ReportsOnChannels(const spec::Outcome& o) {
  return (o.handler && !o.handler->empty()) || (o.warnings && !o.warnings->empty());
}

}  // namespace

int main(int argc, char** argv) {
  int trees = 1000;
  std::uint64_t seed = 1;
  std::string ties;
  bool check = false;
  // Per 1,000 trees: 20 (2%) per rule, 5 (1 in 200) per flag.
  double rule_per_1000 = 20, flag_per_1000 = 5;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&](const char* name, std::string* out) {
      const std::string prefix = std::string("--") + name + "=";
      if (a.rfind(prefix, 0) != 0) return false;
      *out = a.substr(prefix.size());
      return true;
    };
    std::string v;
    if (value("trees", &v)) {
      if (!absl::SimpleAtoi(v, &trees) || trees <= 0 || trees > 10'000'000) return Usage("bad --trees: " + v);
    } else if (value("seed", &v)) {
      if (!absl::SimpleAtoi(v, &seed)) return Usage("bad --seed: " + v);
    } else if (value("ties", &v)) {
      if (v != "free" && v != "heavy") return Usage("--ties must be free or heavy, got '" + v + "'");
      ties = v;
    } else if (value("rule_target", &v)) {
      if (!absl::SimpleAtod(v, &rule_per_1000) || rule_per_1000 < 0) return Usage("bad --rule_target: " + v);
    } else if (value("flag_target", &v)) {
      if (!absl::SimpleAtod(v, &flag_per_1000) || flag_per_1000 < 0) return Usage("bad --flag_target: " + v);
    } else if (a == "--check") {
      check = true;
    } else {
      return Usage("unknown argument " + a);
    }
  }

  const spec::Profile base = spec::SpecProfile();
  const std::vector<spec::Departure>& departures = spec::Departures();
  const int kNumFlags = static_cast<int>(departures.size());
  std::vector<spec::Profile> variants;
  for (const spec::Departure& d : departures) {
    spec::Profile p = spec::WithDepartures(base, {&d});
    p.name = base.name + " with " + d.id + " shipped";
    variants.push_back(p);
  }
  std::vector<int> hit_default(spec::kRuleCount), hit_any(spec::kRuleCount);
  std::vector<int> flips(kNumFlags);
  for (int i = 0; i < trees; ++i) {
    const spec::Program p = ac::TreeProgram(ac::TreeSeed(seed, i), std::nullopt, ties);
    const spec::ModelRun r = spec::RunModelRecorded(p, base, spec::RuleRecording::kHits);
    std::bitset<spec::kRuleCount> hit = r.rules_hit;
    if (ReportsOnChannels(r.outcome)) hit.set(static_cast<int>(spec::RuleId::RT_8));
    std::bitset<spec::kRuleCount> any = hit;
    for (int f = 0; f < kNumFlags; ++f) {
      const spec::ModelRun v = spec::RunModelRecorded(p, variants[f], spec::RuleRecording::kHits);
      any |= v.rules_hit;
      if (ReportsOnChannels(v.outcome)) any.set(static_cast<int>(spec::RuleId::RT_8));
      if (!(v.outcome == r.outcome) || v.deadlock != r.deadlock) ++flips[f];
    }
    for (int k = 0; k < spec::kRuleCount; ++k) {
      hit_default[k] += hit.test(k);
      hit_any[k] += any.test(k);
    }
  }

  // Targets, scaled to N.
  const double rule_target = rule_per_1000 * trees / 1000, flag_target = flag_per_1000 * trees / 1000;
  int missed = 0;
  std::printf("Reach of %d random trees (seed %llu, ties %s), model profile %s\n\n", trees,
              static_cast<unsigned long long>(seed), ties.empty() ? "any" : ties.c_str(), base.name.c_str());
  std::printf("| rule | trees (default profile) | trees (default or one flag flipped) |\n|---|---:|---:|\n");
  for (int k = 0; k < spec::kRuleCount; ++k) {
    const std::string name(spec::kRuleNames[k]);
    if (IsInvariant(k)) {
      std::printf("| %s | every run (invariant) | |\n", name.c_str());
      continue;
    }
    if (const char* why = Inexpressible(static_cast<spec::RuleId>(k))) {
      std::printf("| %s | %d | %d (%s) |\n", name.c_str(), hit_default[k], hit_any[k], why);
      continue;
    }
    const bool low = hit_any[k] < rule_target;
    missed += low;
    std::printf("| %s | %d | %d%s |\n", name.c_str(), hit_default[k], hit_any[k], low ? " (below target)" : "");
  }
  std::printf("\n| profile flag | trees whose outcome changes when it flips |\n|---|---:|\n");
  for (int f = 0; f < kNumFlags; ++f) {
    const char* why = InexpressibleFlag(departures[f]);
    const bool low = !why && flips[f] < flag_target;
    missed += low;
    std::printf("| %s | %d (1 in %s)%s%s%s |\n", departures[f].id, flips[f],
                flips[f] ? std::to_string(trees / flips[f]).c_str() : "-", low ? " (below target)" : "",
                why ? " (" : "", why ? (std::string(departures[f].rule) + " " + why + ")").c_str() : "");
  }
  std::printf("\n%d of the targets missed (every rule in >= %g of 1,000 trees, every flag flipping >= %g of 1,000)\n",
              missed, rule_per_1000, flag_per_1000);
  return check && missed > 0 ? 1 : 0;
}
