// `bazel run -c opt //conformance/mutation:mutation_table -- [flags]`: hunts
// every mutant of runtime/mutants.h with the checks of //conformance:check
// and prints the table of conformance/mutation/README.md, then each mutant's
// shrunk counterexample. Exit code: 0 all killed and the unmutated build
// clean, 1 a mutant survived (or crashed), 2 bad flags or a failing
// unmutated build (then no kill would mean anything).
#include <cstdlib>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "conformance/mutation/mutation.h"

namespace m = asyncspec::conformance::mutation;
namespace mut = asyncspec::rt::mutants;

namespace {

constexpr char kHelp[] = R"(mutation_table: the mutation score of the conformance check.

For each mutant of runtime/mutants.h: switch it on in the reference runtime,
check random trees (the trees of //conformance:check --seed=S) until one
fails, and report the rule the check blamed.

  --budget=N         trees per mutant at most (default 50000, as mutation_test)
  --seed=S           run seed (default 1, as //conformance:check)
  --mutants=M01,M07  only these (default all)
  --shrink_budget=N  checks spent shrinking each counterexample (default 300; 0: none)
  --timeout_s=N      wall-clock limit per mutant (default 120)
  --cases=DIR        also check the golden cases in DIR (default spec/cases, the
                     binary's runfiles under bazel run; --cases= for none)
  --noisolate        hunt in this process (a crashing mutant ends the run)
  --quiet            the table only, no counterexamples
  --help
)";

int Usage(const std::string& msg) {
  std::cerr << "mutation_table: " << msg << "\n(see --help)\n";
  return 2;
}

bool ParseInt(const std::string& s, long long lo, long long hi, long long* out) {
  if (s.empty()) return false;
  char* end = nullptr;
  const long long v = std::strtoll(s.c_str(), &end, 10);
  if (*end || v < lo || v > hi) return false;
  *out = v;
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  m::HuntOptions o;
  o.cases_dir = "spec/cases";  // bazel run starts in the runfiles tree
  bool isolate = true, quiet = false;
  std::vector<mut::Id> ids;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      std::cout << kHelp;
      return 0;
    }
    if (a == "--noisolate") {
      isolate = false;
      continue;
    }
    if (a == "--quiet") {
      quiet = true;
      continue;
    }
    const std::size_t eq = a.find('=');
    if (a.rfind("--", 0) != 0 || eq == std::string::npos) return Usage("bad argument '" + a + "'");
    const std::string key = a.substr(2, eq - 2), val = a.substr(eq + 1);
    long long n = 0;
    if (key == "budget") {
      if (!ParseInt(val, 1, 100'000'000, &n)) return Usage("--budget must be an integer >= 1, got '" + val + "'");
      o.budget = static_cast<int>(n);
    } else if (key == "seed") {
      if (!ParseInt(val, 0, 9'000'000'000'000'000'000LL, &n)) return Usage("--seed must be an integer >= 0, got '" + val + "'");
      o.seed = static_cast<std::uint64_t>(n);
    } else if (key == "shrink_budget") {
      if (!ParseInt(val, 0, 1'000'000, &n)) return Usage("--shrink_budget must be an integer >= 0, got '" + val + "'");
      o.shrink_budget = static_cast<int>(n);
    } else if (key == "timeout_s") {
      if (!ParseInt(val, 1, 86'400, &n)) return Usage("--timeout_s must be an integer in [1, 86400], got '" + val + "'");
      o.timeout_s = static_cast<int>(n);
    } else if (key == "cases") {
      o.cases_dir = val;
    } else if (key == "mutants") {
      std::stringstream ss(val);
      std::string code;
      while (std::getline(ss, code, ',')) {
        const mut::Info* info = mut::Find(code);
        if (!info) return Usage("--mutants: no mutant '" + code + "' in runtime/mutants.h (M01..M" + std::to_string(mut::kCount) + ")");
        ids.push_back(info->id);
      }
      if (ids.empty()) return Usage("--mutants needs at least one code");
    } else {
      return Usage("unknown flag --" + key);
    }
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
              << " after " << h.trees << " trees, " << h.seconds << " s\n";
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
                << ")\nkilled by " << h.rule << " on tree seed " << h.tree_seed << " (tree " << h.trees
                << "), shrunk from " << h.original_steps << " to " << h.shrunk_steps << " steps:\n"
                << h.shrunk << h.rule << " " << h.shrunk_finding << "\n";
    }
  }
  return all ? 0 : 1;
}
