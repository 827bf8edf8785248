// The client side of the adapter protocol (conformance/ADAPTERS.md):
// AdapterRuntime against a fake adapter that misbehaves on purpose
// (testdata/fake_adapter.py), hello parsing, manifests, and the capability
// filter and restricted generator (capabilities.h).
#include "conformance/runtimes.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "conformance/capabilities.h"
#include "spec/json.h"
#include "spec/program_gen.h"
#include "spec/validate.h"
#include "tools/testing/require.h"

namespace asyncspec::conformance {
namespace {

const std::string kPython = asyncspec::testing::PyenvPython("3.13.0");
const char kFake[] = "conformance/testdata/fake_adapter.py";

std::string TmpDir(const std::string& name) {
  const char* t = std::getenv("TEST_TMPDIR");
  std::string d = std::string(t ? t : "/tmp") + "/" + name;
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  return d;
}

spec::Program Named(const std::string& name) {
  auto p = spec::ProgramFromJson(R"({"asyncspec":1,"name":")" + name + R"(","main":[{"op":"sleep","d":2}]})");
  EXPECT_TRUE(p.ok()) << p.status();
  return *p;
}

class FakeAdapter : public ::testing::Test {
 protected:
  void SetUp() override {
    ASYNCSPEC_REQUIRE_FILE(kPython);
  }
  std::unique_ptr<AdapterRuntime> Start(std::vector<std::string> flags = {}, int timeout_ms = 2000) {
    std::vector<std::string> argv = {kPython, kFake};
    argv.insert(argv.end(), flags.begin(), flags.end());
    auto rt = AdapterRuntime::Start(argv, timeout_ms);
    EXPECT_TRUE(rt.ok()) << rt.status();
    return rt.ok() ? std::move(*rt) : nullptr;
  }
};

TEST_F(FakeAdapter, HelloIsParsed) {
  auto rt = Start({"--rules=structured"});
  ASSERT_TRUE(rt);
  RuntimeInfo info = rt->info();
  EXPECT_EQ(info.runtime, "fake");
  EXPECT_EQ(info.version, "0.1");
  EXPECT_EQ(info.model, "3.13");
  ASSERT_TRUE(info.capabilities);
  EXPECT_TRUE(info.capabilities->count("group"));
  EXPECT_FALSE(info.capabilities->count("gather"));
  EXPECT_EQ(info.rules, std::vector<std::string>{"structured"});
  auto r = rt->Run(Named("fine"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->end_time, 2);
}

TEST_F(FakeAdapter, EachMisbehaviourHasItsStatusAndTheNextProgramRuns) {
  auto rt = Start({}, 500);
  ASSERT_TRUE(rt);
  struct Case {
    const char* name;
    absl::StatusCode code;
    const char* says;
  } cases[] = {
      {"hang", absl::StatusCode::kDeadlineExceeded, "no reply within 500 ms"},
      {"crash", absl::StatusCode::kAborted, "fake: crashing on purpose"},
      {"junk", absl::StatusCode::kDataLoss, "not JSON: this is not JSON"},
      {"notoutcome", absl::StatusCode::kDataLoss, "neither an outcome nor an error"},
      {"unsupported", absl::StatusCode::kUnimplemented, "no way to express this (at main/0)"},
      {"internal", absl::StatusCode::kInternal, "the runtime fell over"},
      {"input", absl::StatusCode::kInvalidArgument, "refused the program as invalid input"},
      {"deadlock", absl::StatusCode::kFailedPrecondition, "deadlock: every task waits"},
      {"olddeadlock", absl::StatusCode::kFailedPrecondition, "deadlock: every task waits"},
      {"chatty", absl::StatusCode::kDataLoss, "debug: about to run"},
  };
  int restarts = 0;
  for (const Case& c : cases) {
    auto r = rt->Run(Named(c.name));
    EXPECT_EQ(r.status().code(), c.code) << c.name << ": " << r.status();
    EXPECT_NE(r.status().message().find(c.says), std::string_view::npos) << c.name << ": " << r.status();
    auto next = rt->Run(Named("fine"));  // the run goes on
    ASSERT_TRUE(next.ok()) << "after " << c.name << ": " << next.status();
    EXPECT_EQ(next->end_time, 2);
    // A hang, a crash and a line out of step (junk, chatty) cost the process.
    const bool restart = c.code == absl::StatusCode::kDeadlineExceeded || c.code == absl::StatusCode::kAborted ||
                         std::string(c.name) == "junk" || std::string(c.name) == "chatty";
    restarts += restart;
    EXPECT_EQ(rt->restarts(), restarts) << c.name;
  }
}

TEST_F(FakeAdapter, CrashQuotesTheExitStatusAndTheEndOfStderr) {
  auto rt = Start();
  ASSERT_TRUE(rt);
  auto r = rt->Run(Named("crash"));
  ASSERT_TRUE(absl::IsAborted(r.status())) << r.status();
  EXPECT_NE(r.status().message().find("exited with status 3"), std::string_view::npos) << r.status();
  EXPECT_NE(r.status().message().find("fake: some earlier noise\nfake: crashing on purpose (crash)"),
            std::string_view::npos)
      << r.status();
}

TEST_F(FakeAdapter, BrokenHandshakesAreRefusedWithTheReason) {
  struct Case {
    const char* mode;
    const char* says;
  } cases[] = {
      {"--hello=garbage", "the first line is not JSON"},
      {"--hello=exit", "fake: refusing to start"},
      {"--hello=protocol3", "speaks protocol 3; this check speaks 1 and 2"},
      {"--hello=badcap", "unknown capability 'teleport'"},
      {"--model=3.9", "model must be"},
  };
  for (const Case& c : cases) {
    auto rt = AdapterRuntime::Start({kPython, kFake, c.mode}, 2000);
    ASSERT_FALSE(rt.ok()) << c.mode;
    EXPECT_NE(rt.status().message().find(c.says), std::string_view::npos) << c.mode << ": " << rt.status();
  }
  auto missing = AdapterRuntime::Start({"/nonexistent/adapter"}, 2000);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("cannot execute /nonexistent/adapter"), std::string_view::npos)
      << missing.status();
}

TEST_F(FakeAdapter, CPythonFactoryStillWorks) {
  auto rt = CPythonRuntime::Start(kPython, "conformance/adapters/cpython/driver.py", 2000);
  ASSERT_TRUE(rt.ok()) << rt.status();
  EXPECT_EQ((*rt)->name(), "cpython");
  EXPECT_EQ((*rt)->version(), "3.13.0");
  EXPECT_EQ((*rt)->info().model, "3.13");
  EXPECT_TRUE((*rt)->info().capabilities->count("base"));
  auto r = (*rt)->Run(Named("fine"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->end_time, 2);
}

TEST(Hello, OldStyleHelloMeansEverything) {
  auto h = ParseHello(R"({"hello": {"runtime": "cpython", "version": "3.13.0"}})");
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(h->protocol, 1);
  EXPECT_FALSE(h->capabilities);  // nothing filtered
  EXPECT_EQ(h->clock, "virtual");
}

TEST(Hello, FieldsAreChecked) {
  for (const char* bad : {R"({"hello": {"version": "1"}})", R"({"hello": {"runtime": "Trio!", "version": "1"}})",
                          R"({"hello": {"runtime": "t", "version": 1}})",
                          R"({"hello": {"runtime": "t", "version": "1", "capabilities": "all"}})",
                          R"({"hello": {"runtime": "t", "version": "1", "clock": "real"}})",
                          R"({"hello": {"runtime": "t", "version": "1", "rules": 3}})", R"({"hi": 1})", "[]"}) {
    EXPECT_FALSE(ParseHello(bad).ok()) << bad;
  }
  auto h = ParseHello(R"({"hello": {"runtime": "uvloop", "version": "0.19", "capabilities": ["sleep"],
                        "clock": "real", "tick_ms": 20, "rules": ["TG-*", "EG-3"]}})");
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(h->tick_ms, 20);
  EXPECT_EQ(h->rules, (std::vector<std::string>{"TG-*", "EG-3"}));
  EXPECT_EQ(*h->capabilities, Capabilities{"sleep"});
}

// RT-8: `observes` names the optional channels; the others are dropped from
// the outcomes, and a declared one must be there.
TEST(Hello, RT_8_ObservesSelectsTheChannels) {
  EXPECT_FALSE(ParseHello(R"({"hello": {"runtime": "t", "version": "1", "observes": ["logging"]}})").ok());
  EXPECT_FALSE(ParseHello(R"({"hello": {"runtime": "t", "version": "1", "observes": "warnings"}})").ok());
  auto none = ParseHello(R"({"hello": {"runtime": "t", "version": "1"}})");
  auto handler = ParseHello(R"({"hello": {"runtime": "t", "version": "1", "observes": ["exception_handler"]}})");
  ASSERT_TRUE(none.ok() && handler.ok());
  EXPECT_EQ(handler->observes, std::set<std::string>{"exception_handler"});
  spec::Outcome o;
  o.handler.emplace();
  o.warnings.emplace();
  spec::Outcome a = o;
  ASSERT_TRUE(ApplyObserves(*none, a).ok());
  EXPECT_FALSE(a.handler.has_value());
  EXPECT_FALSE(a.warnings.has_value());
  spec::Outcome b = o;
  ASSERT_TRUE(ApplyObserves(*handler, b).ok());
  EXPECT_TRUE(b.handler.has_value());
  EXPECT_FALSE(b.warnings.has_value());
  spec::Outcome c;
  absl::Status s = ApplyObserves(*handler, c);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(std::string(s.message()).find("no \"handler\""), std::string::npos) << s;
}

TEST(Manifests, SeveralRuntimesPerDirectoryAndClearErrors) {
  const std::string dir = TmpDir("adapters");
  std::filesystem::create_directories(dir + "/anyio");
  std::filesystem::create_directories(dir + "/broken");
  std::filesystem::create_directories(dir + "/not_an_adapter");
  std::ofstream(dir + "/anyio/adapter.json") << R"({"runtimes": [
      {"name": "anyio-asyncio", "command": ["python3", "{dir}/adapter.py", "--backend=asyncio"], "reproducer": "asyncio",
       "hello_timeout_ms": 60000},
      {"name": "anyio-trio", "command": ["python3", "{dir}/adapter.py", "--backend=trio"], "description": "d",
       "reproducer": {"command": ["python3", "{dir}/adapter.py", "--emit-python"], "ext": "py"}},
      {"name": "bad-repro", "command": ["x"], "reproducer": "trio"},
      {"name": "bad-hello", "command": ["x"], "hello_timeout_ms": "slow"}]})";
  std::ofstream(dir + "/broken/adapter.json") << R"({"runtimes": [{"name": "x"}]})";
  std::vector<std::string> errors;
  auto rs = ReadManifests(dir, &errors);
  ASSERT_EQ(rs.size(), 2u);
  EXPECT_EQ(rs[0].name, "anyio-asyncio");
  EXPECT_EQ(rs[0].reproducer, "asyncio");
  EXPECT_EQ(rs[0].hello_timeout_ms, 60000);
  EXPECT_EQ(rs[1].hello_timeout_ms, AdapterRuntime::kHelloTimeoutMs);
  EXPECT_EQ(rs[0].command[1], std::filesystem::absolute(dir + "/anyio").lexically_normal().string() + "/adapter.py");
  EXPECT_EQ(rs[1].command[2], "--backend=trio");
  EXPECT_EQ(rs[1].reproducer, "command");
  EXPECT_EQ(rs[1].reproducer_ext, "py");
  EXPECT_EQ(rs[1].reproducer_command[1], rs[1].command[1]);
  ASSERT_EQ(errors.size(), 3u);
  EXPECT_NE(errors[0].find("anyio/adapter.json: runtimes[2].reproducer must be"), std::string::npos) << errors[0];
  EXPECT_NE(errors[1].find("anyio/adapter.json: runtimes[3].hello_timeout_ms must be an integer"), std::string::npos)
      << errors[1];
  EXPECT_NE(errors[2].find("broken/adapter.json: runtimes[0] needs a name"), std::string::npos) << errors[2];
}

