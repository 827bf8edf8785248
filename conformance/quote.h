// Quoting strings into generated source files (the reproducers).
//
// Every string a reproducer writes comes from a program (labels, values,
// cancel messages) or from an adapter (its hello: runtime name, version;
// the replay command) and may hold anything: newlines, quotes, backslashes,
// NULs, `"""`, `)"`, `*/`, bytes that are not UTF-8. Written raw, a newline
// in a hello's `version` ends a comment and injects code. So each goes
// through one of these, which give the target language's own escaping and
// an ASCII-only result:
//   - PyStr: a Python string literal (what repr() would accept back) whose
//     value is the string; invalid UTF-8 bytes become U+FFFD, so printing
//     it cannot fail.
//   - CcStr: a C++ string literal expression of type std::string whose
//     value is the string, embedded NULs included (std::string{"...", n});
//     octal escapes only, no raw strings, so `)"` and `*/` are plain bytes.
//   - CommentText: the string on one comment line of either language:
//     control characters and backslashes escaped as in a string literal
//     (a trailing backslash as \x5c), so it cannot end the line (a
//     newline, or a C++ line splice); readable UTF-8 is kept.
#ifndef ASYNCSPEC_CONFORMANCE_QUOTE_H_
#define ASYNCSPEC_CONFORMANCE_QUOTE_H_

#include <string>

namespace asyncspec::conformance {

std::string PyStr(const std::string& s);
std::string CcStr(const std::string& s);
// A `const char*` C++ literal: the same escaping as CcStr, for strings that
// hold no NUL (what the caller passes to printf). A NUL is written as
// "\\0" (two characters) so the literal is never cut short.
std::string CcCStr(const std::string& s);
std::string CommentText(const std::string& s);

}  // namespace asyncspec::conformance

#endif  // ASYNCSPEC_CONFORMANCE_QUOTE_H_
