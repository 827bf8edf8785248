// Standalone C++ reproducers for the reference runtime (runtime/rt.h).
//
// The asyncio reproducer (reproducer.h) writes the shrunk program as plain
// asyncio; this one writes it in the reference runtime's own C++ API, so
// that a runtime author can read what the failing program does and rebuild
// it with one g++ line against runtime/*.cc, without this project's
// conformance code: every task is a function returning rt::Coro<Val>, a
// `group` is rt::TaskGroup::run, `gather` rt::gather / rt::gather_outcomes,
// `timeout` an rt::Timeout and its run(), `shield` rt::shield, `wait_for`
// rt::wait_for, `try`/`except` rt::try_await with the handler bodies after
// it (C++ cannot co_await in a catch block), `except*` rt::TryStar, and
// `cancel`/`uncancel` the TaskRef calls, all run by rt::run on the virtual
// clock. The file is not the interpreter (conformance/reference/
// interpreter.cc) with the program embedded: the program is the code.
//
// A small recorder around those calls notes what FORMAT.md's outcome holds
// (task starts, ends and results; what each scope raised or returned;
// which handler and finally blocks ran; what nobody retrieved; the final
// time) and prints, for each element the check found different, what this
// run observed and what the rule requires (the model's element), with the
// rule's ID and statement; it exits 1 if any differs and 0 once the runtime
// does what the rule requires. The observed side is the same JSON as the
// check's (keys sorted, null fields dropped), so "as required" is an exact
// comparison.
//
// Built with -DASYNCSPEC_MUTANTS (runtime/mutants.h), the file reads the
// environment variable ASYNCSPEC_MUTANT (e.g. "M07") and switches that
// deliberate bug on, which is how the project tests these files
// (conformance/cc_reproducer_test.sh); without the define it is plain code.
#ifndef ASYNCSPEC_CONFORMANCE_CC_REPRODUCER_H_
#define ASYNCSPEC_CONFORMANCE_CC_REPRODUCER_H_

#include <string>

#include "conformance/reproducer.h"

namespace asyncspec::conformance {

// The one-line build command written into every file's header comment, for
// `file` (a path relative to the top of an asyncspec clone).
std::string CcReproducerBuildCommand(const std::string& file);

// The source of a standalone reference-runtime reproducer (see above),
// to be saved as `file` (named in its build command). Precondition:
// in.program is valid (spec/validate.h).
std::string CcReproducer(const ReproducerInput& in, const std::string& file);

}  // namespace asyncspec::conformance

#endif  // ASYNCSPEC_CONFORMANCE_CC_REPRODUCER_H_
