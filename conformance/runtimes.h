// The runtimes under test, behind one small interface.
//
// A Runtime runs one valid program and returns its outcome, or a status that
// says why it could not:
//   * FailedPrecondition "deadlock: ..."  the program can never finish
//     (the model reports the same as ModelRun::deadlock; both agreeing is a pass);
//   * Unimplemented                       the runtime has no way to express the
//     program (an adapter's `unsupported` error): counted n/a, never failed;
//   * DeadlineExceeded                    the per-program time limit passed
//     (reported as TIMEOUT for that program, the run goes on);
//   * Aborted                             the runtime's process died on this
//     program (reported as CRASH, with the tail of its standard error);
//   * anything else                       an adapter error (the adapter spoke
//     garbage, refused a valid program, failed inside); reported as such,
//     never as a rule violation.
//
// Out-of-process runtimes speak the line protocol of conformance/ADAPTERS.md:
// AdapterRuntime is the one implementation of its client side, for any
// command (the CPython driver, a trio or uvloop adapter, a C++ program).
#ifndef ASYNCSPEC_CONFORMANCE_RUNTIMES_H_
#define ASYNCSPEC_CONFORMANCE_RUNTIMES_H_

#include <cstdint>
#include <sys/types.h>

#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "conformance/capabilities.h"
#include "conformance/process.h"
#include "spec/outcome.h"
#include "spec/program.h"

namespace asyncspec::conformance {

// What a runtime says about itself: an adapter's hello line (ADAPTERS.md).
struct RuntimeInfo {
  // 1: replies pair with programs by order only; 2: each program carries an
  // "id" its reply repeats (ADAPTERS.md). The check speaks both.
  int protocol = 1;
  std::string runtime;  // [a-z0-9_.-]+
  std::string version;  // "" if none
  // nullopt: everything (in-process runtimes; adapters that predate the
  // protocol and omit the field).
  std::optional<Capabilities> capabilities;
  std::string model;  // "spec" | "shipped-3.X" (a profile) | "3.X" (asyncio version); "" not said
  // The rules the runtime is held to: rule-ID globs, or one profile name of
  // RULES.md "Rule profiles" (resolved by the caller). Empty: every rule.
  std::vector<std::string> rules;
  std::string clock = "virtual";  // "virtual" | "real"
  int tick_ms = 0;                // with clock "real"
  // RT-8: the optional outcome channels the runtime records
  // ("exception_handler" -> `handler`, "warnings" -> `warnings`); the
  // others are dropped from its outcomes and not compared.
  std::set<std::string> observes;
};

// Drops from `o` the channels `info` does not observe; an error if it
// observes one that `o` lacks (ADAPTERS.md `observes`).
absl::Status ApplyObserves(const RuntimeInfo& info, spec::Outcome& o);

// Parses a hello line; a clear error naming the field otherwise.
absl::StatusOr<RuntimeInfo> ParseHello(std::string_view line);

class Runtime {
 public:
  virtual ~Runtime() = default;
  virtual std::string name() const = 0;
  // E.g. "3.13.0" for CPython; "" when the runtime has no version of its own.
  virtual std::string version() const { return ""; }
  // Everything the runtime says about itself (name and version included).
  virtual RuntimeInfo info() const {
    RuntimeInfo i;
    i.runtime = name();
    i.version = version();
    return i;
  }
  // Precondition: `program` is valid (spec/validate.h).
  virtual absl::StatusOr<spec::Outcome> Run(const spec::Program& program) = 0;
  // Starts afresh (a new process for adapters), so that a re-run of a program
  // sees a different memory layout: INV-9 is judged across processes, as
  // CPython's order of cancelling leftovers depends on addresses. No-op for
  // in-process runtimes.
  virtual absl::Status Restart() { return absl::OkStatus(); }
  // Later Runs use a perturbed schedule drawn from `seed` (0: the runtime's
  // own fixed order). Returns false if the runtime cannot (then nothing changes).
  virtual bool SetScheduleSeed(std::uint64_t seed) { return seed == 0; }
};

// The C++ reference runtime (//runtime through conformance/reference), in
// process. Supports SetScheduleSeed (runtime/loop.h schedule perturbation).
std::unique_ptr<Runtime> MakeReferenceRuntime();

// Runs `inner` in a forked child for each program, so that a runtime that
// crashes, corrupts its heap or hangs on one program costs only that program
// (reported as CRASH or TIMEOUT), not the whole check. The child sends the
// outcome back as JSON over a pipe. Costs about a fork per program.
std::unique_ptr<Runtime> MakeIsolatedRuntime(std::unique_ptr<Runtime> inner, int timeout_ms);

// An adapter process speaking the line protocol of conformance/ADAPTERS.md:
// started from `argv` (no shell) in its own process group, hello line
// first, then one program JSON per line in and one outcome (or error object)
// per line out. Its standard error goes to an unlinked temporary file whose
// tail is quoted when it crashes. A reply that takes longer than
// `timeout_ms` kills the adapter's process group (SIGKILL): DeadlineExceeded;
// the adapter exiting: Aborted, with the program it was running and its last
// stderr lines; a reply that is not JSON or not an outcome: an adapter error.
// After any of these the next Run starts a fresh adapter (restarts()).
class AdapterRuntime : public Runtime {
 public:
  // The longest line an adapter may write (ADAPTERS.md); a longer one is an
  // adapter error (the adapter is restarted), never buffered without end.
  static constexpr std::size_t kMaxLineBytes = std::size_t{16} << 20;
  // The time the hello may take (ADAPTERS.md), unless a manifest says more.
  static constexpr int kHelloTimeoutMs = 10000;
  // Starts the adapter and reads its hello line; error if that fails. The
  // hello may take max(timeout_ms, hello_timeout_ms).
  static absl::StatusOr<std::unique_ptr<AdapterRuntime>> Start(std::vector<std::string> argv, int timeout_ms,
                                                               int hello_timeout_ms = kHelloTimeoutMs);
  ~AdapterRuntime() override;
  std::string name() const override { return info_.runtime; }
  std::string version() const override { return info_.version; }
  RuntimeInfo info() const override { return info_; }
  absl::StatusOr<spec::Outcome> Run(const spec::Program& program) override;
  absl::Status Restart() override;
  int restarts() const { return restarts_; }
  const std::vector<std::string>& argv() const { return argv_; }

