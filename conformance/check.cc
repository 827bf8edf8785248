// `bazel run //conformance:check -- [flags]`: checks a runtime against the
// model of spec/RULES.md on the golden cases and on random programs, and
// writes report.md / report.json / report.xml (and report.jsonl as it goes).
// See conformance/README.md.
//
// Exit codes: 0 no new failure (every failure, crash and timeout is in the
// runtime's expectations file); 1 new failures, crashes or timeouts; 2 bad
// flags, or the runtime could not be started; 3 adapter errors only; 4 the
// run gave up (--give_up_after); 128 + signal when SIGINT or SIGTERM
// stopped it (reports written, marked incomplete).
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <thread>

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

#include "absl/flags/flag.h"
#include "absl/flags/reflection.h"
#include <nlohmann/json.hpp>

#include "conformance/engine.h"
#include "conformance/explain.h"
#include "conformance/process.h"
#include "conformance/report_files.h"
#include "tools/pyenv.h"

namespace ac = asyncspec::conformance;

// The flags (Abseil): `--help` is generated from these definitions, in the
// sections of kSections below.
ABSL_FLAG(std::string, runtime, "reference",
          "reference (the C++ runtime of runtime/), cpython (asyncio through "
          "conformance/adapters/cpython), model (the model against itself, to time the engine), or a "
          "runtime registered in conformance/adapters/*/adapter.json");
ABSL_FLAG(std::string, python, "",
          "interpreter for --runtime=cpython (default $(pyenv root)/versions/3.13.0/bin/python3)");
ABSL_FLAG(std::string, adapter, "",
          "any adapter command (conformance/ADAPTERS.md), split like a shell would (quotes, no variables)");
ABSL_FLAG(bool, list, false, "list the registered runtimes and exit");
ABSL_FLAG(int, trees, 1000, "random programs");
ABSL_FLAG(std::uint64_t, seed, 1, "seed of the random programs");
ABSL_FLAG(bool, cases, true, "also run the golden cases (--nocases: not)");
ABSL_FLAG(std::string, rules, "", "only rules matching, e.g. 'TG-*' or 'TG-*,GA-2'");
ABSL_FLAG(std::string, replay, "", "check only the random program with this tree seed");
ABSL_FLAG(std::string, program, "", "check only this program (text or JSON form, or a golden case file)");
ABSL_FLAG(bool, explain, false,
          "with --replay or --program: print the failing program's model trace (and the runtime's) up to the "
          "divergence, with each rule's statement");
ABSL_FLAG(std::string, profile, "",
          "model profile: spec (the intended semantics, the default for every runtime, CPython included) "
          "or shipped-3.11, shipped-3.12, shipped-3.13 (that release's behaviour, known bugs included, for "
          "drop-in runtimes checked against their host interpreter); default: spec, or the adapter hello's "
          "model when it names a profile");
ABSL_FLAG(int, jobs, 1,
          "parallel checking (0: the machine's cores): for the reference runtime and the model, J forked "
          "worker processes; for adapters, J adapter processes. Results are accounted in program order "
          "either way");
ABSL_FLAG(int, timeout_ms, 10000,
          "per-program time limit, also for writing the program to an adapter; past it the adapter (or "
          "worker) is killed (TIMEOUT) and restarted");
ABSL_FLAG(int, give_up_after, 5,
          "stop the run (with a report) after this many programs in a row end in TIMEOUT, CRASH or an "
          "adapter that does not start (0: never)");
ABSL_FLAG(bool, isolate, true,
          "check the reference runtime in forked worker processes, so that a crash or a hang costs one "
          "program; --noisolate: in this process");
ABSL_FLAG(int, shrink_budget, 300, "programs tried when shrinking one failure");
ABSL_FLAG(std::string, ties, "",
          "free|heavy: random programs without timer ties, or with many ties (RULES.md \"Freedom under "
          "ties\"; default: neither)");
ABSL_FLAG(int, schedules, 0,
          "also run each program under N perturbed schedules (reference runtime only); each outcome must "
          "be one some model schedule yields");
