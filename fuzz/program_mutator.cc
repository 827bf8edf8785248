// The mutations of program_mutator.h. Bodies are collected with their
// nesting so that a new step is drawn at the depth it lands at (StepGen only
// draws compound steps above GenOptions::max_depth), which keeps programs
// small and shallow like the conformance check's.
#include "fuzz/program_mutator.h"

#include <algorithm>
#include <functional>
#include <optional>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

#include "rapidcheck.h"
#include "spec/json.h"
#include "spec/program_gen.h"
#include "spec/validate.h"

namespace asyncspec::fuzz {
namespace {

struct Place {
  spec::Body* body;
  int depth;  // of its steps; main's are 0
};

class Bodies {
 public:
  explicit Bodies(spec::Program& p) { Body(p.main, 0); }
  std::vector<Place> all;
  std::size_t steps = 0;

 private:
  void Task(spec::TaskDef& t, int depth) { Body(t.body, depth); }
  void Body(spec::Body& body, int depth) {
    all.push_back({&body, depth});
    steps += body.size();
    const int next = depth + 1;
    for (spec::Step& step : body) {
      std::visit(
          [&](auto& op) {
            using T = std::decay_t<decltype(op)>;
            if constexpr (std::is_same_v<T, spec::CreateTask> || std::is_same_v<T, spec::Spawn> ||
                          std::is_same_v<T, spec::Shield> || std::is_same_v<T, spec::WaitFor>) {
              Task(op.task, next);
            } else if constexpr (std::is_same_v<T, spec::Gather>) {
              for (spec::TaskDef& c : op.children) Task(c, next);
            } else if constexpr (std::is_same_v<T, spec::Group> || std::is_same_v<T, spec::Timeout>) {
              Body(op.body, next);
            } else if constexpr (std::is_same_v<T, spec::Try>) {
              Body(op.body, next);
              for (spec::Handler& h : op.handlers) Body(h.body, next);
              if (op.finally) Body(op.finally->body, next);
            }
          },
          step.op);
    }
  }
};

spec::gen::GenOptions Options() {
  spec::gen::GenOptions o;
  o.max_depth = 2;
  o.max_body = 3;
  o.max_children = 2;
  o.max_handlers = 2;
  return o;
}

// The step generator of each depth, built once: building one makes its
// whole tree of RapidCheck generators, each gen::detail::Memo with a
// std::once_flag, and glibc's pthread_once makes a futex system call the
// first time each flag is used: built per new step, they made 87,000 of the
// 106,000 system calls of a 50,000-run fuzzing run. A generator's values depend
// only on the options and the Random, so the mutants are the same.
const std::vector<rc::Gen<spec::Step>>& StepGens() {
  static const std::vector<rc::Gen<spec::Step>>* gens = [] {
    auto* v = new std::vector<rc::Gen<spec::Step>>();  // never destroyed: used until exit
    const spec::gen::GenOptions o = Options();
    for (int depth = 0; depth <= o.max_depth; ++depth) v->push_back(spec::gen::detail::StepGen(o, depth));
    return v;
  }();
  return *gens;
}

class Mutator {
 public:
  explicit Mutator(unsigned int seed) : rng_(seed) {}

  int Below(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }

  spec::Step NewStep(int depth) {
    return StepGens()[static_cast<std::size_t>(std::min(depth, Options().max_depth))](
               rc::Random(rng_()), Below(rc::kNominalSize + 1))
        .value();
  }

  spec::Program NewProgram() {
    static const auto* gen = new rc::Gen<spec::Program>(spec::gen::RawProgram(Options()));  // as StepGens
    spec::Program p = (*gen)(rc::Random(rng_()), Below(40) + 1).value();
    spec::gen::MakeValid(p);
    return p;
  }

  // One structural change of `p` (which may leave it invalid until MakeValid).
  void Mutate(spec::Program& p) {
    Bodies b(p);
    Place at = b.all[static_cast<std::size_t>(Below(static_cast<int>(b.all.size())))];
    spec::Body& body = *at.body;
    const int n = static_cast<int>(body.size());
    switch (n == 0 ? 1 : Below(6)) {
      case 0:  // replace a step
        body[static_cast<std::size_t>(Below(n))] = NewStep(at.depth);
        break;
      case 1:  // insert a step
        body.insert(body.begin() + Below(n + 1), NewStep(at.depth));
        break;
      case 2:  // remove a step (references to what it declared get resolved anew)
        body.erase(body.begin() + Below(n));
        break;
      case 3: {  // duplicate a step (MakeValid renames the copy's declarations)
        spec::Step copy = body[static_cast<std::size_t>(Below(n))];
        body.insert(body.begin() + Below(n + 1), std::move(copy));
        break;
      }
      case 4:  // move a step within its body
        std::swap(body[static_cast<std::size_t>(Below(n))], body[static_cast<std::size_t>(Below(n))]);
        break;
      default:  // a step of the same kind, newly drawn, until the kind matches (or give up)
        for (int tries = 0; tries < 8; ++tries) {
          spec::Step s = NewStep(at.depth);
          spec::Step& old = body[static_cast<std::size_t>(Below(n))];
          if (s.op.index() == old.op.index()) {
            old = std::move(s);
            break;
          }
        }
        break;
    }
  }

