#include "conformance/workers.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <vector>

#include "conformance/process.h"

namespace asyncspec::conformance {
namespace {

using Clock = std::chrono::steady_clock;

// A worker's frames: 4-byte item index, 4-byte length, payload (host order:
// both ends are the same binary on the same machine).
bool WriteAll(int fd, const char* p, std::size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= static_cast<std::size_t>(w);
  }
  return true;
}

[[noreturn]] void WorkerMain(int fd, int first, int n, int stride,
                             const std::function<std::string(int)>& work) {
  for (int i = first; i < n; i += stride) {
    const std::string payload = work(i);
    const std::uint32_t head[2] = {static_cast<std::uint32_t>(i), static_cast<std::uint32_t>(payload.size())};
    if (!WriteAll(fd, reinterpret_cast<const char*>(head), sizeof head) ||
        !WriteAll(fd, payload.data(), payload.size())) {
      _exit(3);  // the parent is gone
    }
  }
  _exit(0);  // no destructors, no atexit handlers: they belong to the parent
}

struct Worker {
  Child child;  // child.from: the worker's frames
  int next = 0;  // the item this worker is on (the next one it will report)
  Clock::time_point since;  // when it reported last (or started)
  std::string buf;
};

}  // namespace

absl::Status RunInWorkers(int n, const WorkerOptions& options, const std::function<std::string(int)>& work,
                          const std::function<void(int, absl::StatusOr<std::string>)>& done,
                          WorkerStats* stats) {
  WorkerStats local;
  WorkerStats& st = stats ? *stats : local;
  const int jobs = std::max(1, std::min(options.jobs, std::max(n, 1)));
  std::vector<Worker> workers(static_cast<std::size_t>(jobs));
  std::map<int, absl::StatusOr<std::string>> ready;  // results not yet delivered
  int deliver = 0;

  auto flush = [&] {
    for (auto it = ready.find(deliver); it != ready.end(); it = ready.find(deliver)) {
      done(deliver, std::move(it->second));
      ready.erase(it);
      ++deliver;
    }
  };
  auto start = [&](Worker& w, int first) -> absl::Status {
    w = Worker{};
    w.next = first;
    if (first >= n) return absl::OkStatus();
    ChildOptions co;
    co.die_with_parent = true;  // a SIGKILLed check takes its workers with it
    auto child = ForkChild(co, [&](int, int out) { WorkerMain(out, first, n, jobs, work); });
    if (!child.ok()) return child.status();
    w.child = *child;
    ++st.forks;
    w.since = Clock::now();
    return absl::OkStatus();
  };
  // The worker stopped (EOF, or killed by us): reap it, blame the item it was
  // on if it had not finished its share, and start a replacement after it.
  auto finish = [&](Worker& w, absl::StatusCode code, const std::string& why) -> absl::Status {
    const int wstatus = Reap(w.child);
    const int item = w.next;
    if (item >= n) {
      w = Worker{};
      w.next = n;
      return absl::OkStatus();
    }
    if (code == absl::StatusCode::kDeadlineExceeded) {
      ++st.timeouts;
      ready.emplace(item, absl::DeadlineExceededError(why));
    } else {
      ++st.crashes;
      ready.emplace(item, absl::InternalError("the worker " + DescribeExit(wstatus) + " " + why));
    }
    return start(w, item + jobs);
  };

  for (int k = 0; k < jobs; ++k) {
    if (absl::Status s = start(workers[k], k); !s.ok()) return s;
  }
  std::vector<pollfd> fds;
  std::vector<Worker*> owners;
  while (true) {
    fds.clear();
    owners.clear();
    auto now = Clock::now();
    long wait_ms = -1;
    for (Worker& w : workers) {
      if (w.child.pid < 0) continue;
      fds.push_back(pollfd{w.child.from, POLLIN, 0});
      owners.push_back(&w);
      long left = options.timeout_ms -
                  std::chrono::duration_cast<std::chrono::milliseconds>(now - w.since).count();
      left = std::max(0L, left);
      wait_ms = wait_ms < 0 ? left : std::min(wait_ms, left);
    }
    if (fds.empty()) break;
    if (options.stop && !options.stop().empty()) {
      for (Worker& w : workers) {
        if (w.child.pid < 0) continue;
        KillAndReap(w.child);
        w = Worker{};
      }
      return absl::OkStatus();
    }
    if (options.stop) wait_ms = wait_ms < 0 ? 200 : std::min(wait_ms, 200L);
    int r = poll(fds.data(), fds.size(), static_cast<int>(wait_ms));
    if (r < 0) {
      if (errno == EINTR) continue;
      return absl::InternalError(std::string("poll: ") + std::strerror(errno));
    }
    now = Clock::now();
    for (std::size_t k = 0; k < fds.size(); ++k) {
      Worker& w = *owners[k];
      if (fds[k].revents == 0) {
        if (now - w.since >= std::chrono::milliseconds(options.timeout_ms)) {
          kill(w.child.pid, SIGKILL);
          if (absl::Status s = finish(w, absl::StatusCode::kDeadlineExceeded,
                                      "no result within " + std::to_string(options.timeout_ms) + " ms");
              !s.ok()) {
            return s;
          }
        }
        continue;
      }
      char chunk[65536];
      ssize_t got = read(w.child.from, chunk, sizeof chunk);
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) {
        if (absl::Status s = finish(w, absl::StatusCode::kInternal, "while on this item"); !s.ok()) return s;
        continue;
      }
      w.buf.append(chunk, static_cast<std::size_t>(got));
      std::size_t off = 0;
      while (w.buf.size() - off >= 8) {
        std::uint32_t head[2];
        std::memcpy(head, w.buf.data() + off, sizeof head);
        if (w.buf.size() - off - 8 < head[1]) break;
        ready.emplace(static_cast<int>(head[0]), w.buf.substr(off + 8, head[1]));
        off += 8 + head[1];
        w.next = static_cast<int>(head[0]) + jobs;
        w.since = now;
      }
      w.buf.erase(0, off);
    }
    flush();
    // Let results gather before the next poll: a worker writes one result
    // per item, and waking the parent for each (a context switch, a poll
    // and a read) cost about a quarter of what checking the item did.
    // A millisecond holds ~20 results, far from the pipe's
    // 64 KiB, and is nothing against a timeout.
    if (r > 0) usleep(1000);
  }
  flush();
  return absl::OkStatus();
}

}  // namespace asyncspec::conformance
