// Text no generated file may be broken by: what an adapter (its hello, its
// outcomes) or a program (names, labels, values, cancel messages) can put
// into a reproducer. Shared by quote_test (each string through the real
// Python and g++) and reproducer_test (every field of whole reproducers).
#ifndef ASYNCSPEC_CONFORMANCE_HOSTILE_TEXT_TESTING_H_
#define ASYNCSPEC_CONFORMANCE_HOSTILE_TEXT_TESTING_H_

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace asyncspec::conformance::testing {

using namespace std::string_literals;

// Newlines, quotes, backslashes, NULs, `"""`, `)"`, `*/`, a trailing
// backslash (a C++ line splice in a comment), DEL, non-ASCII, and bytes that
// are not UTF-8.
inline const std::vector<std::string> kHostile = {
    "",
    "plain",
    "nl\nimport os; os.system('echo INJECTED')\n#",
    "cr\r\nlf",
    "quote\" squote' bs\\ end",
    "nul\0in\0side"s,
    "\0"s,
    "triple\"\"\" and '''",
    "raw)\" R\"x( )x\" close",
    "comment */ /* // #",
    "splice\\",
    "trigraph ??/ ??= ?",
    "octal\0" "1 and \x7f del"s,
    "utf8 \xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xe2\x80\xa8 ls \xc2\x85 nel",
    "\xef\xbb\xbf bom",
};
inline const std::vector<std::string> kNotUtf8 = {"bad \xff byte", "cut \xe2\x82", "overlong \xc0\xaf",
                                                  "surrogate \xed\xa0\x80"};

// Most of the above in one string, valid UTF-8, for fields that take one
// (an injected os.system would print INJECTED on a line of its own).
inline const std::string kHostileLine =
    "nl\nimport os; os.system('echo INJECTED') #\r q\" sq' bs\\ nul\0 \"\"\" )\" R\"x( */ /* ?? \xc3\xa9 \xe2\x80\xa8 end\\"s;

// The test's scratch directory.
inline std::string TmpDir() {
  const char* t = std::getenv("TEST_TMPDIR");
  return t ? t : "/tmp";
}

// A file's bytes ("" if it cannot be read).
inline std::string Slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

}  // namespace asyncspec::conformance::testing

#endif  // ASYNCSPEC_CONFORMANCE_HOSTILE_TEXT_TESTING_H_
