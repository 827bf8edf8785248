#include "conformance/runtimes.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <algorithm>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "conformance/process.h"
#include "conformance/safe_text.h"
#include "conformance/reference/interpreter.h"
#include "spec/json.h"

namespace asyncspec::conformance {
namespace {

class ReferenceRuntime : public Runtime {
 public:
  std::string name() const override { return "reference"; }
  RuntimeInfo info() const override {
    RuntimeInfo i;
    i.runtime = "reference";
    i.capabilities = AllCapabilities();
    i.model = "3.13";
    i.observes = {"exception_handler", "warnings"};  // RT-8 (interpreter.cc)
    return i;
  }
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
    absl::StatusOr<bool> more = ReadSome(fd, out, deadline);
    if (!more.ok()) {
      if (absl::IsDeadlineExceeded(more.status())) return absl::DeadlineExceededError("no outcome in time");
      return more.status();
    }
    if (!*more) return absl::OkStatus();
  }
}

class IsolatedRuntime : public Runtime {
 public:
  IsolatedRuntime(std::unique_ptr<Runtime> inner, int timeout_ms)
      : inner_(std::move(inner)), timeout_ms_(timeout_ms) {}
  std::string name() const override { return inner_->name(); }
  std::string version() const override { return inner_->version(); }
  RuntimeInfo info() const override { return inner_->info(); }
  // The forked child inherits the inner runtime's seed.
  bool SetScheduleSeed(std::uint64_t seed) override { return inner_->SetScheduleSeed(seed); }

