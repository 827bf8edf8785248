// The text form of programs: compact, indentation-based, Python-flavoured;
// what failure reports print and what people write by hand. The language is
// documented, with a grammar and examples, in spec/LANGUAGE.md. Example:
//
//   program tg_two_errors
//   main:
//     group g:
//       spawn g a:
//         sleep 1
//         raise E1
//     try t1:
//       await a
//     except* error E1 as h1 then swallow:
//       sleep 1
//
// Like the JSON reader (spec/json.h), the parser checks shape only (see
// spec/validate.h for validity), is total (any input gives a Program or an
// InvalidArgument status, never an exception or a crash; nesting and step
// count are bounded by program.h's limits before recursing) and reports the
// first problem as "line:column: message", e.g.
//   3:12: expected ':' after 'spawn g a'
// Parsed steps carry their line and column (Step::line, Step::column).
//
// ProgramToText(p) parses back to a Program equal to p, for every p whose
// names match [A-Za-z_][A-Za-z0-9_]* and whose strings are valid UTF-8 (in
// particular every valid program).
#ifndef ASYNCSPEC_SPEC_TEXT_H_
#define ASYNCSPEC_SPEC_TEXT_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "spec/program.h"

namespace asyncspec::spec {

// Inputs longer than this are refused before parsing.
inline constexpr std::size_t kMaxTextBytes = 64u << 20;

absl::StatusOr<Program> ProgramFromText(std::string_view text);

// Two spaces per level, one step per line, ending with a newline.
// Precondition: the program respects the limits of program.h.
std::string ProgramToText(const Program& program);

}  // namespace asyncspec::spec

#endif  // ASYNCSPEC_SPEC_TEXT_H_
