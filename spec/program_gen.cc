// MakeValid (spec/program_gen.h): turns any well-shaped program into a valid
// one, in three phases.
//   1. Names: collect every declared name in tree order; keep valid first
//      occurrences, give the others fresh names.
//   2. One walk fixes what is local (return placement, reschedule against
//      the enclosing timeouts of the same task, handler flags, delays) and
//      collects groups (with the task that enters each), tasks, the
//      creator->child waits of gather/shield/wait_for, and the spawn, cancel
//      and await steps to resolve.
//   3. Spawns, then cancels, then awaits are resolved in program order,
//      each new waits-for edge (group owner -> spawned task, awaiting task ->
//      target) accepted only if it closes no cycle, mirroring exactly the
//      graph that spec/validate.cc checks.
// Steps are rewritten in place; Body vectors are never resized, so the step
// pointers collected in phase 2 stay valid (moving a TaskDef moves its body's
// buffer, not its steps).
#include "spec/program_gen.h"

#include "spec/json.h"
#include "spec/text.h"

#include <algorithm>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <variant>
#include <vector>

namespace asyncspec::spec {

void showValue(const Program& program, std::ostream& os) { os << "\n" << ProgramToText(program); }
void showValue(const Outcome& outcome, std::ostream& os) { os << OutcomeToJson(outcome); }
void showValue(const Exc& exc, std::ostream& os) { os << ExcToJson(exc); }

}  // namespace asyncspec::spec

namespace asyncspec::spec::gen {
namespace {

bool IsIdentifier(std::string_view s) {
  auto head = [](char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; };
  return !s.empty() && head(s[0]) &&
         std::all_of(s.begin() + 1, s.end(), [&](char c) { return head(c) || (c >= '0' && c <= '9'); });
}

// k of a placeholder "#k", else 0.
std::size_t PickIndex(std::string_view s) {
  std::size_t k = 0;
  if (s.size() < 2 || s[0] != '#') return 0;
  for (char c : s.substr(1)) {
    if (c < '0' || c > '9') return 0;
    k = k * 10 + static_cast<std::size_t>(c - '0');
  }
  return k;
}

// ---------------------------------------------------------------- phase 1

class Namer {
 public:
  void Run(Program& p) {
    Body(p.main);
    std::unordered_set<std::string> used{"main"};
    std::vector<bool> keep(names_.size());
    for (std::size_t i = 0; i < names_.size(); ++i) {
      keep[i] = IsIdentifier(*names_[i].first) && used.insert(*names_[i].first).second;
    }
    std::unordered_map<std::string_view, int> counters;
    for (std::size_t i = 0; i < names_.size(); ++i) {
      if (keep[i]) continue;
      std::string candidate;
      do {
        candidate = std::string(names_[i].second) + std::to_string(counters[names_[i].second]++);
      } while (used.count(candidate) > 0);
      used.insert(candidate);
      *names_[i].first = std::move(candidate);
    }
  }

 private:
  void Add(std::string& name, std::string_view prefix) { names_.emplace_back(&name, prefix); }
  void Task(TaskDef& t) {
    Add(t.name, "t");
    Body(t.body);
  }
  void Body(spec::Body& body) {
    for (Step& step : body) {
      std::visit(
          [&](auto& op) {
            using T = std::decay_t<decltype(op)>;
            if constexpr (std::is_same_v<T, CreateTask> || std::is_same_v<T, Spawn>) {
              Task(op.task);
            } else if constexpr (std::is_same_v<T, Group>) {
              Add(op.name, "g");
              Body(op.body);
            } else if constexpr (std::is_same_v<T, Gather>) {
              Add(op.name, "ga");
              for (TaskDef& c : op.children) Task(c);
            } else if constexpr (std::is_same_v<T, Timeout>) {
              Add(op.name, "tm");
              Body(op.body);
            } else if constexpr (std::is_same_v<T, Shield>) {
              Add(op.name, "sh");
              Task(op.task);
            } else if constexpr (std::is_same_v<T, WaitFor>) {
              Add(op.name, "wf");
              Task(op.task);
            } else if constexpr (std::is_same_v<T, Try>) {
              Add(op.name, "try");
              Body(op.body);
              for (Handler& h : op.handlers) {
                Add(h.name, "h");
                Body(h.body);
              }
              if (op.finally) {
                Add(op.finally->name, "f");
                Body(op.finally->body);
              }
            }
          },
          step.op);
    }
  }