 protected:
  AdapterRuntime(std::vector<std::string> argv, int timeout_ms) : argv_(std::move(argv)), timeout_ms_(timeout_ms) {}
  absl::Status Spawn();

 private:
  void Kill();
  // Reads one line within the time limit into `line`.
  absl::Status ReadLine(std::string& line, int timeout_ms);
  // The last lines the adapter wrote on its standard error (at most ~2 KB).
  std::string StderrTail() const;
  // The status for an adapter that is gone: its exit status and stderr tail.
  absl::Status Died(const std::string& doing);

  std::vector<std::string> argv_;
  RuntimeInfo info_;
  int timeout_ms_;
  int hello_timeout_ms_ = kHelloTimeoutMs;
  Child child_;  // the adapter process (pid -1 when there is none)
  int stderr_fd_ = -1;
  std::string buffer_;  // bytes read past the last line
  std::size_t scanned_ = 0;  // bytes of buffer_ known to hold no newline
  int restarts_ = 0;
  std::uint64_t next_id_ = 1;  // protocol 2: the id of the next program sent
};

// CPython through conformance/adapters/cpython/driver.py: the AdapterRuntime
// of `python -u driver.py` (kept as its own factory for callers and tests
// that name the interpreter and the driver).
class CPythonRuntime : public AdapterRuntime {
 public:
  static absl::StatusOr<std::unique_ptr<CPythonRuntime>> Start(const std::string& python,
                                                               const std::string& driver,
                                                               int timeout_ms);

 private:
  using AdapterRuntime::AdapterRuntime;
};

// A runtime registered by a manifest <adapters_dir>/<dir>/adapter.json
// (conformance/ADAPTERS.md, "Registering an adapter"):
//   {"runtimes": [{"name": "trio", "command": ["python3", "{dir}/adapter.py"],
//                  "description": "...",
//                  "reproducer": "asyncio" | {"command": [...], "ext": "py"},
//                  "hello_timeout_ms": 180000}]}
// `{dir}` in the commands is replaced by the directory's absolute path.
struct RegisteredRuntime {
  std::string name, description, manifest;
  // "asyncio" (the check writes asyncio reproducers), "command" (the
  // adapter's reproducer_command writes them), or "" (none).
  std::string reproducer;
  std::vector<std::string> command;
  std::vector<std::string> reproducer_command;
  std::string reproducer_ext;
  // How long the hello may take: a runtime with a slow start (Pyodide, a
  // WebAssembly interpreter) says so in its manifest.
  int hello_timeout_ms = AdapterRuntime::kHelloTimeoutMs;
};

// Every runtime registered under `adapters_dir`, by directory name order.
// A malformed manifest adds a line naming the file and the field to
// `errors` and is skipped, so that one bad manifest does not hide the others.
std::vector<RegisteredRuntime> ReadManifests(const std::string& adapters_dir, std::vector<std::string>* errors);

}  // namespace asyncspec::conformance

#endif  // ASYNCSPEC_CONFORMANCE_RUNTIMES_H_
