#include "conformance/passed_trees.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "conformance/rss_testing.h"
#include "gtest/gtest.h"

namespace asyncspec::conformance {
namespace {

PassedTree Nth(std::size_t i) {
  return PassedTree{0x9e3779b97f4a7c15ULL * (i + 1), static_cast<float>(i) / 8, i % 3 == 0};
}

// Every record comes back once, in the order added, field for field.
void ExpectAll(const PassedTrees& trees, std::size_t n) {
  std::size_t i = 0;
  EXPECT_TRUE(trees.ForEach([&](const PassedTree& t) {
    ASSERT_LT(i, n);
    const PassedTree want = Nth(i);
    EXPECT_EQ(t.seed, want.seed) << "record " << i;
    EXPECT_EQ(t.seconds, want.seconds) << "record " << i;
    EXPECT_EQ(t.ties, want.ties) << "record " << i;
    ++i;
  }));
  EXPECT_EQ(i, n);
  EXPECT_EQ(trees.size(), n);
}

// Sets an environment variable for one scope.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (old_) setenv(name_, old_->c_str(), 1);
    else unsetenv(name_);
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

TEST(PassedTrees, RecordsBeyondTheBufferGoToTheFileAndComeBackInOrder) {
  const std::size_t n = 2 * PassedTrees::kBufferRecords + 123;
  PassedTrees trees;
  for (std::size_t i = 0; i < n; ++i) trees.Add(Nth(i));
  // Only the last partial buffer stays in memory.
  EXPECT_EQ(trees.spilled(), 2 * PassedTrees::kBufferRecords);
  ExpectAll(trees, n);
  ExpectAll(trees, n);  // a second walk reads the same
}

TEST(PassedTrees, FewRecordsStayInMemory) {
  PassedTrees trees;
  EXPECT_TRUE(trees.empty());
  for (std::size_t i = 0; i < 10; ++i) trees.Add(Nth(i));
  EXPECT_EQ(trees.spilled(), 0u);
  ExpectAll(trees, 10);
}

TEST(PassedTrees, MovedRecordsKeepTheirFile) {
  const std::size_t n = PassedTrees::kBufferRecords + 7;
  PassedTrees a;
  for (std::size_t i = 0; i < n; ++i) a.Add(Nth(i));
  PassedTrees b(std::move(a));
  ExpectAll(b, n);
  PassedTrees c;
  c.Add(Nth(0));
  c = std::move(b);
  ExpectAll(c, n);
  // Adding after the move continues the same sequence.
  c.Add(Nth(n));
  ExpectAll(c, n + 1);
}

TEST(PassedTrees, ACopyHasItsOwnRecords) {
  const std::size_t n = PassedTrees::kBufferRecords + 5;
  PassedTrees a;
  for (std::size_t i = 0; i < n; ++i) a.Add(Nth(i));
  PassedTrees b(a);
  PassedTrees c;
  c = a;
  a.Add(Nth(n));  // the copies do not see it
  ExpectAll(a, n + 1);
  ExpectAll(b, n);
  ExpectAll(c, n);
}

// The point of the class: a million records (16 MB in a vector, more while
// it doubles) leave the resident set where it was, within 1 MB.
TEST(PassedTrees, AMillionRecordsHoldFlatMemory) {
  PassedTrees trees;
  for (std::size_t i = 0; i < 2 * PassedTrees::kBufferRecords; ++i) trees.Add(Nth(i));  // warm: buffer, file
  const long before = testing::StatusKb("VmRSS:");
  const std::size_t n = 1'000'000;
  for (std::size_t i = 2 * PassedTrees::kBufferRecords; i < n; ++i) trees.Add(Nth(i));
  const long after = testing::StatusKb("VmRSS:");
  std::printf("RSS with %zu records: %ld kB; with %zu: %ld kB\n", 2 * PassedTrees::kBufferRecords, before, n, after);
  EXPECT_LT(after - before, 1024) << "the records are held in memory";
  ExpectAll(trees, n);
}

// No temporary file can be made: the records stay in memory, none lost.
TEST(PassedTrees, WithoutATemporaryFileRecordsStayInMemory) {
  ScopedEnv tmp("TMPDIR", "/nonexistent/asyncspec-no-such-dir");
  const std::size_t n = 3 * PassedTrees::kBufferRecords;
  PassedTrees trees;
  for (std::size_t i = 0; i < n; ++i) trees.Add(Nth(i));
  EXPECT_EQ(trees.spilled(), 0u);
  ExpectAll(trees, n);
}

}  // namespace
}  // namespace asyncspec::conformance
