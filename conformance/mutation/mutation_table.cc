// `bazel run -c opt //conformance/mutation:mutation_table -- [flags]`: hunts
// every mutant of runtime/mutants.h with the checks of //conformance:check,
// prints the table of conformance/mutation/README.md (each kill judged: is
// the rule the check reported one the mutant breaks?), then each mutant's
// shrunk counterexample, and writes the same as JSON.
//
// Exit code: 0 all killed and the unmutated build clean, 1 a mutant survived
// (or crashed), 2 bad flags, a malformed catalogue, an unwritable --json, or
// a failing unmutated build (then no kill would mean anything).
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/reflection.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "conformance/mutation/mutation.h"

ABSL_FLAG(int, budget, asyncspec::conformance::mutation::HuntOptions{}.budget,
          "random trees per mutant at most (the unmutated build runs them all); the default is mutation_test's");
ABSL_FLAG(std::uint64_t, seed, 1, "run seed: the trees of //conformance:check --seed=S");
ABSL_FLAG(std::string, mutants, "", "only these mutants, e.g. M02,M11 (default: all of runtime/mutants.h)");
ABSL_FLAG(int, shrink_budget, asyncspec::conformance::mutation::HuntOptions{}.shrink_budget,
          "checks spent shrinking each counterexample (0: none)");
ABSL_FLAG(int, timeout_s, asyncspec::conformance::mutation::HuntOptions{}.timeout_s,
          "wall-clock limit of one mutant's hunt, in seconds (a hung mutant is reported, not waited for)");
ABSL_FLAG(std::string, cases, "spec/cases",
          "also check the golden cases in this directory (the binary's runfiles under bazel run); "
          "empty: trees only");
ABSL_FLAG(bool, isolate, true, "hunt each mutant in a forked child (--noisolate: in this process)");
ABSL_FLAG(bool, quiet, false, "the table only, no counterexamples");
ABSL_FLAG(std::string, json, "",
          "write the table as JSON to this file (default asyncspec-report/mutation.json in the workspace; "
          "relative paths are from where bazel ran; none: no file)");

namespace m = asyncspec::conformance::mutation;
namespace mut = asyncspec::rt::mutants;

namespace {

constexpr char kUsage[] = R"(usage: bazel run -c opt //conformance/mutation:mutation_table -- [flags]

For each mutant of runtime/mutants.h: switch it on in the reference runtime,
check random trees (the trees of //conformance:check --seed=S) until one
fails, and report the rule the check blamed, judged against the rules the
mutant breaks: exact, same family, wrong family (conformance/mutation/README.md).

Flags:
)";

constexpr char kExitCodes[] = R"(
Exit code: 0 every mutant killed and the unmutated build clean; 1 a mutant
survived or crashed; 2 bad flags, a malformed catalogue, an unwritable
--json, or an unmutated build that fails (then no kill would mean anything).
)";

constexpr const char* kFlagOrder[] = {"budget", "seed",  "mutants", "shrink_budget", "timeout_s",
                                      "cases",  "isolate", "quiet", "json"};

// Only this file's flags (not Abseil's own, e.g. --flagfile).
bool Ours(const absl::CommandLineFlag* f) {
  return f && f->Filename().find("conformance/mutation/mutation_table.cc") != std::string::npos;
}

std::string Help() {
  std::string out = kUsage;
  for (const char* name : kFlagOrder) {
    const absl::CommandLineFlag* f = absl::FindCommandLineFlag(name);
    const std::string def = f->DefaultValue();
    out += "  --" + std::string(name) + (f->IsOfType<bool>() ? " / --no" + std::string(name) : "") +
           (def.empty() ? std::string() : " (default " + def + ")") + "\n      " + f->Help() + "\n";
  }
  return out + "  --help (this text)\n" + kExitCodes;
}

int Usage(const std::string& msg) {
  std::cerr << "mutation_table: " << msg << "\n(--help for usage)\n";
  return 2;
}

