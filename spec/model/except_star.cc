// try/except/except*/finally (EG-3..EG-5): the algebra of except_star.h,
// and the interpreter's `try` step that runs the handlers.
#include "spec/model/except_star.h"

#include <exception>
#include <utility>

#include "spec/model/sim.h"

namespace asyncspec::spec::sim {

// Plain `except K` (EG-5): matches the exception object itself.
bool PlainMatches(const Handler& h, const ExcP& e) {
  switch (h.kind) {
    case CatchKind::kCancelled: return e->type == Exc::Type::kCancelled;
    case CatchKind::kTimeout: return e->type == Exc::Type::kTimeout;
    case CatchKind::kError:
      return e->type == Exc::Type::kError && (!h.label || *h.label == e->label);
    case CatchKind::kBase:
      return e->type == Exc::Type::kBase && (!h.label || *h.label == e->label);
    case CatchKind::kGroup: return e->type == Exc::Type::kGroup;
    case CatchKind::kRuntime: return e->type == Exc::Type::kRuntime;
    case CatchKind::kException: return IsException(e);
    case CatchKind::kAny: return true;
  }
  return false;
}

// BaseExceptionGroup.split(type) (EG-3): the whole (sub)group matches if it
// is an instance of the type; else leaves are tested and subgroups rebuilt
// with derive(); empty parts are null.
void Split(const ExcP& e, const std::function<bool(const ExcP&)>& match, ExcP* m, ExcP* r) {
  if (match(e)) {
    *m = e;
    *r = nullptr;
    return;
  }
  if (e->type != Exc::Type::kGroup) {
    *m = nullptr;
    *r = e;
    return;
  }
  std::vector<ExcP> ms, rs;
  for (const auto& c : e->children) {
    ExcP cm, cr;
    Split(c, match, &cm, &cr);
    if (cm) ms.push_back(cm);
    if (cr) rs.push_back(cr);
  }
  // New groups even when one side took every child: CPython's
  // exceptiongroup_subset always derives, and identity counts in except*
  // (a group a handler raises is a re-raise only if it is orig itself, EG-4).
  *m = ms.empty() ? nullptr : NewGroup(ms);
  *r = rs.empty() ? nullptr : NewGroup(rs);
}

namespace {

// The leaves of a (possibly nested) group, by identity.
void Leaves(const ExcP& e, std::set<const PyExc*>* out) {
  if (e->type == Exc::Type::kGroup) {
    for (const auto& c : e->children) Leaves(c, out);
  } else {
    out->insert(e.get());
  }
}

}  // namespace

// Objects/exceptions.c _PyExc_PrepReraiseStar (EG-4). `orig_reraised` is
// orig->reraised when the first clause split orig.
ExcP PrepReraiseStar(const ExcP& orig, unsigned orig_reraised, const std::vector<StarExc>& excs) {
  if (orig->type != Exc::Type::kGroup) {
    // A naked exception: at most one except* clause ran.
    return excs.empty() ? nullptr : excs[0].exc;
  }
  const bool split_is_orig_metadata = orig->reraised == orig_reraised;
  std::vector<ExcP> raised, reraised;
  for (const auto& [e, split] : excs) {
    if (!e) continue;
    if (e == orig || (split && split_is_orig_metadata)) reraised.push_back(e);
    else raised.push_back(e);
  }
  std::set<const PyExc*> keep;
  for (const auto& e : reraised) Leaves(e, &keep);
  ExcP proj, rest;
  if (!keep.empty())
    Split(orig, [&](const ExcP& x) { return x->type != Exc::Type::kGroup && keep.count(x.get()) > 0; },
          &proj, &rest);
  if (raised.empty()) return proj;
  std::vector<ExcP> keep_list = raised;
  if (proj) keep_list.push_back(proj);
  if (keep_list.size() == 1) return keep_list[0];
  return NewGroup(keep_list);
}

bool StarMatches(const Handler& h, const ExcP& e) {
  // isinstance(e, T) for the handler's type T; a group is an instance of
  // Exception (if an ExceptionGroup) and of BaseException.
  if (e->type == Exc::Type::kGroup) {
    if (h.kind == CatchKind::kAny) return true;
    if (h.kind == CatchKind::kException) return IsException(e);
    return false;
  }
  return PlainMatches(h, e);
}

Co<Unit> Sim::RunHandler(const Handler& h, ExcP* raised) {
  out_.blocks[h.name] = BlockOutcome{now, std::nullopt};
  if (ExcP e = (co_await Catch(ExecBody(h.body))).exc) {
    *raised = std::move(e);  // the block did not run to its end
    co_return Unit{};
  }
  if (h.then == Then::kUncancel) {
    Hit(RuleId::CX_9, "uncancel()");
    current->Uncancel(prof_.uncancel_clears_must_cancel);  // CX-9
  }
  out_.blocks[h.name].end = now;
  co_return Unit{};
}

Co<Unit> Sim::DoTry(const Try& t) {
  ExcP pending = (co_await Catch(ExecBody(t.body))).exc;
  ExcP out;
  if (IsCancelled(pending) && (t.finally || !t.handlers.empty())) Hit(RuleId::CX_6, "cleanup after a cancel");
  if (pending && !t.handlers.empty()) {
    if (!t.handlers[0].star) {
      out = pending;
      for (const Handler& h : t.handlers) {
        if (!PlainMatches(h, pending)) continue;
        ExcP hexc;
        co_await RunHandler(h, &hexc);
        if (hexc) out = hexc;
        else if (h.then == Then::kReraise) out = pending;
        else out = nullptr;
        if (!out && IsCancelled(pending)) Hit(RuleId::CX_10, "CancelledError swallowed");
        if (pending->type == Exc::Type::kGroup) Hit(RuleId::EG_5, "plain except on a group");
        break;
      }
    } else {
      // except*: CHECK_EG_MATCH per clause, then PREP_RERAISE_STAR.
      ExcP orig = pending;
      const unsigned orig_reraised = orig->reraised;
      ExcP rest = orig;
      std::vector<StarExc> excs;
      for (const Handler& h : t.handlers) {
        if (!rest) break;
        ExcP match, newrest;
        if (rest->type != Exc::Type::kGroup) {
          if (StarMatches(h, rest)) {
            match = NewGroup({rest});  // naked exception wrapped (EG-3)
            newrest = nullptr;
          } else {
            newrest = rest;
          }
        } else {
          Split(rest, [&](const ExcP& x) { return StarMatches(h, x); }, &match, &newrest);
        }
        rest = newrest;
        if (!match) continue;
        Hit(RuleId::EG_3, "except* split");
        ExcP hexc;
        co_await RunHandler(h, &hexc);
        if (hexc) excs.push_back({hexc, false});
        else if (h.then == Then::kReraise) excs.push_back({match, true});
      }
      excs.push_back({rest, true});
      out = PrepReraiseStar(orig, orig_reraised, excs);
      Hit(RuleId::EG_4, "what leaves a try with except*");
    }
  } else {
    out = pending;
  }
  if (t.finally) {
    out_.blocks[t.finally->name] = BlockOutcome{now, std::nullopt};
    ExcP fexc = (co_await Catch(ExecBody(t.finally->body))).exc;
    if (fexc) out = fexc;  // an exception in finally replaces the pending one
    else out_.blocks[t.finally->name].end = now;
  }
  RecordScope(t.name, out, std::nullopt, std::nullopt, false);
  if (out) {
    std::exception_ptr e = ProgramError(std::move(out));
    co_await RaiseNow(std::move(e));
  }
  co_return Unit{};
}

}  // namespace asyncspec::spec::sim
