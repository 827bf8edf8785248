#include "conformance/runtimes.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "conformance/reference/interpreter.h"
#include "spec/json.h"

namespace asyncspec::conformance {
namespace {

class ReferenceRuntime : public Runtime {
 public:
  std::string name() const override { return "reference"; }
  absl::StatusOr<spec::Outcome> Run(const spec::Program& program) override {
    // The runtime reports misuse with exceptions (e.g. std::logic_error);
    // one escaping is the runtime failing on this program, not the checker.
    try {
      return RunOnReference(program, schedule_seed_);
    } catch (const std::exception& e) {
      return absl::InternalError(std::string("the reference runtime threw: ") + e.what());
    } catch (...) {
      return absl::InternalError("the reference runtime threw a non-std exception");
    }
  }
  bool SetScheduleSeed(std::uint64_t seed) override {
    schedule_seed_ = seed;
    return true;
  }

 private:
  std::uint64_t schedule_seed_ = 0;
};

absl::Status ReadAll(int fd, std::string& out, std::chrono::steady_clock::time_point deadline) {
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
    if (left <= 0) return absl::DeadlineExceededError("no outcome in time");
    pollfd p{fd, POLLIN, 0};
    int r = poll(&p, 1, static_cast<int>(left));
    if (r < 0) {
      if (errno == EINTR) continue;
      return absl::InternalError(std::string("poll: ") + std::strerror(errno));
    }
    if (r == 0) continue;
    char buf[65536];
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return absl::InternalError(std::string("read: ") + std::strerror(errno));
    }
    if (n == 0) return absl::OkStatus();
    out.append(buf, static_cast<std::size_t>(n));
  }
}

class IsolatedRuntime : public Runtime {
 public:
  IsolatedRuntime(std::unique_ptr<Runtime> inner, int timeout_ms)
      : inner_(std::move(inner)), timeout_ms_(timeout_ms) {}
  std::string name() const override { return inner_->name(); }
  std::string version() const override { return inner_->version(); }
  // The forked child inherits the inner runtime's seed.
  bool SetScheduleSeed(std::uint64_t seed) override { return inner_->SetScheduleSeed(seed); }

  absl::StatusOr<spec::Outcome> Run(const spec::Program& program) override {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) return absl::InternalError(std::string("pipe: ") + std::strerror(errno));
    std::fflush(nullptr);
    pid_t pid = fork();
    if (pid < 0) {
      close(fds[0]);
      close(fds[1]);
      return absl::InternalError(std::string("fork: ") + std::strerror(errno));
    }
    if (pid == 0) {
      close(fds[0]);
      // 'O' + outcome JSON, or 'D'/'E' + status message (D: deadlock).
      std::string msg;
      auto r = inner_->Run(program);
      if (r.ok()) msg = "O" + spec::OutcomeToJson(*r);
      else if (absl::IsFailedPrecondition(r.status())) msg = "D" + std::string(r.status().message());
      else msg = "E" + std::string(r.status().message());
      std::size_t off = 0;
      while (off < msg.size()) {
        ssize_t n = write(fds[1], msg.data() + off, msg.size() - off);
        if (n <= 0) break;
        off += static_cast<std::size_t>(n);
      }
      _exit(0);
    }
    close(fds[1]);
    std::string out;
    absl::Status s = ReadAll(fds[0], out, std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms_));
    close(fds[0]);
    if (!s.ok()) kill(pid, SIGKILL);
    int wstatus = 0;
    waitpid(pid, &wstatus, 0);
    if (!s.ok()) return s;
    if (WIFSIGNALED(wstatus)) {
      return absl::InternalError("the " + name() + " runtime crashed (signal " + std::to_string(WTERMSIG(wstatus)) +
                                 ", " + strsignal(WTERMSIG(wstatus)) + ")");
    }
    if (out.empty()) return absl::InternalError("the " + name() + " runtime exited without an outcome");
    if (out[0] == 'D') return absl::FailedPreconditionError(out.substr(1));
    if (out[0] == 'E') return absl::InternalError(out.substr(1));
    auto outcome = spec::OutcomeFromJson(std::string_view(out).substr(1));
    if (!outcome.ok()) return absl::DataLossError("outcome from the child does not parse: " + outcome.status().ToString());
    return outcome;
  }

 private:
  std::unique_ptr<Runtime> inner_;
  int timeout_ms_;
};

}  // namespace

std::unique_ptr<Runtime> MakeIsolatedRuntime(std::unique_ptr<Runtime> inner, int timeout_ms) {
  return std::make_unique<IsolatedRuntime>(std::move(inner), timeout_ms);
}

std::unique_ptr<Runtime> MakeReferenceRuntime() { return std::make_unique<ReferenceRuntime>(); }

