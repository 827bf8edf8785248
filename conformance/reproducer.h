// Standalone reproducers of failures, in the runtime's own language.
//
// A report names the rule and shows the shrunk program; a runtime's author
// wants a file that runs without this project and shows the bug. For
// asyncio runtimes (CPython, and adapters whose manifest asks for it),
// PythonReproducer writes the shrunk program as plain asyncio code, the
// statements of spec/FORMAT.md's "Python meaning" column (TaskGroup,
// gather, timeout, shield, wait_for, cancel, try/except*), plus a small
// recorder: it notes when task bodies start and end, what each scope raised
// and which handlers ran, on an event loop whose clock jumps from timer to
// timer (so `sleep 1000` takes no time). At the end it prints, for every
// outcome element the check found different, what this run observed and
// what the rule requires (the model's element, quoted from the check), with
// the rule's ID and statement, and exits 1 if any differs (0: fixed).
//
// The recorder reads what FORMAT.md defines from the public asyncio API
// where it can (Task.done/cancelled/result/exception); "unretrieved" needs
// the task's private `_log_traceback` flag, as the CPython driver does.
// Needs Python 3.11+ (TaskGroup, timeout, except*); nothing but the
// standard library.
#ifndef ASYNCSPEC_CONFORMANCE_REPRODUCER_H_
#define ASYNCSPEC_CONFORMANCE_REPRODUCER_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "spec/outcome.h"
#include "spec/program.h"

namespace asyncspec::conformance {

// The top-level elements of an outcome, each as JSON text: "tasks.<name>",
// "blocks.<name>", "scopes.<name>", "run", "unretrieved.<task>", "end_time".
std::map<std::string, std::string> OutcomeElements(const std::optional<spec::Outcome>& outcome);

struct ReproducerInput {
  spec::Program program;
  std::string rule, rule_title, rule_statement;
  std::string profile;              // the model profile the requirement comes from
  std::string runtime;              // "cpython 3.13.0"
  std::string replay;               // the check command replaying the original program
  std::string file;                 // the file name it is saved under ("repro-1-TG-3.py"), if known
  // The elements that differ, with the model's (required) and the
  // runtime's (reported to the check) JSON; "" when absent on that side.
  std::map<std::string, std::pair<std::string, std::string>> differing;
};

// The source of a standalone asyncio reproducer (see above).
std::string PythonReproducer(const ReproducerInput& in);

// `text`, each line prefixed with `prefix` (a comment block of a generated file).
std::string CommentLines(const std::string& text, const std::string& prefix);

// For runtimes whose adapter writes its own reproducers (conformance/
// ADAPTERS.md, "Reproducers"): the input the adapter's reproducer command
// gets on its standard input, one JSON object with the shrunk program (its
// FORMAT.md JSON and text forms), the rule (ID, title, statement), the model
// profile, the runtime, the replay command, the file name and, per differing element, what
// the rules require and what the runtime reported.
std::string ReproducerInputJson(const ReproducerInput& in);

// Runs `command` (argv, no shell) with `input` on its standard input and
// returns what it wrote on its standard output; an error with its exit
// status and the end of its standard error if it fails or takes longer
// than `timeout_ms`.
absl::StatusOr<std::string> RunReproducerCommand(const std::vector<std::string>& command, const std::string& input,
                                                 int timeout_ms);

}  // namespace asyncspec::conformance

#endif  // ASYNCSPEC_CONFORMANCE_REPRODUCER_H_
