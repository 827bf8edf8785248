// Fuzz target: the JSON reader of programs and the validator (what every
// adapter's input goes through). Any input must give a Program or an error
// status, never a crash, a hang or an exception; a program that reads and
// validates must print and read back to an equal program.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "spec/json.h"
#include "spec/validate.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto p = asyncspec::spec::ProgramFromJson(in);
  if (!p.ok()) return 0;
  if (!asyncspec::spec::Validate(*p).ok()) return 0;
  auto again = asyncspec::spec::ProgramFromJson(asyncspec::spec::ProgramToJson(*p));
  if (!again.ok() || !(*again == *p)) std::abort();  // round trip broken
  return 0;
}
