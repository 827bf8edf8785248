#include "conformance/process.h"

#include <poll.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

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

}  // namespace asyncspec::conformance