  absl::StatusOr<spec::Outcome> Run(const spec::Program& program) override {
    // The child sends 'O' + outcome JSON, or 'D'/'E' + status message
    // (D: deadlock), on its pipe.
    auto child = ForkChild(ChildOptions{}, [&](int, int out_fd) {
      std::string msg;
      auto r = inner_->Run(program);
      if (r.ok()) msg = "O" + spec::OutcomeToJson(*r);
      else if (absl::IsFailedPrecondition(r.status())) msg = "D" + std::string(r.status().message());
      else msg = "E" + std::string(r.status().message());
      std::size_t off = 0;
      while (off < msg.size()) {
        ssize_t n = write(out_fd, msg.data() + off, msg.size() - off);
        if (n <= 0) break;
        off += static_cast<std::size_t>(n);
      }
      _exit(0);
    });
    if (!child.ok()) return child.status();
    std::string out;
    absl::Status s = ReadAll(child->from, out, std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms_));
    const int wstatus = s.ok() ? Reap(*child) : KillAndReap(*child);
    if (!s.ok()) return s;
    if (WIFSIGNALED(wstatus)) {
      return absl::AbortedError("the " + name() + " runtime crashed: " + DescribeExit(wstatus));
    }
    if (out.empty()) return absl::AbortedError("the " + name() + " runtime exited without an outcome");
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


absl::StatusOr<RuntimeInfo> ParseHello(std::string_view line) {
  auto j = nlohmann::json::parse(line, nullptr, false);
  auto bad = [&](const std::string& why) {
    return absl::InvalidArgumentError("hello: " + why + " (got: " + std::string(line.substr(0, 300)) + ")");
  };
  if (j.is_discarded()) return bad("the first line is not JSON");
  if (!j.is_object() || !j.contains("hello") || !j["hello"].is_object()) {
    return bad("the first line must be {\"hello\": {...}}");
  }
  const nlohmann::json& h = j["hello"];
  RuntimeInfo info;
  if (h.contains("protocol")) {
    if (!h["protocol"].is_number_integer()) return bad("protocol must be an integer");
    info.protocol = h["protocol"].get<int>();
    if (info.protocol != 1 && info.protocol != 2) {
      return bad("the adapter speaks protocol " + std::to_string(info.protocol) + "; this check speaks 1 and 2");
    }
  }
  if (!h.contains("runtime") || !h["runtime"].is_string()) return bad("runtime (a string) is required");
  info.runtime = h["runtime"].get<std::string>();
  if (info.runtime.empty() ||
      info.runtime.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_.-") != std::string::npos) {
    return bad("runtime must match [a-z0-9_.-]+");
  }
  if (!h.contains("version") || !h["version"].is_string()) return bad("version (a string) is required");
  info.version = h["version"].get<std::string>();
  if (h.contains("capabilities")) {
    if (!h["capabilities"].is_array()) return bad("capabilities must be a list of strings");
    Capabilities caps;
    for (const auto& c : h["capabilities"]) {
      if (!c.is_string()) return bad("capabilities must be a list of strings");
      std::string name = c.get<std::string>();
      if (!AllCapabilities().count(name)) {
        return bad("unknown capability '" + name + "' (ADAPTERS.md lists the op names and except_star, "
                   "catch_group, base)");
      }
      caps.insert(name);
    }
    info.capabilities = std::move(caps);
  }
  if (h.contains("model")) {
    // A profile (spec, shipped-3.X: the check uses it), or the asyncio
    // version the runtime reproduces ("3.11": informative, checked with spec).
    static const char kModels[] =
        "model must be \"spec\", \"shipped-3.11\" ... \"shipped-3.15\" or an asyncio version "
        "(\"3.11\" ... \"3.15\")";
    if (!h["model"].is_string()) return bad(kModels);
    info.model = h["model"].get<std::string>();
    bool known = info.model == "spec";
    for (const char* v : {"3.11", "3.12", "3.13", "3.14", "3.15"}) known |= info.model == v || info.model == std::string("shipped-") + v;
    if (!known) return bad(kModels);
  }
  if (h.contains("rules")) {
    const auto& r = h["rules"];
    if (r.is_string()) {
      info.rules.push_back(r.get<std::string>());
    } else if (r.is_array()) {
      for (const auto& x : r) {
        if (!x.is_string()) return bad("rules must be a profile name or a list of rule-ID globs");
        info.rules.push_back(x.get<std::string>());
      }
    } else {
      return bad("rules must be a profile name or a list of rule-ID globs");
    }
  }
  if (h.contains("clock")) {
    if (!h["clock"].is_string()) return bad("clock must be \"virtual\" or \"real\"");
    info.clock = h["clock"].get<std::string>();
    if (info.clock != "virtual" && info.clock != "real") return bad("clock must be \"virtual\" or \"real\"");
  }
  if (h.contains("tick_ms")) {
    if (!h["tick_ms"].is_number_integer() || h["tick_ms"].get<long long>() <= 0 ||
        h["tick_ms"].get<long long>() > 60000) {
      return bad("tick_ms must be an integer in [1, 60000]");
    }
    info.tick_ms = h["tick_ms"].get<int>();
  }
  if (info.clock == "real" && info.tick_ms == 0) return bad("clock \"real\" needs tick_ms");
  if (h.contains("observes")) {
    const auto& ob = h["observes"];
    if (!ob.is_array()) return bad("observes must be a list of \"exception_handler\", \"warnings\"");
    for (const auto& x : ob) {
      if (!x.is_string() || (x != "exception_handler" && x != "warnings")) {
        return bad("observes must be a list of \"exception_handler\", \"warnings\"");
      }
      info.observes.insert(x.get<std::string>());
    }
  }
  return info;
}

absl::Status ApplyObserves(const RuntimeInfo& info, spec::Outcome& o) {
  const bool handler = info.observes.count("exception_handler") > 0, warns = info.observes.count("warnings") > 0;
  if (handler && !o.handler) {
    return absl::DataLossError("the hello says observes \"exception_handler\" but the outcome has no \"handler\"");
  }
  if (warns && !o.warnings) {
    return absl::DataLossError("the hello says observes \"warnings\" but the outcome has no \"warnings\"");
  }
  if (!handler) o.handler.reset();
  if (!warns) o.warnings.reset();
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<AdapterRuntime>> AdapterRuntime::Start(std::vector<std::string> argv,
                                                                       int timeout_ms, int hello_timeout_ms) {
  if (argv.empty() || argv[0].empty()) return absl::InvalidArgumentError("empty adapter command");
  std::unique_ptr<AdapterRuntime> rt(new AdapterRuntime(std::move(argv), timeout_ms));
  rt->hello_timeout_ms_ = hello_timeout_ms;
  if (absl::Status s = rt->Spawn(); !s.ok()) return s;
  return rt;
}

AdapterRuntime::~AdapterRuntime() {
  Kill();
  if (stderr_fd_ >= 0) close(stderr_fd_);
}

namespace {

// An unlinked temporary file for the adapter's standard error, opened for
// appending so that the parent may truncate it while the child writes.
int StderrFile() {
  const char* dir = std::getenv("TEST_TMPDIR");
  if (!dir || !*dir) dir = std::getenv("TMPDIR");
  if (!dir || !*dir) dir = "/tmp";
  std::string path = std::string(dir) + "/asyncspec-adapter-stderr-XXXXXX";
  int fd = mkostemp(path.data(), O_APPEND | O_CLOEXEC);
  if (fd >= 0) unlink(path.c_str());
  return fd;
}

}  // namespace

absl::Status AdapterRuntime::Spawn() {
  // An adapter killed mid-write must not kill us with SIGPIPE.
  signal(SIGPIPE, SIG_IGN);
  if (stderr_fd_ < 0) stderr_fd_ = StderrFile();
  if (stderr_fd_ >= 0) ftruncate(stderr_fd_, 0);
  // Its own process group, so that a timeout kills whatever it started
  // too (a shell wrapper, a worker process).
  auto child = SpawnCommand(argv_, ChildOptions{true, true, true, stderr_fd_});
  if (!child.ok()) return child.status();
  child_ = *child;
  // Writes wait in poll() with the program's deadline, never in write().
  fcntl(child_.to, F_SETFL, fcntl(child_.to, F_GETFL) | O_NONBLOCK);
  buffer_.clear();
  scanned_ = 0;
  std::string hello;
  // Start-up (an interpreter, imports) is slower than a program: ADAPTERS.md
  // gives the hello 10 seconds, or what the manifest says.
  if (absl::Status s = ReadLine(hello, std::max(timeout_ms_, hello_timeout_ms_)); !s.ok()) {
    if (absl::IsUnavailable(s)) return absl::UnavailableError(std::string(Died("starting").message()));
    Kill();
    return absl::UnavailableError("the adapter did not say hello: " + std::string(s.message()) + StderrTail());
  }
  auto info = ParseHello(hello);
  if (!info.ok()) {
    Kill();
    return absl::UnavailableError(std::string(info.status().message()));
  }
  info_ = std::move(*info);
  return absl::OkStatus();
}

void AdapterRuntime::Kill() { KillAndReap(child_); }

std::string AdapterRuntime::StderrTail() const {
  if (stderr_fd_ < 0) return "";
  struct stat st;
  if (fstat(stderr_fd_, &st) != 0 || st.st_size == 0) return "; its standard error is empty";
  const off_t n = std::min<off_t>(st.st_size, 2048);
  std::string tail(static_cast<std::size_t>(n), '\0');
  ssize_t got = pread(stderr_fd_, tail.data(), tail.size(), st.st_size - n);
  if (got <= 0) return "";
  tail.resize(static_cast<std::size_t>(got));
  if (n < st.st_size) {
    if (auto nl = tail.find('\n'); nl != std::string::npos && nl + 1 < tail.size()) tail = tail.substr(nl + 1);
  }
  while (!tail.empty() && (tail.back() == '\n' || tail.back() == '\r')) tail.pop_back();
  return "; the end of its standard error:\n" + tail;
}

absl::Status AdapterRuntime::Died(const std::string& doing) {
  ClosePipes(child_);
  std::string how = "exited";
  const pid_t pid = child_.pid;
  if (pid > 0) {
    // The output closed; the process is gone or about to be.
    bool reaped = false;
    for (int i = 0; i < 200 && !reaped; ++i) {
      int wstatus = 0;
      if (waitpid(pid, &wstatus, WNOHANG) == pid) {
        how = DescribeExit(wstatus);
        Children::Remove(pid);
        reaped = true;
      } else {
        usleep(5000);
      }
    }
    if (reaped) {
      // Anything it left behind, in its group or (setsid) outside it.
      kill(-pid, SIGKILL);
      KillOrphans();
    } else {
      how = "closed its output (then killed)";
      KillAndReap(child_);
    }
  }
  child_ = Child{};
  return absl::AbortedError("the adapter " + how + " while " + doing + StderrTail());
}

absl::Status AdapterRuntime::ReadLine(std::string& line, int timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (true) {
    auto nl = buffer_.find('\n', scanned_);
    if (nl != std::string::npos) {
      line = buffer_.substr(0, nl);
      buffer_.erase(0, nl + 1);
      scanned_ = 0;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      return absl::OkStatus();
    }
    scanned_ = buffer_.size();
    if (buffer_.size() > kMaxLineBytes) {
      return absl::ResourceExhaustedError("the adapter wrote a line longer than " +
                                          std::to_string(kMaxLineBytes >> 20) + " MiB (ADAPTERS.md): " +
                                          Utf8Prefix(buffer_, 100));
    }
    absl::StatusOr<bool> more = ReadSome(child_.from, buffer_, deadline);
    if (!more.ok()) {
      if (absl::IsDeadlineExceeded(more.status()))
        return absl::DeadlineExceededError("no reply within " + std::to_string(timeout_ms) + " ms");
      return more.status();
    }
    if (!*more) return absl::UnavailableError("the adapter closed its output");
  }
}

absl::Status AdapterRuntime::Restart() {
  Kill();
  ++restarts_;
  return Spawn();
}

absl::StatusOr<spec::Outcome> AdapterRuntime::Run(const spec::Program& program) {
  if (child_.pid < 0) {
    ++restarts_;
    if (absl::Status s = Spawn(); !s.ok()) return s;
  }
  // Keep the stderr file small; its tail is all a report quotes.
  if (stderr_fd_ >= 0) {
    struct stat st;
    if (fstat(stderr_fd_, &st) == 0 && st.st_size > (1 << 20)) ftruncate(stderr_fd_, 0);
  }
  std::string line = spec::ProgramToJson(program) + "\n";
  // Protocol 2: the program's id goes first in the object, so an adapter
  // may copy it to its reply without parsing (ADAPTERS.md).
  const std::uint64_t id = next_id_++;
  const std::string id_prefix = "{\"id\":" + std::to_string(id) + ",";
  if (info_.protocol >= 2) line = id_prefix + line.substr(1);
  // One deadline for writing the program and reading the reply: an adapter
  // that does not read costs the time limit, not a hang.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms_);
  if (absl::Status w = WriteAllBy(child_.to, line, deadline); !w.ok()) {
    if (absl::IsUnavailable(w)) return Died("reading this program");
    Kill();
    if (absl::IsDeadlineExceeded(w)) {
      return absl::DeadlineExceededError("the adapter did not read the program within " +
                                         std::to_string(timeout_ms_) + " ms");
    }
    return absl::UnavailableError("writing to the adapter: " + std::string(w.message()));
  }
  std::string reply;
  const int left_ms = static_cast<int>(std::max<long long>(
      0, std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count()));
  if (absl::Status s = ReadLine(reply, left_ms); !s.ok()) {
    if (absl::IsUnavailable(s)) return Died("running this program");
    Kill();  // the next program gets a fresh adapter
    // (The limit counts from the write: say the whole of it.)
    if (absl::IsDeadlineExceeded(s)) return absl::DeadlineExceededError("no reply within " + std::to_string(timeout_ms_) + " ms");
    return s;
  }
  auto j = nlohmann::json::parse(reply, nullptr, false);
  if (j.is_discarded()) {
    // Its output is out of step with its input from here on (debug prints on
    // stdout, a partial line): start afresh for the next program.
    Kill();
    return absl::DataLossError("the adapter replied with a line that is not JSON: " + Utf8Prefix(reply, 300));
  }
  if (info_.protocol >= 2) {
    // A reply for another program (a stray line, a reply the adapter
    // repeated or skipped) puts every later reply out of step: one adapter
    // error, and a fresh adapter, instead of a failure per later program.
    if (!j.is_object() || !j.contains("id") || j["id"] != id) {
      Kill();
      return absl::DataLossError(
          "the adapter's reply is out of step: sent program id " + std::to_string(id) + ", the reply " +
          (j.is_object() && j.contains("id") ? "has id " + Utf8Prefix(j["id"].dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), 40)
                                             : std::string("has no id")) +
          ": " + Utf8Prefix(reply, 300));
    }
    j.erase("id");
    if (reply.rfind(id_prefix, 0) == 0) reply = "{" + reply.substr(id_prefix.size());
    else reply = j.dump();
  }
  if (j.is_object() && j.contains("error")) {
    std::string err = j["error"].is_string() ? j["error"].get<std::string>() : j["error"].dump();
    std::string where;
    if (j.contains("where")) where = j["where"].is_string() ? j["where"].get<std::string>() : j["where"].dump();
    const std::string at = where.empty() ? "" : " (at " + where + ")";
    std::string kind;
    if (j.contains("kind") && j["kind"].is_string()) kind = j["kind"].get<std::string>();
    if (kind.empty()) {
      // Adapters that predate `kind` (the CPython driver before protocol 1)
      // say "deadlock: ..." for a deadlock and where "capabilities" for a
      // construct their interpreter lacks.
      if (err.rfind("deadlock", 0) == 0) kind = "deadlock";
      else if (where == "capabilities") kind = "unsupported";
      else kind = "internal";
    }
    if (kind == "deadlock") return absl::FailedPreconditionError(err.rfind("deadlock", 0) == 0 ? err : "deadlock: " + err);
    if (kind == "unsupported") return absl::UnimplementedError(err + at);
    if (kind == "input") return absl::InvalidArgumentError("the adapter refused the program as invalid input: " + err + at);
    if (kind == "internal") return absl::InternalError("the adapter failed: " + err + at);
    return absl::InternalError("the adapter failed (unknown error kind '" + kind + "'): " + err + at);
  }
  if (!j.is_object() || !j.contains("tasks")) {
    return absl::DataLossError("the adapter replied with JSON that is neither an outcome nor an error: " +
                               Utf8Prefix(reply, 300));
  }
  auto outcome = spec::OutcomeFromJson(reply);
  if (!outcome.ok()) {
    return absl::DataLossError("the adapter's outcome does not parse: " + std::string(outcome.status().message()));
  }
  if (absl::Status s = ApplyObserves(info_, *outcome); !s.ok()) return s;
  return outcome;
}

absl::StatusOr<std::unique_ptr<CPythonRuntime>> CPythonRuntime::Start(const std::string& python,
                                                                       const std::string& driver,
                                                                       int timeout_ms) {
  if (access(python.c_str(), X_OK) != 0) {
    return absl::NotFoundError("python interpreter not found or not executable: " + python);
  }
  if (access(driver.c_str(), R_OK) != 0) {
    return absl::NotFoundError("driver not found: " + driver);
  }
  std::unique_ptr<CPythonRuntime> rt(new CPythonRuntime({python, "-u", driver}, timeout_ms));
  if (absl::Status s = rt->Spawn(); !s.ok()) return s;
  return rt;
}

std::vector<RegisteredRuntime> ReadManifests(const std::string& adapters_dir, std::vector<std::string>* errors) {
  namespace fs = std::filesystem;
  std::vector<RegisteredRuntime> out;
  std::vector<fs::path> dirs;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(adapters_dir, ec)) {
    if (fs::exists(e.path() / "adapter.json")) dirs.push_back(e.path());
  }
  std::sort(dirs.begin(), dirs.end());
  for (const fs::path& dir : dirs) {
    const std::string path = (dir / "adapter.json").string();
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    auto j = nlohmann::json::parse(ss.str(), nullptr, false);
    auto bad = [&](const std::string& why) { errors->push_back(path + ": " + why); };
    if (j.is_discarded() || !j.is_object() || !j.contains("runtimes") || !j["runtimes"].is_array()) {
      bad("not {\"runtimes\": [...]}");
      continue;
    }
    const std::string abs_dir = fs::absolute(dir).lexically_normal().string();
    int k = 0;
    for (const auto& r : j["runtimes"]) {
      const std::string at = "runtimes[" + std::to_string(k++) + "]";
      if (!r.is_object() || !r.contains("name") || !r["name"].is_string() || !r.contains("command") ||
          !r["command"].is_array() || r["command"].empty()) {
        bad(at + " needs a name (string) and a command (non-empty list of strings)");
        continue;
      }
      RegisteredRuntime reg;
      reg.name = r["name"].get<std::string>();
      reg.manifest = path;
      if (r.contains("description") && r["description"].is_string()) reg.description = r["description"].get<std::string>();
      // A command: a non-empty list of strings, {dir} substituted.
      auto command = [&](const nlohmann::json& c, std::vector<std::string>* out) {
        if (!c.is_array() || c.empty()) return false;
        for (const auto& a : c) {
          if (!a.is_string()) return false;
          std::string arg = a.get<std::string>();
          for (std::size_t p; (p = arg.find("{dir}")) != std::string::npos;) arg.replace(p, 5, abs_dir);
          out->push_back(arg);
        }
        return true;
      };
      if (r.contains("reproducer")) {
        const auto& rp = r["reproducer"];
        if (rp.is_string() && rp == "asyncio") {
          reg.reproducer = "asyncio";
        } else if (rp.is_object() && rp.contains("command") && command(rp["command"], &reg.reproducer_command)) {
          reg.reproducer = "command";
          reg.reproducer_ext = rp.value("ext", std::string("txt"));
          if (reg.reproducer_ext.empty() ||
              reg.reproducer_ext.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789") != std::string::npos) {
            bad(at + ".reproducer.ext must be a file extension ([a-z0-9]+)");
            continue;
          }
        } else {
          bad(at + ".reproducer must be \"asyncio\" or {\"command\": [...], \"ext\": \"py\"}");
          continue;
        }
      }
      if (r.contains("hello_timeout_ms")) {
        const auto& h = r["hello_timeout_ms"];
        if (!h.is_number_integer() || h.get<long long>() < 1 || h.get<long long>() > 3'600'000) {
          bad(at + ".hello_timeout_ms must be an integer in [1, 3600000] (milliseconds)");
          continue;
        }
        reg.hello_timeout_ms = h.get<int>();
      }
      if (!command(r["command"], &reg.command)) {
        bad(at + ".command must be a list of strings");
        continue;
      }
      bool dup = false;
      for (const RegisteredRuntime& o : out) dup |= o.name == reg.name;
      if (dup) {
        bad(at + ": runtime '" + reg.name + "' is registered twice (the first one is used)");
        continue;
      }
      out.push_back(std::move(reg));
    }
  }
  return out;
}

}  // namespace asyncspec::conformance
