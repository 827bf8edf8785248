#include "conformance/compare.h"

#include <algorithm>
#include <functional>
#include <limits>
#include <set>
#include <string>
#include <tuple>

#include "conformance/outcome_query.h"
#include "spec/json.h"
#include "spec/outcome_allowed.h"

namespace asyncspec::conformance {
namespace {

using spec::Exc;
using spec::Outcome;
using spec::Program;
using spec::Step;
using spec::TaskOutcome;
using spec::Time;
using Kind = ProgramIndex::Kind;

constexpr Time kNever = std::numeric_limits<Time>::max();

// ---------------------------------------------------------------------------
// Exceptions

// Rule for a group scope whose `raised` differs (TG-3/4/5/7/9, EG-1/2).
std::pair<std::string, std::string> GroupRaisedRule(const std::optional<Exc>& exp,
                                                    const std::optional<Exc>& obs) {
  if (IsType(exp, Exc::Type::kGroup) && IsType(obs, Exc::Type::kGroup)) {
    std::vector<const Exc*> le, lo;
    Leaves(*exp, le);
    Leaves(*obs, lo);
    std::multiset<std::string> se, so;
    for (auto* l : le) se.insert(LeafKey(*l));
    for (auto* l : lo) so.insert(LeafKey(*l));
    for (const auto& k : se) {
      if (se.count(k) > so.count(k)) return {"TG-3", "the ExceptionGroup lacks leaf " + k};
    }
    for (const auto& k : so) {
      if (so.count(k) > se.count(k)) return {"TG-3", "the ExceptionGroup has an extra leaf " + k};
    }
    if (exp->base_group != obs->base_group) return {"EG-1", "BaseExceptionGroup vs ExceptionGroup"};
    if (spec::ExcEquivalent(*exp, *obs)) return {"TG-3", "leaves in another order"};
    return {"EG-2", "same leaves, other nesting"};
  }
  if (IsType(exp, Exc::Type::kBase) || IsType(obs, Exc::Type::kBase)) {
    return {"TG-5", "a base error must leave the group alone"};
  }
  if (IsType(exp, Exc::Type::kGroup) && !obs) return {"TG-3", "the group's errors were lost"};
  if (IsType(exp, Exc::Type::kCancelled) && !obs) {
    return {"TG-9", "an outside cancellation was swallowed"};
  }
  if (IsType(obs, Exc::Type::kCancelled) && !exp) {
    return {"TG-9", "the group's own cancellation was not uncancelled"};
  }
  if (IsType(exp, Exc::Type::kCancelled) || IsType(obs, Exc::Type::kCancelled)) {
    return {"TG-7", "CancelledError vs the children's errors"};
  }
  if (IsType(obs, Exc::Type::kGroup) || IsType(exp, Exc::Type::kGroup)) {
    return {"TG-4", "the body's exception must join the group"};
  }
  return {"TG-3", "errors differ"};
}

// ---------------------------------------------------------------------------
// Differences

struct Diff {
  Time time;
  int prio;     // at equal times: -1 task start, 0 scope, 1 block, 2 task, 3 unretrieved, 4 run, 5 end_time
  int depth;    // deeper first among scopes
  Finding f;
};

class Differ {
 public:
  Differ(const Program& p, const spec::Profile& prof, const ProgramIndex& ix)
      : p_(p), prof_(prof), ix_(ix) {}

  std::vector<Diff> Run(const Outcome& e, const Outcome& o) {
    Scopes(e, o);
    Blocks(e, o);
    Tasks(e, o);
    Unretrieved(e, o);
    Channels(e, o);
    if (!OptExcSame(e.run, o.run)) {
      bool base = IsType(e.run, Exc::Type::kBase) || IsType(o.run, Exc::Type::kBase);
      Add(std::min(e.end_time, o.end_time), 4, 0, base ? "RT-5" : "RT-3", "run",
          "asyncio.run raised " + Describe(o.run) + ", model: " + Describe(e.run));
    }
    if (e.end_time != o.end_time) {
      Add(std::min(e.end_time, o.end_time), 5, 0, "RT-2", "end_time",
          "asyncio.run returned at t=" + std::to_string(o.end_time) +
              ", model: t=" + std::to_string(e.end_time));
    }
    return std::move(diffs_);
  }

