// Hardening of the check against adapters that misbehave: output
// that is garbage, truncated or of the wrong shape, an adapter that crashes,
// one that never answers, and one whose hello never comes. Each is reported
// for the program it happened on (an adapter error, CRASH or TIMEOUT), never as a
// rule violation, and the run goes on with a fresh adapter process: every
// other golden case still passes.
//
// The adapter is conformance/testdata/misbehaving_driver.py, driven through
// CPythonRuntime like the real CPython driver: it hands every program to the
// reference runtime's adapter and its reply back, except on the programs its
// plan names.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "conformance/engine.h"
#include "conformance/runtimes.h"
#include "conformance/safe_text.h"
#include "tools/testing/require.h"
#include "spec/model/model.h"

namespace asyncspec::conformance {
namespace {

constexpr char kPython[] = "/usr/bin/python3";
constexpr char kDriver[] = "conformance/testdata/misbehaving_driver.py";

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> CaseNames() {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator("spec/cases")) {
    if (e.path().extension() == ".json") names.push_back(e.path().stem().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

class AdapterHardening : public ::testing::Test {
 protected:
  void SetUp() override {
    ASYNCSPEC_REQUIRE_FILE(kPython);
    setenv("ASYNCSPEC_REAL_ADAPTER", "conformance/reference/adapter", 1);
    unsetenv("ASYNCSPEC_FAKE_HELLO");
  }
};

// Six golden cases get one misbehaviour each; the run checks all of them.
TEST_F(AdapterHardening, EachMisbehaviourIsReportedForItsProgramAndTheRunGoesOn) {
  const std::vector<std::string> names = CaseNames();
  ASSERT_GE(names.size(), 50u);
  // name -> (mode, the verdict and note it must give)
  struct Expect {
    std::string mode;
    Verdict verdict;
    std::string note;
  };
  std::map<std::string, Expect> plan = {
      {names[3], {"hang", Verdict::kTimeout, "no reply within"}},
      {names[11], {"garbage", Verdict::kAdapterError, "not JSON: Traceback"}},
      {names[19], {"truncated", Verdict::kAdapterError, "not JSON: {\"tasks\""}},
      {names[27], {"cut", Verdict::kCrash, "exited with status 0 while running this program"}},
      {names[35], {"crash", Verdict::kCrash, "exited with status 3 while running this program"}},
      {names[43], {"wrongtype", Verdict::kAdapterError, "tasks"}},
  };
  std::string spec;
  for (const auto& [name, e] : plan) spec += name + "=" + e.mode + ",";
  setenv("ASYNCSPEC_FAKE_PLAN", spec.c_str(), 1);

  auto rt = CPythonRuntime::Start(kPython, kDriver, /*timeout_ms=*/1500);
  ASSERT_TRUE(rt.ok()) << rt.status();
  CPythonRuntime* raw = rt->get();
  Options o;
  o.runtime = "cpython";
  o.trees = 0;
  o.cases_dir = "spec/cases";
  o.quiet = true;
  o.shrink_budget = 0;
  o.timeout_ms = 1500;
  Engine engine(o, spec::SpecProfile(), std::move(*rt),
                RuleCatalogue::Parse(Slurp(LocateRulesMd("."))));
  auto report = engine.RunAll();
  ASSERT_TRUE(report.ok()) << report.status();

  EXPECT_EQ(report->results.size(), names.size()) << "the run went on to the last case";
  EXPECT_EQ(report->checked, static_cast<int>(names.size()) - 6) << "the other cases were checked";
  EXPECT_EQ(report->timeouts, 1);
  EXPECT_EQ(report->adapter_errors, 3);
  EXPECT_EQ(report->crashes, 2);
  EXPECT_EQ(report->failed, 0) << "a misbehaving adapter is not a rule violation";
  // (Skipped: the golden cases that deadlock, in the model and the runtime alike.)
  EXPECT_EQ(report->passed_exact + report->passed_ties + report->skipped, static_cast<int>(names.size()) - 6);
  EXPECT_EQ(raw->restarts(), 5) << "a fresh driver after each of hang, garbage, truncated, cut, crash";
  int seen = 0;
  for (const ProgramResult& r : report->results) {
    const std::string name = r.id.substr(r.id.find(':') + 1);
    auto it = plan.find(name);
    if (it == plan.end()) {
      EXPECT_TRUE(r.verdict == Verdict::kPass || r.verdict == Verdict::kPassTies || r.verdict == Verdict::kSkipped)
          << r.id << ": " << VerdictName(r.verdict) << " " << r.note;
      continue;
    }
    ++seen;
    EXPECT_EQ(r.verdict, it->second.verdict) << r.id << " (" << it->second.mode << "): " << r.note;
    EXPECT_NE(r.note.find(it->second.note), std::string::npos)
        << r.id << " (" << it->second.mode << "): the note should say \"" << it->second.note
        << "\", is: " << r.note;
    EXPECT_TRUE(r.findings.empty()) << r.id;
  }
  EXPECT_EQ(seen, 6);
}

// A driver whose hello never comes, or whose first line is not a hello, is
// refused at start (the check then exits 2 with that message) in bounded
// time, instead of hanging the check.
TEST_F(AdapterHardening, HelloThatNeverComesOrIsGarbageIsRefusedAtStart) {
  setenv("ASYNCSPEC_FAKE_HELLO", "never", 1);
  auto start = std::chrono::steady_clock::now();
  auto rt = CPythonRuntime::Start(kPython, kDriver, 500);
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(rt.ok());
  EXPECT_NE(rt.status().message().find("did not say hello"), std::string::npos) << rt.status();
  EXPECT_LT(took, std::chrono::seconds(30)) << "start-up limit is max(timeout, 10 s)";

  setenv("ASYNCSPEC_FAKE_HELLO", "garbage", 1);
  rt = CPythonRuntime::Start(kPython, kDriver, 500);
  ASSERT_FALSE(rt.ok());
  EXPECT_NE(rt.status().message().find("Python 3.13.0 (main)"), std::string::npos)
      << "the refusal quotes the line: " << rt.status();
}

// ---------------------------------------------------------------------------
// The check binary against conformance/testdata/hostile_adapter: each hostile
// behaviour in a run of its own. For each: the run finishes, the three
// reports are complete and well-formed (report.json parses strictly,
// `xmllint --noout` accepts report.xml, report.md is UTF-8), the exit code is
// the documented one, and no process is left behind.

std::string TmpRoot() {
  const char* t = std::getenv("TEST_TMPDIR");
  return t ? t : "/tmp";
}

// A fresh path under the test's temporary directory (removed if it exists).
std::string TmpPath(const std::string& name) {
  std::string d = TmpRoot() + "/" + name;
  std::filesystem::remove_all(d);
  return d;
}

// Our children and their orphans: the test is a child subreaper, so an
// adapter the check failed to reap (or one that called setsid()) is
// reparented here instead of to init, where it could not be seen.
std::vector<pid_t> Children() {
  std::vector<pid_t> out;
  for (const auto& e : std::filesystem::directory_iterator("/proc")) {
    const std::string name = e.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string stat = Slurp(e.path().string() + "/stat");
    auto close_paren = stat.rfind(')');
    if (close_paren == std::string::npos) continue;
    std::istringstream rest(stat.substr(close_paren + 2));
    char state;
    pid_t ppid;
    rest >> state >> ppid;
    if (ppid == getpid()) out.push_back(std::stoi(name));
  }
  return out;
}

// Reaps what is left (so that one test's leftovers do not fail the next)
// and returns how many there were.
int ReapLeftovers() {
  std::vector<pid_t> left = Children();
  for (pid_t p : left) kill(p, SIGKILL);
  for (pid_t p : left) waitpid(p, nullptr, 0);
  return static_cast<int>(left.size());
}

struct CheckRun {
  pid_t pid = -1;
  std::string out_dir, log;
};

CheckRun StartCheck(const std::string& name, const std::vector<std::string>& args) {
  CheckRun run;
  run.out_dir = TmpPath(name + "-report");
  run.log = TmpPath(name + ".log");
  std::vector<std::string> argv = {"conformance/check", "--quiet", "--expectations=none", "--out=" + run.out_dir};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<char*> cargv;
  for (std::string& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, run.log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  EXPECT_EQ(posix_spawn(&run.pid, cargv[0], &fa, nullptr, cargv.data(), environ), 0);
  posix_spawn_file_actions_destroy(&fa);
  return run;
}

// Waits for the check (at most `limit`); its exit code, or -1 (then it is killed).
int WaitCheck(const CheckRun& run, std::chrono::seconds limit) {
  const auto end = std::chrono::steady_clock::now() + limit;
  int wstatus = 0;
  while (waitpid(run.pid, &wstatus, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > end) {
      kill(run.pid, SIGKILL);
      waitpid(run.pid, &wstatus, 0);
      ADD_FAILURE() << "the check ran past " << limit.count() << " s:\n" << Slurp(run.log);
      return -1;
    }
    usleep(20000);
  }
  return WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
}

// The three reports of `dir` are there and well-formed; returns report.json.
nlohmann::json ExpectWellFormedReports(const std::string& dir, const std::string& log) {
  const std::string md = Slurp(dir + "/report.md");
  EXPECT_FALSE(md.empty()) << "no report.md; the check said:\n" << log;
  EXPECT_EQ(ValidUtf8(md), md) << "report.md is not UTF-8";
  const std::string xml = dir + "/report.xml";
  EXPECT_TRUE(std::filesystem::exists(xml)) << log;
  const int lint = std::system(("/usr/bin/xmllint --noout " + xml + " 2>" + dir + "/xmllint.log").c_str());
  EXPECT_EQ(lint, 0) << "report.xml is not well-formed: " << Slurp(dir + "/xmllint.log");
  // Strict: nlohmann's parser refuses invalid UTF-8 and bad escapes.
  nlohmann::json j = nlohmann::json::parse(Slurp(dir + "/report.json"), nullptr, /*allow_exceptions=*/false);
  EXPECT_FALSE(j.is_discarded()) << "report.json does not parse:\n" << Slurp(dir + "/report.json");
  return j.is_discarded() ? nlohmann::json::object() : j;
}

class HostileAdapter : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
    ASSERT_TRUE(std::filesystem::exists("/usr/bin/xmllint")) << "xmllint is missing: tools/setup.sh installs libxml2-utils";
    ReapLeftovers();
  }
  void TearDown() override { EXPECT_EQ(ReapLeftovers(), 0) << "processes were left behind"; }

  // A whole run of the check on the hostile adapter in `mode`.
  nlohmann::json Run(const std::string& mode, const std::vector<std::string>& extra, int expected_exit,
                     std::string* log_out = nullptr) {
    std::vector<std::string> args = {"--adapter=conformance/testdata/hostile_adapter " + mode, "--nocases"};
    args.insert(args.end(), extra.begin(), extra.end());
    CheckRun run = StartCheck(mode, args);
    const int rc = WaitCheck(run, std::chrono::seconds(120));
    const std::string log = Slurp(run.log);
    EXPECT_EQ(rc, expected_exit) << mode << ":\n" << log;
    if (log_out) *log_out = log;
    return ExpectWellFormedReports(run.out_dir, log);
  }
};

// Bytes that are not UTF-8, a line cut inside a character, characters XML
// forbids (escaped in JSON, or raw): each an adapter error, every report written.
TEST_F(HostileAdapter, BytesThatAreNotTextAreReportedNotFatal) {
  for (const char* mode : {"badutf8", "cututf8", "forbidden", "rawcontrol"}) {
    SCOPED_TRACE(mode);
    nlohmann::json j = Run(mode, {"--trees=3"}, /*adapter errors only=*/3);
    EXPECT_EQ(j["totals"]["adapter_errors"], 3) << j.dump(2);
    ASSERT_EQ(j["problems"].size(), 3u) << j.dump(2);
    EXPECT_EQ(j["problems"][0]["verdict"], "adapter_error") << j.dump(2);
  }
  // report.md lists every failing program of a group with its own replay,
  // not only the first.
  const std::string md = Slurp(TmpRoot() + "/rawcontrol-report/report.md");
  int listed = 0;
  for (std::size_t at = 0; (at = md.find("  - `tree:", at)) != std::string::npos; ++at) {
    const std::string seed = md.substr(at + 10, md.find('`', at + 10) - at - 10);
    const std::string line = md.substr(at, md.find('\n', at) - at);
    EXPECT_NE(line.find("--replay=" + seed + "`"), std::string::npos) << line;
    ++listed;
  }
  EXPECT_EQ(listed, 3) << md;
}

TEST_F(HostileAdapter, StderrThatIsNotTextBeforeACrashIsQuoted) {
  nlohmann::json j = Run("stderrcrash", {"--trees=2"}, /*crashes=*/1);
  EXPECT_EQ(j["totals"]["crashes"], 2) << j.dump(2);
  ASSERT_FALSE(j["problems"].empty());
  const std::string note = j["problems"][0]["note"];
  EXPECT_NE(note.find("Traceback \xEF\xBF\xBD"), std::string::npos) << "the stderr tail, bad bytes replaced: " << note;
}

// Writing a program has the same deadline as the reply: an adapter that
// never reads its input, sent a program far larger than a pipe holds.
TEST_F(HostileAdapter, AnAdapterThatNeverReadsCostsTheTimeLimit) {
  const std::string big = TmpPath("big.txt");
  {
    std::ofstream f(big);
    f << "program big\nmain:\n";
    for (int i = 0; i < 70000; ++i) f << "  sleep 1\n";  // ~2 MB as JSON
    f << "  return x\n";
  }
  const auto start = std::chrono::steady_clock::now();
  nlohmann::json j = Run("noread", {"--program=" + big, "--timeout_ms=1000"}, /*timeouts=*/1);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(60));
  EXPECT_EQ(j["totals"]["timeouts"], 1) << j.dump(2);
  ASSERT_EQ(j["problems"].size(), 1u);
  EXPECT_NE(j["problems"][0]["note"].get<std::string>().find("did not read the program within 1000 ms"),
            std::string::npos) << j.dump(2);
}

// A line is capped (AdapterRuntime::kMaxLineBytes, ADAPTERS.md): 20 MiB
// without a newline is one adapter error, not 20 MiB held per program.
TEST_F(HostileAdapter, AnOverlongLineIsAnAdapterError) {
  nlohmann::json j = Run("longline", {"--trees=2", "--timeout_ms=20000"}, /*adapter errors only=*/3);
  EXPECT_EQ(j["totals"]["adapter_errors"], 2) << j.dump(2);
  ASSERT_FALSE(j["problems"].empty());
  EXPECT_NE(j["problems"][0]["note"].get<std::string>().find("a line longer than 16 MiB"), std::string::npos)
      << j["problems"][0]["note"];
}

// A helper that left the adapter's process group (setsid) is found and
// killed all the same: the check is a child subreaper. (TearDown checks
// that nothing is left.)
TEST_F(HostileAdapter, AProcessThatLeftTheGroupIsKilledToo) {
  nlohmann::json j = Run("setsid", {"--trees=2", "--timeout_ms=300"}, /*timeouts=*/1);
  EXPECT_EQ(j["totals"]["timeouts"], 2) << j.dump(2);
}

// So many programs in a row that cannot be run stop the run, with reports.
TEST_F(HostileAdapter, ARunGivesUpAfterSoManyTimeoutsInARow) {
  std::string log;
  nlohmann::json j = Run("hang", {"--trees=100", "--timeout_ms=200", "--give_up_after=3"}, /*gave up=*/4, &log);
  EXPECT_NE(log.find("gave up after 3 programs in a row"), std::string::npos) << log;
  EXPECT_EQ(j["complete"], false) << j.dump(2);
  EXPECT_EQ(j["totals"]["timeouts"], 3) << j.dump(2);
  EXPECT_NE(j.value("stopped", "").find("gave up after 3"), std::string::npos) << j.dump(2);
}

int CountLines(const std::string& path) {
  const std::string text = Slurp(path);
  return static_cast<int>(std::count(text.begin(), text.end(), '\n'));
}

// SIGINT / SIGTERM in the middle of a long run: the check stops taking
// programs, kills its children, writes the reports marked incomplete with
// the counts so far, and exits 128 + the signal. report.jsonl (one line per
// program, written as the run goes) agrees with the final counts.
void InterruptMidRun(const std::string& name, const std::vector<std::string>& args, int sig) {
  CheckRun run = StartCheck(name, args);
  const std::string jsonl = run.out_dir + "/report.jsonl";
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (CountLines(jsonl) < 20 && std::chrono::steady_clock::now() < give_up) usleep(20000);
  ASSERT_GE(CountLines(jsonl), 20) << "the run did not get going:\n" << Slurp(run.log);
  kill(run.pid, sig);
  const int rc = WaitCheck(run, std::chrono::seconds(60));
  const std::string log = Slurp(run.log);
  EXPECT_EQ(rc, 128 + sig) << log;
  nlohmann::json j = ExpectWellFormedReports(run.out_dir, log);
  EXPECT_EQ(j["complete"], false) << log;
  EXPECT_EQ(j.value("stopped", ""), std::string("interrupted by ") + (sig == SIGINT ? "SIGINT" : "SIGTERM"));
  const auto& t = j["totals"];
  const int accounted = t["checked"].get<int>() + t["timeouts"].get<int>() + t["crashes"].get<int>() +
                        t["adapter_errors"].get<int>() + t["skipped"].get<int>() + t["not_applicable"].get<int>();
  EXPECT_GE(accounted, 20);
  EXPECT_EQ(CountLines(jsonl), accounted) << "one line per program accounted";
  EXPECT_EQ(t["crashes"], 0) << "programs the interruption killed are dropped, not crashes";
  EXPECT_NE(Slurp(run.out_dir + "/report.md").find("Incomplete run: interrupted by"), std::string::npos);
}

TEST_F(HostileAdapter, SigintStopsAnAdapterRunWithAPartialReport) {
  InterruptMidRun("sigint-adapter", {"--adapter=conformance/testdata/hostile_adapter unsupported", "--trees=1000000"},
                  SIGINT);
}

TEST_F(HostileAdapter, SigtermStopsAnAdapterRunWithAPartialReport) {
  InterruptMidRun("sigterm-adapter", {"--adapter=conformance/testdata/hostile_adapter unsupported", "--jobs=2",
                                      "--trees=1000000"},
                  SIGTERM);
}

TEST_F(HostileAdapter, SigintStopsAMillionTreeRunInForkedWorkers) {
  InterruptMidRun("sigint-workers", {"--trees=1000000", "--jobs=2"}, SIGINT);
}

// Protocol 2: a reply for another program is one adapter error and a fresh
// adapter, not a failure for every later program.
TEST_F(HostileAdapter, AReplyOutOfStepIsOneAdapterError) {
  nlohmann::json j = Run("extraline", {"--trees=2"}, /*adapter errors only=*/3);
  EXPECT_EQ(j["totals"]["adapter_errors"], 1) << j.dump(2);
  EXPECT_EQ(j["totals"]["not_applicable"], 1) << j.dump(2);
  ASSERT_FALSE(j["problems"].empty());
  std::string notes;
  for (const auto& p : j["problems"]) notes += p["note"].get<std::string>() + "\n";
  EXPECT_NE(notes.find("out of step: sent program id 2, the reply has id 1"), std::string::npos) << notes;
  for (const char* mode : {"wrongid", "noid"}) {
    SCOPED_TRACE(mode);
    j = Run(mode, {"--trees=2"}, /*adapter errors only=*/3);
    EXPECT_EQ(j["totals"]["adapter_errors"], 2) << j.dump(2);
    EXPECT_NE(j["problems"][0]["note"].get<std::string>().find("out of step"), std::string::npos) << j.dump(2);
  }
}

// Flags are all checked before any program runs: these fail in well under
// the time one program takes, and write nothing.
TEST_F(HostileAdapter, BadOutOrEmptyFlagsAreRefusedUpFront) {
  const std::string file = TmpPath("a-file");
  std::ofstream(file) << "x";
  const std::string symlinked = TmpPath("symlinked-report");
  struct Case {
    std::vector<std::string> args;
    std::string says;
  };
  for (const Case& c : std::vector<Case>{
           {{"--out=" + file}, "exists and is not a directory"},
           {{"--out=" + file + "/sub"}, "cannot create"},
           {{"--out="}, "--out needs a directory"},
           {{"--adapter="}, "--adapter needs a command"},
           {{"--expectations="}, "--expectations needs a file"},
           {{"--give_up_after=-1"}, "--give_up_after must be"},
           {{"--nocases=false"}, "takes no value"},
       }) {
    std::vector<char*> unused;
    std::string cmd = "conformance/check --adapter=conformance/testdata/hostile_adapter\\ hang --timeout_ms=100000";
    // The first --adapter is overridden by a later one (the last value wins).
    for (const std::string& a : c.args) cmd += " '" + a + "'";
    const std::string log = TmpPath("flags.log");
    const auto start = std::chrono::steady_clock::now();
    const int st = std::system((cmd + " >" + log + " 2>&1").c_str());
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(60));
    EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 2) << cmd << ": " << Slurp(log);
    EXPECT_NE(Slurp(log).find(c.says), std::string::npos) << cmd << ": " << Slurp(log);
  }
  EXPECT_EQ(Slurp(file), "x");
}

