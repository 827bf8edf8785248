#include "conformance/shrink.h"

#include <optional>
#include <vector>

#include "spec/program_gen.h"
#include "spec/validate.h"

namespace asyncspec::conformance {
namespace {

using spec::Body;
using spec::Program;
using spec::Step;

// Visits every body of the program in pre-order (main first).
template <typename F>
void ForEachBody(Body& body, F& f) {
  f(body);
  for (Step& s : body) {
    std::visit(
        [&](auto& op) {
          using T = std::decay_t<decltype(op)>;
          if constexpr (std::is_same_v<T, spec::CreateTask> || std::is_same_v<T, spec::Spawn> ||
                        std::is_same_v<T, spec::Shield> || std::is_same_v<T, spec::WaitFor>) {
            ForEachBody(op.task.body, f);
          } else if constexpr (std::is_same_v<T, spec::Group> || std::is_same_v<T, spec::Timeout>) {
            ForEachBody(op.body, f);
          } else if constexpr (std::is_same_v<T, spec::Gather>) {
            for (auto& c : op.children) ForEachBody(c.body, f);
          } else if constexpr (std::is_same_v<T, spec::Try>) {
            ForEachBody(op.body, f);
            for (auto& h : op.handlers) ForEachBody(h.body, f);
            if (op.finally) ForEachBody(op.finally->body, f);
          }
        },
        s.op);
  }
}

template <typename F>
void ForEachBody(Program& p, F f) {
  ForEachBody(p.main, f);
}

// The n-th body (pre-order) of p, or nullptr.
Body* NthBody(Program& p, int n) {
  Body* found = nullptr;
  int i = 0;
  ForEachBody(p, [&](Body& b) {
    if (i++ == n) found = &b;
  });
  return found;
}

int CountBodies(Program& p) {
  int n = 0;
  ForEachBody(p, [&](Body&) { ++n; });
  return n;
}

// One edit: applied to a copy, returns false if it does not apply.
using Edit = std::function<bool(Program&)>;

std::vector<Edit> Edits(const Program& original) {
  Program p = original;
  std::vector<Edit> edits;
  const int bodies = CountBodies(p);
  // (1) remove a step; (2) hoist a compound step's body. Outer bodies first,
  // so big subtrees go first.
  for (int b = 0; b < bodies; ++b) {
    const std::size_t n = NthBody(p, b)->size();
    for (std::size_t i = 0; i < n; ++i) {
      edits.push_back([b, i](Program& q) {
        Body* body = NthBody(q, b);
        if (!body || i >= body->size()) return false;
        body->erase(body->begin() + static_cast<long>(i));
        return true;
      });
    }
  }
  for (int b = 0; b < bodies; ++b) {
    const std::size_t n = NthBody(p, b)->size();
    for (std::size_t i = 0; i < n; ++i) {
      edits.push_back([b, i](Program& q) {
        Body* body = NthBody(q, b);
        if (!body || i >= body->size()) return false;
        Body inner;
        bool ok = std::visit(
            [&](auto& op) {
              using T = std::decay_t<decltype(op)>;
              if constexpr (std::is_same_v<T, spec::Group> || std::is_same_v<T, spec::Timeout> ||
                            std::is_same_v<T, spec::Try>) {
                inner = op.body;
                return true;
              } else if constexpr (std::is_same_v<T, spec::CreateTask> ||
                                   std::is_same_v<T, spec::Spawn> ||
                                   std::is_same_v<T, spec::Shield> ||
                                   std::is_same_v<T, spec::WaitFor>) {
                inner = op.task.body;
                if (!inner.empty() && std::holds_alternative<spec::Return>(inner.back().op)) {
                  inner.pop_back();
                }
                return true;
              }
              return false;
            },
            (*body)[i].op);
        if (!ok) return false;
        body->erase(body->begin() + static_cast<long>(i));
        body->insert(body->begin() + static_cast<long>(i), inner.begin(), inner.end());
        return true;
      });
    }
  }
  // (3)-(5) per step: parts of compound steps, delays, strings.
  for (int b = 0; b < bodies; ++b) {
    const std::size_t n = NthBody(p, b)->size();
    for (std::size_t i = 0; i < n; ++i) {
      for (int variant = 0; variant < 8; ++variant) {
        edits.push_back([b, i, variant](Program& q) {
          Body* body = NthBody(q, b);
          if (!body || i >= body->size()) return false;
          auto shorten = [&](spec::Time& d) {
            if (variant == 0 && d > 0) { d = 0; return true; }
            if (variant == 1 && d > 1) { d /= 2; return true; }
            return false;
          };
          auto shorten_opt = [&](std::optional<spec::Time>& d) {
            if (variant == 2 && d) { d.reset(); return true; }
            return d ? shorten(*d) : false;
          };
          return std::visit(
              [&](auto& op) -> bool {
                using T = std::decay_t<decltype(op)>;
                if constexpr (std::is_same_v<T, spec::Sleep>) {
                  return shorten(op.d);
                } else if constexpr (std::is_same_v<T, spec::Timeout> ||
                                     std::is_same_v<T, spec::Reschedule> ||
                                     std::is_same_v<T, spec::WaitFor>) {
                  return shorten_opt(op.d);
                } else if constexpr (std::is_same_v<T, spec::Cancel>) {
                  if (variant == 0 && op.msg) { op.msg.reset(); return true; }
                  return false;
                } else if constexpr (std::is_same_v<T, spec::Gather>) {
                  if (static_cast<std::size_t>(variant) < op.children.size()) {
                    op.children.erase(op.children.begin() + variant);
                    return true;
                  }
                  return false;
                } else if constexpr (std::is_same_v<T, spec::Try>) {
                  if (variant == 7 && op.finally) { op.finally.reset(); return true; }
                  if (static_cast<std::size_t>(variant) < op.handlers.size()) {
                    op.handlers.erase(op.handlers.begin() + variant);
                    return true;
                  }
                  return false;
                } else if constexpr (std::is_same_v<T, spec::Raise>) {
                  if (variant == 0 && op.base) { op.base = false; return true; }
                  if (variant == 1 && op.label.size() > 2) { op.label = "E"; return true; }
                  return false;
                }
                return false;
              },
              (*body)[i].op);
        });
      }
    }
  }
  return edits;
}

std::size_t Count(const Body& b) {
  std::size_t n = 0;
  Program tmp;
  tmp.main = b;
  ForEachBody(tmp, [&](Body& x) { n += x.size(); });
  return n;
}

}  // namespace

std::size_t CountSteps(const Program& program) { return Count(program.main); }

Program Shrink(Program program, const std::function<bool(const Program&)>& still_fails,
               int max_attempts, ShrinkStats* stats) {
  ShrinkStats local;
  ShrinkStats& st = stats ? *stats : local;
  bool progress = true;
  if (!program.name.empty()) {
    Program unnamed = program;
    unnamed.name.clear();
    ++st.attempts;
    if (still_fails(unnamed)) program = std::move(unnamed);
  }
  while (progress && st.attempts < max_attempts) {
    progress = false;
    for (const Edit& edit : Edits(program)) {
      if (st.attempts >= max_attempts) break;
      Program candidate = program;
      if (!edit(candidate)) continue;
      spec::gen::MakeValid(candidate);
      if (candidate == program || !spec::Validate(candidate).ok()) continue;
      ++st.attempts;
      if (still_fails(candidate)) {
        program = std::move(candidate);
        ++st.accepted;
        progress = true;
        break;
      }
    }
  }
  return program;
}

}  // namespace asyncspec::conformance
