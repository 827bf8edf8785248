// Program validity (spec/validate.h).
//
// One recursive walk over the program does everything local to a step (name
// syntax and uniqueness, `return` placement, `reschedule` enclosure, handler
// rules, delays, limits) and records what needs the whole program: the
// references (spawn groups, cancel/await targets, which may be declared later
// in the program) and the "waits for" edges between tasks. A second phase
// resolves the references and searches the edge graph for cycles.
//
// All names are kept as string_views into the program, which outlives the
// validator; step paths are formatted only for steps that become a problem
// or an edge.
#include "spec/str_cat.h"
#include "spec/validate.h"

#include <algorithm>
#include <charconv>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

namespace asyncspec::spec {
namespace {

using internal::StrCat;

bool IsIdentifier(std::string_view s) {
  if (s.empty()) return false;
  auto head = [](char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; };
  if (!head(s[0])) return false;
  return std::all_of(s.begin() + 1, s.end(), [&](char c) { return head(c) || (c >= '0' && c <= '9'); });
}

// A step path as a chain of frames on the walker's stack (as in json.cc).
struct Path {
  const Path* parent = nullptr;
  std::string_view field;  // ".field" (just "field" first) or, if empty, "[index]"
  std::size_t index = 0;

  Path Field(std::string_view f) const { return Path{this, f, 0}; }
  Path Index(std::size_t i) const { return Path{this, {}, i}; }
};

std::string FormatPath(const Path& path) {
  std::vector<const Path*> chain;
  for (const Path* p = &path; p != nullptr; p = p->parent) chain.push_back(p);
  std::reverse(chain.begin(), chain.end());
  constexpr std::size_t kHead = 6, kTail = 12;  // elide the middle of huge paths
  std::string out;
  for (std::size_t i = 0; i < chain.size(); ++i) {
    if (chain.size() > kHead + kTail + 1 && i == kHead) {
      out += StrCat("...(", chain.size() - kHead - kTail, " more)...");
      i = chain.size() - kTail - 1;
      continue;
    }
    const Path& p = *chain[i];
    if (p.field.empty()) {
      out += StrCat("[", p.index, "]");
    } else {
      if (!out.empty()) out += '.';
      out += p.field;
    }
  }
  return out;
}

enum class Kind { kTask, kGroup, kGather, kTimeout, kTry, kHandler, kFinally, kShield, kWaitFor };

std::string_view KindName(Kind k) {
  switch (k) {
    case Kind::kTask: return "task";
    case Kind::kGroup: return "group";
    case Kind::kGather: return "gather";
    case Kind::kTimeout: return "timeout";
    case Kind::kTry: return "try";
    case Kind::kHandler: return "handler";
    case Kind::kFinally: return "finally block";
    case Kind::kShield: return "shield";
    case Kind::kWaitFor: return "wait_for";
  }
  return "?";
}

constexpr std::string_view kMain = "main";

// Where a reference or an edge of the waits-for graph was found: its step,
// and the field of that step a problem with it is about. Its path is made
// only if a problem is reported there (Validator::PathOf): every program the
// fuzzer's mutator writes is validated, and formatting the path of every
// reference and edge eagerly was a third of Validate's time.
struct Where {
  const Step* step = nullptr;
  std::string_view field;  // ".group", ".target", or empty
};

class Validator {
 public:
  explicit Validator(std::size_t max_problems) : max_(max_problems) {}

  void Run(const Program& program) {
    program_ = &program;
    Walk(program);
    if (stop_) return;  // limits exceeded: the rest would be partial anyway
    ResolveReferences();
    FindCycles();
  }

  std::vector<Problem>& problems() { return problems_; }
  std::size_t total() const { return total_; }

 private:
  // A "waits for" edge: task `from` cannot finish before task `to`.
  struct Edge {
    std::string_view from, to;
    std::string how;  // "awaits", "gathers", ...
    Where where;
  };
  enum class RefKind { kSpawn, kCancel, kAwait };
  struct Ref {
    RefKind kind;
    std::string_view name;     // group (spawn) or target (cancel, await)
    std::string_view task;     // the task whose step this is
    std::string_view spawned;  // spawn: the new task
    Where where;
  };

