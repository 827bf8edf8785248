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
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "conformance/engine.h"
#include "conformance/runtimes.h"
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

}  // namespace
}  // namespace asyncspec::conformance
