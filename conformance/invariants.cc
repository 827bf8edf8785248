#include "spec/outcome_allowed.h"
#include "conformance/invariants.h"

#include <set>
#include <string>
#include <type_traits>
#include <variant>

#include "conformance/outcome_query.h"
#include "spec/model/model.h"

namespace asyncspec::conformance {
namespace {

using spec::Exc;
using spec::Outcome;
using spec::Program;
using spec::Step;
using spec::TaskOutcome;
using spec::Time;
using Kind = ProgramIndex::Kind;

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

}  // namespace asyncspec::conformance
