// Fuzz target: differential. A program (JSON form) that reads and validates
// runs on the model (spec/model) and on the reference runtime
// (conformance/reference); their outcomes must agree up to the freedom the
// rules allow (conformance::Compare, RULES.md "Freedom under ties"), and
// both must satisfy the invariants any correct outcome satisfies
// (conformance::CheckInvariants, INV-1 .. INV-8). A disagreement aborts
// with the blamed rule ID and both outcomes printed; replay the input with
// `bazel run //conformance:check -- --program=<file>`.
//
// Inputs are mutated by program_mutator.h (structure-aware: every mutant is a
// valid program of at most kMaxFuzzSteps steps, built from the RapidCheck
// generators' parts), so libFuzzer's time goes to running programs, not to
// bytes the JSON reader refuses.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "conformance/compare.h"
#include "conformance/reference/interpreter.h"
#include "fuzz/program_mutator.h"
#include "spec/json.h"
#include "spec/model/model.h"
#include "spec/validate.h"

namespace {

using asyncspec::conformance::Finding;

[[noreturn]] void Fail(const char* what, const Finding& f, const asyncspec::spec::Outcome& model,
                       const asyncspec::spec::Outcome& reference) {
  std::fprintf(stderr, "%s: %s at %s (%s): %s\n  model:     %s\n  reference: %s\n", what,
               f.rule.c_str(), f.where.c_str(), f.subject.c_str(), f.message.c_str(),
               asyncspec::spec::OutcomeToJson(model).c_str(),
               asyncspec::spec::OutcomeToJson(reference).c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace spec = asyncspec::spec;
  namespace conformance = asyncspec::conformance;
  const spec::Program* p = asyncspec::fuzz::ReadValidProgram(data, size);
  if (p == nullptr) return 0;
  const spec::Profile profile = spec::SpecProfile();
  auto model = spec::RunModelDetailed(*p, profile);
  auto observed = conformance::RunOnReference(*p);
  if (model.deadlock || !observed.ok()) {
    // RT-3: asyncio.run never returns; the reference must hang exactly when
    // the model does.
    if (model.deadlock != !observed.ok()) {
      std::fprintf(stderr, "RT-3: deadlock disagreement: model %s, reference %s\n",
                   model.deadlock ? "deadlocks" : "returns",
                   observed.ok() ? "returns" : std::string(observed.status().message()).c_str());
      std::abort();
    }
    return 0;
  }
  conformance::Comparison c = conformance::Compare(*p, profile, model.outcome, *observed);
  if (c.match == conformance::Match::kDiffer) {
    Fail("model and reference disagree", *c.blame, model.outcome, *observed);
  }
  for (const Finding& f : conformance::CheckInvariants(*p, model.outcome)) {
    Fail("the model breaks an invariant", f, model.outcome, *observed);
  }
  // An outcome equal to the model's breaks exactly the invariants the model's
  // does (CheckInvariants is a function of program and outcome), none by now.
  if (c.match != conformance::Match::kExact) {
    for (const Finding& f : conformance::CheckInvariants(*p, *observed)) {
      Fail("the reference breaks an invariant", f, model.outcome, *observed);
    }
  }
  return 0;
}

extern "C" std::size_t LLVMFuzzerCustomMutator(std::uint8_t* data, std::size_t size,
                                               std::size_t max_size, unsigned int seed) {
  return asyncspec::fuzz::MutateProgram(data, size, max_size, seed);
}

extern "C" std::size_t LLVMFuzzerCustomCrossOver(const std::uint8_t* data1, std::size_t size1,
                                                 const std::uint8_t* data2, std::size_t size2,
                                                 std::uint8_t* out, std::size_t max_out_size,
                                                 unsigned int seed) {
  return asyncspec::fuzz::CrossOverPrograms(data1, size1, data2, size2, out, max_out_size, seed);
}