 private:
  static bool OptExcSame(const std::optional<Exc>& a, const std::optional<Exc>& b) {
    return a.has_value() == b.has_value() && (!a || *a == *b);
  }

  void Add(Time t, int prio, int depth, std::string rule, std::string where, std::string msg) {
    diffs_.push_back(Diff{t, prio, depth, Finding{std::move(rule), std::move(where), std::move(msg)}});
  }

  const ProgramIndex::Entry* Entry(const std::string& name) const {
    auto it = ix_.names.find(name);
    return it == ix_.names.end() ? nullptr : &it->second;
  }

  int Depth(const std::string& name) const {
    auto* en = Entry(name);
    return en ? en->depth : 0;
  }

  // --- scopes
  void Scopes(const Outcome& e, const Outcome& o) {
    std::set<std::string> names;
    for (auto& [n, _] : e.scopes) names.insert(n);
    for (auto& [n, _] : o.scopes) names.insert(n);
    for (const std::string& n : names) {
      auto ei = e.scopes.find(n), oi = o.scopes.find(n);
      const auto* en = Entry(n);
      Kind kind = en ? en->kind : Kind::kTry;
      const std::string where = "scopes." + n;
      if (ei == e.scopes.end() || oi == o.scopes.end()) {
        bool in_e = ei != e.scopes.end();
        Time t = in_e ? ei->second.end : oi->second.end;
        Add(t, 0, Depth(n), ScopeExitRule(kind, en), where,
            std::string("scope ") + n + (in_e ? " was never exited (model: exited at t=" +
                                                     std::to_string(t) + ")"
                                               : " was exited at t=" + std::to_string(t) +
                                                     " (model: never exited)"));
        continue;
      }
      const spec::ScopeOutcome& es = ei->second;
      const spec::ScopeOutcome& os = oi->second;
      if (es == os) continue;
      Time t = std::min(es.end, os.end);
      std::string rule, what;
      if (!OptExcSame(es.raised, os.raised)) {
        what = "raised " + Describe(os.raised) + ", model: " + Describe(es.raised);
        rule = RaisedRule(kind, en, es.raised, os.raised, &what);
        Add(t, 0, Depth(n), rule, where + ".raised", what);
      } else if (es.expired != os.expired) {
        Add(t, 0, Depth(n), "TO-4", where + ".expired",
            "expired() " + std::string(os.expired.value_or(false) ? "true" : "false") +
                ", model: " + (es.expired.value_or(false) ? "true" : "false"));
      } else if (es.items != os.items) {
        Add(t, 0, Depth(n), ItemsRule(es, os), where + ".value",
            "gather result " + Items(os) + ", model: " + Items(es));
      } else if (es.value != os.value) {
        Add(t, 0, Depth(n), kind == Kind::kWaitFor ? WaitForRule(en) : "SH-2", where + ".value",
            "value " + OptS(os.value) + ", model: " + OptS(es.value));
      } else if (es.end != os.end) {
        Add(t, 0, Depth(n), ScopeExitRule(kind, en), where + ".end",
            "exited at t=" + std::to_string(os.end) + ", model: t=" + std::to_string(es.end));
      }
    }
  }

  static std::string Items(const spec::ScopeOutcome& s) {
    if (!s.items) return "none";
    std::string out = "[";
    for (std::size_t i = 0; i < s.items->size(); ++i) {
      const auto& it = (*s.items)[i];
      if (i) out += ", ";
      out += it.error ? Describe(it.error) : OptS(it.value);
    }
    return out + "]";
  }

  std::string WaitForRule(const ProgramIndex::Entry* en) const {
    if (!prof_.wait_for_via_timeout) return "WF-3";
    if (en && en->step) {
      if (auto* w = std::get_if<spec::WaitFor>(&en->step->op); w && w->d && *w->d <= 0) return "WF-2";
    }
    return "WF-1";
  }

  std::string TimeoutRule(const ProgramIndex::Entry* en, const std::optional<Exc>& a,
                          const std::optional<Exc>& b) const {
    if (en && en->step) {
      if (auto* t = std::get_if<spec::Timeout>(&en->step->op); t && t->d && *t->d == 0) return "TO-7";
    }
    auto reschedule_err = [](const Exc& x) { return x.type == Exc::Type::kRuntime && x.what == "other"; };
    if (AnyLeaf(a, reschedule_err) || AnyLeaf(b, reschedule_err)) return "TO-5";
    return "TO-3";
  }

