#include "tools/flags.h"

#include <unistd.h>

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "absl/flags/flag.h"

ABSL_FLAG(int, count, 3, "a number");
ABSL_FLAG(bool, loud, false, "a switch");

namespace asyncspec {
namespace {

// argv as a main gets it, from string literals.
struct Argv {
  explicit Argv(std::vector<std::string> a) : args(std::move(a)) {
    for (std::string& s : args) ptrs.push_back(s.data());
  }
  int argc() { return static_cast<int>(ptrs.size()); }
  char** argv() { return ptrs.data(); }
  std::vector<std::string> args;
  std::vector<char*> ptrs;
};

std::vector<std::string> Parse(std::vector<std::string> args, int max_positional = 0) {
  Argv a(std::move(args));
  return ParseFlagsOrExit(a.argc(), a.argv(), "test usage", max_positional);
}

TEST(Flags, GoodFlagsAreSetAndPositionalsReturned) {
  const auto rest = Parse({"/bin/tool", "--count=7", "--loud", "a", "b"}, 2);
  EXPECT_EQ(absl::GetFlag(FLAGS_count), 7);
  EXPECT_TRUE(absl::GetFlag(FLAGS_loud));
  EXPECT_EQ(rest, (std::vector<std::string>{"a", "b"}));
  Parse({"/bin/tool", "--count", "9", "--noloud"});
  EXPECT_EQ(absl::GetFlag(FLAGS_count), 9);
  EXPECT_FALSE(absl::GetFlag(FLAGS_loud));
}

TEST(FlagsDeathTest, BadInputIsExitTwoNamingIt) {
  EXPECT_EXIT(Parse({"/bin/tool", "--cuont=7"}), ::testing::ExitedWithCode(2), "tool: unknown flag --cuont=7");
  EXPECT_EXIT(Parse({"/bin/tool", "--count=seven"}), ::testing::ExitedWithCode(2), "--count=seven");
  EXPECT_EXIT(Parse({"/bin/tool", "--count"}), ::testing::ExitedWithCode(2), "--count needs a value");
  EXPECT_EXIT(Parse({"/bin/tool", "--noloud=1"}), ::testing::ExitedWithCode(2), "takes no value");
  EXPECT_EXIT(Parse({"/bin/tool", "extra"}), ::testing::ExitedWithCode(2), "unexpected argument 'extra'");
  EXPECT_EXIT(FlagError("--count must be positive"), ::testing::ExitedWithCode(2), "--count must be positive");
}

// --help lists the program's flags with their defaults and help, on
// stdout (sent to stderr here, where the death test looks), and exits 0.
TEST(FlagsDeathTest, HelpListsTheFlagsAndExitsZero) {
  EXPECT_EXIT(
      {
        dup2(2, 1);
        Parse({"/bin/tool", "--help"});
      },
      ::testing::ExitedWithCode(0), "test usage(.|\n)*--count \\(default 3\\)\n      a number(.|\n)*--loud / --noloud");
}

}  // namespace
}  // namespace asyncspec
