// End-to-end tests of the check command: the engine with a deliberately
// wrong runtime, and the //conformance:check binary itself (exit codes,
// report files) on the reference runtime and, if installed, CPython 3.13.
#include <sys/wait.h>

#include <chrono>
#include <functional>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "conformance/engine.h"
#include "spec/model/model.h"
#include "tools/testing/require.h"

namespace asyncspec::conformance {
namespace {

std::string TmpDir(const std::string& name) {
  const char* t = std::getenv("TEST_TMPDIR");
  std::string d = std::string(t ? t : "/tmp") + "/" + name;
  std::filesystem::remove_all(d);
  return d;
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

RuleCatalogue Rules() { return RuleCatalogue::Parse(Slurp(LocateRulesMd("."))); }

// A runtime that behaves like the model except that every ExceptionGroup a
// TaskGroup raises loses its last leaf: TG-3 broken on purpose.
class DropsALeaf : public Runtime {
 public:
  std::string name() const override { return "drops_a_leaf"; }
  absl::StatusOr<spec::Outcome> Run(const spec::Program& program) override {
    spec::Outcome o = spec::RunModel(program, spec::SpecProfile());
    for (auto& [name, scope] : o.scopes) {
      if (scope.raised && scope.raised->type == spec::Exc::Type::kGroup &&
          scope.raised->children.size() >= 2 && program.name.find("tg_") != std::string::npos) {
        scope.raised->children.pop_back();
        ++broken;
      }
    }
    return o;
  }
  int broken = 0;
};

TEST(Engine, WrongOutcomeIsReportedUnderTheRightRule) {
  Options o;
  o.trees = 0;  // golden cases only: their groups are named in program.name "tg_..."
  o.cases_dir = "spec/cases";
  o.quiet = true;
  o.shrink_budget = 100;
  auto rt = std::make_unique<DropsALeaf>();
  DropsALeaf* raw = rt.get();
  Engine engine(o, spec::SpecProfile(), std::move(rt), Rules());
  auto report = engine.RunAll();
  ASSERT_TRUE(report.ok()) << report.status();
  ASSERT_GT(raw->broken, 0) << "no golden tg_ case raised a group of two leaves";
  EXPECT_GT(report->failed, 0);
  bool tg3 = false;
  for (const FailureGroup& g : report->failures) {
    if (g.rule == "TG-3") {
      tg3 = true;
      EXPECT_EQ(g.first.where.substr(0, 7), "scopes.") << g.first.where;
      EXPECT_NE(g.first.message.find("lacks leaf"), std::string::npos) << g.first.message;
    } else if (g.rule == "INV-2") {
      // The same break seen by the invariant: a child's error reported by
      // nobody (the group lost it).
      EXPECT_NE(g.first.message.find("without it (TG-3)"), std::string::npos) << g.first.message;
    } else {
      ADD_FAILURE() << "unexpected rule " << g.rule << ": " << g.first.where << ": " << g.first.message;
    }
  }
  EXPECT_TRUE(tg3);
  // Only cases exercising TG can fail TG.
  EXPECT_EQ(report->families["TG"].failed, report->failed);

  const std::string dir = TmpDir("wrong");
  ASSERT_TRUE(WriteReports(*report, engine.rules(), dir).ok());
  std::string md = Slurp(dir + "/report.md");
  EXPECT_NE(md.find("TG-3 — Errors form an ExceptionGroup, in completion order"), std::string::npos);
  EXPECT_NE(md.find("| TG |"), std::string::npos);
  EXPECT_NE(Slurp(dir + "/report.xml").find("type=\"TG-3\""), std::string::npos);
  nlohmann::json j = nlohmann::json::parse(Slurp(dir + "/report.json"));
  ASSERT_FALSE(j["failures"].empty());
  EXPECT_EQ(j["failures"][0]["rule"], "TG-3");
  EXPECT_NE(j["failures"][0]["statement"].get<std::string>().find("BaseExceptionGroup"), std::string::npos);
  EXPECT_EQ(j["verdict"], "FAIL");
}

// An adapter that writes its own reproducers (ADAPTERS.md, "Reproducers"):
// its command gets the shrunk program, the rule and the differing elements,
// and what it prints is the reproducer; a command that fails is reported.
TEST(Engine, AdapterReproducerCommandWritesTheFile) {
  const std::string python = asyncspec::testing::PyenvPython("3.13.0");
  ASYNCSPEC_REQUIRE_FILE(python);
  Options o;
  o.trees = 0;
  o.cases_dir = "spec/cases";
  o.quiet = true;
  o.shrink_budget = 30;
  o.reproducer = "command";
  o.reproducer_ext = "py";
  o.reproducer_command = {python, "conformance/testdata/fake_adapter.py", "--emit"};
  Engine engine(o, spec::SpecProfile(), std::make_unique<DropsALeaf>(), Rules());
  auto report = engine.RunAll();
  ASSERT_TRUE(report.ok()) << report.status();
  ASSERT_FALSE(report->failures.empty());
  const std::string dir = TmpDir("command_repro");
  ASSERT_TRUE(WriteReports(*report, engine.rules(), dir).ok());
  const std::string file = dir + "/repro-1-TG-3.py";
  const std::string source = Slurp(file);
  EXPECT_NE(source.find("# fake reproducer for TG-3: Errors form an ExceptionGroup"), std::string::npos) << source;
  EXPECT_NE(source.find("required {"), std::string::npos) << source;
  EXPECT_NE(Slurp(dir + "/report.md").find("written by the adapter's reproducer command"), std::string::npos);

  report->options.reproducer_command.back() = "--emit-fail";
  const std::string dir2 = TmpDir("command_repro_fails");
  ASSERT_TRUE(WriteReports(*report, engine.rules(), dir2).ok());
  EXPECT_FALSE(std::filesystem::exists(dir2 + "/repro-1-TG-3.py"));
  EXPECT_NE(Slurp(dir2 + "/report.md").find("exited with status 5; stderr: fake: cannot write a reproducer"),
            std::string::npos);
}

// Runs the binary (a data dependency, in the runfiles) and returns its exit code.
int RunCheck(const std::string& args, std::string* output = nullptr) {
  const std::string out = TmpDir("stdout.txt");
  int st = std::system(("conformance/check " + args + " >" + out + " 2>&1").c_str());
  if (output) *output = Slurp(out);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

TEST(Binary, BadFlagsExitWith2AndSayWhy) {
  std::string out;
  EXPECT_EQ(RunCheck("--trees=many", &out), 2);
  EXPECT_NE(out.find("--trees must be an integer"), std::string::npos) << out;
  EXPECT_EQ(RunCheck("--runtime=java", &out), 2);
  EXPECT_NE(out.find("--runtime=java is not a known runtime (known: reference, cpython, model"), std::string::npos)
      << out;
  EXPECT_EQ(RunCheck("--jobs=-1", &out), 2);
  EXPECT_NE(out.find("--jobs must be"), std::string::npos) << out;
  EXPECT_EQ(RunCheck("--adapter=\"'unterminated\"", &out), 2);
  EXPECT_NE(out.find("unterminated '"), std::string::npos) << out;
  EXPECT_EQ(RunCheck("--adapter=/nonexistent/adapter", &out), 2);
  EXPECT_NE(out.find("cannot execute /nonexistent/adapter"), std::string::npos) << out;
  EXPECT_EQ(RunCheck("--runtime=cpython --adapter=x", &out), 2);
  EXPECT_EQ(RunCheck("--python=/x/python3", &out), 2);  // --python without --runtime=cpython
  {
    const std::string bad = TmpDir("bad_expectations.json");
    std::ofstream(bad) << R"({"expected": [{"rule": "TG-3", "outcome": "BROKEN", "reason": "r"}]})";
    EXPECT_EQ(RunCheck("--trees=0 --expectations=" + bad, &out), 2);
    EXPECT_NE(out.find("expected[0].outcome must be FAIL, CRASH or TIMEOUT"), std::string::npos) << out;
  }
  EXPECT_EQ(RunCheck("--frobnicate", &out), 2);
  EXPECT_NE(out.find("unknown flag --frobnicate"), std::string::npos) << out;
  EXPECT_EQ(RunCheck("--profile=3.9", &out), 2);
  EXPECT_NE(out.find("unknown profile '3.9' (profiles: spec, shipped-3.11, shipped-3.12, shipped-3.13, shipped-3.14, "
                     "shipped-3.15)"),
            std::string::npos)
      << out;
  EXPECT_EQ(RunCheck("--profile=3.11", &out), 2);  // the old name: say the new ones
  EXPECT_NE(out.find("use 'spec'"), std::string::npos) << out;
  EXPECT_NE(out.find("'shipped-3.11'"), std::string::npos) << out;
  {
    const std::string missing = TmpDir("missing_expectations.json");
    EXPECT_EQ(RunCheck("--trees=0 --expectations=" + missing, &out), 2);
    EXPECT_NE(out.find("expectations file " + missing + " does not exist"), std::string::npos) << out;
  }
  EXPECT_EQ(RunCheck("--rules=XX-*", &out), 2);
  EXPECT_NE(out.find("matches no rule"), std::string::npos) << out;
  EXPECT_EQ(RunCheck("--runtime=cpython --python=/nonexistent/python3", &out), 2);
  EXPECT_NE(out.find("cannot start the CPython driver"), std::string::npos) << out;
  EXPECT_EQ(RunCheck("--help", &out), 0);
  EXPECT_NE(out.find("usage:"), std::string::npos);
  // --help lists every flag the parser takes.
  for (const char* flag : {"--runtime", "--python", "--adapter", "--list", "--trees", "--seed", "--cases", "--rules",
                           "--replay", "--program", "--profile", "--jobs", "--timeout_ms", "--isolate",
                           "--shrink_budget", "--out", "--reproducer", "--expectations", "--save", "--quiet"}) {
    EXPECT_NE(out.find(flag), std::string::npos) << flag;
  }
}

TEST(Binary, ReferenceRuntimePassesASmallRun) {
  const std::string dir = TmpDir("reference");
  std::string out;
  int rc = RunCheck("--trees=200 --quiet --out=" + dir, &out);
  EXPECT_EQ(rc, 0) << "the reference runtime must pass the golden cases and 200 random programs "
                      "(see " << dir << "/report.md):\n" << out;
  std::string md = Slurp(dir + "/report.md");
  ASSERT_FALSE(md.empty()) << out;
  for (const char* fam : {"| TG |", "| GA |", "| TO |", "| WF |", "| SH |", "| CX |", "| RT |", "| INV |"}) {
    EXPECT_NE(md.find(fam), std::string::npos) << fam;
  }
  nlohmann::json j = nlohmann::json::parse(Slurp(dir + "/report.json"));
  EXPECT_GE(j["totals"]["checked"].get<int>(), 250);  // ~100 golden cases + 200 trees
  EXPECT_GT(j["families"]["TG"]["checked"].get<int>(), 10);
  std::string xml = Slurp(dir + "/report.xml");
  EXPECT_NE(xml.find("<testsuite name=\"asyncspec.reference\""), std::string::npos);
  EXPECT_NE(xml.find("case:tg_"), std::string::npos);
}

TEST(Binary, RulesFilterSelectsFamilies) {
  const std::string dir = TmpDir("filter");
  std::string out;
  RunCheck("--trees=50 --quiet --rules=GA-* --out=" + dir, &out);
  nlohmann::json j = nlohmann::json::parse(Slurp(dir + "/report.json"));
  // Every checked program exercises gather.
  EXPECT_EQ(j["families"]["GA"]["checked"], j["totals"]["checked"]) << out;
  EXPECT_GT(j["totals"]["checked"].get<int>(), 0);
}

TEST(Binary, CPython313PassesASmallRun) {
  const std::string python = asyncspec::testing::PyenvPython("3.13.0");
  ASYNCSPEC_REQUIRE_FILE(python);
  const std::string dir = TmpDir("cpython");
  std::string out;
  int rc = RunCheck("--runtime=cpython --python=" + python + " --trees=100 --quiet --out=" + dir, &out);
  EXPECT_EQ(rc, 0) << out;
  nlohmann::json j = nlohmann::json::parse(Slurp(dir + "/report.json"));
  EXPECT_EQ(j["runtime_version"], "3.13.0");
  EXPECT_EQ(j["profile"], "spec");
  EXPECT_GE(j["totals"]["checked"].get<int>(), 150);
}


// A fake interpreter speaking the driver's line protocol: hello first, then
// per program line: "hang" in the line -> never answers; "junk" -> not JSON;
// otherwise a deadlock error reply.
TEST(CPythonAdapter, TimeoutKillsAndRestartsTheDriver) {
  const std::string fake = TmpDir("fake_python.sh");
  {
    std::ofstream f(fake);
    f << "#!/bin/sh\n"
         "echo '{\"hello\": {\"runtime\": \"cpython\", \"version\": \"3.13.0\"}}'\n"
         "while read -r line; do\n"
         "  case \"$line\" in\n"
         "    *hang*) sleep 60 ;;\n"
         "    *junk*) echo 'not json' ;;\n"
         "    *) echo '{\"error\": \"deadlock: every task waits\", \"where\": \"run\"}' ;;\n"
         "  esac\n"
         "done\n";
  }
  std::filesystem::permissions(fake, std::filesystem::perms::owner_all);
  auto rt = CPythonRuntime::Start(fake, fake /* any readable file: the fake ignores it */, 300);
  ASSERT_TRUE(rt.ok()) << rt.status();
  EXPECT_EQ((*rt)->version(), "3.13.0");
  spec::Program hang, junk, plain;
  hang.name = "hang";
  junk.name = "junk";
  auto r1 = (*rt)->Run(hang);
  EXPECT_TRUE(absl::IsDeadlineExceeded(r1.status())) << r1.status();
  auto r2 = (*rt)->Run(plain);  // a fresh driver answers
  EXPECT_TRUE(absl::IsFailedPrecondition(r2.status())) << r2.status();
  EXPECT_EQ((*rt)->restarts(), 1);
  auto r3 = (*rt)->Run(junk);
  EXPECT_FALSE(r3.ok());
  EXPECT_FALSE(absl::IsDeadlineExceeded(r3.status()) || absl::IsFailedPrecondition(r3.status())) << r3.status();
  auto r4 = (*rt)->Run(plain);
  EXPECT_TRUE(absl::IsFailedPrecondition(r4.status())) << r4.status();
}

const std::string kPython313 = asyncspec::testing::PyenvPython("3.13.0");
const std::string kPython311 = asyncspec::testing::PyenvPython("3.11.7");

std::string Fake(const std::string& flags) {
  return std::string("--adapter='") + kPython313 + " conformance/testdata/fake_adapter.py " + flags + "'";
}

nlohmann::json ReportJson(const std::string& dir) { return nlohmann::json::parse(Slurp(dir + "/report.json")); }

// Through the generic adapter: a runtime that crashes on every shield and
// hangs on every wait_for, and lacks gather and except*. The run goes on;
// each program is CRASH, TIMEOUT or n/a as it should; expectations turn
// them into "as expected" (exit 0), and list an unexpected pass.
TEST(Binary, MisbehavingAdapterRunGoesOnAndExpectationsJudgeIt) {
  ASYNCSPEC_REQUIRE_FILE(kPython313);
  const std::string dir = TmpDir("fake_run");
  const std::string base = Fake("--crash-on=shield --hang-on=wait_for") +
                           " --nocases --trees=25 --seed=5 --timeout_ms=250 --quiet --out=" + dir;
  std::string out;
  EXPECT_EQ(RunCheck(base + " --expectations=none", &out), 1) << out;
  nlohmann::json j = ReportJson(dir);
  const auto& t = j["totals"];
  EXPECT_GT(t["crashes"].get<int>(), 0) << out;
  EXPECT_GT(t["timeouts"].get<int>(), 0) << out;
  EXPECT_GT(t["checked"].get<int>(), 8) << out;  // the others still ran and passed
  EXPECT_EQ(t["failed"], 0) << out;
  EXPECT_EQ(t["checked"].get<int>() + t["crashes"].get<int>() + t["timeouts"].get<int>() +
                t["not_applicable"].get<int>() + t["skipped"].get<int>(),
            25);
  EXPECT_EQ(t["new_failures"].get<int>(), t["crashes"].get<int>() + t["timeouts"].get<int>());
  // Trees are drawn without gather and except*: few are n/a.
  EXPECT_LT(t["not_applicable"].get<int>(), 6) << out;
  const std::string md = Slurp(dir + "/report.md");
  EXPECT_NE(md.find("fake: crashing on purpose (by op)"), std::string::npos);
  EXPECT_NE(md.find("exited with status 3"), std::string::npos);
  EXPECT_NE(md.find("no reply within 250 ms"), std::string::npos);
  EXPECT_NE(md.find("- capabilities: await base cancel catch_group group raise reschedule return shield sleep "
                    "spawn task timeout try uncancel wait_for"),
            std::string::npos);
  const std::string xml = Slurp(dir + "/report.xml");
  EXPECT_NE(xml.find("<failure type=\"CRASH\""), std::string::npos);
  EXPECT_NE(xml.find("<failure type=\"TIMEOUT\""), std::string::npos);

  // The same run with every crash and timeout expected, plus one entry for a
  // program that does not fail.
  const std::string exp = TmpDir("fake_expectations.json");
  std::ofstream(exp) << R"({"runtime": "fake", "expected": [
      {"program": "tree:*", "outcome": "CRASH", "reason": "the fake crashes on shield on purpose"},
      {"program": "tree:*", "outcome": "TIMEOUT", "reason": "the fake hangs on wait_for on purpose"},
      {"program": "tree:)" + std::to_string(TreeSeed(5, 0)) + R"(", "rule": "TG-3", "outcome": "FAIL",
       "reason": "listed on purpose: this program does not fail"}]})";
  EXPECT_EQ(RunCheck(base + " --expectations=" + exp, &out), 0) << out;
  j = ReportJson(dir);
  EXPECT_EQ(j["totals"]["new_failures"], 0) << out;
  EXPECT_EQ(j["totals"]["expected_failures"].get<int>(),
            j["totals"]["crashes"].get<int>() + j["totals"]["timeouts"].get<int>());
  EXPECT_EQ(j["totals"]["unexpected_passes"], 1) << out;
  EXPECT_NE(out.find("UNEXPECTED PASS tree:" + std::to_string(TreeSeed(5, 0)) + " FAIL"), std::string::npos) << out;
  EXPECT_NE(Slurp(dir + "/report.md").find("## Unexpected passes"), std::string::npos);
  EXPECT_NE(Slurp(dir + "/report.xml").find("UNEXPECTED PASS"), std::string::npos);