  std::string ScopeExitRule(Kind kind, const ProgramIndex::Entry* en) const {
    switch (kind) {
      case Kind::kGroup: return "TG-1";
      case Kind::kGather: return "GA-1";
      case Kind::kTimeout: return "TO-1";
      case Kind::kShield: return "SH-1";
      case Kind::kWaitFor: return WaitForRule(en);
      default: return "CX-6";
    }
  }

  std::string ItemsRule(const spec::ScopeOutcome& es, const spec::ScopeOutcome& os) const {
    if (!es.items || !os.items || es.items->size() != os.items->size()) return "GA-1";
    for (std::size_t i = 0; i < es.items->size(); ++i) {
      const auto& a = (*es.items)[i];
      const auto& b = (*os.items)[i];
      if (IsType(a.error, Exc::Type::kCancelled) || IsType(b.error, Exc::Type::kCancelled)) {
        if (!(a == b)) return "GA-3";
      }
    }
    return "GA-4";
  }

  std::string RaisedRule(Kind kind, const ProgramIndex::Entry* en, const std::optional<Exc>& es,
                         const std::optional<Exc>& os, std::string* what) const {
    switch (kind) {
      case Kind::kGroup: {
        auto [rule, why] = GroupRaisedRule(es, os);
        *what += " (" + why + ")";
        return rule;
      }
      case Kind::kGather: {
        bool rx = false;
        if (en && en->step) {
          if (auto* g = std::get_if<spec::Gather>(&en->step->op)) rx = g->return_exceptions;
        }
        if (IsType(es, Exc::Type::kCancelled) || IsType(os, Exc::Type::kCancelled)) {
          return rx ? "GA-5" : "GA-3";
        }
        return rx ? "GA-4" : "GA-2";
      }
      case Kind::kTimeout:
        return TimeoutRule(en, es, os);
      case Kind::kWaitFor:
        return WaitForRule(en);
      case Kind::kShield:
        return (IsType(es, Exc::Type::kCancelled) || IsType(os, Exc::Type::kCancelled)) ? "SH-1"
                                                                                        : "SH-2";
      case Kind::kTry: {
        bool star = false;
        if (en && en->step) {
          if (auto* t = std::get_if<spec::Try>(&en->step->op)) {
            star = !t->handlers.empty() && t->handlers[0].star;
          }
        }
        if (star) return "EG-4";
        if (IsType(es, Exc::Type::kCancelled) || IsType(os, Exc::Type::kCancelled)) return "CX-10";
        return "EG-5";
      }
      default:
        return "CX-6";
    }
  }

  // --- blocks
  void Blocks(const Outcome& e, const Outcome& o) {
    std::set<std::string> names;
    for (auto& [n, _] : e.blocks) names.insert(n);
    for (auto& [n, _] : o.blocks) names.insert(n);
    for (const std::string& n : names) {
      auto ei = e.blocks.find(n), oi = o.blocks.find(n);
      bool in_e = ei != e.blocks.end(), in_o = oi != o.blocks.end();
      if (in_e && in_o && ei->second == oi->second) continue;
      const auto* en = Entry(n);
      std::string rule = "CX-6";
      if (en && en->kind == Kind::kHandler && en->handler) {
        const spec::Handler& h = *en->handler;
        if (h.star) rule = "EG-3";
        else if (h.kind == spec::CatchKind::kCancelled) rule = "CX-6";
        else if (h.kind == spec::CatchKind::kTimeout) rule = "TO-3";
        else rule = "EG-5";
      }
      std::string where = "blocks." + n;
      if (!in_e || !in_o) {
        Time t = in_e ? ei->second.start : oi->second.start;
        Add(t, 1, Depth(n), rule, where,
            in_e ? "block " + n + " did not run (model: started at t=" + std::to_string(t) + ")"
                 : "block " + n + " ran from t=" + std::to_string(t) + " (model: did not run)");
        continue;
      }
      const auto& eb = ei->second;
      const auto& ob = oi->second;
      if (eb.start != ob.start) {
        Add(std::min(eb.start, ob.start), 1, Depth(n), rule, where + ".start",
            "started at t=" + std::to_string(ob.start) + ", model: t=" + std::to_string(eb.start));
      } else {
        Add(MinT(eb.end, ob.end), 1, Depth(n), "CX-6", where + ".end",
            "ended at " + Opt(ob.end) + ", model: " + Opt(eb.end));
      }
    }
  }