  // The walk of the program's steps, without the checks that follow it.
  void Walk(const Program& program) {
    const Path main{nullptr, kMain, 0};
    task_ = kMain;
    WalkBody(program.main, main, 1, /*task_body=*/true);
  }

  Where At(const Path& path, const Step& step) {
    if (locate_ != nullptr) {
      if (auto it = locate_->find(&step); it != locate_->end()) it->second = FormatPath(path);
    }
    return Where{&step, {}};
  }

  using Paths = std::unordered_map<const Step*, std::string>;

  // The paths of the steps that `paths` has as keys, found by walking the
  // program again with a Validator that only looks for them (the walk is
  // deterministic, so it meets each step at the same path). Only for
  // reported problems; one walk for all the edges of a cycle.
  void FindPaths(Paths& paths) const {
    Validator locator(0);
    locator.locate_ = &paths;
    locator.Walk(*program_);
  }
  std::string PathOf(const Where& where) const {
    Paths paths{{where.step, ""}};
    FindPaths(paths);
    return paths[where.step] + std::string(where.field);
  }

  void Report(const Where& where, std::string message) {
    ++total_;
    if (problems_.size() < max_) {
      problems_.push_back(
          Problem{PathOf(where), where.step->line, where.step->column, std::move(message)});
    }
  }
  void Report(const Path& path, const Step& step, std::string message) {
    ++total_;
    if (problems_.size() < max_) {
      problems_.push_back(Problem{FormatPath(path), step.line, step.column, std::move(message)});
    }
  }

  void Declare(std::string_view name, Kind kind, const Path& name_path, const Step& step) {
    if (!IsIdentifier(name)) {
      Report(name_path, step,
             StrCat("the ", KindName(kind), " name \"", name,
                    "\" does not match [A-Za-z_][A-Za-z0-9_]*"));
      return;
    }
    if (name == kMain) {
      Report(name_path, step,
             StrCat("the name \"main\" is taken by the root task; this ", KindName(kind),
                    " needs another"));
      return;
    }
    auto [it, inserted] = decls_.emplace(name, kind);
    if (!inserted) {
      Report(name_path, step,
             StrCat("the name \"", name, "\" is already used by a ", KindName(it->second),
                    "; names are unique in a program"));
    }
  }

  void CheckDelay(const std::optional<Time>& d, const Path& path, const Step& step) {
    if (d && (*d < 0 || *d > kMaxDelay)) {
      Report(path, step, StrCat("delay ", *d, " is outside [0, ", kMaxDelay, "]"));
    }
  }

  // `depth`: nesting depth of this body's steps (main's: 1). `task_body`:
  // this is main's or a task's body, where a final `return` is allowed.
  [[gnu::noinline]] void WalkBody(const Body& body, const Path& path, int depth,
                                  bool task_body) {
    if (stop_) return;
    if (depth > kMaxNesting) return TooDeep(body, path);
    for (std::size_t i = 0; i < body.size() && !stop_; ++i) {
      const Path step_path = path.Index(i);
      const Step& step = body[i];
      if (++steps_ > kMaxSteps) return TooMany(step_path, step);
      if (std::holds_alternative<Return>(step.op) && !(task_body && i + 1 == body.size())) {
        MisplacedReturn(step_path, step, task_body);
      }
      WalkStep(step, step_path, depth);
    }
  }

  [[gnu::noinline]] void WalkTask(const TaskDef& task, const Path& path, const Step& step,
                                  int depth) {
    Declare(task.name, Kind::kTask, path.Field("name"), step);
    // A task's steps are its own: it encloses no timeout of its creator.
    std::string_view saved_task = std::exchange(task_, task.name);
    std::vector<std::string_view> saved_timeouts = std::exchange(timeouts_, {});
    WalkBody(task.body, path.Field("body"), depth + 1, /*task_body=*/true);
    task_ = saved_task;
    timeouts_ = std::move(saved_timeouts);
  }

