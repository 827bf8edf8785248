#include "conformance/workers.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace asyncspec::conformance {
namespace {

struct Delivered {
  std::vector<int> order;
  std::vector<absl::StatusOr<std::string>> results;
};

Delivered RunAll(int n, WorkerOptions o, const std::function<std::string(int)>& work, WorkerStats* st) {
  Delivered d;
  absl::Status s = RunInWorkers(
      n, o, work,
      [&](int i, absl::StatusOr<std::string> r) {
        d.order.push_back(i);
        d.results.push_back(std::move(r));
      },
      st);
  EXPECT_TRUE(s.ok()) << s;
  return d;
}

TEST(Workers, EveryItemOnceInIndexOrderWithFewForks) {
  for (int jobs : {1, 2, 3}) {
    WorkerStats st;
    Delivered d = RunAll(1000, {jobs, 10000}, [](int i) { return std::to_string(i * 7); }, &st);
    ASSERT_EQ(d.order.size(), 1000u) << "jobs " << jobs;
    for (int i = 0; i < 1000; ++i) {
      EXPECT_EQ(d.order[i], i);
      ASSERT_TRUE(d.results[i].ok());
      EXPECT_EQ(*d.results[i], std::to_string(i * 7));
    }
    // One fork per worker, not per item: the point of the pool.
    EXPECT_EQ(st.forks, jobs);
    EXPECT_EQ(st.crashes, 0);
  }
}

TEST(Workers, WorkSeesTheCallersMemoryAndChangesNothingInIt) {
  static int counter = 5;
  Delivered d = RunAll(10, {2, 10000}, [](int) { return std::to_string(++counter); }, nullptr);
  EXPECT_EQ(counter, 5);
  // Worker 0 takes items 0,2,4,..., so its fifth item sees its own 5 increments.
  ASSERT_TRUE(d.results[8].ok());
  EXPECT_EQ(*d.results[8], "10");
}

TEST(Workers, ACrashCostsOnlyTheItemItHappenedOn) {
  WorkerStats st;
  Delivered d = RunAll(50, {2, 10000}, [](int i) {
    if (i == 7 || i == 8) {
      signal(SIGSEGV, SIG_DFL);  // die by the signal also under ASan, whose handler would exit(1)
      raise(SIGSEGV);
    }
    return std::string("ok");
  }, &st);
  ASSERT_EQ(d.results.size(), 50u);
  for (int i = 0; i < 50; ++i) {
    if (i == 7 || i == 8) {
      EXPECT_EQ(d.results[i].status().code(), absl::StatusCode::kInternal);
      EXPECT_NE(d.results[i].status().message().find("signal 11"), std::string_view::npos)
          << d.results[i].status();
    } else {
      ASSERT_TRUE(d.results[i].ok()) << i << ": " << d.results[i].status();
    }
  }
  EXPECT_EQ(st.crashes, 2);
  EXPECT_EQ(st.forks, 4);  // two workers, each replaced once
}

TEST(Workers, AHungItemTimesOutAndTheRestGoOn) {
  WorkerStats st;
  Delivered d = RunAll(6, {1, 300}, [](int i) {
    if (i == 3) pause();  // never returns
    return std::string("ok");
  }, &st);
  ASSERT_EQ(d.results.size(), 6u);
  EXPECT_EQ(d.results[3].status().code(), absl::StatusCode::kDeadlineExceeded);
  for (int i : {0, 1, 2, 4, 5}) EXPECT_TRUE(d.results[i].ok()) << i;
  EXPECT_EQ(st.timeouts, 1);
}

TEST(Workers, ALastItemThatExitsIsReported) {
  Delivered d = RunAll(3, {1, 10000}, [](int i) {
    if (i == 2) _exit(9);
    return std::string(100000, 'x');  // bigger than a pipe buffer
  }, nullptr);
  ASSERT_EQ(d.results.size(), 3u);
  EXPECT_TRUE(d.results[0].ok());
  EXPECT_EQ(d.results[1]->size(), 100000u);
  EXPECT_NE(d.results[2].status().message().find("exited with status 9"), std::string_view::npos);
}

// A check killed by SIGKILL (no handler runs, nothing is cleaned up) must
// not leave a worker running on. This test process stands in for whatever
// started the check: as a subreaper it inherits the orphaned worker and can
// see how it ended.
TEST(Workers, AWorkerDiesWithASigkilledCheck) {
  ASSERT_EQ(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const pid_t check = fork();
  ASSERT_GE(check, 0);
  if (check == 0) {  // the check: one worker, which reports its pid and hangs
    close(fds[0]);
    const int report = fds[1];
    RunInWorkers(1, {1, 1000000}, [report](int) {
      const pid_t self = getpid();
      (void)!write(report, &self, sizeof self);
      pause();
      return std::string();
    }, [](int, absl::StatusOr<std::string>) {});
    _exit(0);
  }
  close(fds[1]);
  pid_t worker = -1;
  ASSERT_EQ(read(fds[0], &worker, sizeof worker), static_cast<ssize_t>(sizeof worker));
  close(fds[0]);
  ASSERT_GT(worker, 0);
  ASSERT_EQ(kill(check, SIGKILL), 0);
  int st = 0;
  ASSERT_EQ(waitpid(check, &st, 0), check);
  // The worker is ours now; without PR_SET_PDEATHSIG it would sleep on.
  // The bound is far above the microseconds the kernel takes.
  pid_t got = 0;
  for (int k = 0; k < 1000 && got == 0; ++k) {
    got = waitpid(worker, &st, WNOHANG);
    if (got == 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (got == 0) {
    kill(worker, SIGKILL);
    waitpid(worker, &st, 0);
    FAIL() << "the worker outlived the SIGKILLed check by 10 s";
  }
  ASSERT_EQ(got, worker);
  EXPECT_TRUE(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL) << "worker status " << st;
  prctl(PR_SET_CHILD_SUBREAPER, 0);
}

TEST(Workers, NoItems) {
  WorkerStats st;
  Delivered d = RunAll(0, {2, 1000}, [](int) { return std::string(); }, &st);
  EXPECT_TRUE(d.results.empty());
  EXPECT_EQ(st.forks, 0);
}

}  // namespace
}  // namespace asyncspec::conformance