  // --- tasks
  std::string TaskStateRule(const ProgramIndex::Entry* en, const TaskOutcome& a,
                            const TaskOutcome& b) const {
    bool cancelled = a.state == TaskOutcome::State::kCancelled ||
                     b.state == TaskOutcome::State::kCancelled;
    if (a.state == TaskOutcome::State::kCancelled && b.state == TaskOutcome::State::kCancelled) {
      return "CX-5";  // both cancelled: the message differs
    }
    auto tg_runtime = [&](const std::optional<Exc>& x) { return AnyLeaf(x, IsTaskgroupRuntime); };
    if (tg_runtime(a.error) || tg_runtime(b.error)) return "TG-10";
    Kind k = en ? en->kind : Kind::kMainTask;
    if (cancelled) {
      switch (k) {
        case Kind::kGroupChild: return "TG-2";
        case Kind::kGatherChild: return "GA-5";
        case Kind::kShieldInner: return "SH-1";
        case Kind::kWaitForInner: return WaitForRule(Entry(en->owner));
        default: return "CX-4";
      }
    }
    return "CX-4";
  }

  void Tasks(const Outcome& e, const Outcome& o) {
    std::set<std::string> names;
    for (auto& [n, _] : e.tasks) names.insert(n);
    for (auto& [n, _] : o.tasks) names.insert(n);
    for (const std::string& n : names) {
      auto ei = e.tasks.find(n), oi = o.tasks.find(n);
      bool in_e = ei != e.tasks.end(), in_o = oi != o.tasks.end();
      const auto* en = Entry(n);
      const std::string where = "tasks." + n;
      if (!in_e || !in_o) {
        const TaskOutcome& t = in_e ? ei->second : oi->second;
        std::string rule = en && en->kind == Kind::kGroupChild ? "TG-10" : "SCHED-1";
        Add(MinT(t.start, t.end), -1, Depth(n), rule, where,
            "task " + n + (in_e ? " was not created (model: " + Describe(t) + ")"
                                : " was created (" + Describe(t) + "; model: not created)"));
        continue;
      }
      const TaskOutcome& a = ei->second;
      const TaskOutcome& b = oi->second;
      if (a == b) continue;
      std::string msg = "task " + n + ": " + Describe(b) + ", model: " + Describe(a);
      if (a.start != b.start) {
        std::string rule = (!a.start || !b.start) ? "CX-3" : "SCHED-1";
        // A task starts before anything inside it happens: at equal times
        // its start is blamed before the scopes and blocks in its body.
        Add(MinT(a.start, b.start), -1, Depth(n), rule, where + ".start", msg);
      } else if (a.state != b.state || !(a.error == b.error) || a.value != b.value) {
        // When the state differs, the task finished differently: blame at its end.
        Add(MinT(a.end, b.end), 2, Depth(n), TaskStateRule(en, a, b), where + ".state", msg);
      } else {
        bool tg = en && en->kind == Kind::kGroupChild;
        Add(MinT(a.end, b.end), 2, Depth(n), tg ? "TG-1" : "CX-2", where + ".end", msg);
      }
    }
  }

  void Unretrieved(const Outcome& e, const Outcome& o) {
    std::map<std::string, const spec::Unretrieved*> me, mo;
    for (const auto& u : e.unretrieved) me[u.task] = &u;
    for (const auto& u : o.unretrieved) mo[u.task] = &u;
    std::set<std::string> names;
    for (auto& [n, _] : me) names.insert(n);
    for (auto& [n, _] : mo) names.insert(n);
    for (const std::string& n : names) {
      auto ei = me.find(n), oi = mo.find(n);
      bool in_e = ei != me.end(), in_o = oi != mo.end();
      if (in_e && in_o && *ei->second == *oi->second) continue;
      const auto* en = Entry(n);
      std::string rule = "RT-4";
      if (en && en->kind == Kind::kShieldInner) rule = "SH-3";
      else if (en && en->kind == Kind::kGatherChild) rule = "GA-6";
      else if (ix_.cancel_targets.count(n)) rule = "CX-8";
      Time t = kNever;
      if (auto it = e.tasks.find(n); it != e.tasks.end()) t = MinT(it->second.end, std::nullopt);
      Add(t, 3, 0, rule, "unretrieved." + n,
          in_e && in_o ? "unretrieved error of " + n + " is " + Describe(oi->second->error) +
                             ", model: " + Describe(ei->second->error)
          : in_e       ? "task " + n + "'s error " + Describe(ei->second->error) +
                       " is not listed as unretrieved (the model lists it)"
                       : "task " + n + "'s error " + Describe(oi->second->error) +
                       " is listed as unretrieved (the model: retrieved)");
    }
  }