  [[gnu::noinline]] void TooDeep(const Body& body, const Path& path) {
    static const Step kNone;
    Report(path, body.empty() ? kNone : body.front(),
           StrCat("bodies nested deeper than ", kMaxNesting, " (the limit)"));
    stop_ = true;
  }
  [[gnu::noinline]] void TooMany(const Path& path, const Step& step) {
    Report(path, step, StrCat("more than ", kMaxSteps, " steps (the limit)"));
    stop_ = true;
  }
  [[gnu::noinline]] void MisplacedReturn(const Path& path, const Step& step, bool task_body) {
    Report(path, step,
           task_body ? "return must be the last step of its task body"
                     : "return is only allowed as the last step of a task body, not inside a "
                       "group, timeout or try block");
  }

  void AddEdge(std::string_view to, std::string how, const Path& path, const Step& step) {
    edges_.push_back(Edge{task_, to, std::move(how), At(path, step)});
  }

  // One function per op, none inlined into WalkStep: the walk recurses once
  // per nesting level (WalkBody -> WalkStep -> WalkX -> WalkBody) up to
  // kMaxNesting levels, and inlined they made each level ~7 KB of stack
  // under AddressSanitizer.
  [[gnu::noinline]] void WalkStep(const Step& step, const Path& path, int depth) {
    std::visit([&](const auto& op) { Walk(op, step, path, depth); }, step.op);
  }

  void Walk(const Sleep& s, const Step& step, const Path& path, int) {
    CheckDelay(s.d, path.Field("d"), step);
  }
  void Walk(const Raise&, const Step&, const Path&, int) {}
  void Walk(const Return&, const Step&, const Path&, int) {}  // placement: WalkBody
  void Walk(const Uncancel&, const Step&, const Path&, int) {}
  [[gnu::noinline]] void Walk(const CreateTask& t, const Step& step, const Path& path, int depth) {
    WalkTask(t.task, path.Field("task"), step, depth);
  }
  [[gnu::noinline]] void Walk(const Group& g, const Step& step, const Path& path, int depth) {
    Declare(g.name, Kind::kGroup, path.Field("name"), step);
    group_owner_.emplace(g.name, task_);
    WalkBody(g.body, path.Field("body"), depth + 1, false);
  }
  [[gnu::noinline]] void Walk(const Spawn& s, const Step& step, const Path& path, int depth) {
    refs_.push_back(Ref{RefKind::kSpawn, s.group, task_, s.task.name, At(path, step)});
    WalkTask(s.task, path.Field("task"), step, depth);
  }
  [[gnu::noinline]] void Walk(const Gather& g, const Step& step, const Path& path, int depth) {
    Declare(g.name, Kind::kGather, path.Field("name"), step);
    const Path children = path.Field("children");
    for (std::size_t i = 0; i < g.children.size(); ++i) {
      AddEdge(g.children[i].name, StrCat("gathers (gather ", g.name, ")"), path, step);
      WalkTask(g.children[i], children.Index(i), step, depth);
    }
  }
  [[gnu::noinline]] void Walk(const Timeout& t, const Step& step, const Path& path, int depth) {
    Declare(t.name, Kind::kTimeout, path.Field("name"), step);
    CheckDelay(t.d, path.Field("d"), step);
    timeouts_.push_back(t.name);
    WalkBody(t.body, path.Field("body"), depth + 1, false);
    timeouts_.pop_back();
  }
  [[gnu::noinline]] void Walk(const Reschedule& r, const Step& step, const Path& path, int) {
    CheckDelay(r.d, path.Field("d"), step);
    if (std::find(timeouts_.begin(), timeouts_.end(), r.timeout) == timeouts_.end()) {
      Report(path.Field("timeout"), step,
             StrCat("reschedule of \"", r.timeout,
                    "\": it must be inside the body of that timeout, in the same task "
                    "(TO-5: tm.reschedule is called by the task that entered tm)"));
    }
  }
  [[gnu::noinline]] void Walk(const Shield& s, const Step& step, const Path& path, int depth) {
    Declare(s.name, Kind::kShield, path.Field("name"), step);
    AddEdge(s.task.name, StrCat("shields (shield ", s.name, ")"), path, step);
    WalkTask(s.task, path.Field("task"), step, depth);
  }
  [[gnu::noinline]] void Walk(const WaitFor& w, const Step& step, const Path& path, int depth) {
    Declare(w.name, Kind::kWaitFor, path.Field("name"), step);
    CheckDelay(w.d, path.Field("d"), step);
    AddEdge(w.task.name, StrCat("waits for (wait_for ", w.name, ")"), path, step);
    WalkTask(w.task, path.Field("task"), step, depth);
  }
  [[gnu::noinline]] void Walk(const Cancel& c, const Step& step, const Path& path, int) {
    refs_.push_back(Ref{RefKind::kCancel, c.target, task_, {}, At(path, step)});
  }
  [[gnu::noinline]] void Walk(const Await& a, const Step& step, const Path& path, int) {
    refs_.push_back(Ref{RefKind::kAwait, a.target, task_, {}, At(path, step)});
  }
  [[gnu::noinline]] void Walk(const Try& t, const Step& step, const Path& path, int depth) {
    WalkTry(t, step, path, depth);
  }