// Sets the flags of argv with Abseil's own value parsers. Not
// absl::ParseCommandLine, which exits 1 on a bad flag where this command's
// documented code is 2 (1 means a mutant survived). Returns an error, or "".
std::string ParseFlags(int argc, char** argv, bool* help) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--help" || a == "-h" || a == "--helpfull") {
      *help = true;
      return "";
    }
    if (a.rfind("--", 0) != 0) return "unexpected argument '" + a + "'";
    std::string name = a.substr(2), value;
    bool has_value = false;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name.resize(eq);
      has_value = true;
    }
    absl::CommandLineFlag* f = absl::FindCommandLineFlag(name);
    if (!Ours(f) && name.rfind("no", 0) == 0) {
      absl::CommandLineFlag* positive = absl::FindCommandLineFlag(name.substr(2));
      if (Ours(positive) && positive->IsOfType<bool>()) {
        if (has_value) return "--" + name + " takes no value";
        std::string error;
        positive->ParseFrom("false", &error);
        continue;
      }
    }
    if (!Ours(f)) return "unknown flag --" + name;
    if (f->IsOfType<bool>()) {
      if (!has_value) value = "true";
    } else if (!has_value) {
      if (i + 1 >= argc) return "--" + name + " needs a value";
      value = argv[++i];
    }
    std::string error;
    if (!f->ParseFrom(value, &error)) {
      const char* what = f->IsOfType<bool>() ? "true or false" : f->IsOfType<int>() ? "an integer" : "an unsigned integer";
      return "--" + name + " must be " + what + ", got '" + value + "'";
    }
  }
  return "";
}

// A path the user typed, relative to where `bazel run` was started.
std::string FromUser(const std::string& path) {
  if (path.empty() || path[0] == '/') return path;
  if (const char* d = std::getenv("BUILD_WORKING_DIRECTORY"); d && *d) return std::string(d) + "/" + path;
  return path;
}

}  // namespace