  // Removes one step (and what it nests) from a non-empty body of `p`, if
  // any: the retry of a mutant that came out too big.
  void RemoveStep(spec::Program& p) {
    std::vector<spec::Body*> bodies;
    for (const Place& at : Bodies(p).all) {
      if (!at.body->empty()) bodies.push_back(at.body);
    }
    if (bodies.empty()) return;
    spec::Body& body = *bodies[static_cast<std::size_t>(Below(static_cast<int>(bodies.size())))];
    body.erase(body.begin() + Below(static_cast<int>(body.size())));
  }

  std::mt19937_64& rng() { return rng_; }

 private:
  std::mt19937_64 rng_;
};

// The valid program of at most kMaxFuzzSteps steps that `data` holds, or
// null; valid until the next call (ReadValidProgram).
const spec::Program* Read(const std::uint8_t* data, std::size_t size) {
  const spec::Program* p = ReadValidProgram(data, size);
  return p == nullptr || CountSteps(*p) > kMaxFuzzSteps ? nullptr : p;
}

// Bytes -> the program they hold (null: not a valid program), in two maps
// because libFuzzer uses its inputs in two ways:
//   - a mutant is run next (and mutated again: -mutate_depth), then almost
//     always dropped (a run of 40,000 inputs from the seeds keeps ~2,400);
//     the few kept as corpus units are soon picked for mutation (libFuzzer
//     favours its newest units). Mutants go into `young_`, dropped all at
//     once when it is full (16,384 mutants, ~65 MB at -max_len=1024);
//   - corpus units are mutated again and again over the whole run: one the
//     mutator or the target reads that neither map holds is read from JSON
//     into `old_`, and stays.
// Before this split every mutant went into one map, cleared every 4,096
// mutants, and each clear made every corpus unit be read from JSON anew:
// ProgramFromJson and Validate were ~7% of a fuzz-fast run (in that build a
// read costs more instructions than running the program on the model and
// the reference together).
// Both maps are bounded, so memory stays bounded over a long run (a
// 30-minute run keeps ~1,500 corpus units).
class ProgramCache {
 public:
  const spec::Program* Get(std::string_view bytes) {
    if (auto it = young_.find(bytes); it != young_.end()) return &it->second;
    if (auto it = old_.find(bytes); it != old_.end()) return it->second ? &*it->second : nullptr;
    if (old_.size() >= kOldCapacity) old_.clear();
    std::optional<spec::Program> value;
    if (auto p = spec::ProgramFromJson(bytes); p.ok() && spec::Validate(*p).ok()) value = std::move(*p);
    auto [it, inserted] = old_.emplace(std::string(bytes), std::move(value));
    return it->second ? &*it->second : nullptr;
  }
  // A mutant. Precondition: `p` is valid and `bytes` is its JSON form.
  void PutMutant(std::string bytes, spec::Program p) {
    if (young_.size() >= kYoungCapacity) young_.clear();
    young_.insert_or_assign(std::move(bytes), std::move(p));
  }

