// Python exception objects, as the model's programs raise and catch them.
//
// Design. An outcome records exceptions as values (spec/outcome.h Exc), but
// while a program runs, identity matters: except* decides what is a
// re-raise by asking whether an object is the very one it split (EG-4), and
// a future hands out the same object to every awaiter. So a Python exception
// is a shared, mutable PyExc, and the model passes ExcP (a shared_ptr)
// around; ToExc turns one into the outcome's value form when it is
// recorded. The predicates are the isinstance() checks asyncio makes:
// CancelledError, "an Exception" (what except Exception and an
// ExceptionGroup accept), and taskgroups.py's _is_base_error.
//
// Internal to //spec/model (see model.h for the API).
#ifndef ASYNCSPEC_SPEC_MODEL_EXCEPTIONS_H_
#define ASYNCSPEC_SPEC_MODEL_EXCEPTIONS_H_

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "spec/outcome.h"

namespace asyncspec::spec::sim {

struct PyExc;
using ExcP = std::shared_ptr<PyExc>;

struct PyExc {
  Exc::Type type = Exc::Type::kError;
  std::string label;               // kError, kBase
  std::optional<std::string> msg;  // kCancelled: args[0] if any
  std::string what;                // kRuntime
  std::vector<ExcP> children;      // kGroup
  // How many times this object was raised again from where a future kept it
  // (futures.py Future.result(): `raise self._exception.with_traceback(...)`,
  // also __wakeup's result()): each such raise gives it a new __traceback__
  // (and, inside a handler, a new __context__). except* only asks whether
  // that metadata changed since it split the object (EG-4, PrepReraiseStar),
  // so a count stands for it.
  unsigned reraised = 0;
};

inline ExcP NewError(const std::string& label, bool base) {
  auto e = std::make_shared<PyExc>();
  e->type = base ? Exc::Type::kBase : Exc::Type::kError;
  e->label = label;
  return e;
}
inline ExcP NewCancelled(std::optional<std::string> msg) {
  auto e = std::make_shared<PyExc>();
  e->type = Exc::Type::kCancelled;
  e->msg = std::move(msg);
  return e;
}
inline ExcP NewTimeout() {
  auto e = std::make_shared<PyExc>();
  e->type = Exc::Type::kTimeout;
  return e;
}
inline ExcP NewRuntime(const std::string& what) {
  auto e = std::make_shared<PyExc>();
  e->type = Exc::Type::kRuntime;
  e->what = what;
  return e;
}
inline ExcP NewGroup(std::vector<ExcP> children) {
  auto e = std::make_shared<PyExc>();
  e->type = Exc::Type::kGroup;
  e->children = std::move(children);
  return e;
}

inline bool IsCancelled(const ExcP& e) { return e && e->type == Exc::Type::kCancelled; }
// isinstance(e, Exception): CancelledError and BaseErr are not; a group is an
// ExceptionGroup iff all its children are Exceptions (EG-1).
bool IsException(const ExcP& e);
// taskgroups.py `_is_base_error`: isinstance(exc, (SystemExit,
// KeyboardInterrupt)); BaseErr is a KeyboardInterrupt (RULES.md "base error").
inline bool IsBaseError(const ExcP& e) { return e && e->type == Exc::Type::kBase; }

// The outcome's value form of an exception object.
Exc ToExc(const ExcP& e);

// A Python exception in flight through the interpreted program.
struct PyRaise {
  ExcP exc;
};

}  // namespace asyncspec::spec::sim

#endif  // ASYNCSPEC_SPEC_MODEL_EXCEPTIONS_H_
