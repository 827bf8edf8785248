#include "conformance/capabilities.h"

#include <algorithm>
#include <variant>

#include "spec/program_gen.h"

namespace asyncspec::conformance {
namespace {

// The `op` names of spec/FORMAT.md, in the order of spec::Step::Op.
constexpr const char* kOpNames[] = {"sleep",   "raise",      "return",   "task",   "group",
                                    "spawn",   "gather",     "timeout",  "reschedule", "shield",
                                    "wait_for", "cancel",    "await",    "uncancel", "try"};
static_assert(std::size(kOpNames) == std::variant_size_v<spec::Step::Op>);

void UsedIn(const spec::Body& body, Capabilities& out);

void UsedIn(const spec::TaskDef& t, Capabilities& out) { UsedIn(t.body, out); }

void UsedIn(const spec::Body& body, Capabilities& out) {
  for (const spec::Step& s : body) {
    out.insert(kOpNames[s.op.index()]);
    std::visit(
        [&](const auto& op) {
          using T = std::decay_t<decltype(op)>;
          if constexpr (std::is_same_v<T, spec::Raise>) {
            if (op.base) out.insert("base");
          } else if constexpr (std::is_same_v<T, spec::CreateTask> || std::is_same_v<T, spec::Spawn> ||
                               std::is_same_v<T, spec::Shield> || std::is_same_v<T, spec::WaitFor>) {
            UsedIn(op.task, out);
          } else if constexpr (std::is_same_v<T, spec::Group> || std::is_same_v<T, spec::Timeout>) {
            UsedIn(op.body, out);
          } else if constexpr (std::is_same_v<T, spec::Gather>) {
            for (const spec::TaskDef& c : op.children) UsedIn(c, out);
          } else if constexpr (std::is_same_v<T, spec::Try>) {
            UsedIn(op.body, out);
            for (const spec::Handler& h : op.handlers) {
              if (h.star) out.insert("except_star");
              if (h.kind == spec::CatchKind::kGroup) out.insert("catch_group");
              // `then uncancel` calls current_task().uncancel() (ADAPTERS.md).
              if (h.then == spec::Then::kUncancel) out.insert("uncancel");
              UsedIn(h.body, out);
            }
            if (op.finally) UsedIn(op.finally->body, out);
          }
        },
        s.op);
  }
}

// Removes the features `declared` lacks from a raw tree (before MakeValid):
// star handlers become plain, `catch group` becomes `catch exception`, base
// raises ordinary ones, and a task's final return goes.
void Strip(spec::Body& body, const Capabilities& declared);
void Strip(spec::TaskDef& t, const Capabilities& declared) {
  Strip(t.body, declared);
  if (!declared.count("return") && !t.body.empty() && std::holds_alternative<spec::Return>(t.body.back().op)) {
    t.body.pop_back();
  }
}
void Strip(spec::Body& body, const Capabilities& declared) {
  for (spec::Step& s : body) {
    std::visit(
        [&](auto& op) {
          using T = std::decay_t<decltype(op)>;
          if constexpr (std::is_same_v<T, spec::Raise>) {
            if (!declared.count("base")) op.base = false;
          } else if constexpr (std::is_same_v<T, spec::CreateTask> || std::is_same_v<T, spec::Spawn> ||
                               std::is_same_v<T, spec::Shield> || std::is_same_v<T, spec::WaitFor>) {
            Strip(op.task, declared);
          } else if constexpr (std::is_same_v<T, spec::Group> || std::is_same_v<T, spec::Timeout>) {
            Strip(op.body, declared);
          } else if constexpr (std::is_same_v<T, spec::Gather>) {
            for (spec::TaskDef& c : op.children) Strip(c, declared);
          } else if constexpr (std::is_same_v<T, spec::Try>) {
            Strip(op.body, declared);
            for (spec::Handler& h : op.handlers) {
              if (!declared.count("except_star")) h.star = false;
              if (!declared.count("catch_group") && h.kind == spec::CatchKind::kGroup) {
                h.kind = spec::CatchKind::kException;
              }
              if (!declared.count("uncancel") && h.then == spec::Then::kUncancel) h.then = spec::Then::kSwallow;
              Strip(h.body, declared);
            }
            if (op.finally) Strip(op.finally->body, declared);
          }
        },
        s.op);
  }
}

std::uint64_t SplitMix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

}  // namespace

const Capabilities& AllCapabilities() {
  static const Capabilities* all = [] {
    auto* c = new Capabilities(std::begin(kOpNames), std::end(kOpNames));
    c->insert({"except_star", "catch_group", "base"});
    return c;
  }();
  return *all;
}

Capabilities UsedCapabilities(const spec::Program& program) {
  Capabilities out;
  UsedIn(program.main, out);
  return out;
}

Capabilities Missing(const spec::Program& program, const std::optional<Capabilities>& declared) {
  Capabilities out;
  if (!declared) return out;
  // A runtime that declares every capability (the reference runtime) misses
  // nothing: no need to walk the program (once per program checked).
  if (std::includes(declared->begin(), declared->end(), AllCapabilities().begin(), AllCapabilities().end())) {
    return out;
  }
  for (const std::string& c : UsedCapabilities(program)) {
    if (!declared->count(c)) out.insert(c);
  }
  return out;
}

std::uint64_t TreeSeed(std::uint64_t run_seed, int index) {
  return SplitMix64(run_seed * 0x100000001b3ull + static_cast<std::uint64_t>(index));
}

std::uint64_t ScheduleSeed(int k) { return SplitMix64(0x5c4ed01e5eedull + static_cast<std::uint64_t>(k)) | 1; }

spec::Program TreeProgram(std::uint64_t tree_seed, const std::optional<Capabilities>& declared,
                          const std::string& ties) {
  const spec::gen::GenOptions base = ties == "free"    ? spec::gen::GenOptions::TieFree()
                                     : ties == "heavy" ? spec::gen::GenOptions::TieHeavy()
                                                       : spec::gen::GenOptions();
  // Sizes 10..100 so that small and large trees both occur; the size is a
  // function of the seed, so a tree seed alone replays the program.
  const int size = 10 + static_cast<int>(SplitMix64(tree_seed) % 91);
  rc::Random random(tree_seed);
  bool full = !declared;
  if (declared) {
    full = true;
    for (const std::string& c : AllCapabilities()) full &= declared->count(c) > 0;
  }
  if (full) {
    // The generators are built once per tie mode and kept: building them is
    // most of the cost of drawing a program (spec::gen::detail::Memo).
    static const rc::Gen<spec::Program> kAny = spec::gen::ValidProgram(spec::gen::GenOptions());
    static const rc::Gen<spec::Program> kFree = spec::gen::ValidProgram(spec::gen::GenOptions::TieFree());
    static const rc::Gen<spec::Program> kHeavy = spec::gen::ValidProgram(spec::gen::GenOptions::TieHeavy());
    const rc::Gen<spec::Program>& gen = ties == "free" ? kFree : ties == "heavy" ? kHeavy : kAny;
    return gen(random, size).value();
  }

  spec::gen::GenOptions o = base;
  auto& w = o.weights;
  auto keep = [&](const char* op, int& weight) {
    if (!declared->count(op)) weight = 0;
  };
  keep("sleep", w.sleep), keep("raise", w.raise), keep("task", w.task), keep("group", w.group);
  keep("spawn", w.spawn), keep("gather", w.gather), keep("timeout", w.timeout);
  keep("reschedule", w.reschedule), keep("shield", w.shield), keep("wait_for", w.wait_for);
  keep("cancel", w.cancel), keep("await", w.await), keep("uncancel", w.uncancel), keep("try", w.try_);
  // The generator's composite shapes bring ops of their own (spec/program_gen.h);
  // an undeclared one would make most trees redraws, and redraws favour tiny trees.
  for (const char* op : {"sleep", "raise", "group", "spawn", "try", "timeout", "wait_for"}) keep(op, w.after_group);
  for (const char* op :
       {"sleep", "raise", "group", "spawn", "shield", "gather", "wait_for", "timeout", "try", "cancel"}) {
    keep(op, w.under_cancel);
  }
  for (const char* op : {"sleep", "try", "cancel", "uncancel"}) keep(op, w.self_uncancel);
  keep("sleep", o.shapes.guarded_task), keep("try", o.shapes.guarded_task), keep("spawn", o.shapes.own_children);
  keep("task", o.shapes.base_at_main_end), keep("base", o.shapes.base_at_main_end);
  keep("sleep", o.shapes.base_at_main_end);
  for (const char* op : {"task", "try", "raise", "base", "sleep"}) keep(op, o.shapes.drain_error_at_main_end);
  // A body at the deepest level can hold only leaf ops; with none declared
  // the generator has nothing to choose from: generate unrestricted and let
  // the caller count the programs n/a.
  if (w.sleep + w.raise + w.reschedule + w.cancel + w.await + w.uncancel == 0) {
    return spec::gen::ValidProgram(base)(random, size).value();
  }
  const Capabilities caps = *declared;
  // As ValidProgram does: tie-free mode (RULES.md "Freedom under ties")
  // needs distinct delays here too, after Strip and MakeValid.
  const bool distinct = o.ties == spec::gen::GenOptions::Ties::kAvoid;
  auto gen = rc::gen::map(spec::gen::RawProgram(o), [caps, distinct](spec::Program p) {
    Strip(p.main, caps);
    spec::gen::MakeValid(p);
    if (distinct) spec::gen::DistinctDelays(p);
    return p;
  });
  // MakeValid may still bring in an undeclared op (a spawn with no group to
  // go to becomes a task); draw again from seeds derived from this one, a
  // few times, so that the tree seed alone still replays the program.
  spec::Program p = gen(random, size).value();
  for (std::uint64_t attempt = 1; attempt < 8 && !Missing(p, caps).empty(); ++attempt) {
    rc::Random again(SplitMix64(tree_seed ^ (attempt * 0x9e3779b97f4a7c15ull)));
    p = gen(again, size).value();
  }
  return p;
}

}  // namespace asyncspec::conformance