ABSL_FLAG(int, tie_budget, 200, "model runs per such check; past it the program is \"undecided\", not passed");
ABSL_FLAG(std::string, out, "",
          "report directory (default asyncspec-report in the workspace; relative paths are from where "
          "bazel ran): report.md, report.json, report.xml (JUnit), report.jsonl (one line per program, "
          "written as the run goes) and a reproducer per distinct failure");
ABSL_FLAG(std::string, reproducer, "",
          "asyncio|none: write a standalone asyncio .py per distinct failure (default: asyncio for "
          "cpython and for adapters whose manifest says so, a .cc on the runtime's C++ API for the "
          "reference runtime, the adapter's own for manifests with a reproducer command; none otherwise)");
ABSL_FLAG(std::string, expectations, "",
          "FILE|none: known failures (default conformance/expectations/<runtime>.json, for CPython "
          "cpython-<major.minor>.json)");
ABSL_FLAG(bool, save, false,
          "write the expectations file from this run: new failures added, entries that no longer fail "
          "dropped, reasons kept");
ABSL_FLAG(bool, quiet, false, "no progress, only the summary");

namespace {

constexpr char kUsage[] = R"(usage: bazel run //conformance:check -- [flags]

Checks a runtime against the model (spec/model) on the golden cases of
spec/cases and on random programs (spec/program_gen.h), and says by rule ID
(spec/RULES.md) where it differs.
)";

constexpr char kExitCodes[] = R"(
Exit code: 0 no new failure (every failure, crash and timeout is listed in the
expectations file); 1 new failures, crashes or timeouts; 2 bad flags, an
unusable --out, or the runtime could not be started; 3 adapter errors (the
adapter misbehaved on some program; no new failure); 4 the run gave up after
--give_up_after programs in a row could not be run; 130 / 143 interrupted by
SIGINT / SIGTERM (the reports say "interrupted" and hold what was checked).
)";

// --explain: each failing program's traces up to the divergence.
void PrintExplanations(const ac::Report& report, const asyncspec::spec::Profile& profile,
                       const ac::RuleCatalogue& rules) {
  if (report.results.empty()) std::cout << "explain: the program passed; nothing to explain\n";
  for (const ac::ProgramResult& res : report.results) {
    if (!res.program || !res.expected || !res.observed) {
      std::cout << "explain " << res.id << ": " << ac::VerdictName(res.verdict)
                << (res.note.empty() ? "" : " (" + res.note + ")") << "; no outcome difference to explain\n";
      continue;
    }
    ac::ExplainInput in;
    in.id = res.id;
    in.program = &*res.program;
    in.profile = &profile;
    in.expected = &*res.expected;
    in.observed = &*res.observed;
    in.rules = &rules;
    std::cout << ac::Explain(in);
  }
}

struct Section {
  const char* title;
  std::vector<const char*> flags;
};
const Section kSections[] = {
    {"Which runtime", {"runtime", "python", "adapter", "list"}},
    {"What to check", {"trees", "seed", "cases", "rules", "replay", "program", "explain", "profile"}},
    {"How", {"jobs", "timeout_ms", "give_up_after", "isolate", "shrink_budget", "ties", "schedules", "tie_budget"}},
    {"Results", {"out", "reproducer", "expectations", "save", "quiet"}},
};

// `text` as lines of at most 78 columns, each indented by six spaces.
std::string Wrapped(const std::string& text) {
  std::string out, line;
  std::istringstream words(text);
  for (std::string w; words >> w;) {
    if (!line.empty() && line.size() + 1 + w.size() > 72) out += "      " + line + "\n", line.clear();
    line += (line.empty() ? "" : " ") + w;
  }
  return out + "      " + line + "\n";
}

// --help: the usage text, then every flag with its default and help string
// as defined above.
std::string Help() {
  std::string out = kUsage;
  for (const Section& sec : kSections) {
    out += std::string("\n") + sec.title + ":\n";
    for (const char* name : sec.flags) {
      const absl::CommandLineFlag* f = absl::FindCommandLineFlag(name);
      std::string def = f->DefaultValue();
      out += "  --" + std::string(name) + (f->IsOfType<bool>() ? " / --no" + std::string(name) : "") +
             " (default " + (def.empty() ? "none" : def) + ")\n" + Wrapped(f->Help());
    }
  }
  out += "  --help (this text)\n";
  return out + kExitCodes;
}

