#include "runtime/errors.h"

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace asyncspec::rt {
namespace {

std::string QuotePy(const std::string& s) {
  // Python's repr of a str: single quotes unless the text holds one.
  const bool dq = s.find('\'') != std::string::npos && s.find('"') == std::string::npos;
  const char q = dq ? '"' : '\'';
  std::string out(1, q);
  for (char c : s) {
    if (c == '\\' || c == q) out += '\\';
    if (c == '\n') { out += "\\n"; continue; }
    out += c;
  }
  out += q;
  return out;
}

}  // namespace

std::string BaseException::repr() const {
  if (message_.empty()) return std::string(type_name()) + "()";
  return std::string(type_name()) + "(" + QuotePy(message_) + ")";
}

std::string CancelledError::repr() const {
  return has_message_ ? std::string("CancelledError(") + QuotePy(message()) + ")" : "CancelledError()";
}

namespace detail {

// The catch matcher (`__do_catch`) walks the thrown type's bases and
// compares type_infos, and libstdc++ compares the type_infos of two
// different types by strcmp of their names. A fuzzing build intercepts
// strcmp (libFuzzer records each failing one for its own mutations): that
// made the matcher 8% of a differential_fuzz execution (fuzz/README.md).
// The answer is a function of the pair of types alone: the thrown object is
// a complete object of type `from`, so whether it has an unambiguous public
// `to` subobject, and that subobject's offset (through a virtual base too),
// is fixed by `from`'s layout. So the answers are kept per thread in a small
// direct-mapped table keyed by the two type_info addresses (a type_info
// lives as long as its program or library; one address is one type).
// Precondition: no type of a library unloaded by dlclose is thrown later
// (its type_info's address could then name another type).
namespace {
struct CastMemo {
  const std::type_info* from = nullptr;
  const std::type_info* to = nullptr;
  std::ptrdiff_t offset = 0;
  bool ok = false;
};
constexpr std::size_t kCastMemoSize = 64;  // a power of two
thread_local CastMemo cast_memo[kCastMemoSize];
}  // namespace

const void* CastException(const std::exception_ptr& e, const std::type_info& to) noexcept {
#if defined(__GLIBCXX__)
  // libstdc++'s exception_ptr is one pointer, to the thrown object (its
  // __cxa_exception header precedes it); the ABI has kept it so since
  // GCC 4.4, and __cxa_exception_type() gives the object's type. The catch
  // matcher adjusts the pointer to the `to` subobject as a catch would.
  static_assert(sizeof(std::exception_ptr) == sizeof(void*));
  const std::type_info* from = e.__cxa_exception_type();
  if (!from) return nullptr;
  void* object;
  std::memcpy(&object, &e, sizeof object);
  const auto key = reinterpret_cast<std::uintptr_t>(from) ^ (reinterpret_cast<std::uintptr_t>(&to) >> 3);
  CastMemo& m = cast_memo[(key >> 4) & (kCastMemoSize - 1)];
  if (m.from != from || m.to != &to) {
    void* adjusted = object;
    // This runtime throws objects, not pointers (a thrown pointer's
    // adjustment would depend on its value, not only on its type).
    const bool ok = !from->__is_pointer_p() && to.__do_catch(from, &adjusted, 1);
    m = CastMemo{from, &to, ok ? static_cast<char*>(adjusted) - static_cast<char*>(object) : 0, ok};
  }
  return m.ok ? static_cast<char*>(object) + m.offset : nullptr;
#else
  (void)e, (void)to;
  return nullptr;
#endif
}

}  // namespace detail

ErrorKind Classify(const std::exception_ptr& e) {
  // The order of the catch clauses this replaces: the first that matches.
  if (ExceptionAs<CancelledError>(e)) return ErrorKind::kCancelled;
  if (ExceptionAs<Exception>(e)) return ErrorKind::kException;
  if (ExceptionAs<BaseException>(e)) return ErrorKind::kBase;
  return ErrorKind::kException;
}

bool IsBaseError(const std::exception_ptr& e) {
  return ExceptionAs<KeyboardInterrupt>(e) || ExceptionAs<SystemExit>(e);
}

std::string Repr(const std::exception_ptr& e) {
  if (!e) return "None";
  if (const auto* b = ExceptionAs<BaseException>(e)) return b->repr();
  if (const auto* s = ExceptionAs<std::exception>(e)) return std::string("Exception(") + QuotePy(s->what()) + ")";
  return "Exception('<non-standard C++ exception>')";
}

BaseExceptionGroup::BaseExceptionGroup(std::string message,
                                       std::vector<std::exception_ptr> exceptions)
    : BaseException(std::move(message)), exceptions_(std::move(exceptions)) {
  assert(!exceptions_.empty());
}

std::string BaseExceptionGroup::repr() const {
  std::string out = std::string(type_name()) + "(" + QuotePy(message()) + (from_tuple_ ? ", (" : ", [");
  for (size_t i = 0; i < exceptions_.size(); ++i) {
    if (i) out += ", ";
    out += Repr(exceptions_[i]);
  }
  if (!from_tuple_) return out + "])";
  return out + (exceptions_.size() == 1 ? ",))" : "))");
}

namespace {
const BaseExceptionGroup* AsGroup(const std::exception_ptr& e) { return ExceptionAs<BaseExceptionGroup>(e); }
}  // namespace

std::exception_ptr BaseExceptionGroup::derive(std::vector<std::exception_ptr> exceptions) const {
  return MakeGroup(message(), std::move(exceptions));
}

std::pair<std::exception_ptr, std::exception_ptr> BaseExceptionGroup::split(
    const LeafPredicate& pred) const {
  std::vector<std::exception_ptr> match, rest;
  for (const auto& e : exceptions_) {
    if (const auto* g = AsGroup(e)) {
      auto [m, r] = g->split(pred);
      if (m) match.push_back(m);
      if (r) rest.push_back(r);
    } else if (pred(e)) {
      match.push_back(e);
    } else {
      rest.push_back(e);
    }
  }
  return {match.empty() ? nullptr : derive(std::move(match)),
          rest.empty() ? nullptr : derive(std::move(rest))};
}

std::exception_ptr BaseExceptionGroup::subgroup(const LeafPredicate& pred) const {
  return split(pred).first;
}

std::exception_ptr MakeGroup(std::string message, std::vector<std::exception_ptr> exceptions, bool from_tuple) {
  bool all_exceptions = true;
  for (const auto& e : exceptions) {
    if (Classify(e) != ErrorKind::kException) all_exceptions = false;
  }
  if (all_exceptions) {
    ExceptionGroup g(std::move(message), std::move(exceptions));
    g.set_from_tuple(from_tuple);
    return std::make_exception_ptr(std::move(g));
  }
  BaseExceptionGroup g(std::move(message), std::move(exceptions));
  g.set_from_tuple(from_tuple);
  return std::make_exception_ptr(std::move(g));
}

std::exception_ptr RaisedAgain(const std::exception_ptr& e) {
  if (const auto* g = AsGroup(e)) ++g->times_reraised_;
  return e;
}

void RaiseStored(const std::exception_ptr& e) { std::rethrow_exception(RaisedAgain(e)); }

std::vector<std::exception_ptr> Leaves(const std::exception_ptr& e) {
  std::vector<std::exception_ptr> out;
  if (const auto* g = AsGroup(e)) {
    for (const auto& c : g->exceptions()) {
      auto sub = Leaves(c);
      out.insert(out.end(), sub.begin(), sub.end());
    }
  } else if (e) {
    out.push_back(e);
  }
  return out;
}

TryStar::TryStar(std::exception_ptr raised)
    : orig_(std::move(raised)), naked_(orig_ && !AsGroup(orig_)) {
  // ceval's exception_group_match wraps a naked exception in a group made
  // from a one-element tuple.
  if (orig_) rest_ = naked_ ? MakeGroup("", {orig_}, /*from_tuple=*/true) : orig_;
  // Nothing runs between the catch and the first split (CHECK_EG_MATCH).
  if (orig_ && !naked_) orig_times_reraised_ = AsGroup(orig_)->times_reraised();
}

std::exception_ptr TryStar::Take(const LeafPredicate& pred) {
  if (!rest_) return nullptr;
  auto [match, left] = AsGroup(rest_)->split(pred);
  if (!match) return nullptr;
  // A naked exception that matches: the clause gets the wrapper itself.
  if (naked_) match = rest_;
  matched_any_ = true;
  rest_ = left;
  return match;
}

std::exception_ptr TryStar::Result() const {
  if (!orig_) return nullptr;
  if (naked_) {
    // "A naked exception was caught and wrapped. Only one except* clause
    // could have executed, so there is at most one exception to raise."
    if (!matched_any_) return orig_;
    return excs_.empty() ? nullptr : excs_.front().e;
  }
  // is_same_exception_metadata(e, orig) for each entry, the rest last.
  const bool parts_are_orig = AsGroup(orig_)->times_reraised() == orig_times_reraised_;
  std::vector<Exc> all = excs_;
  if (rest_) all.push_back({rest_, true});
  std::vector<std::exception_ptr> raised, keep;  // keep: re-raised leaves, by identity
  for (const auto& [e, split] : all) {
    if (e == orig_ || (split && parts_are_orig)) {
      auto l = Leaves(e);
      keep.insert(keep.end(), l.begin(), l.end());
    } else {
      raised.push_back(e);
    }
  }
  std::exception_ptr kept;  // exception_group_projection(orig, re-raised)
  if (!keep.empty()) {
    kept = AsGroup(orig_)->split([&](const std::exception_ptr& leaf) {
      for (const auto& k : keep) {
        if (k == leaf) return true;
      }
      return false;
    }).first;
  }
  if (raised.empty()) return kept;
  if (kept) raised.push_back(kept);
  if (raised.size() == 1) return raised.front();  // exactly one exception: raised alone
  return MakeGroup("", std::move(raised));
}

std::exception_ptr ExceptStar(std::exception_ptr e, const LeafPredicate& pred,
                              const std::function<void(const BaseExceptionGroup&)>& handler) {
  TryStar t(std::move(e));
  if (auto m = t.Take(pred)) {
    try {
      handler(*AsGroup(m));
    } catch (...) {
      t.Raised(std::current_exception());
      std::rethrow_exception(t.Result());
    }
  }
  return t.Result();
}

}  // namespace asyncspec::rt
