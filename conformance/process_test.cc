#include "conformance/process.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

namespace asyncspec::conformance {
namespace {

using Clock = std::chrono::steady_clock;

// INV-9's re-runs and every TIMEOUT/CRASH verdict of the check rest on
// these: a child's output read to its end, a silent child timed out, and
// its end described in the report's words.
TEST(Process, ReadSomeAppendsThenSeesEndOfFile) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  ASSERT_EQ(write(fds[1], "ab", 2), 2);
  std::string out = "x";
  auto more = ReadSome(fds[0], out, Clock::now() + std::chrono::seconds(5));
  ASSERT_TRUE(more.ok()) << more.status();
  EXPECT_TRUE(*more);
  EXPECT_EQ(out, "xab");
  close(fds[1]);
  more = ReadSome(fds[0], out, Clock::now() + std::chrono::seconds(5));
  ASSERT_TRUE(more.ok()) << more.status();
  EXPECT_FALSE(*more);
  EXPECT_EQ(out, "xab");
  close(fds[0]);
}

TEST(Process, ReadSomeTimesOutOnASilentWriter) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  std::string out;
  auto start = Clock::now();
  auto more = ReadSome(fds[0], out, start + std::chrono::milliseconds(50));
  EXPECT_TRUE(absl::IsDeadlineExceeded(more.status())) << more.status();
  EXPECT_GE(Clock::now() - start, std::chrono::milliseconds(50));
  EXPECT_TRUE(out.empty());
  close(fds[0]);
  close(fds[1]);
}

TEST(Process, DescribeExitNamesStatusOrSignal) {
  pid_t pid = fork();
  if (pid == 0) _exit(3);
  int wstatus = 0;
  ASSERT_EQ(waitpid(pid, &wstatus, 0), pid);
  EXPECT_EQ(DescribeExit(wstatus), "exited with status 3");
  pid = fork();
  if (pid == 0) {
    pause();
    _exit(0);
  }
  kill(pid, SIGKILL);
  ASSERT_EQ(waitpid(pid, &wstatus, 0), pid);
  EXPECT_EQ(DescribeExit(wstatus), "killed by signal 9 (Killed)");
}

}  // namespace
}  // namespace asyncspec::conformance
