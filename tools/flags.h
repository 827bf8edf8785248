// Abseil flags for the project's small mains, with one behaviour on bad
// input: a message naming the flag and exit 2, as the check and model_cli
// do (absl::ParseCommandLine alone exits 1 on an unknown flag or a bad
// value). --help is Abseil's, generated from the flags' help strings.
#ifndef ASYNCSPEC_TOOLS_FLAGS_H_
#define ASYNCSPEC_TOOLS_FLAGS_H_

#include <string>
#include <string_view>
#include <vector>

namespace asyncspec {

// Sets `usage` as the program's usage message and parses argv. Exits 2 with
// "<program>: <why> (--help)" on an unknown flag, a value its flag's type
// refuses, or more than `max_positional` positional arguments; --help and
// its kin print and exit 0. Returns the positional arguments (without
// argv[0]).
std::vector<std::string> ParseFlagsOrExit(int argc, char** argv, std::string_view usage, int max_positional = 0);

// Exits 2 with "<program>: <why> (--help)": for the checks a main makes on
// its flags' values (ranges, choices) after parsing.
[[noreturn]] void FlagError(std::string_view why);

}  // namespace asyncspec

#endif  // ASYNCSPEC_TOOLS_FLAGS_H_