  void WalkTry(const Try& t, const Step& step, const Path& path, int depth) {
    Declare(t.name, Kind::kTry, path.Field("name"), step);
    WalkBody(t.body, path.Field("body"), depth + 1, false);
    const Path handlers = path.Field("handlers");
    for (std::size_t i = 0; i < t.handlers.size(); ++i) {
      const Handler& h = t.handlers[i];
      const Path hpath = handlers.Index(i);
      Declare(h.name, Kind::kHandler, hpath.Field("name"), step);
      if (h.star != t.handlers.front().star) {
        Report(hpath.Field("star"), step,
               StrCat("handler \"", h.name, "\" is ", h.star ? "except*" : "except",
                      " but the first handler of try \"", t.name, "\" is ",
                      t.handlers.front().star ? "except*" : "except",
                      "; a try's handlers are all except or all except* (EG-3)"));
      }
      if (h.star && h.kind == CatchKind::kGroup) {
        Report(hpath.Field("catch"), step,
               StrCat("handler \"", h.name,
                      "\": except* cannot catch group (Python refuses except* ExceptionGroup)"));
      }
      if (h.label && h.kind != CatchKind::kError && h.kind != CatchKind::kBase) {
        Report(hpath.Field("label"), step,
               StrCat("handler \"", h.name,
                      "\": a label is only allowed with catch kinds error and base"));
      }
      WalkBody(h.body, hpath.Field("body"), depth + 1, false);
    }
    if (t.finally) {
      const Path fpath = path.Field("finally");
      Declare(t.finally->name, Kind::kFinally, fpath.Field("name"), step);
      WalkBody(t.finally->body, fpath.Field("body"), depth + 1, false);
    }
  }

  // What `name` is, for a reference: "a task", "a group", ... or "nothing".
  const Kind* Lookup(std::string_view name) const {
    auto it = decls_.find(name);
    return it == decls_.end() ? nullptr : &it->second;
  }

  void ResolveReferences() {
    for (Ref& ref : refs_) {
      const bool is_main = ref.name == kMain;
      const Kind* kind = is_main ? nullptr : Lookup(ref.name);
      switch (ref.kind) {
        case RefKind::kSpawn:
          if (kind == nullptr || *kind != Kind::kGroup) {
            Report(Where{ref.where.step, ".group"},
                   kind == nullptr
                       ? StrCat("spawn into \"", ref.name, "\": no group of that name in the program")
                       : StrCat("spawn into \"", ref.name, "\": that is a ", KindName(*kind),
                                ", not a group"));
          } else {
            // The group's exit waits for every child (TG-1), whoever spawned it (TG-12).
            edges_.push_back(Edge{group_owner_.at(ref.name), ref.spawned,
                                  StrCat("waits at the exit of group ", ref.name, " for (TG-1)"),
                                  ref.where});
          }
          break;
        case RefKind::kCancel:
        case RefKind::kAwait: {
          const std::string_view verb = ref.kind == RefKind::kCancel ? "cancel" : "await";
          if (!is_main && (kind == nullptr || *kind != Kind::kTask)) {
            Report(Where{ref.where.step, ".target"},
                   kind == nullptr
                       ? StrCat(verb, " \"", ref.name, "\": no task of that name in the program")
                       : StrCat(verb, " \"", ref.name, "\": that is a ", KindName(*kind),
                                ", not a task"));
          } else if (ref.kind == RefKind::kAwait) {
            edges_.push_back(Edge{ref.task, ref.name, "awaits", std::move(ref.where)});
          }
          break;
        }
      }
    }
  }

