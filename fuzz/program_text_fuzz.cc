// Fuzz target: the text-form parser of programs (what people and failure
// reports write). Any input gives a Program or an error with line:column,
// never a crash; a parsed program prints and parses back to itself.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "spec/text.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto p = asyncspec::spec::ProgramFromText(in);
  if (!p.ok()) return 0;
  auto again = asyncspec::spec::ProgramFromText(asyncspec::spec::ProgramToText(*p));
  if (!again.ok() || !(*again == *p)) std::abort();  // round trip broken
  return 0;
}
