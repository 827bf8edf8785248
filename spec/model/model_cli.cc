// model_cli: runs programs through the model (RunModel) and prints outcomes.
//
//   model_cli --profile=shipped-3.13 < programs.jsonl > outcomes.jsonl   (--help: the flags)
//
// --profile names any profile (spec/model/profiles.h): `spec`, the intended
// semantics, or `shipped-X.Y`, CPython X.Y's behaviour with its known bugs
// (the model to compare a real interpreter with).
//
// One program JSON per input line; one line out per line in: the outcome
// JSON, or {"error": "..."} (invalid JSON / program, or a deadlock, which the
// CPython driver also reports as an error). Used to compare the model with
// conformance/adapters/cpython/driver.py on the same programs.
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "spec/json.h"
#include "spec/model/model.h"
#include "spec/model/profiles.h"

ABSL_FLAG(std::string, profile, "spec", "the model's profile: spec, shipped-3.11, shipped-3.12 or shipped-3.13");

int main(int argc, char** argv) {
  using namespace asyncspec::spec;
  absl::SetProgramUsageMessage("runs programs (JSON, one per stdin line) through the model; prints one outcome per line");
  const std::vector<char*> rest = absl::ParseCommandLine(argc, argv);
  if (rest.size() > 1) {
    std::cerr << "model_cli: unexpected argument '" << rest[1] << "' (--help)\n";
    return 2;
  }
  Profile profile;
  std::string error;
  if (!ProfileNamed(absl::GetFlag(FLAGS_profile), &profile, &error)) {
    std::cerr << "model_cli: " << error << "\n";
    return 2;
  }
  std::string line;
  while (std::getline(std::cin, line)) {
    auto program = ProgramFromJson(line);
    if (!program.ok()) {
      std::string out;
      AppendJsonString(out, std::string(program.status().message()));
      std::cout << "{\"error\":" << out << "}\n";
      continue;
    }
    ModelRun run = RunModelDetailed(*program, profile);
    if (run.deadlock) {
      std::cout << "{\"error\":\"deadlock\"}\n";
      continue;
    }
    std::cout << OutcomeToJson(run.outcome) << "\n";
  }
  return 0;
}
