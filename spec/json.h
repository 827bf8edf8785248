// The JSON form of programs, outcomes and exceptions (spec/FORMAT.md).
//
// Readers are strict and total: any input, however malformed, large or deep,
// yields either a value or an InvalidArgument status whose message names the
// place of the first problem, and never throws, crashes or recurses without
// bound. Places are JSON paths in the field names of FORMAT.md, e.g.
//   main[2].body[0].d: expected integer >= 0, got "x"
// and JSON syntax errors give line, column and byte offset:
//   line 3, column 7 (byte 41): syntax error while parsing object key - ...
//
// Reading checks the *shape* of a program (known ops, required fields, value
// types and ranges, name syntax, size limits of program.h); the cross-step
// rules (unique names, references, `return` placement, await cycles) are
// spec/validate.h's. Field defaults (absent means): `name` "", `base` false,
// `star` false, `return_exceptions` false, `label` none, `msg` none, `finally`
// none; every other field of FORMAT.md is required, and unknown fields are
// refused (they are usually typos). `asyncspec`, if present, must be 1.
// A key repeated within one object is refused too (nlohmann's DOM would keep
// the last one silently). Errors found after parsing name JSON paths, not
// lines: nlohmann's DOM keeps no positions.
//
// Writers produce compact, single-line JSON (no newline anywhere, so one
// value per line works for line-oriented protocols) that the readers accept
// and map back to an equal value. Strings are written as valid UTF-8; an
// invalid byte in a string built in code is written as U+FFFD.
#ifndef ASYNCSPEC_SPEC_JSON_H_
#define ASYNCSPEC_SPEC_JSON_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "spec/outcome.h"
#include "spec/program.h"

namespace asyncspec::spec {

// Inputs longer than this are refused before parsing.
inline constexpr std::size_t kMaxJsonBytes = 64u << 20;

absl::StatusOr<Program> ProgramFromJson(std::string_view json);
absl::StatusOr<Outcome> OutcomeFromJson(std::string_view json);
absl::StatusOr<Exc> ExcFromJson(std::string_view json);

// Preconditions: the value respects the limits of program.h (as every value
// read by this library does); otherwise the writers may exhaust the stack.
std::string ProgramToJson(const Program& program);
std::string OutcomeToJson(const Outcome& outcome);
std::string ExcToJson(const Exc& exc);

// Appends `s` to `out` as a JSON string literal (quotes included). Shared with
// the text form, whose quoted strings are JSON string literals.
void AppendJsonString(std::string& out, std::string_view s);

// The JSON names of enumerations, as in FORMAT.md ("cancelled", "reraise", ...).
std::string_view CatchKindName(CatchKind kind);
std::string_view ThenName(Then then);

}  // namespace asyncspec::spec

#endif  // ASYNCSPEC_SPEC_JSON_H_
