#include "conformance/program_index.h"

#include <type_traits>
#include <variant>

namespace asyncspec::conformance {
namespace {

using spec::Program;
using spec::Step;
using Kind = ProgramIndex::Kind;

// ---------------------------------------------------------------------------
// Index

struct Indexer {
  ProgramIndex& ix;
  std::string task = "main";  // whose body is being indexed

  void Add(const std::string& name, Kind kind, const std::string& owner, int depth,
           const Step* step, const spec::Handler* h = nullptr) {
    ix.names[name] = ProgramIndex::Entry{kind, owner, depth, step, h, task};
  }

  // A task's own entry names itself; its body is indexed as that task's.
  void Task(const std::string& name, Kind kind, const std::string& owner, int depth, const Step* step,
            const spec::Body& body, int body_depth) {
    Add(name, kind, owner, depth, step);
    ix.names[name].task = name;
    const std::string outer = task;
    task = name;
    Body(body, body_depth);
    task = outer;
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
            Task(op.task.name, Kind::kFreeTask, "", depth, &s, op.task.body, depth + 1);
          } else if constexpr (std::is_same_v<T, spec::Group>) {
            Add(op.name, Kind::kGroup, "", depth, &s);
            Body(op.body, depth + 1);
          } else if constexpr (std::is_same_v<T, spec::Spawn>) {
            ix.has_spawn = true;
            ix.group_children[op.group].push_back(op.task.name);
            Task(op.task.name, Kind::kGroupChild, op.group, depth, &s, op.task.body, depth + 1);
          } else if constexpr (std::is_same_v<T, spec::Gather>) {
            Add(op.name, Kind::kGather, "", depth, &s);
            auto& kids = ix.gather_children[op.name];
            for (const spec::TaskDef& c : op.children) {
              kids.push_back(c.name);
              Task(c.name, Kind::kGatherChild, op.name, depth + 1, &s, c.body, depth + 1);
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
            Task(op.task.name, Kind::kShieldInner, op.name, depth + 1, &s, op.task.body, depth + 1);
          } else if constexpr (std::is_same_v<T, spec::WaitFor>) {
            ix.has_wait_for = true;
            if (op.d) ix.delay_sum += *op.d;
            Add(op.name, Kind::kWaitFor, "", depth, &s);
            Task(op.task.name, Kind::kWaitForInner, op.name, depth + 1, &s, op.task.body, depth + 1);
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

}  // namespace

ProgramIndex ProgramIndex::Build(const Program& program) {
  ProgramIndex ix;
  ix.names["main"] = Entry{Kind::kMainTask, "", 0, nullptr, nullptr, "main"};
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

}  // namespace asyncspec::conformance
