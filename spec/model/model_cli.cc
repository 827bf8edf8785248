// model_cli: runs programs through the model (RunModel) and prints outcomes.
//
//   model_cli --version 3.13 < programs.jsonl > outcomes.jsonl
//   model_cli --profile spec < programs.jsonl > outcomes.jsonl
//
// --version X.Y runs the shipped-X.Y profile (CPython X.Y's behaviour, its
// known bugs included: the model to compare a real interpreter with);
// --profile names any profile (spec/model/profiles.h).
//
// One program JSON per input line; one line out per line in: the outcome
// JSON, or {"error": "..."} (invalid JSON / program, or a deadlock, which the
// CPython driver also reports as an error). Used to compare the model with
// conformance/adapters/cpython/driver.py on the same programs.
#include <iostream>
#include <string>

#include "spec/json.h"
#include "spec/model/model.h"

int main(int argc, char** argv) {
  using namespace asyncspec::spec;
  Profile profile = ShippedProfile("3.13");
  for (int i = 1; i + 1 < argc; ++i) {
    const std::string flag = argv[i], value = argv[i + 1];
    std::string error;
    if (flag == "--version" && !ShippedProfileForVersion(value, &profile)) {
      std::cerr << "model_cli: no shipped profile for version " << value << "\n";
      return 2;
    }
    if (flag == "--profile" && !ProfileNamed(value, &profile, &error)) {
      std::cerr << "model_cli: " << error << "\n";
      return 2;
    }
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
