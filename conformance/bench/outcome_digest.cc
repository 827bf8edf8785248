// outcome_digest: one number per (tie mode, profile) that changes when any
// generated program, reference outcome or model outcome changes.
//
// Why. Speed work on the runtime, the interpreter or the model (errors
// passed as values instead of thrown, memos, ...) must not change what they
// compute. A digest over many trees before and after a change says so at
// once, where a test suite only samples. Each line hashes, over trees
// seed .. seed+trees-1 of `TreeProgram(seed, {}, ties)`:
//   programs   the program's JSON form
//   reference  RunOnReference's outcome (JSON), or its error, for schedule
//              seeds 0 and 1 (the second perturbs the free tie orders)
//   model/3.x  RunModelDetailed's outcome (JSON), deadlock flag and number
//              of tie points, for each profile
// Compare the output of two builds line by line (the numbers are std::hash
// values, stable for one libstdc++ and one build mode).
//
//   bazel run -c opt //conformance/bench:outcome_digest -- --trees=20000
#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "conformance/capabilities.h"
#include "conformance/reference/interpreter.h"
#include "spec/json.h"
#include "spec/model/model.h"
#include "tools/flags.h"

ABSL_FLAG(std::uint64_t, seed, 1000, "first tree seed");
ABSL_FLAG(int, trees, 20000, "trees per tie mode");

namespace {

namespace ac = asyncspec::conformance;
namespace spec = asyncspec::spec;

void Mix(std::size_t& h, const std::string& s) {
  h ^= std::hash<std::string>{}(s) + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
}

}  // namespace

int main(int argc, char** argv) {
  asyncspec::ParseFlagsOrExit(argc, argv,
                              "Digests of generated programs, reference outcomes and model outcomes over many trees;\n"
                              "compare two builds' output to show a change left them all unchanged.\n"
                              "  outcome_digest [--seed=1000] [--trees=20000]");
  const std::uint64_t seed = absl::GetFlag(FLAGS_seed);
  const int trees = absl::GetFlag(FLAGS_trees);
  if (trees <= 0) asyncspec::FlagError("--trees must be positive, got " + std::to_string(trees));
  if (seed > UINT64_MAX - static_cast<std::uint64_t>(trees)) asyncspec::FlagError("--seed + --trees overflows 64 bits");
  const std::vector<std::pair<std::string, spec::Profile>> profiles = {
      {"3.11", spec::ShippedProfile("3.11")}, {"3.12", spec::ShippedProfile("3.12")}, {"3.13", spec::SpecProfile()}};
  std::printf("trees %llu .. %llu\n", static_cast<unsigned long long>(seed),
              static_cast<unsigned long long>(seed + trees - 1));
  for (const std::string ties : {"", "free", "heavy"}) {
    std::size_t programs = 0, reference = 0;
    std::vector<std::size_t> model(profiles.size(), 0);
    for (int i = 0; i < trees; ++i) {
      const spec::Program p = ac::TreeProgram(seed + static_cast<std::uint64_t>(i), std::nullopt, ties);
      Mix(programs, spec::ProgramToJson(p));
      for (std::uint64_t schedule : {0, 1}) {
        auto o = ac::RunOnReference(p, schedule);
        Mix(reference, o.ok() ? spec::OutcomeToJson(*o) : "error: " + std::string(o.status().message()));
      }
      for (std::size_t k = 0; k < profiles.size(); ++k) {
        const spec::ModelRun r = spec::RunModelDetailed(p, profiles[k].second);
        Mix(model[k], spec::OutcomeToJson(r.outcome) + (r.deadlock ? " deadlock " : " returns ") +
                          std::to_string(r.tie_points));
      }
    }
    const std::string mode = ties.empty() ? "default" : ties;
    std::printf("%-8s programs   %016zx\n", mode.c_str(), programs);
    std::printf("%-8s reference  %016zx\n", mode.c_str(), reference);
    for (std::size_t k = 0; k < profiles.size(); ++k) {
      std::printf("%-8s model/%s %016zx\n", mode.c_str(), profiles[k].first.c_str(), model[k]);
    }
    std::fflush(stdout);
  }
  return 0;
}