  // --save: the file lists exactly this run's failures; the run then passes.
  const std::string saved = TmpDir("saved_expectations.json");
  EXPECT_EQ(RunCheck(base + " --save --expectations=" + saved, &out), 1) << out;
  nlohmann::json s = nlohmann::json::parse(Slurp(saved));
  EXPECT_EQ(s["expected"].size(), j["totals"]["crashes"].get<std::size_t>() + j["totals"]["timeouts"].get<std::size_t>());
  EXPECT_EQ(RunCheck(base + " --expectations=" + saved, &out), 0) << out;
}

// A wrong runtime behind the generic adapter: every ExceptionGroup of a
// group scope loses its last leaf. TG-3 is found and shrunk; the report does
// not depend on --jobs; a hello that claims only some rules (CX, RT, INV:
// no TG-3) turns the findings into "not claimed".
TEST(Binary, WrongAdapterIsShrunkTheSameWithJobs) {
  ASYNCSPEC_REQUIRE_FILE(kPython313);
  const std::string one = TmpDir("drop1"), two = TmpDir("drop2");
  std::string out1, out2;
  const std::string args = Fake("--drop-leaf") + " --trees=80 --quiet --shrink_budget=60 --expectations=none";
  EXPECT_EQ(RunCheck(args + " --jobs=1 --out=" + one, &out1), 1) << out1;
  EXPECT_EQ(RunCheck(args + " --jobs=2 --out=" + two, &out2), 1) << out2;
  nlohmann::json a = ReportJson(one), b = ReportJson(two);
  ASSERT_FALSE(a["failures"].empty());
  bool tg3 = false;
  for (const auto& f : a["failures"]) {
    if (f["rule"] != "TG-3") continue;
    tg3 = true;
    EXPECT_LE(nlohmann::json(f["shrunk"]).dump().size(), nlohmann::json(f["original"]).dump().size());
  }
  EXPECT_TRUE(tg3) << out1;
  // Each failure was re-run in a fresh adapter and found deterministic.
  int fails = 0;
  for (const auto& p : a["problems"]) {
    if (p["verdict"] != "fail") continue;
    ++fails;
    EXPECT_EQ(p.value("confirmed_deterministic", false), true) << p.dump();
  }
  EXPECT_GT(fails, 0);
  EXPECT_NE(Slurp(one + "/report.md").find("- deterministic: a second run"), std::string::npos);
  EXPECT_EQ(a["jobs"], 1);
  EXPECT_EQ(b["jobs"], 2);
  EXPECT_EQ(a["problems"], b["problems"]);
  ASSERT_EQ(a["failures"].size(), b["failures"].size());
  for (std::size_t i = 0; i < a["failures"].size(); ++i) {
    EXPECT_EQ(a["failures"][i]["rule"], b["failures"][i]["rule"]);
    EXPECT_EQ(a["failures"][i]["programs"], b["failures"][i]["programs"]);
    EXPECT_EQ(a["failures"][i]["shrunk_text"], b["failures"][i]["shrunk_text"]);
  }
  for (const char* k : {"checked", "failed", "passed_exact", "not_applicable"}) EXPECT_EQ(a["totals"][k], b["totals"][k]) << k;

  const std::string claimed = TmpDir("drop_structured");
  std::string out;
  RunCheck(Fake("--drop-leaf --rules=CX-*,RT-*,INV-*") + " --trees=80 --quiet --expectations=none --out=" + claimed,
           &out);
  nlohmann::json c = ReportJson(claimed);
  EXPECT_GT(c["totals"]["unclaimed_findings"].get<int>(), 0) << out;
  for (const auto& f : c["failures"]) EXPECT_NE(f["rule"], "TG-3") << out;
}

// The reference runtime through its adapter process and the generic client
// passes what it passes in process.
TEST(Binary, ReferenceAdapterSpeaksTheProtocol) {
  const std::string dir = TmpDir("reference_adapter");
  std::string out;
  EXPECT_EQ(RunCheck("--adapter=conformance/reference/adapter --trees=100 --jobs=2 --quiet --out=" + dir, &out), 0)
      << out;
  nlohmann::json j = ReportJson(dir);
  EXPECT_EQ(j["runtime"], "reference");
  EXPECT_EQ(j["profile"], "spec");  // the hello's model "3.13" is an asyncio version, not a profile
  EXPECT_GE(j["totals"]["checked"].get<int>(), 150);
  EXPECT_EQ(j["totals"]["not_applicable"], 0);
}

// Known departures: CPython 3.11 checked against spec (the default) fails
// exactly where the model with 3.11's departures flipped says; its shipped
// expectations file lists each departure, so those failures are expected,
// each under its departure's rule with its issue link. With one entry left
// out (WF-1, wait_for), its failures are new, still under WF-1; with that
// file a 3.13 run shows no failure and no expected one.
TEST(Binary, DeparturesAreExpectedOnlyWhereListedAndExplained) {
  ASYNCSPEC_REQUIRE_FILE(kPython313);
  ASYNCSPEC_REQUIRE_FILE(kPython311);
  const std::string dir = TmpDir("departures");
  std::string out;
  const std::string on311 = std::string("--runtime=cpython --python=") + kPython311 +
                            " --trees=0 --quiet --shrink_budget=0 --out=" + dir;
  EXPECT_EQ(RunCheck(on311, &out), 0) << out;
  nlohmann::json j = ReportJson(dir);
  EXPECT_EQ(j["profile"], "spec");
  EXPECT_GT(j["totals"]["expected_failures"].get<int>(), 3) << out;
  EXPECT_EQ(j["totals"]["new_failures"], 0) << out;
  EXPECT_NE(out.find("FAIL (expected: WF-1, gh-86296, fixed in 3.12.0) WF-1 "), std::string::npos) << out;
  EXPECT_NE(out.find("FAIL (expected: CX-9, gh-116720, fixed in 3.13.0) CX-9 "), std::string::npos) << out;
  // The same file without its WF-1 entry.
  nlohmann::json file = nlohmann::json::parse(Slurp("conformance/expectations/cpython-3.11.json"));
  nlohmann::json kept = nlohmann::json::array();
  int dropped = 0;
  for (const auto& e : file["expected"]) {
    if (e.value("departure", "") == "wait_for_via_timeout") ++dropped;
    else kept.push_back(e);
  }
  ASSERT_EQ(dropped, 1) << "cpython-3.11.json lists wait_for_via_timeout once";
  file["expected"] = kept;
  const std::string partial = TmpDir("cpython-3.11-no-wf.json");
  std::ofstream(partial) << file.dump(2);
  EXPECT_EQ(RunCheck(on311 + " --expectations=" + partial, &out), 1) << out;
  j = ReportJson(dir);
  EXPECT_GT(j["totals"]["new_failures"].get<int>(), 0) << out;
  EXPECT_GT(j["totals"]["expected_failures"].get<int>(), 0) << out;  // CX-9, TG-11 still listed
  bool new_wf1 = false;
  for (const auto& f : j["failures"]) {
    if (f["rule"] == "WF-1") new_wf1 = !f["as_expected"].get<bool>();
    if (f["rule"] != "WF-1") EXPECT_TRUE(f["as_expected"].get<bool>()) << f["rule"] << out;
  }
  EXPECT_TRUE(new_wf1) << "the unlisted departure is a new failure under WF-1: " << out;
  EXPECT_NE(out.find("which the expectations file does not list"), std::string::npos) << out;
  // --save adds the missing departure as one entry from the model's table
  // (not one per program), after which the same run passes.
  EXPECT_EQ(RunCheck(on311 + " --save --expectations=" + partial, &out), 1) << out;
  nlohmann::json saved = nlohmann::json::parse(Slurp(partial));
  int wf_entries = 0;
  for (const auto& e : saved["expected"]) {
    if (e.value("departure", "") != "wait_for_via_timeout") continue;
    ++wf_entries;
    EXPECT_EQ(e["rule"], "WF-1");
    EXPECT_EQ(e["issue"], "https://github.com/python/cpython/issues/86296");
    EXPECT_EQ(e["fixed_in"], "3.12.0");
    EXPECT_FALSE(e.contains("program")) << e.dump();
  }
  EXPECT_EQ(wf_entries, 1) << saved.dump(1);
  EXPECT_EQ(RunCheck(on311 + " --expectations=" + partial, &out), 0) << out;
  // 3.13.0 has none of 3.11's fixed departures (WF-1, TG-11, CX-9, ...):
  // what fails is only the departure every release shares, the drain's
  // dropped error (RT-4, a candidate finding with its golden case), and it
  // fails as expected.
  EXPECT_EQ(RunCheck(std::string("--runtime=cpython --python=") + kPython313 + " --trees=0 --quiet --out=" + dir +
                         " --expectations=conformance/expectations/cpython-3.11.json",
                     &out),
            0)
      << out;
  j = ReportJson(dir);
  EXPECT_EQ(j["totals"]["new_failures"], 0) << out;
  EXPECT_EQ(j["totals"]["expected_failures"], 1) << out;
  for (const auto& f : j["failures"]) {
    EXPECT_EQ(f["rule"], "RT-4") << out;
    EXPECT_TRUE(f["as_expected"].get<bool>()) << out;
  }
}

// A standalone asyncio reproducer: CPython 3.13's driver checked against the
// 3.11 profile, on a golden case where 3.11 and 3.13 differ (TG-9/TG-11,
// spec/cases/README.md). The reproducer runs on 3.13 in well under a second,
// prints what it observed against what the rule requires, and exits 1; what
// it observed is what the driver reported to the check. On 3.11 the same
// file exits 0 (3.11 does what the 3.11 profile requires).
TEST(Reproducer, AsyncioReproducerShowsObservedAgainstRequired) {
  ASYNCSPEC_REQUIRE_FILE(kPython313);
  nlohmann::json c = nlohmann::json::parse(Slurp("spec/cases/tg_nested_inner_cancel_swallowed_after_wait.json"));
  const std::string prog = TmpDir("repro_program.json");
  std::ofstream(prog) << c["program"].dump();
  const std::string dir = TmpDir("repro");
  std::string out;
  EXPECT_EQ(RunCheck(std::string("--runtime=cpython --python=") + kPython313 + " --profile=shipped-3.11 --program=" + prog +
                         " --quiet --expectations=none --out=" + dir,
                     &out),
            1)
      << out;
  nlohmann::json j = ReportJson(dir);
  ASSERT_FALSE(j["failures"].empty()) << out;
  const nlohmann::json& f = j["failures"][0];
  const std::string file = f["reproducer"];
  ASSERT_FALSE(file.empty()) << f.dump(2);
  const std::string rule = f["rule"];

  const std::string log = TmpDir("repro.txt");
  int st = std::system((std::string(kPython313) + " " + dir + "/" + file + " >" + log + " 2>&1").c_str());
  const std::string printed = Slurp(log);
  EXPECT_EQ(WIFEXITED(st) ? WEXITSTATUS(st) : -1, 1) << printed;
  EXPECT_NE(printed.find("asyncspec reproducer: rule " + rule), std::string::npos) << printed;
  EXPECT_NE(printed.find("FAIL " + rule + ": "), std::string::npos) << printed;
  // Every element printed as DIFFERS shows this run's value, which must be
  // what the driver gave the check (nulls dropped on both sides).
  std::function<nlohmann::json(const nlohmann::json&)> clean = [&](const nlohmann::json& v) {
    if (v.is_object()) {
      nlohmann::json o = nlohmann::json::object();
      for (auto& [k, x] : v.items()) if (!x.is_null()) o[k] = clean(x);
      return o;
    }
    if (v.is_array()) {
      nlohmann::json a = nlohmann::json::array();
      for (const auto& x : v) a.push_back(clean(x));
      return a;
    }
    return v;
  };
  const nlohmann::json& observed = f["observed"];
  std::istringstream lines(printed);
  std::string line, key;
  int differs = 0;
  while (std::getline(lines, line)) {
    if (auto p = line.find(": DIFFERS"); p != std::string::npos) {
      key = line.substr(0, p);
      ++differs;
      std::getline(lines, line);
      ASSERT_EQ(line.rfind("  observed: ", 0), 0u) << line;
      nlohmann::json got = nlohmann::json::parse(line.substr(12));
      nlohmann::json want;
      auto dot = key.find('.');
      if (dot == std::string::npos) want = observed[key];
      else want = observed[key.substr(0, dot)][key.substr(dot + 1)];
      EXPECT_EQ(clean(got), clean(want)) << key;
      std::getline(lines, line);
      EXPECT_EQ(line.rfind("  required: ", 0), 0u) << line;
    }
  }
  EXPECT_GT(differs, 0) << printed;
  {
    ASYNCSPEC_REQUIRE_FILE(kPython311);
    st = std::system((std::string(kPython311) + " " + dir + "/" + file + " >" + log + " 2>&1").c_str());
    EXPECT_EQ(WIFEXITED(st) ? WEXITSTATUS(st) : -1, 0) << Slurp(log);
    EXPECT_NE(Slurp(log).find("PASS: this interpreter's asyncio now does what " + rule + " requires"),
              std::string::npos);
  }
}

// Exit 3: the run's only problem is the adapter's (its replies are no
// outcomes), not a rule the runtime broke: a program whose reply is not JSON,
// or an internal error, is an adapter error and no failure.
TEST(Binary, AdapterErrorsOnlyExitWith3) {
  ASYNCSPEC_REQUIRE_FILE(kPython313);
  for (const std::string name : {"junk", "internal"}) {
    const std::string dir = TmpDir("exit3_" + name);
    std::filesystem::create_directories(dir);
    const std::string prog = dir + "/program.json";
    std::ofstream(prog) << R"({"asyncspec": 1, "name": ")" << name << R"(", "main": [{"op": "sleep", "d": 1}]})";
    std::string out;
    EXPECT_EQ(RunCheck(Fake("") + " --program=" + prog + " --quiet --out=" + dir + "/report", &out), 3)
        << name << ": " << out;
    nlohmann::json j = ReportJson(dir + "/report");
    EXPECT_EQ(j["totals"]["adapter_errors"], 1) << name << ": " << out;
    EXPECT_EQ(j["totals"]["failed"], 0) << name << ": " << out;
  }
}

}  // namespace
}  // namespace asyncspec::conformance