  std::vector<std::pair<std::string*, std::string_view>> names_;
};

// ---------------------------------------------------------------- phases 2, 3

class Resolver {
 public:
  void Run(Program& p) {
    tasks_.push_back("main");
    task_ = "main";
    Body(p.main, true);
    for (auto& [step, task] : spawns_) ResolveSpawn(*step);
    for (Step* step : cancels_) ResolveCancel(std::get<Cancel>(step->op));
    for (auto& [step, task] : awaits_) ResolveAwait(*step, task);
  }

 private:
  void Clamp(Time& d) { d = std::clamp<Time>(d, 0, kMaxDelay); }
  void Clamp(std::optional<Time>& d) {
    if (d) Clamp(*d);
  }

  void Task(TaskDef& t) {
    tasks_.push_back(t.name);
    std::string saved = std::exchange(task_, t.name);
    std::vector<std::string> saved_timeouts = std::exchange(timeouts_, {});
    std::vector<std::string> saved_groups = std::exchange(enclosing_groups_, {});
    Body(t.body, true);
    task_ = std::move(saved);
    timeouts_ = std::move(saved_timeouts);
    enclosing_groups_ = std::move(saved_groups);
  }

  void Body(spec::Body& body, bool task_body) {
    for (std::size_t i = 0; i < body.size(); ++i) {
      Step& step = body[i];
      if (std::holds_alternative<Return>(step.op) && !(task_body && i + 1 == body.size())) {
        step.op = Sleep{0};
      }
      Visit(step);
    }
  }

  void Visit(Step& step) {
    Step::Op& op = step.op;
    if (auto* s = std::get_if<Sleep>(&op)) {
      Clamp(s->d);
    } else if (auto* t = std::get_if<CreateTask>(&op)) {
      Task(t->task);
    } else if (auto* g = std::get_if<Group>(&op)) {
      groups_.emplace_back(g->name, task_);
      enclosing_groups_.push_back(g->name);
      Body(g->body, false);
      enclosing_groups_.pop_back();
    } else if (auto* s = std::get_if<Spawn>(&op)) {
      if (s->group == kEnclosingGroup && !enclosing_groups_.empty()) s->group = enclosing_groups_.back();
      spawns_.emplace_back(&step, task_);
      Task(s->task);
    } else if (auto* g = std::get_if<Gather>(&op)) {
      for (TaskDef& c : g->children) {
        AddEdge(task_, c.name);
        Task(c);
      }
    } else if (auto* t = std::get_if<Timeout>(&op)) {
      Clamp(t->d);
      timeouts_.push_back(t->name);
      Body(t->body, false);
      timeouts_.pop_back();
    } else if (auto* r = std::get_if<Reschedule>(&op)) {
      Clamp(r->d);
      if (std::find(timeouts_.begin(), timeouts_.end(), r->timeout) == timeouts_.end()) {
        if (timeouts_.empty()) {
          step.op = Sleep{0};
        } else {
          r->timeout = timeouts_[PickIndex(r->timeout) % timeouts_.size()];
        }
      }
    } else if (auto* s = std::get_if<Shield>(&op)) {
      AddEdge(task_, s->task.name);
      Task(s->task);
    } else if (auto* w = std::get_if<WaitFor>(&op)) {
      Clamp(w->d);
      AddEdge(task_, w->task.name);
      Task(w->task);
    } else if (auto* c = std::get_if<Cancel>(&op)) {
      if (c->target == kSelf) c->target = task_;
      cancels_.push_back(&step);
    } else if (std::holds_alternative<Await>(op)) {
      awaits_.emplace_back(&step, task_);
    } else if (auto* t = std::get_if<Try>(&op)) {
      Body(t->body, false);
      for (Handler& h : t->handlers) {
        h.star = t->handlers.front().star;
        if (h.star && h.kind == CatchKind::kGroup) h.kind = CatchKind::kAny;
        if (h.kind != CatchKind::kError && h.kind != CatchKind::kBase) h.label.reset();
        Body(h.body, false);
      }
      if (t->finally) Body(t->finally->body, false);
    }
  }

  void AddEdge(const std::string& from, const std::string& to) { edges_[from].push_back(to); }

