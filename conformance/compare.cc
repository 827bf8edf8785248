#include "conformance/compare.h"

#include <algorithm>
#include <functional>
#include <limits>
#include <set>
#include <string>
#include <tuple>

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
// Index

struct Indexer {
  ProgramIndex& ix;

  void Add(const std::string& name, Kind kind, const std::string& owner, int depth,
           const Step* step, const spec::Handler* h = nullptr) {
    ix.names[name] = ProgramIndex::Entry{kind, owner, depth, step, h};
  }

  void Body(const spec::Body& body, int depth) {
    for (const Step& s : body) One(s, depth);
  }

  void One(const Step& s, int depth) {
    std::visit(
        [&](const auto& op) {
          using T = std::decay_t<decltype(op)>;
          if constexpr (std::is_same_v<T, spec::Sleep>) {
            ix.delay_sum += op.d;
          } else if constexpr (std::is_same_v<T, spec::Raise>) {
            ix.raised_labels.insert({op.label, op.base});
          } else if constexpr (std::is_same_v<T, spec::CreateTask>) {
            Add(op.task.name, Kind::kFreeTask, "", depth, &s);
            Body(op.task.body, depth + 1);
          } else if constexpr (std::is_same_v<T, spec::Group>) {
            Add(op.name, Kind::kGroup, "", depth, &s);
            Body(op.body, depth + 1);
          } else if constexpr (std::is_same_v<T, spec::Spawn>) {
            ix.has_spawn = true;
            Add(op.task.name, Kind::kGroupChild, op.group, depth, &s);
            ix.group_children[op.group].push_back(op.task.name);
            Body(op.task.body, depth + 1);
          } else if constexpr (std::is_same_v<T, spec::Gather>) {
            Add(op.name, Kind::kGather, "", depth, &s);
            auto& kids = ix.gather_children[op.name];
            for (const spec::TaskDef& c : op.children) {
              Add(c.name, Kind::kGatherChild, op.name, depth + 1, &s);
              kids.push_back(c.name);
              Body(c.body, depth + 1);
            }
          } else if constexpr (std::is_same_v<T, spec::Timeout>) {
            ix.has_timeout = true;
            if (op.d) ix.delay_sum += *op.d;
            Add(op.name, Kind::kTimeout, "", depth, &s);
            Body(op.body, depth + 1);
          } else if constexpr (std::is_same_v<T, spec::Reschedule>) {
            ix.has_reschedule = true;
            if (op.d) ix.delay_sum += *op.d;
          } else if constexpr (std::is_same_v<T, spec::Shield>) {
            Add(op.name, Kind::kShield, "", depth, &s);
            Add(op.task.name, Kind::kShieldInner, op.name, depth + 1, &s);
            Body(op.task.body, depth + 1);
          } else if constexpr (std::is_same_v<T, spec::WaitFor>) {
            ix.has_wait_for = true;
            if (op.d) ix.delay_sum += *op.d;
            Add(op.name, Kind::kWaitFor, "", depth, &s);
            Add(op.task.name, Kind::kWaitForInner, op.name, depth + 1, &s);
            Body(op.task.body, depth + 1);
          } else if constexpr (std::is_same_v<T, spec::Await>) {
            ix.await_targets.insert(op.target);
          } else if constexpr (std::is_same_v<T, spec::Cancel>) {
            ix.cancel_targets.insert(op.target);
            if (op.msg) ix.cancel_messages.insert(*op.msg);
          } else if constexpr (std::is_same_v<T, spec::Try>) {
            Add(op.name, Kind::kTry, "", depth, &s);
            Body(op.body, depth + 1);
            for (const spec::Handler& h : op.handlers) {
              Add(h.name, Kind::kHandler, op.name, depth + 1, &s, &h);
              Body(h.body, depth + 1);
            }
            if (op.finally) {
              Add(op.finally->name, Kind::kFinally, op.name, depth + 1, &s);
              Body(op.finally->body, depth + 1);
            }
          }
        },
        s.op);
  }
};

// ---------------------------------------------------------------------------
// Exceptions

void Leaves(const Exc& e, std::vector<const Exc*>& out) {
  if (e.type == Exc::Type::kGroup) {
    for (const Exc& c : e.children) Leaves(c, out);
  } else {
    out.push_back(&e);
  }
}

std::string LeafKey(const Exc& e) { return spec::ExcToJson(e); }

