// Forked workers: run many small work items in child processes, so that an
// item that crashes or hangs costs that item and nothing else, without
// paying a fork per item.
//
// Why. The reference runtime runs in the checker's own address space; a bug
// in it (a double free, a stack overflow on a deep tree) would end the whole
// check. Forking a child per program isolates it but costs ~100x the check
// itself (a fork, a pipe, a JSON outcome, a wait). Here each of `jobs`
// workers is forked once and works through its share of the items; the
// parent only reads small results. A worker that dies or goes quiet is
// replaced by a fresh fork that resumes after the item it died on, and that
// item is reported as crashed or timed out. The same pool spreads a check
// over the machine's cores (`--jobs`).
//
// Contract.
// * `work(i)` runs in a worker, a fork(2) of the caller taken when the pool
//   starts (or restarts a worker): it sees the caller's memory as it was
//   then, and nothing it changes comes back except the string it returns.
//   It must not rely on other threads of the caller (fork keeps only one).
// * `done(i, result)` runs in the caller, in index order 0, 1, ..., n-1,
//   exactly once per index: the string `work(i)` returned, or
//     Internal          the worker died while on item i (signal or exit),
//     DeadlineExceeded  item i took longer than `timeout_ms` (worker killed).
// * Items are dealt round-robin (worker w takes w, w+jobs, ...), so the
//   items a worker runs, and therefore any state it carries from item to
//   item, do not depend on timing. With jobs = 1 the order is 0..n-1.
// * With options.stop, `done` may not see every index: the pool ends when
//   stop() answers non-empty.
// * Workers die with the thread that called RunInWorkers (PR_SET_PDEATHSIG):
//   a check that is SIGKILLed leaves no worker behind. Call it from a
//   thread that outlives the pool.
// * Returns an error only if the pool itself cannot work (pipe or fork
//   failed); items already delivered stay delivered.
#ifndef ASYNCSPEC_CONFORMANCE_WORKERS_H_
#define ASYNCSPEC_CONFORMANCE_WORKERS_H_

#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace asyncspec::conformance {

struct WorkerOptions {
  int jobs = 1;            // worker processes, >= 1
  int timeout_ms = 10000;  // per item, measured from when the worker could start it
  // Asked between polls (at least every 200 ms): non-empty ends the pool
  // early: its workers are killed and undelivered items are dropped.
  std::function<std::string()> stop = nullptr;
};

struct WorkerStats {
  int forks = 0;    // workers started, restarts included
  int crashes = 0;  // items on which a worker died
  int timeouts = 0; // items on which a worker was killed for taking too long
};

absl::Status RunInWorkers(int n, const WorkerOptions& options,
                          const std::function<std::string(int)>& work,
                          const std::function<void(int, absl::StatusOr<std::string>)>& done,
                          WorkerStats* stats = nullptr);

}  // namespace asyncspec::conformance

#endif  // ASYNCSPEC_CONFORMANCE_WORKERS_H_
