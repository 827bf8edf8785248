// Structural equality of programs (program.h). Source positions (line,
// column) are deliberately ignored: a program parsed from text and the same
// program built in code, or read back from JSON, are the same program.
#include "spec/program.h"

#include <type_traits>
#include <variant>

namespace asyncspec::spec {
namespace {

// Each op struct is compared field by field. They are aggregates without
// operator==, so the comparisons are spelled out here, once.
bool Eq(const Sleep& a, const Sleep& b) { return a.d == b.d; }
bool Eq(const Raise& a, const Raise& b) { return a.label == b.label && a.base == b.base; }
bool Eq(const Return& a, const Return& b) { return a.value == b.value; }
bool Eq(const CreateTask& a, const CreateTask& b) { return a.task == b.task; }
bool Eq(const Group& a, const Group& b) { return a.name == b.name && a.body == b.body; }
bool Eq(const Spawn& a, const Spawn& b) { return a.group == b.group && a.task == b.task; }
bool Eq(const Gather& a, const Gather& b) {
  return a.name == b.name && a.children == b.children &&
         a.return_exceptions == b.return_exceptions;
}
bool Eq(const Timeout& a, const Timeout& b) {
  return a.name == b.name && a.d == b.d && a.body == b.body;
}
bool Eq(const Reschedule& a, const Reschedule& b) {
  return a.timeout == b.timeout && a.d == b.d;
}
bool Eq(const Shield& a, const Shield& b) { return a.name == b.name && a.task == b.task; }
bool Eq(const WaitFor& a, const WaitFor& b) {
  return a.name == b.name && a.task == b.task && a.d == b.d;
}
bool Eq(const Cancel& a, const Cancel& b) { return a.target == b.target && a.msg == b.msg; }
bool Eq(const Await& a, const Await& b) { return a.target == b.target; }
bool Eq(const Uncancel&, const Uncancel&) { return true; }
bool Eq(const Try& a, const Try& b) {
  return a.name == b.name && a.body == b.body && a.handlers == b.handlers &&
         a.finally == b.finally;
}

}  // namespace

bool operator==(const Step& a, const Step& b) {
  if (a.op.index() != b.op.index()) return false;
  return std::visit(
      [&b](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        return Eq(x, std::get<T>(b.op));
      },
      a.op);
}

bool operator==(const TaskDef& a, const TaskDef& b) {
  return a.name == b.name && a.body == b.body;
}

bool operator==(const Handler& a, const Handler& b) {
  return a.name == b.name && a.kind == b.kind && a.label == b.label && a.star == b.star &&
         a.then == b.then && a.body == b.body;
}

bool operator==(const Finally& a, const Finally& b) {
  return a.name == b.name && a.body == b.body;
}

bool operator==(const Program& a, const Program& b) {
  return a.name == b.name && a.main == b.main;
}

}  // namespace asyncspec::spec
