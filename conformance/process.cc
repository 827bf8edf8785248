#include "conformance/process.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <set>
#include <sstream>

namespace asyncspec::conformance {

std::string DescribeExit(int wstatus) {
  if (WIFSIGNALED(wstatus)) {
    return "killed by signal " + std::to_string(WTERMSIG(wstatus)) + " (" + strsignal(WTERMSIG(wstatus)) + ")";
  }
  if (WIFEXITED(wstatus)) return "exited with status " + std::to_string(WEXITSTATUS(wstatus));
  return "stopped";
}

absl::StatusOr<bool> ReadSome(int fd, std::string& out, std::chrono::steady_clock::time_point deadline) {
  while (true) {
    // Rounded up: poll's milliseconds must not wake us before the deadline.
    auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
    if (left <= 0) return absl::DeadlineExceededError("nothing came in time");
    pollfd p{fd, POLLIN, 0};
    int r = poll(&p, 1, static_cast<int>(left));
    if (r < 0) {
      if (errno == EINTR) continue;
      return absl::InternalError(std::string("poll: ") + std::strerror(errno));
    }
    if (r == 0) continue;  // the loop re-checks the deadline
    char buf[65536];
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return absl::InternalError(std::string("read: ") + std::strerror(errno));
    }
    if (n == 0) return false;
    out.append(buf, static_cast<std::size_t>(n));
    return true;
  }
}

absl::StatusOr<Child> ForkChild(const ChildOptions& options, const std::function<void(int in, int out)>& body) {
  int in[2] = {-1, -1}, out[2] = {-1, -1};
  auto close_all = [&] {
    for (int fd : {in[0], in[1], out[0], out[1]}) {
      if (fd >= 0) close(fd);
    }
  };
  if ((options.input && pipe2(in, O_CLOEXEC) != 0) || (options.output && pipe2(out, O_CLOEXEC) != 0)) {
    const std::string e = std::strerror(errno);
    close_all();
    return absl::InternalError("pipe: " + e);
  }
  std::fflush(nullptr);  // or the child would write the parent's buffered output again
  const pid_t parent = getpid();
  Children::LockForFork();
  const pid_t pid = fork();
  // In the child too: its one thread is the one that took the lock, and a
  // child that forks in turn (a worker running an isolated runtime) must
  // be able to take it again.
  Children::UnlockAfterFork(pid);
  if (pid == 0) {
    if (options.die_with_parent) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      // The parent may have died between fork() and prctl(): then the
      // signal will never come, and we were reparented already.
      if (getppid() != parent) _exit(127);
    }
    if (options.own_group) setpgid(0, 0);
    if (in[1] >= 0) close(in[1]);
    if (out[0] >= 0) close(out[0]);
    body(in[0], out[1]);
    _exit(127);  // `body` must not return
  }
  if (pid < 0) {
    const std::string e = std::strerror(errno);
    close_all();
    return absl::InternalError("fork: " + e);
  }
  // Also here, so that a kill right after the fork reaches the group.
  if (options.own_group) setpgid(pid, pid);
  if (in[0] >= 0) close(in[0]);
  if (out[1] >= 0) close(out[1]);
  return Child{pid, in[1], out[0], options.own_group};
}