int Usage(const std::string& msg) {
  std::cerr << "check: " << msg << "\n(--help for usage)\n";
  return 2;
}

// What a value of this flag's type looks like, for error messages.
std::string Expected(const absl::CommandLineFlag& f) {
  if (f.IsOfType<bool>()) return "true or false";
  if (f.IsOfType<int>()) return "an integer";
  if (f.IsOfType<std::uint64_t>()) return "an unsigned integer";
  return "a value";
}

// Sets the flags of argv through Abseil's own value parsers, collecting the
// names given. Not absl::ParseCommandLine, which exits 1 on a bad flag
// where this command's documented code is 2 (and --help 0).
// Returns an error message, or "" when every argument was a known flag.
std::string ParseFlags(int argc, char** argv, std::set<std::string>* given, bool* help) {
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
    // Only this file's flags (Abseil's own, e.g. --flagfile, are not offered).
    auto ours = [](const absl::CommandLineFlag* g) {
      return g && g->Filename().find("conformance/check.cc") != std::string::npos;
    };
    if (!ours(f) && name.rfind("no", 0) == 0) {
      absl::CommandLineFlag* positive = absl::FindCommandLineFlag(name.substr(2));
      if (ours(positive) && positive->IsOfType<bool>()) {
        if (has_value) return "--" + name + " takes no value";
        std::string error;
        positive->ParseFrom("false", &error);
        given->insert(positive->Name().data());
        continue;
      }
    }
    if (!ours(f)) return "unknown flag --" + name;
    if (f->IsOfType<bool>()) {
      if (!has_value) value = "true", has_value = true;
    } else if (!has_value) {
      if (i + 1 >= argc) return "--" + name + " needs a value";
      value = argv[++i];
    }
    std::string error;
    if (!f->ParseFrom(value, &error)) return "--" + name + " must be " + Expected(*f) + ", got '" + value + "'";
    given->insert(name);
  }
  return "";
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

// SIGINT / SIGTERM: the handler only records the signal and wakes the
// watcher thread through a pipe; the watcher kills every child process
// group (adapters, workers), so that programs in flight end at once, and
// the engine, asking Options::stop, takes no more programs. The reports
// are then written as usual, marked incomplete.
std::atomic<int> g_signal{0};
int g_signal_pipe[2] = {-1, -1};

void OnSignal(int sig) {
  int expected = 0;
  g_signal.compare_exchange_strong(expected, sig);
  const char b = 1;
  (void)!write(g_signal_pipe[1], &b, 1);
}

void WatchSignals() {
  if (pipe2(g_signal_pipe, O_CLOEXEC | O_NONBLOCK) != 0) return;
  struct sigaction sa{};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  std::thread([] {
    pollfd p{g_signal_pipe[0], POLLIN, 0};
    while (poll(&p, 1, -1) < 0 && errno == EINTR) {
    }
    ac::Children::KillAll();
    ac::KillOrphans();
  }).detach();
}

// The reason to stop the run early, "" to go on.
std::string StopReason(const std::string& gave_up) {
  if (int sig = g_signal.load()) {
    return std::string("interrupted by ") + (sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "a signal");
  }
  return gave_up;
}