bool IsType(const std::optional<Exc>& e, Exc::Type t) { return e && e->type == t; }

bool AnyLeaf(const std::optional<Exc>& e, const std::function<bool(const Exc&)>& pred) {
  if (!e) return false;
  std::vector<const Exc*> ls;
  Leaves(*e, ls);
  for (const Exc* l : ls) if (pred(*l)) return true;
  return false;
}

bool IsTaskgroupRuntime(const Exc& e) {
  return e.type == Exc::Type::kRuntime && e.what.rfind("taskgroup_", 0) == 0;
}

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

std::string Opt(const std::optional<Time>& t) { return t ? std::to_string(*t) : "null"; }
std::string OptS(const std::optional<std::string>& s) {
  if (!s) return "null";
  std::string out;
  spec::AppendJsonString(out, *s);
  return out;
}

Time MinT(std::optional<Time> a, std::optional<Time> b) {
  Time x = a ? *a : kNever, y = b ? *b : kNever;
  return std::min(x, y);
}

const char* StateName(TaskOutcome::State s) {
  switch (s) {
    case TaskOutcome::State::kPending: return "pending";
    case TaskOutcome::State::kReturned: return "returned";
    case TaskOutcome::State::kRaised: return "raised";
    case TaskOutcome::State::kCancelled: return "cancelled";
  }
  return "?";
}

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

template <typename F>
void ForEachExc(const Outcome& o, F f) {
  for (const auto& [n, t] : o.tasks) if (t.error) f(*t.error, "tasks." + n + ".error");
  for (const auto& [n, s] : o.scopes) {
    if (s.raised) f(*s.raised, "scopes." + n + ".raised");
    if (s.items) {
      for (std::size_t i = 0; i < s.items->size(); ++i) {
        if ((*s.items)[i].error) f(*(*s.items)[i].error, "scopes." + n + ".value[" + std::to_string(i) + "]");
      }
    }
  }
  if (o.run) f(*o.run, "run");
  for (const auto& u : o.unretrieved) f(u.error, "unretrieved." + u.task);
  if (o.handler) {
    for (std::size_t i = 0; i < o.handler->size(); ++i) {
      if ((*o.handler)[i].error) f(*(*o.handler)[i].error, "handler[" + std::to_string(i) + "]");
    }
  }
}

bool OtherTimeoutExpired(const Outcome& o, const std::string& self) {
  for (const auto& [n, s] : o.scopes) {
    if (n != self && s.expired.value_or(false)) return true;
  }
  return false;
}

}  // namespace

// ---------------------------------------------------------------------------

ProgramIndex ProgramIndex::Build(const Program& program) {
  ProgramIndex ix;
  ix.names["main"] = Entry{Kind::kMainTask, "", 0, nullptr, nullptr};
  Indexer{ix}.Body(program.main, 1);
  return ix;
}

std::set<std::string> FamiliesOf(const Program& program) {
  ProgramIndex ix = ProgramIndex::Build(program);
  std::set<std::string> f = {"RT", "SCHED", "INV"};
  for (const auto& [n, e] : ix.names) {
    switch (e.kind) {
      case Kind::kGroup: case Kind::kGroupChild: f.insert("TG"); f.insert("CX"); break;
      case Kind::kGather: f.insert("GA"); break;
      case Kind::kTimeout: f.insert("TO"); f.insert("CX"); break;
      case Kind::kWaitFor: f.insert("WF"); f.insert("CX"); break;
      case Kind::kShield: f.insert("SH"); break;
      case Kind::kTry: f.insert("EG"); break;
      default: break;
    }
  }
  if (!ix.cancel_targets.empty()) f.insert("CX");
  return f;
}

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
  for (Diff& d : diffs) c.differences.push_back(std::move(d.f));
  if (c.differences.empty()) {
    // Equal elementwise but not ==: cannot happen unless operator== and the
    // walk disagree; still report something rather than nothing.
    c.differences.push_back(Finding{"RT-3", "outcome", "outcomes differ"});
  }
  c.blame = c.differences.front();
  return c;
}