absl::StatusOr<Child> SpawnCommand(std::vector<std::string> argv, const ChildOptions& options) {
  if (argv.empty() || argv[0].empty()) return absl::InvalidArgumentError("empty command");
  // Everything the child needs is made before the fork: between fork and
  // exec only async-signal-safe calls.
  std::vector<char*> args;
  for (std::string& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  const std::string cannot_exec = "cannot execute " + argv[0] + ": ";
  const int err_fd = options.stderr_fd;
  return ForkChild(options, [&](int in, int out) {
    if (in >= 0) dup2(in, 0);
    if (out >= 0) dup2(out, 1);
    if (err_fd >= 0) dup2(err_fd, 2);
    execvp(args[0], args.data());
    const int err = errno;
    (void)!write(2, cannot_exec.data(), cannot_exec.size());
    (void)!write(2, std::strerror(err), std::strlen(std::strerror(err)));
    (void)!write(2, "\n", 1);
    _exit(127);
  });
}

void ClosePipes(Child& c) {
  if (c.to >= 0) close(c.to);
  if (c.from >= 0) close(c.from);
  c.to = c.from = -1;
}

int Reap(Child& c) {
  int wstatus = 0;
  if (c.pid > 0) {
    while (waitpid(c.pid, &wstatus, 0) < 0 && errno == EINTR) {
    }
    Children::Remove(c.pid);
  }
  ClosePipes(c);
  c = Child{};
  return wstatus;
}

int KillAndReap(Child& c) {
  ClosePipes(c);
  if (c.pid <= 0) return 0;
  const bool group = c.own_group;
  if (group) kill(-c.pid, SIGKILL);
  kill(c.pid, SIGKILL);
  const int wstatus = Reap(c);
  // What it started outside its group (setsid) is ours now, as subreaper.
  if (group) KillOrphans();
  return wstatus;
}

absl::Status WriteAllBy(int fd, std::string_view data, std::chrono::steady_clock::time_point deadline) {
  while (!data.empty()) {
    ssize_t n = write(fd, data.data(), data.size());
    if (n > 0) {
      data.remove_prefix(static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EPIPE) return absl::UnavailableError("the reader closed its input");
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
      return absl::InternalError(std::string("write: ") + std::strerror(errno));
    }
    auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
    if (left <= 0) return absl::DeadlineExceededError("the input was not read in time");
    pollfd p{fd, POLLOUT, 0};
    if (poll(&p, 1, static_cast<int>(left)) < 0 && errno != EINTR) {
      return absl::InternalError(std::string("poll: ") + std::strerror(errno));
    }
  }
  return absl::OkStatus();
}

namespace {

std::mutex& RegistryMutex() {
  static std::mutex* mu = new std::mutex;
  return *mu;
}
std::set<pid_t>& Registry() {
  static std::set<pid_t>* pids = new std::set<pid_t>;
  return *pids;
}

}  // namespace

void Children::LockForFork() { RegistryMutex().lock(); }

void Children::UnlockAfterFork(pid_t child) {
  if (child > 0) Registry().insert(child);  // (0: in the child itself)
  RegistryMutex().unlock();
}

void Children::Remove(pid_t child) {
  std::lock_guard<std::mutex> lock(RegistryMutex());
  Registry().erase(child);
}

void Children::KillAll() {
  std::lock_guard<std::mutex> lock(RegistryMutex());
  for (pid_t p : Registry()) {
    kill(-p, SIGKILL);
    kill(p, SIGKILL);
  }
}

void BecomeSubreaper() { prctl(PR_SET_CHILD_SUBREAPER, 1); }

int KillOrphans() {
  std::lock_guard<std::mutex> lock(RegistryMutex());
  const pid_t self = getpid();
  std::vector<pid_t> orphans;
  DIR* proc = opendir("/proc");
  if (!proc) return 0;
  while (dirent* e = readdir(proc)) {
    char* end = nullptr;
    const long pid = std::strtol(e->d_name, &end, 10);
    if (*end || pid <= 0 || Registry().count(static_cast<pid_t>(pid))) continue;
    // Plain read(2): the process may be gone by now (ESRCH), and a stream
    // would throw for that; here it is just skipped.
    char buf[512];
    const int fd = open((std::string("/proc/") + e->d_name + "/stat").c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    const ssize_t got = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (got <= 0) continue;
    const std::string stat(buf, static_cast<std::size_t>(got));
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses.
    const auto paren = stat.rfind(')');
    if (paren == std::string::npos) continue;
    std::istringstream rest(stat.substr(paren + 1));
    char state = 0;
    long ppid = 0;
    rest >> state >> ppid;
    if (ppid == self) orphans.push_back(static_cast<pid_t>(pid));
  }
  closedir(proc);
  for (pid_t p : orphans) {
    kill(p, SIGKILL);
    while (waitpid(p, nullptr, 0) < 0 && errno == EINTR) {
    }
  }
  return static_cast<int>(orphans.size());
}

}  // namespace asyncspec::conformance
