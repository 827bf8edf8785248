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
#include <typeinfo>
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
ASYNCSPEC_RT_EXCEPTION(KeyboardInterrupt, BaseException);
ASYNCSPEC_RT_EXCEPTION(SystemExit, BaseException);
ASYNCSPEC_RT_EXCEPTION(TimeoutError, Exception);
ASYNCSPEC_RT_EXCEPTION(RuntimeError, Exception);
ASYNCSPEC_RT_EXCEPTION(ValueError, Exception);
ASYNCSPEC_RT_EXCEPTION(TypeError, Exception);
#undef ASYNCSPEC_RT_EXCEPTION

// CancelledError() and CancelledError('') differ in Python (the message is
// observable, CX-5), so this one remembers whether it was given a message.
class CancelledError : public virtual BaseException {
 public:
  CancelledError() = default;
  explicit CancelledError(std::string m) : BaseException(std::move(m)), has_message_(true) {}
  const char* type_name() const override { return "CancelledError"; }
  bool has_message() const { return has_message_; }
  std::string repr() const override;

 private:
  bool has_message_ = false;
};

// What `catch (const E& x)` would bind x to if `e` were rethrown, or null
// when such a clause would not catch it (or `e` is null); the object lives
// as long as `e`. The shape of C++26's std::exception_ptr_cast (P2927).
// Why not rethrow and catch: a rethrow unwinds (thousands of instructions,
// most of a conformance check's time went there), and error paths
// are the common paths of the programs this runtime runs. On libstdc++ this
// asks the C++ ABI's own catch matcher (the type_info of the thrown object,
// __do_catch), which is what the unwinder asks too, so the answer is the
// same, virtual bases included; elsewhere it does rethrow.
template <class E>
const E* ExceptionAs(const std::exception_ptr& e) noexcept;

// How an exception counts for structured concurrency.
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
  return [](const std::exception_ptr& e) { return ExceptionAs<E>(e) != nullptr; };
}

// Future.result() raising the exception a task (or gather) stored:
// `raise self._exception.with_traceback(self._exception_tb)` gives the
// object a new __traceback__, which an except* that split it before notices
// (EG-4, TryStar). Counts that on a group, then rethrows `e`. The runtime's
// results (`co_await task`, TaskRef::result, gather, and shield and wait_for
// through them) raise this way; a plain std::rethrow_exception by other code
// is not counted.
[[noreturn]] void RaiseStored(const std::exception_ptr& e);
// The same count without the throw, for the value forms that hand the error
// over to be raised by the caller (TaskRef::result_error, the awaiters'
// resume_error, try_await.h): returns `e`. Call it once per raise.
std::exception_ptr RaisedAgain(const std::exception_ptr& e);

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

  // How many times this object was raised again from where a task or future
  // kept it (RaiseStored). Python gives it a new __traceback__ each time, and
  // except* asks whether that changed since it split the group (TryStar).
  unsigned times_reraised() const { return times_reraised_; }

  // Built from a tuple: except* wraps a naked exception so (EG-3), and the
  // repr shows `ExceptionGroup('', (TimeoutError(),))`, not `[...]`.
  bool from_tuple() const { return from_tuple_; }
  void set_from_tuple(bool t) { from_tuple_ = t; }

 private:
  friend std::exception_ptr RaisedAgain(const std::exception_ptr& e);
  std::vector<std::exception_ptr> exceptions_;
  bool from_tuple_ = false;
  mutable unsigned times_reraised_ = 0;  // not part of the value: a group is const once raised
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
// `from_tuple`: see BaseExceptionGroup::from_tuple.
std::exception_ptr MakeGroup(std::string message, std::vector<std::exception_ptr> exceptions,
                             bool from_tuple = false);

// The leaves of a (possibly nested) group, depth first; a non-group is its own leaf.
std::vector<std::exception_ptr> Leaves(const std::exception_ptr& e);

// A try statement with except* clauses (PEP 654), clause by clause, with
// CPython's rules for what leaves it (_PyExc_PrepReraiseStar) (EG-3, EG-4):
//
//   rt::TryStar t(eptr);                      // what the try body raised
//   if (auto m = t.Take(rt::Match<ValueError>())) {
//     ... handle the group *m ...             // may co_await here
//     t.Reraise(m);                           // bare `raise` in the clause, or
//     t.Raised(std::make_exception_ptr(...)); // a new exception from it
//   }
//   if (auto rest = t.Result()) std::rethrow_exception(rest);
//
// A naked (non-group) exception is matched as if wrapped in a group with an
// empty message; if no clause matches it, it leaves unchanged. What leaves
// otherwise is what _PyExc_PrepReraiseStar computes from the list of what
// each clause raised or re-raised, then the leaves nobody matched: the
// re-raised ones in the original nesting, preceded by the newly raised ones
// in a new group (or alone, when that list holds exactly one exception).
// Re-raised (is_same_exception_metadata: orig's very traceback and context)
// are orig itself, wherever a clause got it from, and the parts Take split
// from it (Reraise, the unmatched rest) while orig has not been raised again:
// once it has (RaiseStored: an `await` of the task holding it, in the clause
// or in another task), Python gave orig a new traceback that those parts did
// not copy, and they count as newly raised.
class TryStar {
 public:
  explicit TryStar(std::exception_ptr raised);
  // The part of what is left matching `pred` (a group), removed from what is
  // left; null when nothing matches (the clause does not run).
  std::exception_ptr Take(const LeafPredicate& pred);
  // The clause re-raised its match (a bare `raise`).
  void Reraise(std::exception_ptr matched) { excs_.push_back({std::move(matched), true}); }
  // The clause raised an exception (new, or orig itself).
  void Raised(std::exception_ptr e) { excs_.push_back({std::move(e), false}); }
  // What leaves the try statement; null if nothing does.
  std::exception_ptr Result() const;

 private:
  struct Exc {
    std::exception_ptr e;
    bool split;  // a part Take split from orig
  };
  std::exception_ptr orig_;
  bool naked_;
  bool matched_any_ = false;
  unsigned orig_times_reraised_ = 0;  // orig's count when caught (nothing runs before the first split)
  std::exception_ptr rest_;  // always a group (or null)
  std::vector<Exc> excs_;    // per clause that raised or re-raised, in order
};

// One clause, synchronously: `try: raise e / except* <pred> as eg:
// handler(eg)`. Returns what leaves the statement (null: swallowed). If the
// handler throws, its exception is combined with the rest as CPython does
// and that is thrown.
std::exception_ptr ExceptStar(std::exception_ptr e, const LeafPredicate& pred,
                              const std::function<void(const BaseExceptionGroup&)>& handler);

namespace detail {
// libstdc++ only: the thrown object of `e` adjusted to a `to`, or null.
const void* CastException(const std::exception_ptr& e, const std::type_info& to) noexcept;
}  // namespace detail

template <class E>
const E* ExceptionAs(const std::exception_ptr& e) noexcept {
  if (!e) return nullptr;
#if defined(__GLIBCXX__)
  return static_cast<const E*>(detail::CastException(e, typeid(E)));
#else
  try {
    std::rethrow_exception(e);
  } catch (const E& x) {
    return &x;
  } catch (...) {
    return nullptr;
  }
#endif
}

}  // namespace asyncspec::rt

#endif  // ASYNCSPEC_RUNTIME_ERRORS_H_
