// Fuzz target: differential. A program (JSON form) that reads and validates
// runs on the model (spec/model) and on the reference runtime
// (conformance/reference); their outcomes must agree up to the freedom the
// rules allow (spec::OutcomeAllowed, RULES.md "Freedom under ties"). A
// disagreement aborts with both outcomes printed: replay the input with
// `bazel run //conformance:check -- --program=<file>` for the rule ID.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "conformance/reference/interpreter.h"
#include "spec/json.h"
#include "spec/model/model.h"
#include "spec/validate.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 4096) return 0;  // small programs: speed over size
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto p = asyncspec::spec::ProgramFromJson(in);
  if (!p.ok() || !asyncspec::spec::Validate(*p).ok()) return 0;
  auto model = asyncspec::spec::RunModelDetailed(*p, asyncspec::spec::Profile::Py313());
  auto observed = asyncspec::conformance::RunOnReference(*p);
  if (model.deadlock || !observed.ok()) {
    if (model.deadlock != !observed.ok()) {
      std::fprintf(stderr, "deadlock disagreement: model %d, reference %s\n", model.deadlock,
                   observed.ok() ? "ran" : std::string(observed.status().message()).c_str());
      std::abort();
    }
    return 0;
  }
  std::string why;
  if (!asyncspec::spec::OutcomeAllowed(model.outcome, *observed, &why)) {
    std::fprintf(stderr, "model and reference disagree: %s\n  model:     %s\n  reference: %s\n", why.c_str(),
                 asyncspec::spec::OutcomeToJson(model.outcome).c_str(),
                 asyncspec::spec::OutcomeToJson(*observed).c_str());
    std::abort();
  }
  return 0;
}
