// model_cli: runs programs through the model (RunModel) and prints outcomes.
//
//   model_cli --version 3.13 < programs.jsonl > outcomes.jsonl
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
  std::string version = "3.13";
  for (int i = 1; i + 1 < argc; ++i)
    if (std::string(argv[i]) == "--version") version = argv[i + 1];
  Profile profile;
  if (!Profile::ForVersion(version, &profile)) {
    std::cerr << "unknown version " << version << "\n";
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