// One line of report.jsonl: a program's result as it is accounted.
std::string ResultLine(const ac::ProgramResult& res) {
  nlohmann::json j = {{"id", res.id}, {"verdict", ac::VerdictName(res.verdict)}, {"seconds", res.seconds}};
  if (!res.note.empty()) j["note"] = res.note;
  if (!res.findings.empty()) {
    j["rules"] = nlohmann::json::array();
    for (const ac::Finding& f : res.findings) j["rules"].push_back(f.rule);
  }
  if (res.expected_failure) j["as_expected"] = true;
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

int main(int argc, char** argv) {
  ac::Options o;
  o.keep_passed_results = false;  // flat memory over long runs (Report::passed_trees)
  std::set<std::string> given;
  bool help = false;
  if (std::string error = ParseFlags(argc, argv, &given, &help); !error.empty()) return Usage(error);
  if (help) {
    std::cout << Help();
    return 0;
  }
  const bool out_given = given.count("out") > 0;
  const bool isolate = absl::GetFlag(FLAGS_isolate);
  const bool save = absl::GetFlag(FLAGS_save);
  const bool list = absl::GetFlag(FLAGS_list);
  o.quiet = absl::GetFlag(FLAGS_quiet);
  o.cases = absl::GetFlag(FLAGS_cases);
  o.seed = absl::GetFlag(FLAGS_seed);
  o.rules = absl::GetFlag(FLAGS_rules);
  std::string python_given, expectations_flag, reproducer_flag;
  if (given.count("runtime")) {
    o.runtime = absl::GetFlag(FLAGS_runtime);
    if (o.runtime.empty() || o.runtime == "adapter") return Usage("--runtime needs a runtime name (--list shows them)");
  }
  if (given.count("python")) {
    if (absl::GetFlag(FLAGS_python).empty()) return Usage("--python needs an interpreter path");
    o.python = python_given = FromUser(absl::GetFlag(FLAGS_python));
  } else {
    o.python = asyncspec::PyenvPython("3.13.0");
  }
  if (given.count("adapter")) {
    o.adapter_command = absl::GetFlag(FLAGS_adapter);
    if (o.adapter_command.find_first_not_of(" \t\n") == std::string::npos) {
      return Usage("--adapter needs a command (it is empty)");
    }
  }
  o.trees = absl::GetFlag(FLAGS_trees);
  if (o.trees < 0 || o.trees > 100'000'000) return Usage("--trees must be an integer in [0, 100000000]");
  if (given.count("out")) {
    if (absl::GetFlag(FLAGS_out).empty()) return Usage("--out needs a directory (it is empty)");
    o.out_dir = FromUser(absl::GetFlag(FLAGS_out));
  }
  if (given.count("profile")) {
    o.profile = absl::GetFlag(FLAGS_profile);
    asyncspec::spec::Profile named;
    std::string why;
    if (!asyncspec::spec::ProfileNamed(o.profile, &named, &why)) return Usage("--profile: " + why);
  }
  o.timeout_ms = absl::GetFlag(FLAGS_timeout_ms);
  if (o.timeout_ms < 1 || o.timeout_ms > 3'600'000) return Usage("--timeout_ms must be an integer in [1, 3600000]");
  const int give_up_after = absl::GetFlag(FLAGS_give_up_after);
  if (give_up_after < 0) return Usage("--give_up_after must be an integer >= 0");
  o.shrink_budget = absl::GetFlag(FLAGS_shrink_budget);
  if (o.shrink_budget < 0 || o.shrink_budget > 1'000'000) return Usage("--shrink_budget must be an integer >= 0");
  if (given.count("replay")) {
    std::uint64_t seed = 0;
    if (!ParseU64(absl::GetFlag(FLAGS_replay), &seed)) return Usage("--replay must be a tree seed (unsigned integer)");
    o.replay = seed;
  }
  int jobs = absl::GetFlag(FLAGS_jobs);
  if (jobs < 0 || jobs > 256) return Usage("--jobs must be an integer in [0, 256], got '" + std::to_string(jobs) + "'");
  if (jobs == 0) jobs = static_cast<int>(std::max(1L, sysconf(_SC_NPROCESSORS_ONLN)));
  if (given.count("program")) {
    if (absl::GetFlag(FLAGS_program).empty()) return Usage("--program needs a file (it is empty)");
    o.program_file = FromUser(absl::GetFlag(FLAGS_program));
  }
  const bool explain = absl::GetFlag(FLAGS_explain);
  if (explain && !o.replay && o.program_file.empty()) return Usage("--explain needs --replay or --program");
  if (given.count("expectations")) {
    const std::string e = absl::GetFlag(FLAGS_expectations);
    if (e.empty()) return Usage("--expectations needs a file or none (it is empty)");
    expectations_flag = e == "none" ? e : FromUser(e);
  }
  if (given.count("reproducer")) {
    reproducer_flag = absl::GetFlag(FLAGS_reproducer);
    if (reproducer_flag != "asyncio" && reproducer_flag != "none") {
      return Usage("--reproducer must be asyncio or none, got '" + reproducer_flag + "'");
    }
  }
  if (given.count("ties")) {
    o.ties = absl::GetFlag(FLAGS_ties);
    if (o.ties != "free" && o.ties != "heavy") return Usage("--ties must be free or heavy, got '" + o.ties + "'");
  }
  o.schedules = absl::GetFlag(FLAGS_schedules);
  if (o.schedules < 0 || o.schedules > 10'000) return Usage("--schedules must be an integer in [0, 10000]");
  o.tie_budget = absl::GetFlag(FLAGS_tie_budget);
  if (o.tie_budget < 1 || o.tie_budget > 1'000'000) return Usage("--tie_budget must be an integer >= 1");
  if (given.count("adapter")) {
    if (given.count("runtime")) return Usage("give --runtime or --adapter, not both");
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
  // The report directory is made (or found usable) before anything runs, so
  // that a bad --out costs nothing.
  if (auto s = ac::PrepareReportDir(o.out_dir); !s.ok()) return Usage("--out: " + std::string(s.message()));
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

  // As subreaper, a process an adapter started and that left its group
  // (setsid) is still ours to find and kill (process.h KillOrphans).
  ac::BecomeSubreaper();
  WatchSignals();
  // report.jsonl: written as the run goes, it survives even a SIGKILL.
  ac::LineLog jsonl;
  if (auto s = jsonl.Open(o.out_dir, "report.jsonl"); !s.ok()) return Usage("--out: " + std::string(s.message()));
  // --give_up_after: so many programs in a row that could not be run at all
  // (TIMEOUT, CRASH, an adapter that could not be started or talked to)
  // mean the runtime is unusable, not that each program found something.
  int in_a_row = 0;
  std::string gave_up;
  o.on_result = [&](const ac::ProgramResult& res) {
    jsonl.Append(ResultLine(res));
    const bool unrunnable = res.verdict == ac::Verdict::kTimeout || res.verdict == ac::Verdict::kCrash ||
                            (res.verdict == ac::Verdict::kAdapterError && res.note.find("UNAVAILABLE") != std::string::npos);
    in_a_row = unrunnable ? in_a_row + 1 : 0;
    if (give_up_after > 0 && in_a_row >= give_up_after && gave_up.empty()) {
      gave_up = "gave up after " + std::to_string(in_a_row) +
                " programs in a row ended in TIMEOUT, CRASH or an adapter that could not be started (--give_up_after)";
      std::cerr << "check: " << gave_up << "; the last: " << res.id << ": " << res.note.substr(0, 500) << "\n";
    }
  };
  o.stop = [&gave_up] { return StopReason(gave_up); };

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
    int hello_timeout_ms = ac::AdapterRuntime::kHelloTimeoutMs;
    if (o.runtime == "adapter") {
      std::string error;
      if (!SplitCommand(o.adapter_command, &command, &error)) return Usage("--adapter: " + error);
    } else {
      for (const ac::RegisteredRuntime& r : registered) {
        if (r.name == o.runtime) {
          command = r.command;
          hello_timeout_ms = r.hello_timeout_ms;
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
    factory = [command, hello_timeout_ms, timeout = o.timeout_ms]() -> absl::StatusOr<std::unique_ptr<ac::Runtime>> {
      auto rt = ac::AdapterRuntime::Start(command, timeout, hello_timeout_ms);
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
  if (explain) PrintExplanations(*report, profile, rules);
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
  ac::KillOrphans();
  if (const int sig = g_signal.load()) {
    std::cout << "INCOMPLETE: " << report->stopped << "\n";
    return 128 + sig;
  }
  if (!report->stopped.empty()) {
    std::cout << "INCOMPLETE: " << report->stopped << "\n";
    return 4;
  }
  if (report->new_failures > 0) return 1;
  if (report->adapter_errors > 0) return 3;
  return 0;
}
