// Python's exception hierarchy, as far as structured concurrency needs it,
// and PEP 654 exception groups with split/subgroup so C++ code can do what
// `except*` does.
//
//   BaseException
//    +-- CancelledError        (asyncio.CancelledError is a BaseException)
//    +-- KeyboardInterrupt     \ "base errors": a TaskGroup lets one of these
//    +-- SystemExit            / propagate alone, ungrouped (TG-5)
//    +-- BaseExceptionGroup
//    +-- Exception
//         +-- ExceptionGroup (also a BaseExceptionGroup)
//         +-- TimeoutError, RuntimeError, ValueError, TypeError
//
// Any C++ exception that does not derive from BaseException (std::exception,
// an int, ...) is treated as an ordinary Exception: it is grouped, it does
// not stop a TaskGroup from grouping, and `except* Exception` matches it.
//
// repr() mirrors Python's repr so a program can print what CPython prints,
// e.g. ExceptionGroup('unhandled errors in a TaskGroup', [ValueError()]).
#ifndef ASYNCSPEC_RUNTIME_ERRORS_H_
#define ASYNCSPEC_RUNTIME_ERRORS_H_

#include <exception>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace asyncspec::rt {

class BaseException : public std::exception {
 public:
  BaseException() = default;
  explicit BaseException(std::string message) : message_(std::move(message)) {}
  const char* what() const noexcept override { return message_.c_str(); }
  const std::string& message() const { return message_; }
  // Python's repr: `Name()` or `Name('message')`.
  virtual std::string repr() const;
  virtual const char* type_name() const { return "BaseException"; }

 private:
  std::string message_;
};

#define ASYNCSPEC_RT_EXCEPTION(Name, Base)                        \
  class Name : public virtual Base {                              \
   public:                                                        \
    Name() = default;                                             \
    explicit Name(std::string m) : BaseException(std::move(m)) {} \
    const char* type_name() const override { return #Name; }      \
  }

ASYNCSPEC_RT_EXCEPTION(Exception, BaseException);
ASYNCSPEC_RT_EXCEPTION(CancelledError, BaseException);
ASYNCSPEC_RT_EXCEPTION(KeyboardInterrupt, BaseException);
ASYNCSPEC_RT_EXCEPTION(SystemExit, BaseException);
ASYNCSPEC_RT_EXCEPTION(TimeoutError, Exception);
ASYNCSPEC_RT_EXCEPTION(RuntimeError, Exception);
ASYNCSPEC_RT_EXCEPTION(ValueError, Exception);
ASYNCSPEC_RT_EXCEPTION(TypeError, Exception);
#undef ASYNCSPEC_RT_EXCEPTION

// How an exception counts for structured concurrency. Classifying costs a
// rethrow, so callers do it only on error paths.
enum class ErrorKind {
  kCancelled,  // CancelledError
  kBase,       // KeyboardInterrupt, SystemExit, or a group holding a base leaf
  kException,  // everything else
};
ErrorKind Classify(const std::exception_ptr& e);
// TaskGroup's `_is_base_error`: KeyboardInterrupt or SystemExit only.
bool IsBaseError(const std::exception_ptr& e);
// Python-style repr of any exception_ptr (a foreign exception shows its what()).
std::string Repr(const std::exception_ptr& e);

// A predicate over leaves, for split/subgroup. Match<E>() matches leaves that
// are E (or derive from it); a group never matches as a whole.
using LeafPredicate = std::function<bool(const std::exception_ptr&)>;
template <class E>
LeafPredicate Match() {
  return [](const std::exception_ptr& e) {
    try {
      std::rethrow_exception(e);
    } catch (const E&) {
      return true;
    } catch (...) {
      return false;
    }
  };
}

// PEP 654's BaseExceptionGroup. Construct groups with MakeGroup, which picks
// ExceptionGroup when every leaf is an Exception (as Python's constructor
// does). Preconditions: `exceptions` is not empty and holds no null pointer.
class BaseExceptionGroup : public virtual BaseException {
 public:
  BaseExceptionGroup(std::string message, std::vector<std::exception_ptr> exceptions);
  const std::vector<std::exception_ptr>& exceptions() const { return exceptions_; }
  const char* type_name() const override { return "BaseExceptionGroup"; }
  std::string repr() const override;

  // The leaves matching `pred` (with the nesting that leads to them kept), or
  // null when none match. Like BaseExceptionGroup.subgroup.
  std::exception_ptr subgroup(const LeafPredicate& pred) const;
  // (matching part, rest); either may be null. Like BaseExceptionGroup.split.
  std::pair<std::exception_ptr, std::exception_ptr> split(const LeafPredicate& pred) const;

  // A new group with this one's message holding `exceptions` (PEP 654 derive).
  std::exception_ptr derive(std::vector<std::exception_ptr> exceptions) const;

 private:
  std::vector<std::exception_ptr> exceptions_;
};

class ExceptionGroup : public BaseExceptionGroup, public virtual Exception {
 public:
  // BaseException is a virtual base: the most derived class initialises it.
  ExceptionGroup(std::string message, std::vector<std::exception_ptr> exceptions)
      : BaseException(message), BaseExceptionGroup(message, std::move(exceptions)) {}
  const char* type_name() const override { return "ExceptionGroup"; }
  std::string repr() const override { return BaseExceptionGroup::repr(); }
};

// ExceptionGroup if no leaf is a base exception, else BaseExceptionGroup.
std::exception_ptr MakeGroup(std::string message, std::vector<std::exception_ptr> exceptions);

// The leaves of a (possibly nested) group, depth first; a non-group is its own leaf.
std::vector<std::exception_ptr> Leaves(const std::exception_ptr& e);

// `except* E as eg: handler(eg)` applied to `e`: if `e` is a group, the
// part matching E is passed to `handler` (as a group) and the rest is
// returned (null when nothing is left, which means "swallowed"). A non-group
// `e` is first wrapped in a group with an empty message, as Python does.
// If the handler throws, that exception propagates (raise in except*).
std::exception_ptr ExceptStar(std::exception_ptr e, const LeafPredicate& pred,
                              const std::function<void(const BaseExceptionGroup&)>& handler);

}  // namespace asyncspec::rt

#endif  // ASYNCSPEC_RUNTIME_ERRORS_H_