namespace {

// Whether running `body` inline (not the bodies of tasks it creates) can
// reach a suspension point (RULES.md "Terms"): sleep (also 0), await, a
// group's exit, gather, shield, wait_for; through nested timeout and try.
bool CanSuspend(const spec::Body& body) {
  for (const Step& s : body) {
    const bool yes = std::visit(
        [&](const auto& op) -> bool {
          using T = std::decay_t<decltype(op)>;
          if constexpr (std::is_same_v<T, spec::Sleep> || std::is_same_v<T, spec::Await> ||
                        std::is_same_v<T, spec::Group> || std::is_same_v<T, spec::Gather> ||
                        std::is_same_v<T, spec::Shield> || std::is_same_v<T, spec::WaitFor>) {
            return true;
          } else if constexpr (std::is_same_v<T, spec::Timeout>) {
            return CanSuspend(op.body);
          } else if constexpr (std::is_same_v<T, spec::Try>) {
            if (CanSuspend(op.body)) return true;
            for (const spec::Handler& h : op.handlers)
              if (CanSuspend(h.body)) return true;
            return op.finally && CanSuspend(op.finally->body);
          } else {
            return false;
          }
        },
        s.op);
    if (yes) return true;
  }
  return false;
}

// INV-2 and INV-4 (see compare.h).
void CheckReportedOnce(const ProgramIndex& ix, const Outcome& o, std::vector<Finding>& out) {
  auto add = [&](std::string where, std::string msg) {
    out.push_back(Finding{"INV-2", std::move(where), std::move(msg)});
  };
  auto task = [&](const std::string& n) -> const TaskOutcome* {
    auto it = o.tasks.find(n);
    return it == o.tasks.end() ? nullptr : &it->second;
  };
  // A base error or a stopped loop (RT-5, RT-6) can keep done callbacks from
  // ever running, so retrieval by a group or gather is only promised without.
  const bool loop_stopped = o.run && (o.run->type == Exc::Type::kBase || o.run->type == Exc::Type::kRuntime);
  std::set<std::string> listed;
  for (const spec::Unretrieved& u : o.unretrieved) {
    const std::string where = "unretrieved." + u.task;
    if (!listed.insert(u.task).second) add(where, "task " + u.task + " is listed twice");
    const TaskOutcome* t = task(u.task);
    if (u.task == "main" && !loop_stopped) {
      // (With a base error, main can end in the drain after run_until_complete
      // removed its callback: golden case tg_base_error_from_child.)
      add(where, "main is listed as unretrieved, but run retrieves it (RT-4)");
    } else if (!t || t->state != TaskOutcome::State::kRaised || !t->error) {
      add(where, "unretrieved " + LeafKey(u.error) + " of " + u.task + ", which " +
                     (t ? std::string("is ") + StateName(t->state) : "does not exist"));
    } else if (!spec::ExcEquivalent(*t->error, u.error)) {
      add(where, "unretrieved " + LeafKey(u.error) + " but " + u.task + " raised " + LeafKey(*t->error));
    }
    // A leftover that raises in run's drain is reported by run too (RT-4),
    // whoever retrieved it; the drain starts when main has ended.
    const TaskOutcome* m = task("main");
    const bool in_drain = !m || !m->end || !t || !t->end || *t->end >= *m->end;
    auto e = ix.names.find(u.task);
    if (!loop_stopped && !in_drain && e != ix.names.end() &&
        (e->second.kind == Kind::kGroupChild || e->second.kind == Kind::kGatherChild)) {
      add(where, u.task + " is listed as unretrieved, but its " +
                     (e->second.kind == Kind::kGroupChild ? "group's _on_task_done (TG-2)" : "gather's callback (GA-2)") +
                     " retrieves it");
    }
  }
  // RT-8: the exception handler is a reporting channel too. When the
  // runtime observes it, every unretrieved entry is one of its calls
  // ("never retrieved" or run's shutdown report), and back.
  std::set<std::string> handled;  // tasks whose error reached the handler
  if (o.handler) {
    std::set<std::string> reported_unretrieved;
    for (std::size_t i = 0; i < o.handler->size(); ++i) {
      const spec::HandlerCall& c = (*o.handler)[i];
      if (!c.error) continue;
      handled.insert(c.task);
      if (c.kind != spec::HandlerCall::Kind::kNeverRetrieved && c.kind != spec::HandlerCall::Kind::kRunShutdown)
        continue;
      reported_unretrieved.insert(c.task);
      if (!listed.count(c.task)) {
        out.push_back(Finding{"RT-8", "handler[" + std::to_string(i) + "]",
                              "the exception handler was told " + std::string(spec::HandlerKindName(c.kind)) +
                                  " of " + c.task + ", which is not listed as unretrieved (RT-4)"});
      }
    }
    for (const spec::Unretrieved& u : o.unretrieved) {
      if (!reported_unretrieved.count(u.task)) {
        out.push_back(Finding{"RT-8", "unretrieved." + u.task,
                              u.task + " is listed as unretrieved but the exception handler was never told"});
      }
    }
  }
  // A free task's error is reported by an await, is dropped on purpose by
  // cancel() (CX-8, bpo-30508), or is listed / reaches the handler. No
  // other discard: a leftover whose error the drain retrieved and that a
  // base error kept from being reported (CPython 3.11-3.13) fails here.
  for (const auto& [n, e] : ix.names) {
    const TaskOutcome* t = task(n);
    if (!t || t->state != TaskOutcome::State::kRaised) continue;
    if (e.kind == Kind::kFreeTask && !ix.await_targets.count(n) && !ix.cancel_targets.count(n) &&
        !listed.count(n) && !handled.count(n)) {
      add("unretrieved", n + " raised " + Describe(t->error) +
                             ", nothing awaits or cancels it, and it is neither listed as unretrieved (RT-4) "
                             "nor reported to the exception handler (RT-8)");
    }
  }
  for (const auto& [g, kids] : ix.group_children) {
    auto si = o.scopes.find(g);
    // TG-5: the documented discard ("the initial KeyboardInterrupt or
    // SystemExit is re-raised instead of ExceptionGroup").
    if (si == o.scopes.end() || IsType(si->second.raised, Exc::Type::kBase)) continue;
    const std::optional<Exc>& raised = si->second.raised;
    std::vector<bool> used(raised && raised->type == Exc::Type::kGroup ? raised->children.size() : 0, false);
    for (const std::string& k : kids) {
      const TaskOutcome* t = task(k);
      if (!t || t->state != TaskOutcome::State::kRaised || !t->error || t->error->type == Exc::Type::kBase) continue;
      if (t->end && *t->end > si->second.end) continue;  // INV-6's business
      bool found = false;
      for (std::size_t i = 0; i < used.size() && !found; ++i) {
        if (!used[i] && spec::ExcEquivalent(raised->children[i], *t->error)) found = used[i] = true;
      }
      if (!found && !handled.count(k)) {  // or the handler (RT-8: "parent task ... already completed")
        add("scopes." + g + ".raised", "child " + k + " raised " + LeafKey(*t->error) + " but group " + g +
                                           " raised " + Describe(raised) + " without it (TG-3)");
      }
    }
  }
  for (const auto& [g, kids] : ix.gather_children) {
    auto si = o.scopes.find(g);
    if (si == o.scopes.end() || !si->second.items) continue;
    const auto& items = *si->second.items;
    for (std::size_t i = 0; i < items.size() && i < kids.size(); ++i) {
      const TaskOutcome* t = task(kids[i]);
      if (!t) continue;
      const std::string where = "scopes." + g + ".value[" + std::to_string(i) + "]";
      if (t->state == TaskOutcome::State::kRaised && t->error &&
          (!items[i].error || !spec::ExcEquivalent(*items[i].error, *t->error))) {
        add(where, kids[i] + " raised " + LeafKey(*t->error) + " but gather lists " +
                       Describe(items[i].error) + " (GA-4)");
      } else if (t->state == TaskOutcome::State::kCancelled && !IsType(items[i].error, Exc::Type::kCancelled)) {
        add(where, kids[i] + " was cancelled but gather lists " + Describe(items[i].error) + " (GA-3)");
      }
    }
  }
}

void CheckCancelLanding(const ProgramIndex& ix, const Outcome& o, std::vector<Finding>& out) {
  auto add = [&](std::string where, std::string msg) {
    out.push_back(Finding{"INV-4", std::move(where), std::move(msg)});
  };
  auto started = [&](const std::string& block) { return o.blocks.count(block) > 0; };
  for (const auto& [n, e] : ix.names) {
    if (e.kind != Kind::kTry || !e.step) continue;
    const auto& tr = std::get<spec::Try>(e.step->op);
    // A CancelledError enters a body only at a suspension point (CX-2).
    if (!CanSuspend(tr.body)) {
      for (const spec::Handler& h : tr.handlers) {
        if (h.kind == spec::CatchKind::kCancelled && started(h.name)) {
          add("blocks." + h.name, "handler " + h.name + " for CancelledError ran, but the body of " + n +
                                      " has no suspension point where a cancellation could land (CX-2)");
        }
      }
    }
    auto si = o.scopes.find(n);
    if (si == o.scopes.end()) continue;  // the try never completed
    // A completed try ran its finally (CX-6).
    if (tr.finally && !started(tr.finally->name)) {
      add("blocks." + tr.finally->name, "try " + n + " completed but its finally " + tr.finally->name +
                                            " never started (CX-6)");
    }
    // A bare CancelledError that left the try came from its body, unless a
    // handler ran or the finally raised; a handler matching it must then
    // have started (CX-6).
    if (!IsType(si->second.raised, Exc::Type::kCancelled)) continue;
    const bool finally_raised = tr.finally && started(tr.finally->name) && !o.blocks.at(tr.finally->name).end;
    bool any_started = false, matching = false;
    for (const spec::Handler& h : tr.handlers) {
      any_started |= started(h.name);
      matching |= h.kind == spec::CatchKind::kCancelled || h.kind == spec::CatchKind::kAny;
    }
    if (matching && !any_started && !finally_raised) {
      add("scopes." + n + ".raised", "CancelledError left try " + n +
                                         " but no handler ran, though one matches it (CX-6)");
    }
  }
}

}  // namespace

