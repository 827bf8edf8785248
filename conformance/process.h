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

}  // namespace asyncspec::conformance

#endif  // ASYNCSPEC_CONFORMANCE_PROCESS_H_
