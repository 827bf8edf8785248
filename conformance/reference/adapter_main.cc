// The reference runtime as an adapter process (conformance/ADAPTERS.md,
// protocol 2): a hello line, then for each input line holding a program in
// the JSON form, one output line holding its outcome, or
// {"error": ..., "kind": ..., "where": ..., "line": N}: kind "input" when the
// line is refused (bad JSON, invalid program, a blank line), "deadlock" when
// the program can never finish, "internal" when the runtime fails. Never
// exits on bad input.
#include <iostream>
#include <string>

#include "conformance/reference/interpreter.h"
#include "spec/json.h"
#include "spec/validate.h"
#include "tools/flags.h"

namespace {

std::string ErrorLine(std::string_view what, std::string_view kind, std::string_view where, long line) {
  std::string out = "{\"error\":";
  asyncspec::spec::AppendJsonString(out, what);
  out += ",\"kind\":";
  asyncspec::spec::AppendJsonString(out, kind);
  out += ",\"where\":";
  asyncspec::spec::AppendJsonString(out, where);
  out += ",\"line\":" + std::to_string(line) + "}";
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  asyncspec::ParseFlagsOrExit(argc, argv,
                              "usage: adapter < programs.jsonl > outcomes.jsonl\n"
                              "Runs each program (spec/FORMAT.md JSON, one per line) on the asyncspec\n"
                              "reference runtime and prints its outcome, one JSON object per line,\n"
                              "after a hello line naming the runtime and its capabilities\n"
                              "(conformance/ADAPTERS.md, protocol 2). It takes no flags.");
  std::ios::sync_with_stdio(false);
  std::cout << "{\"hello\":{\"protocol\":2,\"runtime\":\"reference\","
               "\"version\":\"asyncspec-rt 0.1 (asyncio 3.13 rules)\","
               "\"capabilities\":[\"sleep\",\"raise\",\"return\",\"task\",\"group\",\"spawn\",\"gather\","
               "\"timeout\",\"reschedule\",\"shield\",\"wait_for\",\"cancel\",\"await\",\"uncancel\",\"try\","
               "\"except_star\",\"catch_group\",\"base\"],"
               "\"model\":\"3.13\",\"rules\":\"asyncio\",\"clock\":\"virtual\"}}\n"
            << std::flush;
  std::string line;
  long n = 0;
  while (std::getline(std::cin, line)) {
    ++n;
    // Protocol 2: the check writes the program's id first, {"id":N,...};
    // every reply below repeats it (Reply).
    std::string id;
    if (line.rfind("{\"id\":", 0) == 0) {
      const auto comma = line.find(',');
      id = line.substr(6, comma == std::string::npos ? std::string::npos : comma - 6);
      line = comma == std::string::npos ? "" : "{" + line.substr(comma + 1);
    }
    auto Reply = [&id](const std::string& text) {
      return id.empty() ? text : "{\"id\":" + id + "," + text.substr(1);
    };
    if (line.find_first_not_of(" \t\r") == std::string::npos) {
      // Still one reply per line, so that replies pair with lines.
      std::cout << Reply(ErrorLine("empty line", "input", "input", n)) << "\n" << std::flush;
      continue;
    }
    auto program = asyncspec::spec::ProgramFromJson(line);
    if (!program.ok()) {
      std::cout << Reply(ErrorLine(std::string(program.status().message()), "input", "program", n)) << "\n" << std::flush;
      continue;
    }
    if (auto st = asyncspec::spec::Validate(*program); !st.ok()) {
      std::cout << Reply(ErrorLine(std::string(st.message()), "input", "program", n)) << "\n" << std::flush;
      continue;
    }
    absl::StatusOr<asyncspec::spec::Outcome> outcome;
    try {
      outcome = asyncspec::conformance::RunOnReference(*program);
    } catch (const std::exception& e) {
      outcome = absl::InternalError(std::string("the reference runtime threw: ") + e.what());
    }
    if (!outcome.ok()) {
      const bool deadlock = absl::IsFailedPrecondition(outcome.status());
      std::cout << Reply(ErrorLine(std::string(outcome.status().message()), deadlock ? "deadlock" : "internal", "run", n))
                << "\n"
                << std::flush;
      continue;
    }
    std::cout << Reply(asyncspec::spec::OutcomeToJson(*outcome)) << "\n" << std::flush;
  }
  return 0;
}
