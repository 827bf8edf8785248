// StrCat for the spec libraries' error messages: concatenates text and
// integers. (Debian's Abseil is built with its own string_view, so
// absl::StrCat does not take std::string_view.) Internal to //spec.
#ifndef ASYNCSPEC_SPEC_STR_CAT_H_
#define ASYNCSPEC_SPEC_STR_CAT_H_

#include <charconv>
#include <string>
#include <string_view>
#include <type_traits>

namespace asyncspec::spec::internal {

inline void Append1(std::string& out, std::string_view s) { out.append(s.data(), s.size()); }
void Append1(std::string& out, char c) = delete;  // would print as a number below
template <typename I, typename = std::enable_if_t<std::is_integral_v<I>>>
void Append1(std::string& out, I i) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, i);
  out.append(buf, end);
}
template <typename... Args>
void StrAppend(std::string* out, const Args&... args) {
  (Append1(*out, args), ...);
}
template <typename... Args>
std::string StrCat(const Args&... args) {
  std::string out;
  (Append1(out, args), ...);
  return out;
}

}  // namespace asyncspec::spec::internal

#endif  // ASYNCSPEC_SPEC_STR_CAT_H_
