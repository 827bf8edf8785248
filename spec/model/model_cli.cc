// model_cli: runs programs through the model (RunModel) and prints outcomes.
//
//   model_cli --profile=shipped-3.13 < programs.jsonl > outcomes.jsonl   (--help: the flags)
//
// --profile names any profile (spec/model/profiles.h): `spec`, the intended
// semantics, or `shipped-X.Y`, CPython X.Y's behaviour with its known bugs
// (the model to compare a real interpreter with).
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
#include <string_view>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/reflection.h"
#include "absl/flags/usage.h"
#include "spec/json.h"
#include "spec/model/model.h"
#include "spec/model/profiles.h"
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

ABSL_FLAG(std::string, profile, "spec", "the model's profile: spec, shipped-3.11, shipped-3.12 or shipped-3.13");

int main(int argc, char** argv) {
  using namespace asyncspec::spec;
  absl::SetProgramUsageMessage("runs programs (JSON, one per stdin line) through the model; prints one outcome per line");
  // A bad flag is exit 2 like every other bad input (ParseCommandLine alone
  // would exit 1).
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a.substr(0, 2) != "--" || a == "--") continue;
    std::string_view name = a.substr(2, a.find('=') == std::string_view::npos ? a.npos : a.find('=') - 2);
    if (!absl::FindCommandLineFlag(std::string(name)) &&
        !(name.substr(0, 2) == "no" && absl::FindCommandLineFlag(std::string(name.substr(2))))) {
      std::cerr << "model_cli: unknown flag " << a << " (--help)\n";
      return 2;
    }
  }
  const std::vector<char*> rest = absl::ParseCommandLine(argc, argv);
  if (rest.size() > 1) {
    std::cerr << "model_cli: unexpected argument '" << rest[1] << "' (--help)\n";
    return 2;
  }
  Profile profile;
  std::string profile_error;
  if (!ProfileNamed(absl::GetFlag(FLAGS_profile), &profile, &profile_error)) {
    std::cerr << "model_cli: " << profile_error << "\n";
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
