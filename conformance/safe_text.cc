#include "conformance/safe_text.h"

#include <cstdio>

namespace asyncspec::conformance {
namespace {

constexpr char kReplacement[] = "\xEF\xBF\xBD";  // U+FFFD

// Length of the well-formed UTF-8 sequence starting at s[i], 0 if there is none
// (RFC 3629 table 3-7: the second byte's range depends on the first).
std::size_t SequenceLength(std::string_view s, std::size_t i) {
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = b(i);
  if (c < 0x80) return 1;
  std::size_t n;
  unsigned char lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) n = 2;
  else if (c == 0xE0) n = 3, lo = 0xA0;
  else if (c == 0xED) n = 3, hi = 0x9F;  // no UTF-16 surrogates
  else if (c >= 0xE1 && c <= 0xEF) n = 3;
  else if (c == 0xF0) n = 4, lo = 0x90;
  else if (c == 0xF4) n = 4, hi = 0x8F;  // nothing above U+10FFFF
  else if (c >= 0xF1 && c <= 0xF3) n = 4;
  else return 0;
  if (i + n > s.size()) return 0;
  if (b(i + 1) < lo || b(i + 1) > hi) return 0;
  for (std::size_t k = 2; k < n; ++k) {
    if (b(i + k) < 0x80 || b(i + k) > 0xBF) return 0;
  }
  return n;
}

}  // namespace

std::string ValidUtf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t n = SequenceLength(s, i);
    if (n == 0) {
      out += kReplacement;
      ++i;
    } else {
      out.append(s.substr(i, n));
      i += n;
    }
  }
  return out;
}

std::string XmlText(std::string_view s) {
  const std::string valid = ValidUtf8(s);
  std::string o;
  o.reserve(valid.size());
  for (std::size_t i = 0; i < valid.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(valid[i]);
    switch (c) {
      case '&': o += "&amp;"; continue;
      case '<': o += "&lt;"; continue;
      case '>': o += "&gt;"; continue;
      case '"': o += "&quot;"; continue;
      case '\'': o += "&apos;"; continue;
      default: break;
    }
    char buf[8];
    if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') {
      std::snprintf(buf, sizeof buf, "\\u%04X", c);
      o += buf;
    } else if (c == 0xEF && i + 2 < valid.size() && static_cast<unsigned char>(valid[i + 1]) == 0xBF &&
               (static_cast<unsigned char>(valid[i + 2]) == 0xBE || static_cast<unsigned char>(valid[i + 2]) == 0xBF)) {
      o += static_cast<unsigned char>(valid[i + 2]) == 0xBE ? "\\uFFFE" : "\\uFFFF";
      i += 2;
    } else {
      o += static_cast<char>(c);
    }
  }
  return o;
}

std::string Utf8Prefix(std::string_view s, std::size_t max_bytes) {
  if (s.size() <= max_bytes) return std::string(s);
  std::size_t end = max_bytes;
  // Back up over continuation bytes to the start of the character that
  // straddles the cut, and drop it whole.
  // (At most three: a longer run of continuation bytes is not UTF-8 anyway.)
  for (int k = 0; k < 3 && end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80; ++k) --end;
  return std::string(s.substr(0, end)) + "...";
}

}  // namespace asyncspec::conformance
