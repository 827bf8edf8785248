// `bazel run //conformance:check -- [flags]`: checks a runtime against the
// model of spec/RULES.md on the golden cases and on random programs, and
// writes report.md / report.json / report.xml. See conformance/README.md.
//
// Exit codes: 0 every program passed; 1 some program failed or timed out;
// 2 bad flags, or the runtime's adapter could not be started or misbehaved.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <iostream>
#include <set>
#include <string>

#include "conformance/engine.h"

namespace ac = asyncspec::conformance;

namespace {

constexpr char kUsage[] = R"(usage: bazel run //conformance:check -- [flags]

Checks a runtime against the model (spec/model) on the golden cases of
spec/cases and on random programs (spec/program_gen.h).

  --runtime=reference|cpython|model  runtime under test (default reference; model
                           checks the model against itself, to time the engine)
  --python=PATH            interpreter for --runtime=cpython
                           (default /root/.pyenv/versions/3.13.0/bin/python3)
  --trees=N                random programs (default 1000)
  --seed=S                 seed of the random programs (default 1)
  --cases / --nocases      also run the golden cases (default on)
  --rules=GLOB             only rules matching, e.g. 'TG-*' or 'TG-*,GA-2'
  --out=DIR                report directory (default asyncspec-report in the
                           workspace; relative paths are from where bazel ran)
  --profile=3.11|3.12|3.13 model profile (default 3.13, or the CPython driver's
                           version for --runtime=cpython)
  --timeout_ms=MS          per-program time limit (default 10000)
  --isolate / --noisolate  check the reference runtime in forked worker
                           processes, so that a crash or a hang costs one
                           program (default on); --noisolate: in this process
  --jobs=J                 worker processes for the reference runtime or the
                           model (default 1; the machine's cores: --jobs=0)
  --shrink_budget=N        programs tried when shrinking one failure (default 300)
  --replay=TREE_SEED       check only the random program with this tree seed
  --program=FILE           check only this program (text or JSON form)
  --ties=free|heavy        random programs without timer ties, or with many ties
                           (RULES.md "Freedom under ties"; default: neither)
  --schedules=N            also run each program under N perturbed schedules
                           (reference runtime only); each outcome must be one
                           some model schedule yields (default 0)
  --tie_budget=N           model runs per such check (default 200); past it
                           the program is "undecided", not passed
  --quiet                  no progress, only the summary
  --help                   this text

Exit code: 0 all passed, 1 failures or timeouts, 2 bad flags or adapter errors.
)";

int Usage(const std::string& msg) {
  std::cerr << "check: " << msg << "\n(--help for usage)\n";
  return 2;
}

bool ParseInt(const std::string& s, long long lo, long long hi, long long* out) {
  if (s.empty()) return false;
  char* end = nullptr;
  errno = 0;
  long long v = std::strtoll(s.c_str(), &end, 10);
  if (errno || *end || v < lo || v > hi) return false;
  *out = v;
  return true;
}

bool ParseU64(const std::string& s, std::uint64_t* out) {
  if (s.empty() || s[0] == '-') return false;
  char* end = nullptr;
  errno = 0;
  unsigned long long v = std::strtoull(s.c_str(), &end, 10);
  if (errno || *end) return false;
  *out = v;
  return true;
}

std::string FromUser(const std::string& path) {
  if (path.empty() || path[0] == '/') return path;
  for (const char* var : {"BUILD_WORKING_DIRECTORY", "BUILD_WORKSPACE_DIRECTORY"}) {
    if (const char* d = std::getenv(var); d && *d) return std::string(d) + "/" + path;
  }
  return path;
}

// Where the data files (spec/RULES.md, spec/cases, the driver) are: the
// runfiles tree of this binary (bazel run / bazel test set the cwd to it).
std::string DataRoot(const char* argv0) {
  namespace fs = std::filesystem;
  std::vector<std::string> roots;
  if (const char* r = std::getenv("RUNFILES_DIR")) roots.push_back(std::string(r) + "/asyncspec");
  if (const char* r = std::getenv("TEST_SRCDIR")) roots.push_back(std::string(r) + "/asyncspec");
  roots.push_back(std::string(argv0) + ".runfiles/asyncspec");
  roots.push_back(".");
  for (const std::string& r : roots) {
    if (fs::exists(r + "/spec/cases")) return r;
  }
  return ".";
}

}  // namespace

