// Fuzz target: the outcome reader (what the checker reads back from adapter
// processes, so whatever a broken adapter prints). Any input gives an
// Outcome or an error status; a read outcome writes and reads back equal.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "spec/json.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto o = asyncspec::spec::OutcomeFromJson(in);
  if (!o.ok()) return 0;
  auto again = asyncspec::spec::OutcomeFromJson(asyncspec::spec::OutcomeToJson(*o));
  if (!again.ok() || !(*again == *o)) std::abort();
  return 0;
}
