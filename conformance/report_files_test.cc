#include "conformance/report_files.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "gtest/gtest.h"

namespace asyncspec::conformance {
namespace {

std::string FreshDir(const std::string& name) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  const std::string dir = std::string(tmp ? tmp : "/tmp") + "/" + name + "." + std::to_string(getpid());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

// Only files named as report.cc names reproducers (repro-<k>-<rule>.<ext>)
// go; a user's files beside them stay.
TEST(ReportFiles, RemoveOldReproducersTakesOnlyReproducers) {
  const std::string dir = FreshDir("reproducers");
  const char* gone[] = {"repro-1-TG-3.py", "repro-12-ADAPTER-ERROR.cc", "repro-3-GA-6.txt", "repro-2-CX_1.rs"};
  const char* kept[] = {"report.md", "repro-notes.txt", "repro-x-TG-3.py", "myrepro-1-TG-3.py",
                        "repro-1-TG-3.PY", "repro-1-.py", "repro-1-TG-3", ".repro-1-TG-3.py"};
  for (const char* f : gone) std::ofstream(dir + "/" + f) << "x";
  for (const char* f : kept) std::ofstream(dir + "/" + f) << "x";
  RemoveOldReproducers(dir);
  for (const char* f : gone) EXPECT_FALSE(std::filesystem::exists(dir + "/" + f)) << f;
  for (const char* f : kept) EXPECT_TRUE(std::filesystem::exists(dir + "/" + f)) << f;
}

TEST(ReportFiles, AFileThroughASymlinkIsReplacedNotFollowed) {
  const std::string dir = FreshDir("symlink");
  const std::string target = dir + "/target";
  std::ofstream(target) << "keep";
  std::filesystem::create_symlink(target, dir + "/report.md");
  ASSERT_TRUE(WriteReportFile(dir, "report.md", "new").ok());
  EXPECT_FALSE(std::filesystem::is_symlink(dir + "/report.md"));
  std::ifstream t(target);
  std::string content((std::istreambuf_iterator<char>(t)), std::istreambuf_iterator<char>());
  EXPECT_EQ(content, "keep");
}

TEST(ReportFiles, PrepareReportDirRefusesAFileAndAnEmptyName) {
  const std::string dir = FreshDir("prepare");
  std::ofstream(dir + "/file") << "x";
  EXPECT_FALSE(PrepareReportDir(dir + "/file").ok());
  EXPECT_FALSE(PrepareReportDir("").ok());
  EXPECT_TRUE(PrepareReportDir(dir + "/a/b").ok());
  EXPECT_TRUE(std::filesystem::is_directory(dir + "/a/b"));
}

}  // namespace
}  // namespace asyncspec::conformance