int main(int argc, char** argv) {
  ac::Options o;
  bool out_given = false;
  bool isolate = true;
  int jobs = 1;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      std::cout << kUsage;
      return 0;
    }
    if (a.rfind("--", 0) != 0) return Usage("unexpected argument '" + a + "'");
    std::string key = a.substr(2), val;
    bool has_val = false;
    if (auto eq = key.find('='); eq != std::string::npos) {
      val = key.substr(eq + 1);
      key = key.substr(0, eq);
      has_val = true;
    }
    auto need = [&]() -> bool {
      if (has_val) return true;
      if (i + 1 < argc) {
        val = argv[++i];
        return true;
      }
      return false;
    };
    long long n = 0;
    if (key == "cases" || key == "nocases" || key == "quiet" || key == "isolate" || key == "noisolate") {
      const bool negated = key.rfind("no", 0) == 0;
      bool v = !negated;
      if (has_val) {
        if (val == "true" || val == "1") v = !negated;
        else if (val == "false" || val == "0") v = negated;
        else return Usage("--" + key + " takes true or false, got '" + val + "'");
      }
      if (key == "quiet") o.quiet = v;
      else if (key == "isolate" || key == "noisolate") isolate = v;
      else o.cases = v;
      continue;
    }
    static const std::set<std::string> kValued = {"runtime", "python", "trees", "seed", "rules", "out",
                                                  "profile", "timeout_ms", "shrink_budget", "replay", "program",
                                                  "jobs", "ties", "schedules", "tie_budget"};
    if (!kValued.count(key)) return Usage("unknown flag --" + key);
    if (!need()) return Usage("--" + key + " needs a value");
    if (key == "runtime") {
      if (val != "reference" && val != "cpython" && val != "model") {
        return Usage("--runtime must be reference, cpython or model, got '" + val + "'");
      }
      o.runtime = val;
    } else if (key == "python") {
      o.python = FromUser(val);
    } else if (key == "trees") {
      if (!ParseInt(val, 0, 100'000'000, &n)) return Usage("--trees must be an integer >= 0, got '" + val + "'");
      o.trees = static_cast<int>(n);
    } else if (key == "seed") {
      if (!ParseU64(val, &o.seed)) return Usage("--seed must be an unsigned integer, got '" + val + "'");
    } else if (key == "rules") {
      o.rules = val;
    } else if (key == "out") {
      o.out_dir = FromUser(val);
      out_given = true;
    } else if (key == "profile") {
      if (val != "3.11" && val != "3.12" && val != "3.13") {
        return Usage("--profile must be 3.11, 3.12 or 3.13, got '" + val + "'");
      }
      o.profile = val;
    } else if (key == "timeout_ms") {
      if (!ParseInt(val, 1, 3'600'000, &n)) return Usage("--timeout_ms must be an integer in [1, 3600000]");
      o.timeout_ms = static_cast<int>(n);
    } else if (key == "shrink_budget") {
      if (!ParseInt(val, 0, 1'000'000, &n)) return Usage("--shrink_budget must be an integer >= 0");
      o.shrink_budget = static_cast<int>(n);
    } else if (key == "replay") {
      std::uint64_t s = 0;
      if (!ParseU64(val, &s)) return Usage("--replay must be a tree seed (unsigned integer)");
      o.replay = s;
    } else if (key == "jobs") {
      if (!ParseInt(val, 0, 256, &n)) return Usage("--jobs must be an integer in [0, 256], got '" + val + "'");
      jobs = static_cast<int>(n);
      if (jobs == 0) jobs = static_cast<int>(std::max(1L, sysconf(_SC_NPROCESSORS_ONLN)));
    } else if (key == "program") {
      o.program_file = FromUser(val);
    } else if (key == "ties") {
      if (val != "free" && val != "heavy") return Usage("--ties must be free or heavy, got '" + val + "'");
      o.ties = val;
    } else if (key == "schedules") {
      if (!ParseInt(val, 0, 10'000, &n)) return Usage("--schedules must be an integer in [0, 10000]");
      o.schedules = static_cast<int>(n);
    } else if (key == "tie_budget") {
      if (!ParseInt(val, 1, 1'000'000, &n)) return Usage("--tie_budget must be an integer >= 1");
      o.tie_budget = static_cast<int>(n);
    } else {
      return Usage("unknown flag --" + key);
    }
  }
  // Bazel test sharding: this shard's share of the programs.
  if (const char* total = std::getenv("TEST_TOTAL_SHARDS"); total && *total) {
    const char* index = std::getenv("TEST_SHARD_INDEX");
    long long t = 0, i = 0;
    if (!ParseInt(total, 1, 1'000'000, &t) || !index || !ParseInt(index, 0, t - 1, &i)) {
      return Usage("bad TEST_TOTAL_SHARDS / TEST_SHARD_INDEX");
    }
    o.shard_count = static_cast<int>(t);
    o.shard_index = static_cast<int>(i);
    if (const char* status = std::getenv("TEST_SHARD_STATUS_FILE"); status && *status) {
      std::ofstream touch(status);  // tells Bazel this binary honours sharding
    }
  }
  if (!out_given) {
    const char* ws = std::getenv("BUILD_WORKSPACE_DIRECTORY");
    o.out_dir = (ws && *ws) ? std::string(ws) + "/asyncspec-report" : "asyncspec-report";
  }
  const std::string root = DataRoot(argv[0]);
  o.rules_md = ac::LocateRulesMd(root);
  o.cases_dir = root + "/spec/cases";
  o.driver = root + "/conformance/adapters/cpython/driver.py";

  std::string rules_text;
  {
    std::ifstream in(o.rules_md);
    std::stringstream ss;
    ss << in.rdbuf();
    rules_text = ss.str();
  }
  ac::RuleCatalogue rules = ac::RuleCatalogue::Parse(rules_text);
  if (rules.size() == 0) {
    std::cerr << "check: cannot read the rules from " << o.rules_md << "\n";
    return 2;
  }
  if (!o.rules.empty()) {
    // A filter that matches no rule is almost surely a typo.
    bool any = false;
    for (const char* fam : {"SCHED", "CX", "TG", "GA", "TO", "WF", "SH", "EG", "RT", "INV"}) {
      for (const std::string& id : rules.IdsOfFamily(fam)) any |= ac::GlobMatch(o.rules, id);
    }
    if (!any) return Usage("--rules '" + o.rules + "' matches no rule ID of spec/RULES.md");
  }

  std::unique_ptr<ac::Runtime> runtime;
  std::string version_for_profile = o.profile.empty() ? "3.13" : o.profile;
  if (o.runtime == "reference") {
    runtime = ac::MakeReferenceRuntime();
    // Isolated: the programs are checked in forked workers running the
    // runtime in process; what the check itself runs later (shrinking a
    // failure) forks per program, so a crash there costs one attempt too.
    if (isolate) runtime = ac::MakeIsolatedRuntime(std::move(runtime), o.timeout_ms);
  } else if (o.runtime == "cpython") {
    auto rt = ac::CPythonRuntime::Start(o.python, o.driver, o.timeout_ms);
    if (!rt.ok()) {
      std::cerr << "check: cannot start the CPython driver: " << rt.status() << "\n";
      return 2;
    }
    const std::string v = (*rt)->version();
    if (o.profile.empty()) {
      version_for_profile = v;
    } else if (v.rfind(o.profile + ".", 0) != 0) {
      std::cerr << "check: warning: CPython " << v << " checked against the " << o.profile
                << " profile; version differences will show as failures\n";
    }
    runtime = std::move(*rt);
  }
  if (o.schedules > 0) {
    if (!runtime || !runtime->SetScheduleSeed(1)) {
      return Usage("--schedules needs a runtime that can perturb its schedule (--runtime=reference)");
    }
    runtime->SetScheduleSeed(0);
  }
  asyncspec::spec::Profile profile;
  if (!asyncspec::spec::Profile::ForVersion(version_for_profile, &profile)) {
    std::cerr << "check: no model profile for version " << version_for_profile << "\n";
    return 2;
  }

  if (o.runtime != "cpython" && (isolate || jobs > 1)) {
    if (!isolate) return Usage("--jobs needs worker processes; drop --noisolate");
    o.workers = jobs;
  }
  ac::Engine engine(o, profile, std::move(runtime), rules);
  if (o.runtime == "reference" && o.workers > 0) engine.SetWorkerRuntime(ac::MakeReferenceRuntime());
  auto report = engine.RunAll();
  if (!report.ok()) {
    std::cerr << "check: " << report.status() << "\n";
    return 2;
  }
  std::cout << ac::SummaryTable(*report);
  for (const ac::FailureGroup& g : report->failures) {
    std::cout << "FAIL " << g.rule << " (" << g.program_ids.size() << " programs, first " << g.program_ids.front()
              << "): " << g.first.where << ": " << g.first.message << "\n";
  }
  if (!o.out_dir.empty()) {
    if (auto s = ac::WriteReports(*report, rules, o.out_dir); !s.ok()) {
      std::cerr << "check: " << s << "\n";
      return 2;
    }
    std::cout << "reports: " << o.out_dir << "/report.md, report.json, report.xml\n";
  }
  if (report->adapter_errors > 0) return 2;
  return (report->failed > 0 || report->timeouts > 0) ? 1 : 0;
}
