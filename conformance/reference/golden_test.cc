// Every golden case of spec/cases/ (its expected outcome recorded from real
// CPython 3.13 by spec/cases/record.py) run on the reference runtime. A
// mismatch names the case's rules and shows both outcomes.
//
// The reference runtime obeys the spec, not 3.13's bugs: where 3.13 departs
// from the spec on a case (the model under shipped-3.13 gives the recording
// and under spec something else: a row of RULES.md's departure table), the
// runtime must give the spec's outcome, and must not give the recording.
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "conformance/reference/interpreter.h"
#include "spec/json.h"
#include "spec/model/model.h"
#include "spec/model/profiles.h"

namespace asyncspec::conformance {
namespace {

std::string CasesDir() {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  return std::string(srcdir ? srcdir : ".") + "/asyncspec/spec/cases";
}

std::vector<std::string> CaseFiles() {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(CasesDir())) {
    if (e.path().extension() == ".json") out.push_back(e.path().filename().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

class Golden : public ::testing::TestWithParam<std::string> {};

TEST_P(Golden, ReferenceRuntimeMatchesCPython313) {
  std::ifstream in(CasesDir() + "/" + GetParam());
  std::stringstream ss;
  ss << in.rdbuf();
  nlohmann::json c = nlohmann::json::parse(ss.str());
  auto program = spec::ProgramFromJson(c["program"].dump());
  ASSERT_TRUE(program.ok()) << program.status();
  auto expected = spec::OutcomeFromJson(c["expected"].dump());
  ASSERT_TRUE(expected.ok()) << expected.status();
  auto got = RunOnReference(*program);
  ASSERT_TRUE(got.ok()) << got.status();
  const spec::Outcome spec_outcome = spec::RunModel(*program, spec::SpecProfile());
  if (spec::RunModel(*program, spec::ShippedProfile("3.13")) == *expected && !(spec_outcome == *expected)) {
    EXPECT_TRUE(*got == spec_outcome) << "rules " << c["rules"].dump() << ": a 3.13 departure; the reference must give the spec's outcome"
                                      << "\n  spec:      " << spec::OutcomeToJson(spec_outcome)
                                      << "\n  reference: " << spec::OutcomeToJson(*got);
    return;
  }
  EXPECT_TRUE(*got == *expected) << "rules " << c["rules"].dump() << ": " << c.value("description", "")
                                 << "\n  CPython 3.13: " << spec::OutcomeToJson(*expected)
                                 << "\n  reference:    " << spec::OutcomeToJson(*got);
}

INSTANTIATE_TEST_SUITE_P(Cases, Golden, ::testing::ValuesIn(CaseFiles()),
                         [](const ::testing::TestParamInfo<std::string>& i) {
                           std::string n = i.param.substr(0, i.param.size() - 5);
                           for (char& ch : n) if (!isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           return n;
                         });

}  // namespace
}  // namespace asyncspec::conformance
