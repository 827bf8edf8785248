#include "conformance/safe_text.h"

#include <gtest/gtest.h>

namespace asyncspec::conformance {
namespace {

const std::string kFffd = "\xEF\xBF\xBD";

TEST(SafeText, ValidUtf8KeepsValidTextAndReplacesEachBadByte) {
  EXPECT_EQ(ValidUtf8("plain é € 𝄞"), "plain é € 𝄞");
  EXPECT_EQ(ValidUtf8(std::string("a\xFF" "b")), "a" + kFffd + "b");
  EXPECT_EQ(ValidUtf8("\xC3"), kFffd) << "a lead byte cut at the end";
  EXPECT_EQ(ValidUtf8("\xC0\xAF"), kFffd + kFffd) << "overlong";
  EXPECT_EQ(ValidUtf8("\xED\xA0\x80"), kFffd + kFffd + kFffd) << "a surrogate";
  EXPECT_EQ(ValidUtf8("\xF4\x90\x80\x80"), kFffd + kFffd + kFffd + kFffd) << "above U+10FFFF";
  EXPECT_EQ(ValidUtf8(std::string("\0x", 2)), std::string("\0x", 2)) << "NUL is valid UTF-8";
}

TEST(SafeText, XmlTextEscapesMarkupAndWhatXmlForbids) {
  EXPECT_EQ(XmlText("<a & \"b\" 'c'>"), "&lt;a &amp; &quot;b&quot; &apos;c&apos;&gt;");
  EXPECT_EQ(XmlText("tab\tnl\ncr\r"), "tab\tnl\ncr\r");
  EXPECT_EQ(XmlText(std::string("\x01\x1b\0", 3)), "\\u0001\\u001B\\u0000");
  EXPECT_EQ(XmlText("\xEF\xBF\xBE|\xEF\xBF\xBF|\xEF\xBF\xBD"), "\\uFFFE|\\uFFFF|" + kFffd);
  EXPECT_EQ(XmlText("\xFF"), kFffd);
}

TEST(SafeText, Utf8PrefixNeverCutsACharacter) {
  EXPECT_EQ(Utf8Prefix("short", 10), "short");
  EXPECT_EQ(Utf8Prefix("abcdef", 3), "abc...");
  EXPECT_EQ(Utf8Prefix("aé", 2), "a...") << "é is two bytes: dropped whole";
  EXPECT_EQ(Utf8Prefix("a€b", 3), "a...");
  EXPECT_EQ(Utf8Prefix("a€b", 4), "a€...");
  EXPECT_EQ(Utf8Prefix("𝄞𝄞", 6), "𝄞...");
  // Every cut of a text of 1- to 4-byte characters stays valid UTF-8.
  const std::string mixed = "aé€𝄞aé€𝄞";
  for (std::size_t k = 0; k <= mixed.size(); ++k) {
    const std::string p = Utf8Prefix(mixed, k);
    EXPECT_EQ(ValidUtf8(p), p) << "cut at " << k;
    EXPECT_LE(p.size(), k + 3) << "cut at " << k;
  }
}

}  // namespace
}  // namespace asyncspec::conformance