TEST(Capabilities, UsedAndMissing) {
  auto p = spec::ProgramFromJson(R"({"asyncspec":1,"main":[
      {"op":"try","name":"t","body":[{"op":"raise","label":"K","base":true}],
       "handlers":[{"name":"h","catch":"base","star":true,"body":[],"then":"swallow"}]},
      {"op":"task","task":{"name":"a","body":[{"op":"return","value":"v"}]}}]})");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(UsedCapabilities(*p), (Capabilities{"try", "raise", "base", "except_star", "task", "return"}));
  EXPECT_EQ(Missing(*p, Capabilities{"try", "raise", "task", "return"}), (Capabilities{"base", "except_star"}));
  EXPECT_TRUE(Missing(*p, std::nullopt).empty());
}

TEST(Capabilities, ThenUncancelUsesUncancel) {
  // A handler ending in `then uncancel` calls current_task().uncancel()
  // (ADAPTERS.md): a runtime without `uncancel` is not sent it (CX-9).
  auto p = spec::ProgramFromJson(R"({"asyncspec":1,"main":[
      {"op":"try","name":"t","body":[{"op":"sleep","d":1}],
       "handlers":[{"name":"h","catch":"cancelled","star":false,"body":[],"then":"uncancel"}]}]})");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(Missing(*p, Capabilities{"try", "sleep"}), (Capabilities{"uncancel"}));
  // And trees drawn for such a runtime have none.
  const Capabilities caps = {"sleep", "raise", "return", "group", "spawn", "timeout", "try"};
  for (int i = 0; i < 200; ++i) {
    const spec::Program t = TreeProgram(TreeSeed(5, i), caps);
    EXPECT_FALSE(UsedCapabilities(t).count("uncancel")) << TreeSeed(5, i);
  }
}

