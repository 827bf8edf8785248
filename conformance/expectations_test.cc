// The expectations reader (conformance/expectations.h): departure entries,
// issue/status/fixed_in, labels, and located errors for bad input.
#include "conformance/expectations.h"

#include <cstdlib>
#include <fstream>
#include <set>
#include <string>

#include <gtest/gtest.h>

#include "spec/model/profiles.h"

namespace asyncspec::conformance {
namespace {

std::string ErrorOf(const std::string& text) {
  auto e = ParseExpectations(text, "x.json");
  return e.ok() ? std::string("(accepted)") : std::string(e.status().message());
}

TEST(Expectations, DepartureEntryReadsItsFields) {
  auto e = ParseExpectations(R"({"runtime": "cpython-3.12", "expected": [
      {"departure": "tg_uncancel_after_wait", "outcome": "FAIL",
       "issue": "https://github.com/python/cpython/issues/116720", "status": "fixed", "fixed_in": "3.13.0",
       "reason": "r"}]})",
                             "x.json");
  ASSERT_TRUE(e.ok()) << e.status();
  ASSERT_EQ(e->entries.size(), 1u);
  const Expectation& t = e->entries[0];
  EXPECT_EQ(t.rule, "TG-9");  // from the model's departure table
  EXPECT_EQ(t.departure, "tg_uncancel_after_wait");
  EXPECT_EQ(t.fixed_in, "3.13.0");
  EXPECT_EQ(ExpectationLabel(t), "TG-9, gh-116720, fixed in 3.13.0");
  // Written back the same way.
  auto again = ParseExpectations(ExpectationsToJson(*e), "y.json");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(ExpectationLabel(again->entries[0]), "TG-9, gh-116720, fixed in 3.13.0");
}

TEST(Expectations, CandidateBugWithoutAnIssue) {
  auto e = ParseExpectations(R"({"expected": [{"rule": "TG-5", "outcome": "FAIL", "issue": null,
      "finding": "conformance/findings/tg5.md", "status": "candidate", "reason": "r"}]})",
                             "x.json");
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(ExpectationLabel(e->entries[0]), "TG-5, candidate bug, conformance/findings/tg5.md");
  auto back = ParseExpectations(ExpectationsToJson(*e), "y.json");
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->entries[0].finding, "conformance/findings/tg5.md");
}

TEST(Expectations, BadJsonIsLocatedAtLineAndColumn) {
  const std::string err = ErrorOf("{\"expected\": [\n  {\"rule\": \"TG-9\",,}\n]}");
  EXPECT_EQ(err.rfind("x.json:2:", 0), 0u) << err;
  EXPECT_NE(err.find("not valid JSON"), std::string::npos) << err;
}

TEST(Expectations, BadEntriesNameTheEntryAndTheField) {
  struct Case {
    const char* entry;
    const char* says;
  } cases[] = {
      {R"({"rule": "*", "outcome": "FAIL", "as_profile": "3.11", "reason": "r"})", "expected[0].as_profile is not supported"},
      {R"({"departure": "nope", "outcome": "FAIL", "issue": null, "finding": "f", "status": "open", "reason": "r"})",
       "expected[0].departure 'nope' is not a departure of the model"},
      {R"({"departure": "tg_uncancel_after_wait", "rule": "TG-11", "outcome": "FAIL", "issue": "u", "status": "open", "reason": "r"})",
       "expected[0].rule is TG-11 but departure tg_uncancel_after_wait breaks TG-9"},
      {R"({"departure": "tg_uncancel_after_wait", "outcome": "FAIL", "status": "open", "reason": "r"})",
       "a departure entry needs issue"},
      {R"({"departure": "tg_uncancel_after_wait", "outcome": "FAIL", "issue": "u", "reason": "r"})",
       "a departure entry needs status"},
      {R"({"rule": "TG-9", "outcome": "FAIL", "issue": null, "reason": "r"})", "\"issue\": null needs \"finding\""},
      {R"({"rule": "TG-9", "outcome": "FAIL", "issue": 7, "reason": "r"})", "expected[0].issue must be a string or null"},
      {R"({"rule": "TG-9", "outcome": "FAIL", "status": "fixed", "reason": "r"})", "a fixed entry needs fixed_in"},
      {R"({"rule": "TG-9", "outcome": "FAIL", "status": "maybe", "reason": "r"})", "expected[0].status must be"},
      {R"({"rule": "TG-9", "outcome": "FAIL", "reason": "r", "isue": "u"})", "unknown field 'isue'"},
  };
  for (const Case& c : cases) {
    const std::string err = ErrorOf(std::string(R"({"expected": [)") + c.entry + "]}");
    EXPECT_NE(err.find(c.says), std::string::npos) << c.entry << "\n  gave: " << err;
    EXPECT_EQ(err.rfind("x.json: ", 0), 0u) << err;
  }
}

TEST(Expectations, AMissingFileIsAnErrorOnlyWhenNamed) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  const std::string path = std::string(tmp ? tmp : "/tmp") + "/no_such_expectations.json";
  auto quiet = LoadExpectations(path);
  ASSERT_TRUE(quiet.ok()) << quiet.status();
  EXPECT_TRUE(quiet->entries.empty());
  auto named = LoadExpectations(path, /*must_exist=*/true);
  ASSERT_FALSE(named.ok());
  EXPECT_NE(named.status().message().find(path), std::string::npos) << named.status();
}

// Every departure entry of the shipped CPython expectation files is a row
// of the model's table with the row's rule, issue and fixed-in release.
TEST(Expectations, ShippedFilesAgreeWithTheDepartureTable) {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  const char* ws = std::getenv("TEST_WORKSPACE");
  const std::string dir = srcdir && ws ? std::string(srcdir) + "/" + ws + "/conformance/expectations/"
                                       : std::string("conformance/expectations/");
  for (const std::string v : {"3.11", "3.12", "3.13", "3.14", "3.15"}) {
    auto e = LoadExpectations(dir + "cpython-" + v + ".json", /*must_exist=*/true);
    ASSERT_TRUE(e.ok()) << e.status();
    std::set<std::string> listed;
    for (const Expectation& t : e->entries) {
      if (t.departure.empty()) continue;
      const spec::Departure* d = spec::FindDeparture(t.departure);
      ASSERT_NE(d, nullptr);
      EXPECT_EQ(t.issue, d->issue ? d->issue : "") << v << " " << t.departure;
      EXPECT_EQ(t.finding, d->finding ? d->finding : "") << v << " " << t.departure;
      EXPECT_EQ(t.fixed_in, d->fixed_in) << v << " " << t.departure;
      listed.insert(t.departure);
    }
    // Exactly the departures the table says this release has.
    std::set<std::string> want;
    for (const spec::Departure& d : spec::Departures()) {
      for (const std::string& dv : d.versions) {
        if (dv == v) want.insert(d.id);
      }
    }
    EXPECT_EQ(listed, want) << "cpython-" << v << ".json";
  }
}

}  // namespace
}  // namespace asyncspec::conformance
