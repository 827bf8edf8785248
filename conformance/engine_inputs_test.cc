// The engine's readers of its own inputs: a golden case whose fields have
// the wrong JSON type, and a --program file past the 64 MiB limit, give a
// located error status (the check turns it into a message and exit 2),
// never an uncaught exception, and the limit holds while reading.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "conformance/engine.h"
#include "spec/model/model.h"

namespace asyncspec::conformance {
namespace {

class ModelRuntime : public Runtime {
 public:
  std::string name() const override { return "model_stand_in"; }
  absl::StatusOr<spec::Outcome> Run(const spec::Program& program) override {
    return spec::RunModel(program, spec::SpecProfile());
  }
};

std::string Dir(const std::string& name) {
  const char* t = std::getenv("TEST_TMPDIR");
  std::string d = std::string(t ? t : "/tmp") + "/" + name;
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  return d;
}

absl::StatusOr<Report> RunCases(const std::string& case_json) {
  const std::string dir = Dir("cases");
  std::ofstream(dir + "/bad_case.json") << case_json;
  Options o;
  o.trees = 0;
  o.cases_dir = dir;
  o.quiet = true;
  Engine engine(o, spec::SpecProfile(), std::make_unique<ModelRuntime>(), RuleCatalogue{});
  return engine.RunAll();
}

const char* kProgram = R"({"asyncspec": 1, "main": [{"op": "sleep", "d": 1}]})";
const char* kExpected = R"({"end_time": 1, "run": null, "tasks": {"main": {"start": 0, "end": 1, "state": "returned"}}})";

TEST(GoldenCaseReader, WrongTypesAreLocatedErrors) {
  struct Bad {
    std::string json, want;
  } bad[] = {
      {std::string(R"({"name": 42, "program": )") + kProgram + R"(, "expected": )" + kExpected + "}",
       "bad_case.json: \"name\" must be a string"},
      {std::string(R"({"rules": "CX-1", "program": )") + kProgram + R"(, "expected": )" + kExpected + "}",
       "bad_case.json: \"rules\" must be an array"},
      {std::string(R"({"rules": ["CX-1", 7], "program": )") + kProgram + R"(, "expected": )" + kExpected + "}",
       "bad_case.json: rules[1] must be a string"},
      {std::string(R"({"program": 5, "expected": )") + kExpected + "}", "bad_case.json: \"program\" and \"expected\""},
      {std::string(R"({"program": {"asyncspec": 1, "main": [{"op": "return", "value": "x"}, {"op": "sleep", "d": 1}]}, "expected": )") +
           kExpected + "}",
       "bad_case.json: main[0]"},
  };
  for (const Bad& b : bad) {
    absl::StatusOr<Report> r;
    EXPECT_NO_THROW(r = RunCases(b.json)) << b.json;
    ASSERT_FALSE(r.ok()) << b.json;
    EXPECT_NE(std::string(r.status().message()).find(b.want), std::string::npos) << r.status() << "\nwant: " << b.want;
  }
}

long HighWaterKb() {
  std::ifstream in("/proc/self/status");
  std::string key;
  long v = -1;
  while (in >> key) {
    if (key == "VmHWM:") {
      in >> v;
      break;
    }
  }
  return v;
}

// /dev/zero never ends: the reader must stop at the limit (it read 1 GiB
// first). The peak grows by about 64 MiB, far from 1 GiB.
TEST(ProgramReader, DevZeroStopsAtTheLimit) {
  Options o;
  o.program_file = "/dev/zero";
  o.quiet = true;
  const long before = HighWaterKb();
  Engine engine(o, spec::SpecProfile(), std::make_unique<ModelRuntime>(), RuleCatalogue{});
  auto r = engine.RunAll();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(std::string(r.status().message()).find("/dev/zero: larger than the limit of 67108864 bytes"),
            std::string::npos)
      << r.status();
  EXPECT_LT(HighWaterKb() - before, 400 * 1024) << "kB of peak growth reading /dev/zero";
}

}  // namespace
}  // namespace asyncspec::conformance