  // Whether `to` can reach `from` (so from -> to would close a cycle).
  bool ClosesCycle(const std::string& from, const std::string& to) const {
    if (from == to) return true;
    std::vector<const std::string*> stack{&to};
    std::unordered_set<std::string_view> seen{to};
    while (!stack.empty()) {
      const std::string& n = *stack.back();
      stack.pop_back();
      auto it = edges_.find(n);
      if (it == edges_.end()) continue;
      for (const std::string& m : it->second) {
        if (m == from) return true;
        if (seen.insert(m).second) stack.push_back(&m);
      }
    }
    return false;
  }

  void ResolveSpawn(Step& step) {
    auto& s = std::get<Spawn>(step.op);
    const std::size_t n = groups_.size();
    std::size_t start = PickIndex(s.group);
    for (std::size_t i = 0; i < n; ++i) {
      if (groups_[i].first == s.group) start = i;
    }
    for (std::size_t k = 0; k < n; ++k) {
      const auto& [group, owner] = groups_[(start + k) % n];
      if (!ClosesCycle(owner, s.task.name)) {
        s.group = group;
        AddEdge(owner, s.task.name);
        return;
      }
    }
    TaskDef task = std::move(s.task);
    step.op = CreateTask{std::move(task)};
  }

  void ResolveCancel(Cancel& c) {
    if (std::find(tasks_.begin(), tasks_.end(), c.target) != tasks_.end()) return;
    c.target = tasks_[PickIndex(c.target) % tasks_.size()];
  }

  void ResolveAwait(Step& step, const std::string& task) {
    auto& a = std::get<Await>(step.op);
    const std::size_t n = tasks_.size();
    std::size_t start = PickIndex(a.target);
    if (auto it = std::find(tasks_.begin(), tasks_.end(), a.target); it != tasks_.end()) {
      start = static_cast<std::size_t>(it - tasks_.begin());
    }
    for (std::size_t k = 0; k < n; ++k) {
      const std::string& target = tasks_[(start + k) % n];
      if (!ClosesCycle(task, target)) {
        a.target = target;
        AddEdge(task, target);
        return;
      }
    }
    step.op = Sleep{0};
  }

  std::string task_;
  std::vector<std::string> timeouts_;
  std::vector<std::string> enclosing_groups_;  // groups around the step, same task
  std::vector<std::string> tasks_;                             // main first
  std::vector<std::pair<std::string, std::string>> groups_;    // name, owner task
  std::unordered_map<std::string, std::vector<std::string>> edges_;
  std::vector<std::pair<Step*, std::string>> spawns_, awaits_;  // step, its task
  std::vector<Step*> cancels_;
};

}  // namespace

void MakeValid(Program& program) {
  Namer().Run(program);
  Resolver().Run(program);
}

namespace {

struct Distinct {
  int next = 0;  // exponent of the next delay
  void Fix(Time& d) {
    if (d <= 0) return;
    d = next <= 32 ? (Time{1} << next) : 0;
    ++next;
  }
  void Fix(std::optional<Time>& d) {
    if (d) Fix(*d);
  }
  void Walk(Body& body) {
    for (Step& st : body) {
      std::visit(
          [&](auto& op) {
            using T = std::decay_t<decltype(op)>;
            if constexpr (std::is_same_v<T, Sleep> || std::is_same_v<T, Timeout> ||
                          std::is_same_v<T, Reschedule> || std::is_same_v<T, WaitFor>) {
              Fix(op.d);
            }
            if constexpr (std::is_same_v<T, CreateTask> || std::is_same_v<T, Spawn> ||
                          std::is_same_v<T, Shield> || std::is_same_v<T, WaitFor>) {
              Walk(op.task.body);
            } else if constexpr (std::is_same_v<T, Group> || std::is_same_v<T, Timeout>) {
              Walk(op.body);
            } else if constexpr (std::is_same_v<T, Gather>) {
              for (TaskDef& c : op.children) Walk(c.body);
            } else if constexpr (std::is_same_v<T, Try>) {
              Walk(op.body);
              for (Handler& h : op.handlers) Walk(h.body);
              if (op.finally) Walk(op.finally->body);
            }
          },
          st.op);
    }
  }
};

}  // namespace

void DistinctDelays(Program& program) { Distinct().Walk(program.main); }

}  // namespace asyncspec::spec::gen
