// `bazel run //conformance:check -- [flags]`: checks a runtime against the
// model of spec/RULES.md on the golden cases and on random programs, and
// writes report.md / report.json / report.xml. See conformance/README.md.
//
// Exit codes: 0 no new failure (every failure, crash and timeout is in the
// runtime's expectations file); 1 new failures, crashes or timeouts; 2 bad
// flags, or the runtime could not be started; 3 adapter errors only.
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <vector>

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
spec/cases and on random programs (spec/program_gen.h), and says by rule ID
(spec/RULES.md) where it differs.

Which runtime:
  --runtime=NAME           reference (default: the C++ runtime of runtime/),
                           cpython (asyncio through conformance/adapters/cpython),
                           model (the model against itself, to time the engine),
                           or a runtime registered in conformance/adapters/*/adapter.json
  --python=PATH            interpreter for --runtime=cpython
                           (default $(pyenv root)/versions/3.13.0/bin/python3)
  --adapter='COMMAND'      any adapter command (conformance/ADAPTERS.md), split
                           like a shell would (quotes, no variables)
  --list                   list the registered runtimes and exit

What to check:
  --trees=N                random programs (default 1000)
  --seed=S                 seed of the random programs (default 1)
  --cases / --nocases      also run the golden cases (default on)
  --rules=GLOB             only rules matching, e.g. 'TG-*' or 'TG-*,GA-2'
  --replay=TREE_SEED       check only the random program with this tree seed
  --program=FILE           check only this program (text or JSON form)
  --profile=NAME           model profile: spec (the intended semantics, the default
                           for every runtime, CPython included) or shipped-3.11,
                           shipped-3.12, shipped-3.13 (that release's behaviour,
                           known bugs included, for drop-in runtimes checked
                           against their host interpreter); default: spec, or
                           the adapter hello's model when it names a profile

How:
  --jobs=J                 parallel checking (default 1; 0: the machine's cores):
                           for the reference runtime and the model, J forked
                           worker processes; for adapters, J adapter processes.
                           Results are accounted in program order either way
  --timeout_ms=MS          per-program time limit (default 10000); past it the
                           adapter (or worker) is killed (TIMEOUT) and restarted
  --isolate / --noisolate  check the reference runtime in forked worker
                           processes, so that a crash or a hang costs one
                           program (default on); --noisolate: in this process
  --shrink_budget=N        programs tried when shrinking one failure (default 300)
  --ties=free|heavy        random programs without timer ties, or with many ties
                           (RULES.md "Freedom under ties"; default: neither)
  --schedules=N            also run each program under N perturbed schedules
                           (reference runtime only); each outcome must be one
                           some model schedule yields (default 0)
  --tie_budget=N           model runs per such check (default 200); past it
                           the program is "undecided", not passed

Results:
  --out=DIR                report directory (default asyncspec-report in the
                           workspace; relative paths are from where bazel ran):
                           report.md, report.json, report.xml (JUnit) and a
                           reproducer per distinct failure
  --reproducer=asyncio|none  write a standalone asyncio .py per distinct failure
                           (default: asyncio for cpython and for adapters whose
                           manifest says so, a .cc on the runtime's C++ API for
                           the reference runtime, the adapter's own for manifests
                           with a reproducer command; none otherwise)
  --expectations=FILE|none known failures (default conformance/expectations/<runtime>.json,
                           for CPython cpython-<major.minor>.json)
  --save                   write the expectations file from this run: new failures
                           added, entries that no longer fail dropped, reasons kept
  --quiet                  no progress, only the summary
  --help                   this text

Exit code: 0 no new failure (every failure, crash and timeout is listed in the
expectations file); 1 new failures, crashes or timeouts; 2 bad flags or the
runtime could not be started; 3 adapter errors (the adapter misbehaved on
some program; no new failure).
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
// Splits a command line like a POSIX shell does for words: blanks separate,
// '...' is literal, "..." allows \" and \\, a backslash escapes one
// character. No variables, globs or operators (the command is run without a shell).
bool SplitCommand(const std::string& cmd, std::vector<std::string>* argv, std::string* error) {
  std::string word;
  bool in_word = false;
  for (std::size_t i = 0; i < cmd.size(); ++i) {
    char c = cmd[i];
    if (c == ' ' || c == '\t' || c == '\n') {
      if (in_word) argv->push_back(word), word.clear(), in_word = false;
    } else if (c == '\'') {
      auto end = cmd.find('\'', i + 1);
      if (end == std::string::npos) return *error = "unterminated ' in the command", false;
      word += cmd.substr(i + 1, end - i - 1);
      i = end;
      in_word = true;
    } else if (c == '"') {
      ++i;
      while (i < cmd.size() && cmd[i] != '"') {
        if (cmd[i] == '\\' && i + 1 < cmd.size() && (cmd[i + 1] == '"' || cmd[i + 1] == '\\')) ++i;
        word += cmd[i++];
      }
      if (i >= cmd.size()) return *error = "unterminated \" in the command", false;
      in_word = true;
    } else if (c == '\\' && i + 1 < cmd.size()) {
      word += cmd[++i];
      in_word = true;
    } else {
      word += c;
      in_word = true;
    }
  }
  if (in_word) argv->push_back(word);
  if (argv->empty()) return *error = "the command is empty", false;
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  ac::Options o;
  o.keep_passed_results = false;  // flat memory over long runs (Report::passed_trees)
  bool out_given = false;
  bool isolate = true;
  bool save = false;
  bool list = false;
  std::string python_given, expectations_flag, reproducer_flag;
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
    static const std::set<std::string> kBool = {"cases", "nocases", "quiet", "isolate", "noisolate", "save", "list"};
    if (kBool.count(key)) {
      const bool negated = key.rfind("no", 0) == 0;
      bool v = !negated;
      if (has_val) {
        if (val == "true" || val == "1") v = !negated;
        else if (val == "false" || val == "0") v = negated;
        else return Usage("--" + key + " takes true or false, got '" + val + "'");
      }
      if (key == "quiet") o.quiet = v;
      else if (key == "isolate" || key == "noisolate") isolate = v;
      else if (key == "save") save = v;
      else if (key == "list") list = v;
      else o.cases = v;
      continue;
    }
    static const std::set<std::string> kValued = {"runtime", "python", "trees", "seed", "rules", "out", "profile",
                                                  "timeout_ms", "shrink_budget", "replay", "program", "adapter",
                                                  "jobs", "expectations", "reproducer", "ties", "schedules",
                                                  "tie_budget"};
    if (!kValued.count(key)) return Usage("unknown flag --" + key);
    if (!need()) return Usage("--" + key + " needs a value");
    if (key == "runtime") {
      if (val.empty() || val == "adapter") return Usage("--runtime needs a runtime name (--list shows them)");
      o.runtime = val;
    } else if (key == "python") {
      o.python = FromUser(val);
      python_given = o.python;
    } else if (key == "adapter") {
      o.adapter_command = val;
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
      asyncspec::spec::Profile named;
      std::string why;
      if (!asyncspec::spec::ProfileNamed(val, &named, &why)) return Usage("--profile: " + why);
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
    } else if (key == "expectations") {
      expectations_flag = val == "none" ? val : FromUser(val);
    } else if (key == "reproducer") {
      if (val != "asyncio" && val != "none") {
        return Usage("--reproducer must be asyncio or none, got '" + val + "'");
      }
      reproducer_flag = val;
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
  if (!o.adapter_command.empty()) {
    bool runtime_given = false;
    for (int i = 1; i < argc; ++i) runtime_given |= std::string(argv[i]).rfind("--runtime", 0) == 0;
    if (runtime_given) return Usage("give --runtime or --adapter, not both");
    o.runtime = "adapter";
  }
  if (!python_given.empty() && o.runtime != "cpython") return Usage("--python is for --runtime=cpython");
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
  const std::string root = ac::DataRoot(argv[0]);
  o.rules_md = ac::LocateRulesMd(root);
  o.cases_dir = root + "/spec/cases";
  o.driver = root + "/conformance/adapters/cpython/driver.py";

  std::vector<std::string> manifest_errors;
  const std::vector<ac::RegisteredRuntime> registered = ac::ReadManifests(root + "/conformance/adapters", &manifest_errors);
  for (const std::string& e : manifest_errors) std::cerr << "check: warning: " << e << "\n";
  if (list) {
    std::cout << "reference  the C++ reference runtime (runtime/), in process\n"
                 "cpython    asyncio through conformance/adapters/cpython/driver.py (--python=PATH)\n"
                 "model      the model against itself (engine timing)\n";
    for (const ac::RegisteredRuntime& r : registered) {
      std::cout << r.name << "  " << r.description << " (" << r.manifest << ")\n";
    }
    return 0;
  }

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
  auto matches_some_rule = [&](const std::string& glob) {
    for (const char* fam : {"SCHED", "CX", "TG", "GA", "TO", "WF", "SH", "EG", "RT", "INV"}) {
      for (const std::string& id : rules.IdsOfFamily(fam)) {
        if (ac::GlobMatch(glob, id)) return true;
      }
    }
    return false;
  };
  // A filter that matches no rule is almost surely a typo.
  if (!o.rules.empty() && !matches_some_rule(o.rules)) {
    return Usage("--rules '" + o.rules + "' matches no rule ID of spec/RULES.md");
  }

  // The runtime, and a factory for the other --jobs - 1.
  ac::RuntimeFactory factory;
  std::string reproducer;
  if (o.runtime == "reference") {
    // Isolated: the programs are checked in forked workers running the
    // runtime in process; what the check itself runs later (shrinking a
    // failure) forks per program, so a crash there costs one attempt too.
    factory = [isolate, timeout = o.timeout_ms]() -> absl::StatusOr<std::unique_ptr<ac::Runtime>> {
      std::unique_ptr<ac::Runtime> rt = ac::MakeReferenceRuntime();
      if (isolate) rt = ac::MakeIsolatedRuntime(std::move(rt), timeout);
      return rt;
    };
    reproducer = "cc";  // cc_reproducer.h: the program in the runtime's C++ API
  } else if (o.runtime == "cpython") {
    factory = [python = o.python, driver = o.driver,
               timeout = o.timeout_ms]() -> absl::StatusOr<std::unique_ptr<ac::Runtime>> {
      auto rt = ac::CPythonRuntime::Start(python, driver, timeout);
      if (!rt.ok()) return rt.status();
      return std::unique_ptr<ac::Runtime>(std::move(*rt));
    };
    reproducer = "asyncio";
  } else if (o.runtime != "model") {
    std::vector<std::string> command;
    if (o.runtime == "adapter") {
      std::string error;
      if (!SplitCommand(o.adapter_command, &command, &error)) return Usage("--adapter: " + error);
    } else {
      for (const ac::RegisteredRuntime& r : registered) {
        if (r.name == o.runtime) {
          command = r.command;
          reproducer = r.reproducer;
          o.reproducer_command = r.reproducer_command;
          o.reproducer_ext = r.reproducer_ext;
        }
      }
      if (command.empty()) {
        std::string known = "reference, cpython, model";
        for (const ac::RegisteredRuntime& r : registered) known += ", " + r.name;
        return Usage("--runtime=" + o.runtime + " is not a known runtime (known: " + known +
                     "; register one in conformance/adapters/<dir>/adapter.json, see conformance/ADAPTERS.md)");
      }
    }
    factory = [command, timeout = o.timeout_ms]() -> absl::StatusOr<std::unique_ptr<ac::Runtime>> {
      auto rt = ac::AdapterRuntime::Start(command, timeout);
      if (!rt.ok()) return rt.status();
      return std::unique_ptr<ac::Runtime>(std::move(*rt));
    };
  }
  std::unique_ptr<ac::Runtime> runtime;
  ac::RuntimeInfo info;
  if (factory) {
    auto rt = factory();
    if (!rt.ok()) {
      std::cerr << "check: cannot start the " << (o.runtime == "cpython" ? "CPython driver" : o.runtime + " runtime")
                << ": " << rt.status().message() << "\n";
      return 2;
    }
    runtime = std::move(*rt);
    info = runtime->info();
  }
  if (!reproducer_flag.empty()) reproducer = reproducer_flag == "none" ? "" : reproducer_flag;
  o.reproducer = reproducer;

  // The model profile: --profile, else the hello's model when it names a
  // profile (a drop-in runtime to be held to its host interpreter's
  // shipped behaviour), else spec, for every runtime, CPython included: a
  // release's departures from spec are its expectations file's entries.
  std::string profile_name = "spec";
  if (!o.profile.empty()) {
    profile_name = o.profile;
  } else if (info.model == "spec" || info.model.rfind("shipped-", 0) == 0) {
    profile_name = info.model;
  }
  if (o.schedules > 0) {
    if (!runtime || !runtime->SetScheduleSeed(1)) {
      return Usage("--schedules needs a runtime that can perturb its schedule (--runtime=reference)");
    }
    runtime->SetScheduleSeed(0);
  }
  asyncspec::spec::Profile profile;
  std::string profile_error;
  if (!asyncspec::spec::ProfileNamed(profile_name, &profile, &profile_error)) {
    std::cerr << "check: " << (o.profile.empty() ? "the adapter's hello: model: " : "--profile: ") << profile_error << "\n";
    return 2;
  }
  if (o.runtime == "cpython" && !profile.version.empty() && info.version.rfind(profile.version + ".", 0) != 0) {
    std::cerr << "check: warning: CPython " << info.version << " checked against the " << profile.name
              << " profile; the two releases' differences will show as failures\n";
  }

  // The rules the runtime claims.
  for (const std::string& r : info.rules) {
    if (const std::vector<std::string>* p = rules.Profile(r)) {
      o.claimed_rules.insert(o.claimed_rules.end(), p->begin(), p->end());
    } else if (matches_some_rule(r)) {
      o.claimed_rules.push_back(r);
    } else {
      std::cerr << "check: the adapter's hello claims rules '" << r
                << "', which is neither a profile of spec/RULES.md (\"Rule profiles\") nor a glob matching a rule ID\n";
      return 2;
    }
    o.claimed_rules_name += (o.claimed_rules_name.empty() ? "" : ", ") + r;
  }
  if (std::find(o.claimed_rules.begin(), o.claimed_rules.end(), "*") != o.claimed_rules.end()) {
    o.claimed_rules.clear();
  }

  // Known failures.
  // (per CPython minor version, also when the driver is given as --adapter)
  std::string key = o.runtime == "adapter" ? info.runtime : o.runtime;
  if (o.runtime == "cpython" || (o.runtime == "adapter" && info.runtime == "cpython")) {
    auto dot = info.version.find('.', info.version.find('.') + 1);
    key = "cpython-" + info.version.substr(0, dot);
  }
  std::string expectations_read, expectations_write;
  if (expectations_flag == "none") {
    if (save) return Usage("--save needs an expectations file (not --expectations=none)");
  } else if (!expectations_flag.empty()) {
    expectations_read = expectations_write = expectations_flag;
  } else {
    const std::string rel = "conformance/expectations/" + key + ".json";
    expectations_read = std::filesystem::absolute(root + "/" + rel).lexically_normal().string();
    const char* ws = std::getenv("BUILD_WORKSPACE_DIRECTORY");
    expectations_write = (ws && *ws) ? std::string(ws) + "/" + rel : expectations_read;
    // Under bazel run, the workspace copy is the one being edited.
    if (ws && *ws && std::filesystem::exists(expectations_write)) expectations_read = expectations_write;
  }
  ac::Expectations expectations;
  if (!expectations_read.empty()) {
    // A file the user named must exist (unless --save is to write it); the
    // default one may not.
    auto e = ac::LoadExpectations(expectations_read, !expectations_flag.empty() && !save);
    if (!e.ok()) {
      std::cerr << "check: " << e.status().message() << "\n";
      return 2;
    }
    expectations = std::move(*e);
    if (expectations.runtime.empty()) expectations.runtime = key;
    o.expectations_file = expectations.path;
  }

  // In-process runtimes (the reference runtime, the model) are checked in
  // forked workers (workers.h); adapters are processes already, and --jobs
  // starts that many of them.
  if (o.runtime == "reference" || o.runtime == "model") {
    if (isolate || jobs > 1) {
      if (!isolate) return Usage("--jobs needs worker processes; drop --noisolate");
      o.workers = jobs;
    }
  } else {
    o.jobs = jobs;
  }
  ac::Engine engine(o, profile, std::move(runtime), rules, factory, expectations);
  if (o.runtime == "reference" && o.workers > 0) engine.SetWorkerRuntime(ac::MakeReferenceRuntime());
  auto report = engine.RunAll();
  if (!report.ok()) {
    std::cerr << "check: " << report.status() << "\n";
    return 2;
  }
  std::cout << ac::SummaryTable(*report);
  for (const ac::FailureGroup& g : report->failures) {
    std::cout << (g.as_expected ? "FAIL (expected: " + g.expected_label + ") " : "FAIL ") << g.rule << " (" << g.program_ids.size() << " programs, first " << g.program_ids.front()
              << "): " << g.first.where << ": " << g.first.message << "\n";
  }
  for (const ac::Expectation* e : report->unexpected_passes()) {
    std::cout << "UNEXPECTED PASS " << (e->program.empty() ? e->rule : e->program) << " " << e->outcome
              << " (expected because: " << e->reason << ")\n";
  }
  for (const auto& [id, reason] : report->unexpected_pass_programs) {
    std::cout << "UNEXPECTED PASS " << id << " (the model's outcome differs under the departure " << reason
              << ", but the runtime did what spec says)\n";
  }
  if (!o.out_dir.empty()) {
    if (auto s = ac::WriteReports(*report, rules, o.out_dir); !s.ok()) {
      std::cerr << "check: " << s << "\n";
      return 2;
    }
    std::cout << "reports: " << o.out_dir << "/report.md, report.json, report.xml\n";
  }
  if (save) {
    ac::Expectations updated = ac::UpdatedExpectations(*report);
    updated.runtime = key;
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(expectations_write).parent_path(), ec);
    std::ofstream f(expectations_write);
    f << ac::ExpectationsToJson(updated);
    if (!f) {
      std::cerr << "check: cannot write " << expectations_write << "\n";
      return 2;
    }
    std::cout << "expectations: " << updated.entries.size() << " entries written to " << expectations_write << "\n";
  }
  if (report->new_failures > 0) return 1;
  if (report->adapter_errors > 0) return 3;
  return 0;
}