  // Every cycle of the waits-for graph closed by a DFS back edge is reported
  // once, at the step of that edge, listing the whole cycle.
  void FindCycles() {
    std::unordered_map<std::string_view, std::vector<std::size_t>> out;
    std::vector<std::string_view> nodes;  // in first-seen order, for determinism
    for (std::size_t i = 0; i < edges_.size(); ++i) {
      auto [it, inserted] = out.try_emplace(edges_[i].from);
      if (inserted) nodes.push_back(edges_[i].from);
      it->second.push_back(i);
    }
    enum class Color { kWhite, kGrey, kBlack };
    std::unordered_map<std::string_view, Color> color;
    struct Frame {
      std::string_view node;
      std::size_t next = 0;  // index into out[node]
      std::size_t via;       // edge that led here (unused for the root)
    };
    for (std::string_view root : nodes) {
      if (color[root] != Color::kWhite) continue;
      std::vector<Frame> stack{{root, 0, 0}};
      color[root] = Color::kGrey;
      while (!stack.empty()) {
        Frame& f = stack.back();
        auto it = out.find(f.node);
        if (it == out.end() || f.next == it->second.size()) {
          color[f.node] = Color::kBlack;
          stack.pop_back();
          continue;
        }
        const std::size_t e = it->second[f.next++];
        const std::string_view to = edges_[e].to;
        Color& c = color[to];
        if (c == Color::kWhite) {
          c = Color::kGrey;
          stack.push_back(Frame{to, 0, e});
        } else if (c == Color::kGrey) {
          ReportCycle(stack, e);
        }
      }
    }
  }

  template <typename Stack>
  void ReportCycle(const Stack& stack, std::size_t closing) {
    const Edge& last = edges_[closing];
    if (last.from == last.to) {
      Report(last.where, StrCat("task \"", last.from, "\" ", last.how,
                                " itself: it can never finish (deadlock by construction)"));
      return;
    }
    // The cycle is the stack from the frame of `last.to` up, then `closing`.
    std::size_t start = stack.size();
    while (start > 0 && stack[start - 1].node != last.to) --start;
    Paths paths;
    for (std::size_t k = start; k < stack.size(); ++k) paths.emplace(edges_[stack[k].via].where.step, "");
    FindPaths(paths);
    std::string text;
    for (std::size_t k = start; k < stack.size(); ++k) {  // stack[start-1] is last.to
      const Edge& e = edges_[stack[k].via];
      text += StrCat(e.from, " ", e.how, " ", e.to, " (", paths[e.where.step], e.where.field, "), ");
    }
    text += StrCat(last.from, " ", last.how, " ", last.to);
    Report(last.where, StrCat("await cycle, deadlock by construction: ", text));
  }

  const std::size_t max_;
  const Program* program_ = nullptr;
  // A locator (FindPaths) walks looking for these steps, and stores their paths.
  Paths* locate_ = nullptr;
  std::vector<Problem> problems_;
  std::size_t total_ = 0;
  bool stop_ = false;
  std::size_t steps_ = 0;

  std::string_view task_;                    // the task whose steps are being walked
  std::vector<std::string_view> timeouts_;   // timeouts enclosing the step, in task_
  std::unordered_map<std::string_view, Kind> decls_;
  std::unordered_map<std::string_view, std::string_view> group_owner_;  // group -> its task
  std::vector<Ref> refs_;
  std::vector<Edge> edges_;
};

}  // namespace

std::string Problem::ToString() const {
  std::string out;
  if (line > 0) out = StrCat(line, ":", column, ": ");
  out += StrCat(path, ": ", message);
  return out;
}

std::vector<Problem> FindProblems(const Program& program, std::size_t max_problems) {
  Validator v(max_problems);
  v.Run(program);
  return std::move(v.problems());
}

absl::Status Validate(const Program& program) {
  Validator v(1);
  v.Run(program);
  if (v.total() == 0) return absl::OkStatus();
  std::string message = v.problems().front().ToString();
  if (v.total() > 1) message += StrCat(" (and ", v.total() - 1, " more problems)");
  return absl::InvalidArgumentError(message);
}

}  // namespace asyncspec::spec