absl::StatusOr<std::unique_ptr<CPythonRuntime>> CPythonRuntime::Start(const std::string& python,
                                                                       const std::string& driver,
                                                                       int timeout_ms) {
  if (access(python.c_str(), X_OK) != 0) {
    return absl::NotFoundError("python interpreter not found or not executable: " + python);
  }
  if (access(driver.c_str(), R_OK) != 0) {
    return absl::NotFoundError("driver not found: " + driver);
  }
  std::unique_ptr<CPythonRuntime> rt(new CPythonRuntime(python, driver, timeout_ms));
  if (absl::Status s = rt->Spawn(); !s.ok()) return s;
  return rt;
}

CPythonRuntime::~CPythonRuntime() { Kill(); }

absl::Status CPythonRuntime::Spawn() {
  // A driver killed mid-write must not kill us with SIGPIPE.
  signal(SIGPIPE, SIG_IGN);
  int in[2], out[2];
  if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0) {
    return absl::InternalError(std::string("pipe: ") + std::strerror(errno));
  }
  pid_t pid = fork();
  if (pid < 0) return absl::InternalError(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    dup2(in[0], 0);
    dup2(out[1], 1);
    execl(python_.c_str(), python_.c_str(), "-u", driver_.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  pid_ = pid;
  to_child_ = in[1];
  from_child_ = out[0];
  buffer_.clear();
  std::string hello;
  // Interpreter start-up is slower than a program; give it a generous limit.
  if (absl::Status s = ReadLine(hello, std::max(timeout_ms_, 10000)); !s.ok()) {
    Kill();
    return absl::UnavailableError("driver did not say hello: " + std::string(s.message()));
  }
  auto j = nlohmann::json::parse(hello, nullptr, false);
  if (j.is_discarded() || !j.contains("hello") || !j["hello"].contains("version")) {
    Kill();
    return absl::UnavailableError("driver's first line is not a hello: " + hello.substr(0, 200));
  }
  version_ = j["hello"]["version"].get<std::string>();
  return absl::OkStatus();
}

void CPythonRuntime::Kill() {
  if (to_child_ >= 0) close(to_child_);
  if (from_child_ >= 0) close(from_child_);
  to_child_ = from_child_ = -1;
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  pid_ = -1;
}

absl::Status CPythonRuntime::ReadLine(std::string& line, int timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (true) {
    auto nl = buffer_.find('\n');
    if (nl != std::string::npos) {
      line = buffer_.substr(0, nl);
      buffer_.erase(0, nl + 1);
      return absl::OkStatus();
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline - std::chrono::steady_clock::now())
                    .count();
    if (left <= 0) return absl::DeadlineExceededError("no reply within " + std::to_string(timeout_ms) + " ms");
    pollfd p{from_child_, POLLIN, 0};
    int r = poll(&p, 1, static_cast<int>(left));
    if (r < 0) {
      if (errno == EINTR) continue;
      return absl::InternalError(std::string("poll: ") + std::strerror(errno));
    }
    if (r == 0) continue;
    char buf[65536];
    ssize_t n = read(from_child_, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return absl::InternalError(std::string("read: ") + std::strerror(errno));
    }
    if (n == 0) return absl::UnavailableError("driver exited (end of its output)");
    buffer_.append(buf, static_cast<std::size_t>(n));
  }
}

absl::StatusOr<spec::Outcome> CPythonRuntime::Run(const spec::Program& program) {
  if (pid_ < 0) {
    ++restarts_;
    if (absl::Status s = Spawn(); !s.ok()) return s;
  }
  std::string line = spec::ProgramToJson(program) + "\n";
  std::size_t off = 0;
  while (off < line.size()) {
    ssize_t n = write(to_child_, line.data() + off, line.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      Kill();
      return absl::UnavailableError(std::string("writing to the driver: ") + std::strerror(errno));
    }
    off += static_cast<std::size_t>(n);
  }
  std::string reply;
  if (absl::Status s = ReadLine(reply, timeout_ms_); !s.ok()) {
    Kill();  // the next program gets a fresh driver
    return s;
  }
  auto j = nlohmann::json::parse(reply, nullptr, false);
  if (j.is_discarded()) {
    Kill();
    return absl::DataLossError("driver replied with non-JSON: " + reply.substr(0, 200));
  }
  if (j.is_object() && j.contains("error")) {
    std::string err = j["error"].is_string() ? j["error"].get<std::string>() : j["error"].dump();
    if (err.rfind("deadlock", 0) == 0) return absl::FailedPreconditionError(err);
    return absl::InternalError("driver error (" + j.value("where", std::string("?")) + "): " + err);
  }
  auto outcome = spec::OutcomeFromJson(reply);
  if (!outcome.ok()) {
    return absl::DataLossError("driver outcome does not parse: " + std::string(outcome.status().message()));
  }
  return outcome;
}

}  // namespace asyncspec::conformance