TEST(Capabilities, FullRuntimesGetTheUnrestrictedTrees) {
  for (int i = 0; i < 50; ++i) {
    const std::uint64_t seed = TreeSeed(1, i);
    EXPECT_EQ(TreeProgram(seed, AllCapabilities()), TreeProgram(seed)) << seed;
  }
}

TEST(Capabilities, RestrictedTreesInTieFreeModeHaveDistinctDelays) {
  // SCHED-2: --ties=free promises no two timers due together, for a runtime
  // that declares fewer constructs too. DistinctDelays gives the positive
  // delays 1, 2, 4, ... in walk order, so applying it again changes nothing
  // exactly when the tree already had them (delays drawn from [0, 4] do not).
  const Capabilities caps = {"sleep", "raise", "return", "group", "spawn", "timeout", "try"};
  int changed = 0;
  for (int i = 0; i < 200; ++i) {
    const std::uint64_t seed = TreeSeed(9, i);
    const spec::Program p = TreeProgram(seed, caps, "free");
    spec::Program again = p;
    spec::gen::DistinctDelays(again);
    changed += !(again == p);
    EXPECT_TRUE(again == p) << seed;
  }
  EXPECT_EQ(changed, 0);
  // The default mode keeps its drawn delays, so the check above is not
  // vacuous: applying DistinctDelays to those trees does change them.
  int differ = 0;
  for (int i = 0; i < 200; ++i) {
    const spec::Program p = TreeProgram(TreeSeed(9, i), caps);
    spec::Program again = p;
    spec::gen::DistinctDelays(again);
    differ += !(again == p);
  }
  EXPECT_GE(differ, 100) << "default-mode trees should mostly have other delays";
}

TEST(Capabilities, RestrictedTreesAreValidAndMostlyRunnable) {
  // A small runtime: tasks, groups, cancel and try; no gather, timeout,
  // shield, wait_for, uncancel, except* or base errors.
  const Capabilities caps = {"sleep", "raise", "return", "task", "group", "spawn", "cancel", "await", "try"};
  int runnable = 0, unrestricted_runnable = 0;
  const int n = 300;
  for (int i = 0; i < n; ++i) {
    spec::Program p = TreeProgram(TreeSeed(3, i), caps);
    ASSERT_TRUE(spec::Validate(p).ok()) << TreeSeed(3, i);
    runnable += Missing(p, caps).empty();
    unrestricted_runnable += Missing(TreeProgram(TreeSeed(3, i)), caps).empty();
  }
  // Filtering unrestricted trees would keep few; restricting keeps nearly all.
  EXPECT_GE(runnable, n * 95 / 100) << "restricted: " << runnable << ", unrestricted: " << unrestricted_runnable;
  EXPECT_GE(runnable - unrestricted_runnable, n / 4)
      << "restricted: " << runnable << ", unrestricted: " << unrestricted_runnable;
}

}  // namespace
}  // namespace asyncspec::conformance
