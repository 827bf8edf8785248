// The check's child processes, in one place: adapters (runtimes.cc
// AdapterRuntime, SpawnCommand), programs run in a forked child
// (IsolatedRuntime) and the worker pool (workers.cc), both ForkChild.
//
// They exist so that every place that waits on a child reads and times out
// the same way (EINTR retried, a deadline rather than a per-read timeout)
// and describes its end in the same words in reports.
#ifndef ASYNCSPEC_CONFORMANCE_PROCESS_H_
#define ASYNCSPEC_CONFORMANCE_PROCESS_H_

#include <chrono>
#include <functional>
#include <string>
#include <vector>
#include <string_view>

#include <sys/types.h>

#include "absl/status/statusor.h"

namespace asyncspec::conformance {

// "exited with status 3", "killed by signal 11 (Segmentation fault)", or
// "stopped"; `wstatus` as waitpid() fills it.
std::string DescribeExit(int wstatus);

// Waits until `fd` is readable or `deadline` passes, then reads once what is
// there and appends it to `out`. Returns true if bytes were appended, false
// at end of file; DeadlineExceededError if nothing came by the deadline;
// InternalError (with errno's text) if poll or read failed.
absl::StatusOr<bool> ReadSome(int fd, std::string& out, std::chrono::steady_clock::time_point deadline);

// A child process of the check, and the parent's ends of its pipes.
struct Child {
  pid_t pid = -1;
  int to = -1;    // writes to the child's standard input (-1: no pipe)
  int from = -1;  // reads what the child writes (-1: no pipe)
  bool own_group = false;
};

struct ChildOptions {
  bool input = false;      // a pipe to the child
  bool output = true;      // a pipe from the child
  // The child leads a process group of its own, so that killing it kills
  // whatever it started too (a shell wrapper, an interpreter's helpers).
  bool own_group = false;
  int stderr_fd = -1;      // SpawnCommand: the child's standard error (-1: inherited)
  // The kernel SIGKILLs the child when the thread that forked it ends
  // (prctl PR_SET_PDEATHSIG), so a check that is itself SIGKILLed leaves no
  // worker running on. A parent gone before the child could ask is seen
  // by getppid() and the child exits at once (status 127).
  bool die_with_parent = false;
};

// The one way the check starts a child: fork(2) with the pipes `options`
// asks for (close-on-exec), the child registered in Children. In the child,
// `body(in, out)` runs with the child's ends of the pipes (-1 for none) and
// must not return (it calls _exit or exec). Only async-signal-safe calls
// belong in `body` (other threads of the check may hold locks).
absl::StatusOr<Child> ForkChild(const ChildOptions& options, const std::function<void(int in, int out)>& body);

// ForkChild running `argv` (execvp, no shell), the pipes as its standard
// input and output. If it cannot be executed the child says why on its
// standard error and exits 127.
absl::StatusOr<Child> SpawnCommand(std::vector<std::string> argv, const ChildOptions& options);

// Closes the parent's ends of the pipes that are open.
void ClosePipes(Child& c);

// Waits for the child to end (EINTR retried) and unregisters it; returns the
// wait status (see DescribeExit). The Child is reset.
int Reap(Child& c);

// Closes the pipes, SIGKILLs the child (its whole group if it has one),
// reaps it and, for a group leader, kills what it orphaned (KillOrphans).
// Returns the wait status.
int KillAndReap(Child& c);

// Writes all of `data` to `fd` (which must be O_NONBLOCK) before
// `deadline`: DeadlineExceededError if the reader did not take it in time
// (an adapter that never reads), UnavailableError on EPIPE (the reader is
// gone), InternalError with errno's text otherwise.
absl::Status WriteAllBy(int fd, std::string_view data, std::chrono::steady_clock::time_point deadline);

// The child processes the check started and has not reaped, by process
// group, so that an interruption can kill them all at once. Spawn
// registers; reaping unregisters. Thread-safe.
class Children {
 public:
  // Holds the registry's lock for the caller's fork(): a KillOrphans scan
  // cannot see the new child before Add names it.
  static void LockForFork();
  // Registers `child` (if > 0; 0 in the child itself), then unlocks.
  static void UnlockAfterFork(pid_t child);
  static void Remove(pid_t child);
  // SIGKILLs the process group of every registered child (not reaped: the
  // owner reaps, so its exit status is not stolen).
  static void KillAll();
};

// Makes this process a child subreaper (prctl PR_SET_CHILD_SUBREAPER), so
// that a descendant whose parent died (an adapter's helper that called
// setsid() to leave its group) becomes our child and KillOrphans finds it.
void BecomeSubreaper();

// Kills and reaps every child of this process that is not registered in
// Children: orphans reparented to us as subreaper. Returns how many.
int KillOrphans();

}  // namespace asyncspec::conformance

#endif  // ASYNCSPEC_CONFORMANCE_PROCESS_H_
