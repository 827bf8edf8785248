// Known failures of a runtime: conformance/expectations/<runtime>.json.
//
// A runtime that is checked in CI usually has a few known deviations (a
// CPython version that differs from the rules, a program whose outcome is
// not reproducible). Listing them lets a run tell "as expected" from "new
// failure" and notice an "unexpected pass" when a deviation goes away, and
// lets the exit code be 0 when every failure is expected.
//
// The file:
//
//   {"runtime": "cpython-3.11",
//    "expected": [
//      {"rule": "TG-9", "departure": "tg_uncancel_after_wait", "outcome": "FAIL",
//       "issue": "https://github.com/python/cpython/issues/116720", "status": "fixed",
//       "fixed_in": "3.13.0", "reason": "..."},
//      {"rule": "INV-9", "outcome": "FAIL", "reason": "..."},
//      {"program": "tree:1234", "outcome": "FAIL", "rule": "RT-2", "reason": "..."},
//      {"program": "case:*", "outcome": "TIMEOUT", "reason": "..."}]}
//
// An entry has an `outcome` (FAIL, CRASH or TIMEOUT), a `reason`, and a
// `program` (a program ID or a glob over them) or a `rule` (a rule-ID glob)
// or both. A failing program (FAIL) is expected when every rule it breaks is
// covered by an entry that matches it; a program that is not deterministic
// (it broke INV-9) is judged by INV-9 alone, as its other findings depend on
// which run they came from. CRASH and TIMEOUT need a matching `program`.
//
// An entry with `departure` names a row of the model's departure table
// (spec/model/profiles.h: a flag where a shipped CPython departs from
// `spec`); its `rule` must be that row's rule (it may be left out). It
// covers a failing program only when the observed outcome is exactly the
// model's with some listed departures' flags at their shipped value (the
// smallest such set, single departures first), and the failure is then
// reported under those departures' rules; anything the listed departures
// do not explain is a new failure. Its unexpected passes are per program:
// a program that passed though the departure changes its model outcome.
//
// Any entry may say where the failure is tracked: `issue` (an upstream
// issue URL, or null when there is none yet, and then `finding`, the path of
// a drafted report in conformance/findings/), `status` ("fixed", "open",
// "candidate", "documented") and `fixed_in` (the first release without the
// failure, or null). Reports print them: `FAIL (expected: TG-9, gh-116720,
// fixed in 3.13.0)`.
//
// A program entry none of whose failures happened is an unexpected pass
// when the run checked that program. A rule entry only says "may fail under
// this rule": one that matched nothing is listed as "not seen", since a run
// may simply not have met such a program.
#ifndef ASYNCSPEC_CONFORMANCE_EXPECTATIONS_H_
#define ASYNCSPEC_CONFORMANCE_EXPECTATIONS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace asyncspec::conformance {

struct Expectation {
  std::string program;  // program-ID glob ("tree:123", "case:tg_*"); "" any
  std::string rule;     // rule-ID glob; "" any
  std::string outcome;  // "FAIL" | "CRASH" | "TIMEOUT"
  std::string reason;
  std::string departure;   // "" or a spec::Departure id (exact match, see above)
  std::string issue;       // upstream issue URL ("" none)
  std::string finding;     // drafted report when there is no issue ("" none)
  std::string status;      // "" | "fixed" | "open" | "candidate" | "documented"
  std::string fixed_in;    // "" or the release that fixed it
  // Filled in by the engine.
  int matched = 0;         // programs it made "as expected"
  bool exercised = false;  // the run checked what it names
};

struct Expectations {
  std::string path;     // where it was read from ("" none)
  std::string runtime;  // the file's "runtime"
  std::vector<Expectation> entries;
};

// Reads `path`. A missing file is an empty list, unless `must_exist` (a file
// the user named): then it is an error. A malformed one is an error located
// at path:line:column (bad JSON) or at the entry and field.
absl::StatusOr<Expectations> LoadExpectations(const std::string& path, bool must_exist = false);
absl::StatusOr<Expectations> ParseExpectations(const std::string& text, const std::string& path);
std::string ExpectationsToJson(const Expectations& e);
// How reports name an entry: its rule, then the issue ("gh-116720" for a
// CPython issue URL), or "candidate bug, <finding>", then "fixed in X" or
// the status: "TG-9, gh-116720, fixed in 3.13.0".
std::string ExpectationLabel(const Expectation& e);

}  // namespace asyncspec::conformance

#endif  // ASYNCSPEC_CONFORMANCE_EXPECTATIONS_H_
