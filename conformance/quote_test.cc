// quote.h against the languages themselves: every hostile string, quoted,
// is compiled or parsed by the real tool and must come back byte for byte
// (Debian's /usr/bin/python3 and the system g++, which the reproducers'
// users run; a missing one fails the test).
#include "conformance/quote.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "conformance/hostile_text_testing.h"

namespace asyncspec::conformance {
namespace {

using namespace std::string_literals;
using testing::kHostile;
using testing::kNotUtf8;
using testing::Slurp;

std::string Tmp() { return testing::TmpDir(); }

// Runs `cmd` (stdout to `out`), returning its exit status.
int Shell(const std::string& cmd, const std::string& out) { return std::system((cmd + " > " + out).c_str()); }

// Each string with a separator no test string holds.
const std::string kSep = "\n--8<--\n";
std::string Joined(const std::vector<std::string>& v) {
  std::string o;
  for (const auto& s : v) o += s + kSep;
  return o;
}

TEST(PyStr, RoundTripsThroughPython) {
  std::string py = "import sys\nout = sys.stdout.buffer\n";
  for (const auto& s : kHostile) {
    py += "# " + CommentText(s) + "\n";
    py += "out.write(" + PyStr(s) + ".encode('utf-8', 'surrogatepass'))\n";
    py += "out.write(" + PyStr(kSep) + ".encode())\n";
  }
  for (const auto& s : kNotUtf8) {
    py += "# " + CommentText(s) + "\n";
    py += "out.write(" + PyStr(s) + ".encode('utf-8'))\n";
    py += "out.write(" + PyStr(kSep) + ".encode())\n";
  }
  for (char c : PyStr(Joined(kHostile) + Joined(kNotUtf8))) {
    EXPECT_TRUE(c >= 0x20 && c < 0x7f) << "PyStr: ASCII only, got byte " << int(c);
  }
  const std::string file = Tmp() + "/quote_test.py", out = Tmp() + "/quote_test.py.out";
  std::ofstream(file, std::ios::binary) << py;
  ASSERT_EQ(Shell("/usr/bin/python3 -c \"import ast, sys; ast.parse(open(sys.argv[1], 'rb').read())\" " + file, "/dev/null"), 0)
      << "the generated Python does not parse:\n" << py;
  ASSERT_EQ(Shell("/usr/bin/python3 " + file, out), 0) << py;
  std::string want = Joined(kHostile);
  // Bytes that are not UTF-8 come back as U+FFFD (so that printing them
  // cannot fail); the valid rest exactly.
  const std::string r = "\xef\xbf\xbd";
  want += "bad " + r + " byte" + kSep + "cut " + r + r + kSep + "overlong " + r + r + kSep + "surrogate " + r + r + r + kSep;
  EXPECT_EQ(Slurp(out), want);
}

TEST(CcStr, RoundTripsThroughGxx) {
  std::string cc = "#include <cstdio>\n#include <string>\nint main() {\n  std::string s;\n";
  for (const auto& s : kHostile) {
    cc += "  // " + CommentText(s) + "\n";
    cc += "  s += " + CcStr(s) + ";\n";
    cc += "  s += " + CcStr(kSep) + ";\n";
    cc += "  s += std::string(" + CcCStr(s) + ") + " + CcStr(kSep) + ";  // " + CommentText(s) + "\n";
  }
  for (const auto& s : kNotUtf8) cc += "  s += " + CcStr(s) + ";\n  s += " + CcStr(kSep) + ";\n";
  cc += "  std::fwrite(s.data(), 1, s.size(), stdout);\n}\n";
  for (char c : CcStr(Joined(kHostile) + Joined(kNotUtf8)) + CcCStr(Joined(kHostile))) {
    EXPECT_TRUE(c >= 0x20 && c < 0x7f) << "CcStr/CcCStr: ASCII only, got byte " << int(c);
  }
  const std::string file = Tmp() + "/quote_test.cc", exe = Tmp() + "/quote_test_cc", out = Tmp() + "/quote_test.cc.out";
  std::ofstream(file, std::ios::binary) << cc;
  ASSERT_EQ(Shell("g++ -std=c++20 -Wall -Werror -o " + exe + " " + file, "/dev/null"), 0) << cc;
  ASSERT_EQ(Shell(exe, out), 0);
  std::string want;
  for (const auto& s : kHostile) {
    // CcCStr is for NUL-free text: a NUL is written as the two characters \0.
    std::string c_str;
    for (char c : s) c_str += c == '\0' ? "\\0"s : std::string(1, c);
    want += s + kSep + c_str + kSep;
  }
  want += Joined(kNotUtf8);  // C++ keeps the bytes as they are
  EXPECT_EQ(Slurp(out), want);
}

// A comment line stays one line in both languages, whatever the text.
TEST(CommentText, NeverEndsTheLine) {
  for (const auto& s : kHostile) {
    const std::string c = CommentText(s);
    EXPECT_EQ(c.find('\n'), std::string::npos) << c;
    EXPECT_EQ(c.find('\r'), std::string::npos) << c;
    EXPECT_EQ(c.find('\0'), std::string::npos) << c;
    EXPECT_TRUE(c.empty() || c.back() != '\\' || (c.size() >= 2 && c[c.size() - 2] == '\\')) << c;
  }
  EXPECT_EQ(CommentText("a\nb\\c\\"), "a\\nb\\\\c\\x5c");
}

}  // namespace
}  // namespace asyncspec::conformance
