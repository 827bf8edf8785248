// Text that came from outside the check (an adapter's replies and standard
// error, a hello's fields) made safe for the files the check writes.
//
// Adapter bytes are kept as received in memory; only at the point of
// writing are they made valid for the target format, so that one stray
// byte can neither abort a writer (nlohmann's strict dump throws on invalid
// UTF-8) nor make a report unreadable (XML 1.0 forbids most control
// characters and U+FFFE/U+FFFF even when escaped as &#N;).
#ifndef ASYNCSPEC_CONFORMANCE_SAFE_TEXT_H_
#define ASYNCSPEC_CONFORMANCE_SAFE_TEXT_H_

#include <cstddef>
#include <string>
#include <string_view>

namespace asyncspec::conformance {

// `s` with every byte that does not belong to a well-formed UTF-8 sequence
// (RFC 3629: no overlongs, no surrogates, nothing above U+10FFFF) replaced
// by U+FFFD. Valid input comes back unchanged.
std::string ValidUtf8(std::string_view s);

// Text for an XML 1.0 attribute value or element content: ValidUtf8, the
// five markup characters as entities, and every character XML forbids (C0
// controls other than tab, newline and carriage return; U+FFFE, U+FFFF)
// written as the visible text "\uXXXX" so the report still says what came.
std::string XmlText(std::string_view s);

// The longest prefix of `s` of at most `max_bytes` bytes that does not end
// inside a UTF-8 sequence (a multi-byte character is kept whole or dropped),
// followed by "..." when something was cut.
std::string Utf8Prefix(std::string_view s, std::size_t max_bytes);

}  // namespace asyncspec::conformance

#endif  // ASYNCSPEC_CONFORMANCE_SAFE_TEXT_H_
