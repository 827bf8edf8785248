// model_cli: runs programs through the model (RunModel) and prints outcomes.
//
//   model_cli --version 3.13 < programs.jsonl > outcomes.jsonl
//
// One program JSON per input line; one line out per line in: the outcome
// JSON, or {"error": "..."} (invalid JSON, a program that spec/validate.h
// refuses, a line past the reader's 64 MiB limit, or a deadlock, which the
// CPython driver also reports as an error). Used to compare the model with
// conformance/adapters/cpython/driver.py on the same programs.
//
// Exit code: 0 when every line was a valid program (a deadlock is an
// outcome of a valid program), 2 when some line was not (each one is also
// named on stderr with its line number) or the flags are bad.
#include <iostream>
#include <string>

#include "spec/json.h"
#include "spec/model/model.h"
#include "spec/validate.h"

namespace {

// One line of `in` into `line`, at most `limit` bytes of it; the rest of a
// longer line is skipped without being stored (*too_long set). False at the
// end of the input.
bool ReadLine(std::istream& in, std::string& line, std::size_t limit, bool* too_long) {
  line.clear();
  *too_long = false;
  bool any = false;
  for (int c; (c = in.get()) != std::char_traits<char>::eof();) {
    any = true;
    if (c == '\n') return true;
    if (line.size() < limit) {
      line.push_back(static_cast<char>(c));
    } else {
      *too_long = true;
    }
  }
  return any;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace asyncspec::spec;
  std::string version = "3.13";
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--version" && i + 1 < argc) {
      version = argv[++i];
    } else {
      std::cerr << "model_cli: unknown argument '" << a << "' (usage: model_cli [--version 3.11|3.12|3.13] < programs.jsonl)\n";
      return 2;
    }
  }
  Profile profile;
  if (!Profile::ForVersion(version, &profile)) {
    std::cerr << "model_cli: unknown version " << version << "\n";
    return 2;
  }
  int invalid = 0;
  std::string line;
  bool too_long = false;
  for (long number = 1; ReadLine(std::cin, line, kMaxJsonBytes, &too_long); ++number) {
    auto error = [&](const std::string& why) {
      std::string out;
      AppendJsonString(out, why);
      std::cout << "{\"error\":" << out << "}\n";
      std::cerr << "model_cli: line " << number << ": " << why << "\n";
      ++invalid;
    };
    if (too_long) {
      error("the line is larger than the limit of " + std::to_string(kMaxJsonBytes) + " bytes");
      continue;
    }
    auto program = ProgramFromJson(line);
    if (!program.ok()) {
      error(std::string(program.status().message()));
      continue;
    }
    if (absl::Status v = Validate(*program); !v.ok()) {
      error(std::string(v.message()));
      continue;
    }
    ModelRun run = RunModelDetailed(*program, profile);
    if (run.deadlock) {
      std::cout << "{\"error\":\"deadlock\"}\n";
      continue;
    }
    std::cout << OutcomeToJson(run.outcome) << "\n";
  }
  return invalid ? 2 : 0;
}