std::vector<Finding> CheckInvariants(const Program& program, const Outcome& o) {
  ProgramIndex ix = ProgramIndex::Build(program);
  std::vector<Finding> out;
  auto add = [&](std::string rule, std::string where, std::string msg) {
    out.push_back(Finding{std::move(rule), std::move(where), std::move(msg)});
  };
  bool any_expired = false;
  for (const auto& [n, s] : o.scopes) any_expired |= s.expired.value_or(false);

  // INV-3: every leaf was raised by a raise step / stems from a cancel or a timeout.
  ForEachExc(o, [&](const Exc& e, const std::string& where) {
    std::vector<const Exc*> ls;
    Leaves(e, ls);
    for (const Exc* l : ls) {
      switch (l->type) {
        case Exc::Type::kError:
        case Exc::Type::kBase:
          if (!ix.raised_labels.count({l->label, l->type == Exc::Type::kBase})) {
            add("INV-3", where, "error " + LeafKey(*l) + " was raised by no raise step");
          }
          break;
        case Exc::Type::kCancelled:
          // GA-3: gather's entry for a cancelled child carries "" when no message.
          if (l->msg && !l->msg->empty() && !ix.cancel_messages.count(*l->msg)) {
            add("INV-3", where, "CancelledError message " + LeafKey(*l) + " was given to no cancel");
          }
          break;
        case Exc::Type::kTimeout:
          if (!ix.has_wait_for && !any_expired) {
            add("INV-3", where, "TimeoutError with no expired timeout and no wait_for");
          }
          break;
        case Exc::Type::kRuntime:
          if (IsTaskgroupRuntime(*l) && !ix.has_spawn) {
            add("INV-3", where, "TaskGroup RuntimeError in a program without spawn");
          }
          break;
        case Exc::Type::kGroup:
          break;
      }
    }
  });

  auto task = [&](const std::string& n) -> const TaskOutcome* {
    auto it = o.tasks.find(n);
    return it == o.tasks.end() ? nullptr : &it->second;
  };

  for (const auto& [n, s] : o.scopes) {
    auto ei = ix.names.find(n);
    if (ei == ix.names.end()) continue;
    const auto& en = ei->second;
    // INV-5: values only from returned children.
    if (en.kind == Kind::kGather && s.items) {
      const auto& kids = ix.gather_children[n];
      for (std::size_t i = 0; i < s.items->size() && i < kids.size(); ++i) {
        if ((*s.items)[i].error) continue;
        const TaskOutcome* t = task(kids[i]);
        if (!t || t->state != TaskOutcome::State::kReturned) {
          add("INV-5", "scopes." + n + ".value[" + std::to_string(i) + "]",
              "gather result for " + kids[i] + " but that task " +
                  (t ? std::string("is ") + StateName(t->state) : "does not exist"));
        } else if ((*s.items)[i].value != t->value) {
          add("INV-5", "scopes." + n + ".value[" + std::to_string(i) + "]",
              "gather result " + OptS((*s.items)[i].value) + " but " + kids[i] + " returned " +
                  OptS(t->value));
        }
      }
    }
    if ((en.kind == Kind::kShield || en.kind == Kind::kWaitFor) && !s.raised && en.step) {
      std::string inner = en.kind == Kind::kShield ? std::get<spec::Shield>(en.step->op).task.name
                                                   : std::get<spec::WaitFor>(en.step->op).task.name;
      const TaskOutcome* t = task(inner);
      if (!t || t->state != TaskOutcome::State::kReturned) {
        add("INV-5", "scopes." + n + ".value",
            "value of " + n + " but its task " + inner + " " +
                (t ? std::string("is ") + StateName(t->state) : "does not exist"));
      }
      // INV-1: wait_for returns only after its task is done.
      if (en.kind == Kind::kWaitFor && t && (!t->end || *t->end > s.end)) {
        add("INV-1", "scopes." + n + ".end",
            "wait_for " + n + " exited at t=" + std::to_string(s.end) + " before its task " + inner +
                " ended (" + Opt(t->end) + ")");
      }
    }
    // INV-1: a gather that returned has all its children done.
    if (en.kind == Kind::kGather && !s.raised) {
      for (const std::string& k : ix.gather_children[n]) {
        const TaskOutcome* t = task(k);
        if (t && (!t->end || *t->end > s.end)) {
          add("INV-1", "scopes." + n + ".end",
              "gather " + n + " returned at t=" + std::to_string(s.end) + " before child " + k +
                  " ended (" + Opt(t->end) + ")");
        }
      }
    }
    // INV-6: a group's children end no later than the group.
    if (en.kind == Kind::kGroup) {
      for (const std::string& k : ix.group_children[n]) {
        const TaskOutcome* t = task(k);
        if (t && (!t->end || *t->end > s.end)) {
          add("INV-6", "scopes." + n + ".end",
              "group " + n + " exited at t=" + std::to_string(s.end) + " but child " + k +
                  " ended at " + Opt(t->end));
        }
      }
    }
    // INV-7: TimeoutError only from an expired timeout.
    // A TimeoutError may also come from an inner timeout or a wait_for (or a
    // task that got one from them) and pass through: only flag a timeout
    // when no other source exists in the outcome.
    if (en.kind == Kind::kTimeout && IsType(s.raised, Exc::Type::kTimeout) && !s.expired.value_or(false) &&
        !ix.has_wait_for && !OtherTimeoutExpired(o, n)) {
      add("INV-7", "scopes." + n + ".raised", "timeout " + n + " raised TimeoutError but did not expire");
    }
  }
  CheckReportedOnce(ix, o, out);   // INV-2
  CheckCancelLanding(ix, o, out);  // INV-4
  // What else the rules imply about times: time never goes back, and run
  // returns last (RT-3: end_time is when run returned; RT-7: a task's end is
  // the step in which it ended, never before its start).
  auto late = [&](const std::string& where, std::optional<Time> t) {
    if (t && *t > o.end_time) {
      add("RT-3", where, "time " + std::to_string(*t) + " is after end_time " + std::to_string(o.end_time));
    }
  };
  for (const auto& [n, t] : o.tasks) {
    late("tasks." + n + ".end", t.end);
    late("tasks." + n + ".start", t.start);
    if (t.start && t.end && *t.end < *t.start) {
      add("RT-7", "tasks." + n + ".end", "task " + n + " ended at " + Opt(t.end) + " before it started at " +
                                             Opt(t.start));
    }
  }
  for (const auto& [n, b] : o.blocks) {
    late("blocks." + n + ".start", b.start);
    late("blocks." + n + ".end", b.end);
    if (b.end && *b.end < b.start) {
      add("CX-6", "blocks." + n + ".end", "block " + n + " ended at " + Opt(b.end) + " before it started at " +
                                              std::to_string(b.start));
    }
  }
  for (const auto& [n, sc] : o.scopes) late("scopes." + n + ".end", sc.end);
  // INV-8: termination within the sum of delays.
  if (o.end_time > ix.delay_sum) {
    add("INV-8", "end_time",
        "end_time " + std::to_string(o.end_time) + " > sum of delays " + std::to_string(ix.delay_sum));
  }
  return out;
}

std::string Describe(const std::optional<Exc>& e) { return e ? spec::ExcToJson(*e) : "nothing"; }

std::string Describe(const TaskOutcome& t) {
  std::string s = StateName(t.state);
  if (t.value) s += " " + OptS(t.value);
  if (t.error) s += " " + spec::ExcToJson(*t.error);
  s += " [" + Opt(t.start) + ".." + Opt(t.end) + "]";
  return s;
}

}  // namespace asyncspec::conformance
