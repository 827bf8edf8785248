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
//      {"rule": "TG-9", "outcome": "FAIL", "reason": "gh-116720: ..."},
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
// An entry with `as_profile` ("3.11", "3.12", "3.13") names a known version
// difference: it covers a failure only if the runtime's outcome is exactly
// the model's under that profile (e.g. CPython 3.11 checked against the 3.13
// rules behaving as the model's 3.11 profile says, RULES.md "Where 3.11 /
// 3.12 differ"), so a deviation the model does not explain is still new.
// Its unexpected passes are per program: a program whose model outcome
// differs between the two profiles but that passed.
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
  std::string as_profile;  // "" or a model profile the outcome must match
  // Filled in by the engine.
  int matched = 0;         // programs it made "as expected"
  bool exercised = false;  // the run checked what it names
};

struct Expectations {
  std::string path;     // where it was read from ("" none)
  std::string runtime;  // the file's "runtime"
  std::vector<Expectation> entries;
};

// Reads `path`; a missing file is an empty list (not an error), a malformed
// one is an error naming the entry and the field.
absl::StatusOr<Expectations> LoadExpectations(const std::string& path);
absl::StatusOr<Expectations> ParseExpectations(const std::string& text, const std::string& path);
std::string ExpectationsToJson(const Expectations& e);

}  // namespace asyncspec::conformance

#endif  // ASYNCSPEC_CONFORMANCE_EXPECTATIONS_H_
