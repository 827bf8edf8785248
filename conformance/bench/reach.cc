// Reach of the random trees: which rules the check's own random programs
// exercise, and how often its profile flags matter.
//
//   bazel run -c opt //conformance/bench:reach -- --trees=1000
//   bazel run -c opt //conformance/bench:reach -- --trees=1000 --ties=free --check
//
// For each of N trees (TreeProgram(TreeSeed(seed, i)), the programs
// `check --trees=N --seed=S` draws) the model runs with rule recording on
// (spec::RunModelRecorded) under the default profile (3.13), and once more
// under each profile that differs from it in one flag encoding an upstream
// fix. It prints, per rule of spec/RULES.md, how many trees take one of the
// rule's transitions under the default profile, and under the default or a
// one-flag variant (WF-3 is 3.11's wait_for: only a variant reaches it); and,
// per flag, how many trees' outcomes change when the flag flips (the reach of
// the check for that fix: a runtime without the fix fails only on them).
// Targets (--check exits 1 when one is missed): every rule with transitions
// in >= 2% of the trees (20 of 1,000), every flag flipping >= 0.5% (1 in
// 200). INV-* rules are properties of whole runs, checked on every program;
// they have no transitions of their own. CX-11 needs a program the validator
// refuses.
#include <cstdio>
#include <cstdlib>
#include <iostream>
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
            << "usage: reach [--trees=N] [--seed=S] [--ties=free|heavy] [--check]\n";
  return 2;
}

bool IsInvariant(int r) { return std::string(spec::kRuleNames[r]).rfind("INV-", 0) == 0; }

// Rules no valid program can exercise, and why (not counted against the
// target; golden cases and hand-written tests cover them).
const char* Inexpressible(spec::RuleId r) {
  if (r == spec::RuleId::CX_11) return "a task awaiting itself is refused by spec/validate.h";
  return nullptr;
}

}  // namespace

int main(int argc, char** argv) {
  int trees = 1000;
  std::uint64_t seed = 1;
  std::string ties;
  bool check = false;
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
    std::bitset<spec::kRuleCount> any = r.rules_hit;
    for (int f = 0; f < kNumFlags; ++f) {
      const spec::ModelRun v = spec::RunModelRecorded(p, variants[f], spec::RuleRecording::kHits);
      any |= v.rules_hit;
      if (!(v.outcome == r.outcome) || v.deadlock != r.deadlock) ++flips[f];
    }
    for (int k = 0; k < spec::kRuleCount; ++k) {
      hit_default[k] += r.rules_hit.test(k);
      hit_any[k] += any.test(k);
    }
  }

  // Targets, scaled to N: 20 of 1,000 and 1 of 200.
  const double rule_target = 0.02 * trees, flag_target = 0.005 * trees;
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
    const bool low = flips[f] < flag_target;
    missed += low;
    std::printf("| %s | %d (1 in %s)%s |\n", departures[f].id, flips[f],
                flips[f] ? std::to_string(trees / flips[f]).c_str() : "-", low ? " (below target)" : "");
  }
  std::printf("\n%d of the targets missed (every rule >= 2%% of trees, every flag >= 0.5%%)\n", missed);
  return check && missed > 0 ? 1 : 0;
}