int main(int argc, char** argv) {
  bool help = false;
  if (std::string error = ParseFlags(argc, argv, &help); !error.empty()) return Usage(error);
  if (help) {
    std::cout << Help();
    return 0;
  }
  m::HuntOptions o;
  o.budget = absl::GetFlag(FLAGS_budget);
  if (o.budget < 1 || o.budget > 100'000'000) return Usage("--budget must be an integer in [1, 100000000]");
  o.seed = absl::GetFlag(FLAGS_seed);
  o.shrink_budget = absl::GetFlag(FLAGS_shrink_budget);
  if (o.shrink_budget < 0 || o.shrink_budget > 1'000'000) return Usage("--shrink_budget must be an integer in [0, 1000000]");
  o.timeout_s = absl::GetFlag(FLAGS_timeout_s);
  if (o.timeout_s < 1 || o.timeout_s > 86'400) return Usage("--timeout_s must be an integer in [1, 86400]");
  o.cases_dir = absl::GetFlag(FLAGS_cases);
  const bool isolate = absl::GetFlag(FLAGS_isolate), quiet = absl::GetFlag(FLAGS_quiet);
  std::string json_path = absl::GetFlag(FLAGS_json);
  if (json_path.empty()) {
    const char* ws = std::getenv("BUILD_WORKSPACE_DIRECTORY");
    json_path = (ws && *ws) ? std::string(ws) + "/asyncspec-report/mutation.json" : "asyncspec-report/mutation.json";
  } else if (json_path != "none") {
    json_path = FromUser(json_path);
  }

  if (std::vector<std::string> faults = m::CatalogueFaults(); !faults.empty()) {
    std::cerr << "mutation_table: runtime/mutants.h is malformed:\n  " << absl::StrJoin(faults, "\n  ") << "\n";
    return 2;
  }
  // Opened now, so an unwritable path fails before the long run, not after.
  std::ofstream json_out;
  if (json_path != "none") {
    const std::filesystem::path parent = std::filesystem::path(json_path).parent_path();
    std::error_code ec;
    if (!parent.empty()) std::filesystem::create_directories(parent, ec);
    json_out.open(json_path);
    if (ec || !json_out) return Usage("--json: cannot write '" + json_path + "'");
  }
  std::vector<mut::Id> ids;
  const std::vector<std::string> codes = absl::StrSplit(absl::GetFlag(FLAGS_mutants), ',', absl::SkipWhitespace());
  for (const std::string& code : codes) {
    const mut::Info* info = mut::Find(code);
    if (!info) {
      return Usage("--mutants: no mutant '" + code + "' in runtime/mutants.h (M01..M" +
                   std::to_string(mut::kCount) + ")");
    }
    ids.push_back(info->id);
  }
  if (ids.empty()) {
    for (const mut::Info& info : mut::kCatalogue) ids.push_back(info.id);
  }
  auto hunt = [&](mut::Id id) { return isolate ? m::HuntIsolated(id, o) : m::Hunt(id, o); };

  // The unmutated build over the whole budget first: a failure there is a
  // bug of the runtime or the harness, and would make every "kill" void.
  std::cerr << "[mutation] unmutated build, " << o.budget << " trees...\n";
  m::HuntResult clean = hunt(mut::Id::kNone);
  if (!clean.crash.empty()) {
    std::cerr << "mutation_table: the UNMUTATED runtime crashed: " << clean.crash << "\n";
    return 2;
  }
  if (!o.cases_dir.empty() && clean.cases_checked == 0) {
    return Usage("no golden cases in '" + o.cases_dir + "' (" + clean.first_case + "); --cases= to skip them");
  }
  if (clean.cases_failed > 0) {
    std::cerr << "mutation_table: the UNMUTATED runtime fails " << clean.cases_failed << " golden cases (first "
              << clean.first_case << ", " << clean.first_case_rule << ")\n";
    return 2;
  }
  std::string clean_line;
  if (clean.killed) {
    // Not fatal: each kill is re-checked on the unmutated build, and a tree
    // that fails there too is not counted (HuntResult::control_failures).
    clean_line = "unmutated build FAILS tree " + std::to_string(clean.trees) + " (seed " +
                 std::to_string(clean.tree_seed) + ", " + clean.rule + " at " + clean.where + ": " + clean.message +
                 "); such trees are not counted as kills";
  } else {
    clean_line = "unmutated build: all " + std::to_string(clean.trees) + " trees pass (" +
                 std::to_string(clean.seconds) + " s)";
    if (clean.cases_checked > 0) clean_line += ", and all " + std::to_string(clean.cases_checked) + " golden cases";
  }
  std::cerr << "[mutation] " << clean_line << "\n";

  std::vector<m::HuntResult> results;
  for (mut::Id id : ids) {
    results.push_back(hunt(id));
    const m::HuntResult& h = results.back();
    std::cerr << "[mutation] " << h.code << ": "
              << (!h.crash.empty() ? "CRASH " + h.crash : h.killed ? "killed by " + h.rule : std::string("SURVIVED"))
              << " after " << h.trees << " trees, " << h.seconds << " s (" << m::AttributionName(m::Judge(h))
              << ")\n";
  }
  std::cout << "budget " << o.budget << " trees per mutant, seed " << o.seed << "; " << clean_line << "\n\n";
  std::cout << m::Table(results);
  bool all = true;
  for (const m::HuntResult& h : results) all &= h.killed && h.crash.empty();
  if (!quiet) {
    for (const m::HuntResult& h : results) {
      if (!h.killed) continue;
      const mut::Info* info = mut::Find(h.code);
      std::cout << "\n## " << h.code << " " << (info ? info->name : "") << " (" << (info ? info->mistake : "")
                << ")\nkilled by " << h.rule << " (" << m::AttributionName(m::Judge(h)) << "; breaks "
                << (info ? info->rules : "") << ") on tree seed " << h.tree_seed << " (tree " << h.trees
                << "), shrunk from " << h.original_steps << " to " << h.shrunk_steps << " steps:\n"
                << h.shrunk << h.rule << " " << h.shrunk_finding << "\n";
    }
  }
  if (json_out.is_open()) {
    json_out << m::TableJson(results, o, clean);
    json_out.close();
    if (!json_out) return Usage("--json: cannot write '" + json_path + "'");
    std::cerr << "[mutation] JSON: " << json_path << "\n";
  }
  return all ? 0 : 1;
}
