#include "conformance/process.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

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

// The one spawn helper: a command's output read through its pipe, and its
// end described.
TEST(Process, SpawnCommandPipesAndReaps) {
  auto c = SpawnCommand({"/bin/sh", "-c", "read x; echo got $x; exit 3"}, ChildOptions{true, true, true, -1});
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_EQ(write(c->to, "hi\n", 3), 3);
  std::string out;
  while (true) {
    auto more = ReadSome(c->from, out, Clock::now() + std::chrono::seconds(30));
    ASSERT_TRUE(more.ok()) << more.status();
    if (!*more) break;
  }
  EXPECT_EQ(out, "got hi\n");
  EXPECT_EQ(DescribeExit(Reap(*c)), "exited with status 3");
  EXPECT_EQ(c->pid, -1);
}

TEST(Process, SpawnCommandSaysWhyItCannotExec) {
  int err[2];
  ASSERT_EQ(pipe(err), 0);
  auto c = SpawnCommand({"/nonexistent/x"}, ChildOptions{false, false, false, err[1]});
  ASSERT_TRUE(c.ok()) << c.status();
  close(err[1]);
  EXPECT_EQ(DescribeExit(Reap(*c)), "exited with status 127");
  std::string msg;
  while (true) {
    auto more = ReadSome(err[0], msg, Clock::now() + std::chrono::seconds(30));
    ASSERT_TRUE(more.ok());
    if (!*more) break;
  }
  close(err[0]);
  EXPECT_NE(msg.find("cannot execute /nonexistent/x: No such file or directory"), std::string::npos) << msg;
}

// A group leader killed with what it started, also a process that left the
// group with setsid(): as subreaper, it becomes ours and KillAndReap finds it.
TEST(Process, KillAndReapLeavesNothingBehindEvenAfterSetsid) {
  BecomeSubreaper();
  auto c = SpawnCommand({"/bin/sh", "-c", "sleep 1000 & setsid sleep 1000 & echo started; wait"},
                        ChildOptions{false, true, true, -1});
  ASSERT_TRUE(c.ok()) << c.status();
  std::string out;
  while (out.find("started") == std::string::npos) {
    auto more = ReadSome(c->from, out, Clock::now() + std::chrono::seconds(30));
    ASSERT_TRUE(more.ok() && *more) << out;
  }
  usleep(100000);  // (setsid runs in the background child; give it the moment it needs)
  const int wstatus = KillAndReap(*c);
  EXPECT_EQ(DescribeExit(wstatus), "killed by signal 9 (Killed)");
  EXPECT_EQ(KillOrphans(), 0) << "KillAndReap left a child behind";
  errno = 0;
  EXPECT_EQ(waitpid(-1, nullptr, WNOHANG), -1) << "no child at all is left";
  EXPECT_EQ(errno, ECHILD);
}

}  // namespace
}  // namespace asyncspec::conformance