// Report files replace a symlink at their name instead of writing through
// it; reproducers of an earlier run are removed; the header says what ran.
TEST_F(HostileAdapter, ReportFilesDoNotFollowSymlinksAndOldReproducersGo) {
  const std::string victim = TmpPath("victim.txt");
  std::ofstream(victim) << "untouched";
  const std::string dir = TmpPath("symlink-report");
  std::filesystem::create_directories(dir);
  for (const char* name : {"report.md", "report.json", "report.xml", "report.jsonl"}) {
    std::filesystem::create_symlink(victim, dir + "/" + name);
  }
  std::ofstream(dir + "/repro-1-TG-3.py") << "stale";
  std::ofstream(dir + "/notes.txt") << "mine";
  const std::string log = TmpPath("symlink.log");
  const int st = std::system(("conformance/check --quiet --nocases --trees=5 --expectations=none --out=" + dir +
                              " >" + log + " 2>&1").c_str());
  EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << Slurp(log);
  EXPECT_EQ(Slurp(victim), "untouched");
  for (const char* name : {"report.md", "report.json", "report.xml", "report.jsonl"}) {
    EXPECT_FALSE(std::filesystem::is_symlink(dir + "/" + name)) << name;
  }
  EXPECT_FALSE(std::filesystem::exists(dir + "/repro-1-TG-3.py")) << "a reproducer of an earlier run";
  EXPECT_EQ(Slurp(dir + "/notes.txt"), "mine") << "only reproducers are removed";
  ExpectWellFormedReports(dir, Slurp(log));
  EXPECT_NE(Slurp(dir + "/report.md").find("- programs: 5 random trees, seed 1"), std::string::npos);

  std::system(("conformance/check --quiet --replay=42 --expectations=none --out=" + dir + " >" + log + " 2>&1").c_str());
  const std::string md = Slurp(dir + "/report.md");
  EXPECT_NE(md.find("- programs: random tree 42 (--replay)"), std::string::npos) << md;
  EXPECT_EQ(md.find("1000 random trees"), std::string::npos) << md;
}

}  // namespace
}  // namespace asyncspec::conformance