 private:
  static constexpr std::size_t kYoungCapacity = 1 << 14;
  static constexpr std::size_t kOldCapacity = 1 << 14;
  struct Hash : std::hash<std::string_view> {
    using is_transparent = void;
  };
  template <typename V>
  using Map = std::unordered_map<std::string, V, Hash, std::equal_to<>>;
  Map<spec::Program> young_;
  Map<std::optional<spec::Program>> old_;
};

ProgramCache& Cache() {
  static ProgramCache* cache = new ProgramCache();  // never destroyed: used until exit
  return *cache;
}

// Makes every timer's delay a distinct power of two, keeping their order
// (ties broken in tree order): no two timers can then fall due at the same
// instant, since every instant is a sum of distinct delays, each fired once
// (the argument of the ties branch's TieFree generator mode). Timers with
// equal deadlines fire in heapq order in CPython and the model, a freedom a
// runtime may use (RULES.md "Freedom under ties", item 3, SCHED-2), so the
// differential target would otherwise report the reference's FIFO tie order
// as a bug. `sleep 0` sets no timer and stays.
void MakeTieFree(spec::Program& p) {
  std::vector<spec::Time*> delays;
  for (const Place& at : Bodies(p).all) {
    for (spec::Step& step : *at.body) {
      if (auto* s = std::get_if<spec::Sleep>(&step.op); s && s->d > 0) delays.push_back(&s->d);
      if (auto* t = std::get_if<spec::Timeout>(&step.op); t && t->d) delays.push_back(&*t->d);
      if (auto* r = std::get_if<spec::Reschedule>(&step.op); r && r->d) delays.push_back(&*r->d);
      if (auto* w = std::get_if<spec::WaitFor>(&step.op); w && w->d) delays.push_back(&*w->d);
    }
  }
  std::stable_sort(delays.begin(), delays.end(), [](const spec::Time* a, const spec::Time* b) { return *a < *b; });
  for (std::size_t i = 0; i < delays.size(); ++i) *delays[i] = spec::Time{1} << i;
}

// MakeValid, check, and write `p` if it fits; else 0. Consumes `p` (moved
// into the cache) when it returns > 0.
std::size_t Finish(spec::Program& p, std::uint8_t* out, std::size_t max_size) {
  spec::gen::MakeValid(p);
  if (CountSteps(p) > kMaxFuzzSteps) return 0;
  MakeTieFree(p);
  std::string json = spec::ProgramToJson(p);
  if (json.size() > max_size) return 0;
  // After the size check: a quarter of the mutants at -max_len=1024 do not
  // fit, and Validate cost more than writing the JSON.
  if (absl::Status s = spec::Validate(p); !s.ok()) {
    std::fprintf(stderr, "MakeValid left the program invalid: %s\n%s\n", std::string(s.message()).c_str(),
                 json.c_str());
    std::abort();
  }
  std::memcpy(out, json.data(), json.size());
  const std::size_t n = json.size();
  Cache().PutMutant(std::move(json), std::move(p));  // the target runs it next
  return n;
}

}  // namespace

const spec::Program* ReadValidProgram(const std::uint8_t* data, std::size_t size) {
  return Cache().Get(std::string_view(reinterpret_cast<const char*>(data), size));
}

std::size_t CountSteps(const spec::Program& program) {
  return Bodies(const_cast<spec::Program&>(program)).steps;
}

std::size_t MutateProgram(std::uint8_t* data, std::size_t size, std::size_t max_size,
                          unsigned int seed) {
  Mutator m(seed);
  // `in` stays valid through the attempts: only a Finish that succeeds
  // changes the cache, and then we return.
  const spec::Program* in = Read(data, size);
  for (int attempt = 0; attempt < 4; ++attempt) {
    spec::Program p = in ? *in : m.NewProgram();
    if (attempt > 0 && in) {
      // The last attempt did not fit (kMaxFuzzSteps or max_size; a fifth of
      // the mutants at -max_len=1024, since the corpus grows up to it):
      // shrink instead of drawing again what most likely does not fit
      // either. (Each failed attempt costs a MakeValid and a ProgramToJson.)
      m.RemoveStep(p);
    } else {
      // Mostly one change, sometimes a few (libFuzzer stacks mutations only
      // through the corpus).
      const int changes = 1 + (m.Below(4) == 0 ? m.Below(4) : 0);
      for (int i = 0; i < changes; ++i) m.Mutate(p);
    }
    if (std::size_t n = Finish(p, data, max_size); n > 0) return n;
  }
  if (in) return size;  // nothing fitted: keep the input
  spec::Program empty;
  return Finish(empty, data, max_size);
}

std::size_t CrossOverPrograms(const std::uint8_t* data1, std::size_t size1,
                              const std::uint8_t* data2, std::size_t size2, std::uint8_t* out,
                              std::size_t max_out_size, unsigned int seed) {
  Mutator m(seed);
  // Program 2 is only read from: its step is copied out before program 1 is
  // read (which may clear the cache) and copied.
  const spec::Program* p2 = Read(data2, size2);
  if (p2 == nullptr) return 0;
  std::vector<const spec::Step*> steps;
  for (const Place& pl : Bodies(const_cast<spec::Program&>(*p2)).all) {
    for (const spec::Step& s : *pl.body) steps.push_back(&s);
  }
  if (steps.empty()) return 0;
  spec::Step step = *steps[static_cast<std::size_t>(m.Below(static_cast<int>(steps.size())))];
  const spec::Program* in1 = Read(data1, size1);
  if (in1 == nullptr) return 0;
  spec::Program p1 = *in1;
  Bodies into(p1);
  spec::Body& body = *into.all[static_cast<std::size_t>(m.Below(static_cast<int>(into.all.size())))].body;
  body.insert(body.begin() + m.Below(static_cast<int>(body.size()) + 1), std::move(step));
  return Finish(p1, out, max_out_size);
}

}  // namespace asyncspec::fuzz
