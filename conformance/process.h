// Small POSIX helpers for the check's child processes: adapters
// (runtimes.cc AdapterRuntime), programs run in a forked child
// (IsolatedRuntime) and the worker pool (workers.cc).
//
// They exist so that every place that waits on a child reads and times out
// the same way (EINTR retried, a deadline rather than a per-read timeout)
// and describes its end in the same words in reports.
#ifndef ASYNCSPEC_CONFORMANCE_PROCESS_H_
#define ASYNCSPEC_CONFORMANCE_PROCESS_H_

#include <chrono>
#include <string>
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
  static void UnlockAfterFork(pid_t child);  // Add(child) (if > 0), then unlock
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
