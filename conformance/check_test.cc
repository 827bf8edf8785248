// End-to-end tests of the check command: the engine with a deliberately
// wrong runtime, and the //conformance:check binary itself (exit codes,
// report files) on the reference runtime and, if installed, CPython 3.13.
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "conformance/engine.h"
#include "spec/model/model.h"

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
    spec::Outcome o = spec::RunModel(program, spec::Profile::Py313());
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
  Engine engine(o, spec::Profile::Py313(), std::move(rt), Rules());
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
  EXPECT_NE(out.find("--runtime must be"), std::string::npos) << out;
  EXPECT_EQ(RunCheck("--frobnicate", &out), 2);
  EXPECT_NE(out.find("unknown flag --frobnicate"), std::string::npos) << out;
  EXPECT_EQ(RunCheck("--profile=3.9", &out), 2);
  EXPECT_EQ(RunCheck("--rules=XX-*", &out), 2);
  EXPECT_NE(out.find("matches no rule"), std::string::npos) << out;
  EXPECT_EQ(RunCheck("--runtime=cpython --python=/nonexistent/python3", &out), 2);
  EXPECT_NE(out.find("cannot start the CPython driver"), std::string::npos) << out;
  EXPECT_EQ(RunCheck("--help", &out), 0);
  EXPECT_NE(out.find("usage:"), std::string::npos);
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
  const std::string python = "/root/.pyenv/versions/3.13.0/bin/python3";
  if (!std::filesystem::exists(python)) {
    GTEST_SKIP() << python << " is not installed; skipping the CPython run";
  }
  const std::string dir = TmpDir("cpython");
  std::string out;
  int rc = RunCheck("--runtime=cpython --python=" + python + " --trees=100 --quiet --out=" + dir, &out);
  EXPECT_EQ(rc, 0) << out;
  nlohmann::json j = nlohmann::json::parse(Slurp(dir + "/report.json"));
  EXPECT_EQ(j["runtime_version"], "3.13.0");
  EXPECT_EQ(j["profile"], "3.13");
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

}  // namespace
}  // namespace asyncspec::conformance
