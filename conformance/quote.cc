#include "conformance/quote.h"

#include <cstdint>
#include <cstdio>

namespace asyncspec::conformance {
namespace {

// The next code point of `s` at `i` (advancing i), or -1 for a byte that
// does not start a valid UTF-8 sequence (i advances by one).
long NextCodePoint(const std::string& s, std::size_t& i) {
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = b(i);
  int len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
  if (len == 0 || i + len > s.size()) {
    ++i;
    return -1;
  }
  long cp = len == 1 ? c : c & (0x7f >> len);
  for (int k = 1; k < len; ++k) {
    if ((b(i + k) & 0xc0) != 0x80) {
      ++i;
      return -1;
    }
    cp = (cp << 6) | (b(i + k) & 0x3f);
  }
  static constexpr long kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  // Overlong forms, surrogates and values past U+10FFFF are not UTF-8.
  if (cp < kMin[len] || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) {
    ++i;
    return -1;
  }
  i += len;
  return cp;
}

std::string Hex(const char* format, long v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

// Backslash escapes shared by Python and C++ for ASCII; `other` writes the
// rest of the control characters.
bool CommonEscape(unsigned char c, std::string& o) {
  switch (c) {
    case '\\': o += "\\\\"; return true;
    case '"': o += "\\\""; return true;
    case '\n': o += "\\n"; return true;
    case '\r': o += "\\r"; return true;
    case '\t': o += "\\t"; return true;
    default: return false;
  }
}

}  // namespace

std::string PyStr(const std::string& s) {
  std::string o = "\"";
  for (std::size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      if (CommonEscape(c, o)) continue;
      if (c < 0x20 || c == 0x7f) {
        o += Hex("\\x%02lx", c);
      } else {
        o += static_cast<char>(c);
      }
      continue;
    }
    long cp = NextCodePoint(s, i);
    if (cp < 0) cp = 0xfffd;  // not UTF-8: the replacement character
    o += cp <= 0xff ? Hex("\\x%02lx", cp) : cp <= 0xffff ? Hex("\\u%04lx", cp) : Hex("\\U%08lx", cp);
  }
  return o + "\"";
}

namespace {
// The C++ literal's body: ASCII, with every other byte (NUL, control
// characters, UTF-8 sequences byte by byte) as a three-digit octal escape,
// which never merges with a following digit. '?' is escaped too (no
// trigraph can form in older modes).
std::string CcBody(const std::string& s, bool nul_as_text) {
  std::string o;
  for (unsigned char c : s) {
    if (CommonEscape(c, o)) continue;
    if (c == 0 && nul_as_text) {
      o += "\\\\0";
    } else if (c < 0x20 || c >= 0x7f || c == '?') {
      o += Hex("\\%03lo", c);
    } else {
      o += static_cast<char>(c);
    }
  }
  return o;
}
}  // namespace

std::string CcStr(const std::string& s) {
  return "std::string(\"" + CcBody(s, false) + "\", " + std::to_string(s.size()) + ")";
}

std::string CcCStr(const std::string& s) { return "\"" + CcBody(s, true) + "\""; }

std::string CommentText(const std::string& s) {
  std::string o;
  for (std::size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      if (c == '\\') {
        // A line ending in a backslash would be a C++ line splice (the next
        // line joins the comment): the last one is written \x5c.
        o += i == s.size() ? "\\x5c" : "\\\\";
      } else if (c == '\n') {
        o += "\\n";
      } else if (c == '\r') {
        o += "\\r";
      } else if (c == '\t') {
        o += "\\t";
      } else if (c < 0x20 || c == 0x7f) {
        o += Hex("\\x%02lx", c);
      } else {
        o += static_cast<char>(c);
      }
      continue;
    }
    long cp = NextCodePoint(s, i);
    if (cp < 0) cp = 0xfffd;
    // Code points that some tools take for line ends (NEL, LS, PS) or that
    // hide text (bidi controls) are escaped; the rest is kept readable.
    if (cp == 0x85 || cp == 0x2028 || cp == 0x2029 || (cp >= 0x202a && cp <= 0x202e) ||
        (cp >= 0x2066 && cp <= 0x2069) || cp == 0xfeff || cp < 0xa0) {
      o += cp <= 0xffff ? Hex("\\u%04lx", cp) : Hex("\\U%08lx", cp);
    } else {
      // Re-encode (an invalid byte became U+FFFD).
      if (cp < 0x800) {
        o += static_cast<char>(0xc0 | (cp >> 6));
      } else if (cp < 0x10000) {
        o += static_cast<char>(0xe0 | (cp >> 12));
        o += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
      } else {
        o += static_cast<char>(0xf0 | (cp >> 18));
        o += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
        o += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
      }
      o += static_cast<char>(0x80 | (cp & 0x3f));
    }
  }
  return o;
}

}  // namespace asyncspec::conformance
