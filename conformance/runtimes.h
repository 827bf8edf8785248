// The runtimes under test, behind one small interface.
//
// A Runtime runs one valid program and returns its outcome, or a status that
// says why it could not:
//   * FailedPrecondition "deadlock: ..."  the program can never finish
//     (the model reports the same as ModelRun::deadlock; both agreeing is a pass);
//   * DeadlineExceeded                    the per-program time limit passed
//     (reported as TIMEOUT for that program, the run goes on);
//   * anything else                       an adapter error (the runtime or its
//     adapter misbehaved: crashed, spoke garbage); reported as such, never as
//     a rule violation.
#ifndef ASYNCSPEC_CONFORMANCE_RUNTIMES_H_
#define ASYNCSPEC_CONFORMANCE_RUNTIMES_H_

#include <cstdint>
#include <memory>
#include <string>
#include <sys/types.h>

#include "absl/status/statusor.h"
#include "spec/outcome.h"
#include "spec/program.h"

namespace asyncspec::conformance {

class Runtime {
 public:
  virtual ~Runtime() = default;
  virtual std::string name() const = 0;
  // E.g. "3.13.0" for CPython; "" when the runtime has no version of its own.
  virtual std::string version() const { return ""; }
  // Precondition: `program` is valid (spec/validate.h).
  virtual absl::StatusOr<spec::Outcome> Run(const spec::Program& program) = 0;
  // Later Runs use a perturbed schedule drawn from `seed` (0: the runtime's
  // own fixed order). Returns false if the runtime cannot (then nothing changes).
  virtual bool SetScheduleSeed(std::uint64_t seed) { return seed == 0; }
};

// The C++ reference runtime (//runtime through conformance/reference), in
// process. Supports SetScheduleSeed (runtime/loop.h schedule perturbation).
std::unique_ptr<Runtime> MakeReferenceRuntime();

// Runs `inner` in a forked child for each program, so that a runtime that
// crashes, corrupts its heap or hangs on one program costs only that program
// (reported as an adapter error or TIMEOUT), not the whole check. The child
// sends the outcome back as JSON over a pipe. Costs about a fork per program.
std::unique_ptr<Runtime> MakeIsolatedRuntime(std::unique_ptr<Runtime> inner, int timeout_ms);

// CPython through conformance/adapters/cpython/driver.py: one long-lived
// `python driver.py` subprocess speaking the line protocol (one program JSON
// per line in, one outcome JSON per line out, hello line first). A reply that
// takes longer than `timeout_ms` kills the driver (SIGKILL) and the next
// program starts a fresh one. If the driver dies, the next Run restarts it.
class CPythonRuntime : public Runtime {
 public:
  // Starts the driver and reads its hello line; error if that fails.
  static absl::StatusOr<std::unique_ptr<CPythonRuntime>> Start(const std::string& python,
                                                               const std::string& driver,
                                                               int timeout_ms);
  ~CPythonRuntime() override;
  std::string name() const override { return "cpython"; }
  std::string version() const override { return version_; }
  absl::StatusOr<spec::Outcome> Run(const spec::Program& program) override;
  int restarts() const { return restarts_; }

 private:
  CPythonRuntime(std::string python, std::string driver, int timeout_ms)
      : python_(std::move(python)), driver_(std::move(driver)), timeout_ms_(timeout_ms) {}
  absl::Status Spawn();
  void Kill();
  // Reads one line within the time limit into `line`.
  absl::Status ReadLine(std::string& line, int timeout_ms);

  std::string python_, driver_, version_;
  int timeout_ms_;
  pid_t pid_ = -1;
  int to_child_ = -1, from_child_ = -1;
  std::string buffer_;  // bytes read past the last line
  int restarts_ = 0;
};

}  // namespace asyncspec::conformance

#endif  // ASYNCSPEC_CONFORMANCE_RUNTIMES_H_