  // RT-8: the exception handler's calls and the warnings, compared when
  // both sides have them (Compare drops what the runtime does not observe).
  void Channels(const Outcome& e, const Outcome& o) {
    auto call = [](const spec::HandlerCall& c) {
      return std::string(spec::HandlerKindName(c.kind)) + " " + c.task + (c.error ? " " + Describe(c.error) : "");
    };
    if (e.handler && o.handler && !(*e.handler == *o.handler)) {
      std::multiset<std::string> me, mo;
      for (const auto& c : *e.handler) me.insert(call(c));
      for (const auto& c : *o.handler) mo.insert(call(c));
      std::string extra, missing;
      for (const auto& c : mo)
        if (me.count(c) < mo.count(c) && extra.find(c) == std::string::npos) extra += (extra.empty() ? "" : "; ") + c;
      for (const auto& c : me)
        if (mo.count(c) < me.count(c) && missing.find(c) == std::string::npos) missing += (missing.empty() ? "" : "; ") + c;
      Add(e.end_time, 3, 0, "RT-8", "handler",
          "exception handler calls differ: " + (extra.empty() ? "" : "runtime only: " + extra) +
              (extra.empty() || missing.empty() ? "" : "; ") + (missing.empty() ? "" : "model only: " + missing));
    }
    if (e.warnings && o.warnings && !(*e.warnings == *o.warnings)) {
      auto list = [](const std::vector<spec::WarningRecord>& ws) {
        std::string s;
        for (const auto& w : ws) s += (s.empty() ? "" : ", ") + std::string(spec::WarningKindName(w.kind)) + " " + w.task;
        return s.empty() ? std::string("none") : s;
      };
      Add(e.end_time, 3, 0, "RT-8", "warnings",
          "warnings: " + list(*o.warnings) + ", model: " + list(*e.warnings));
    }
  }

  const Program& p_;
  const spec::Profile& prof_;
  const ProgramIndex& ix_;
  std::vector<Diff> diffs_;
};

}  // namespace

Comparison Compare(const Program& program, const spec::Profile& profile, const Outcome& expected,
                   const Outcome& observed) {
  // RT-8: a runtime that does not observe a channel is compared without it.
  if ((expected.handler && !observed.handler) || (expected.warnings && !observed.warnings)) {
    Outcome e = expected;
    if (!observed.handler) e.handler.reset();
    if (!observed.warnings) e.warnings.reset();
    return Compare(program, profile, e, observed);
  }
  Comparison c;
  if (expected == observed) return c;
  if (spec::OutcomeAllowed(expected, observed, nullptr)) {
    c.match = Match::kUpToTies;
    return c;
  }
  c.match = Match::kDiffer;
  ProgramIndex ix = ProgramIndex::Build(program);
  std::vector<Diff> diffs = Differ(program, profile, ix).Run(expected, observed);
  std::stable_sort(diffs.begin(), diffs.end(), [](const Diff& a, const Diff& b) {
    return std::make_tuple(a.time, a.prio, -a.depth) < std::make_tuple(b.time, b.prio, -b.depth);
  });
  for (Diff& d : diffs) {
    c.differences.push_back(std::move(d.f));
    c.times.push_back(d.time);
  }
  if (c.differences.empty()) {
    // Equal elementwise but not ==: cannot happen unless operator== and the
    // walk disagree; still report something rather than nothing.
    c.differences.push_back(Finding{"RT-3", "outcome", "outcomes differ"});
    c.times.push_back(std::min(expected.end_time, observed.end_time));
  }
  c.blame = c.differences.front();
  return c;
}

}  // namespace asyncspec::conformance
