#include "conformance/outcome_query.h"

#include <algorithm>
#include <limits>

#include "spec/json.h"

namespace asyncspec::conformance {

using spec::Exc;
using spec::TaskOutcome;
using spec::Time;

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

std::string Opt(const std::optional<Time>& t) { return t ? std::to_string(*t) : "null"; }
std::string OptS(const std::optional<std::string>& s) {
  if (!s) return "null";
  std::string out;
  spec::AppendJsonString(out, *s);
  return out;
}

Time MinT(std::optional<Time> a, std::optional<Time> b) {
  constexpr Time kNever = std::numeric_limits<Time>::max();
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

std::string Describe(const std::optional<Exc>& e) { return e ? spec::ExcToJson(*e) : "nothing"; }

std::string Describe(const TaskOutcome& t) {
  std::string s = StateName(t.state);
  if (t.value) s += " " + OptS(t.value);
  if (t.error) s += " " + spec::ExcToJson(*t.error);
  s += " [" + Opt(t.start) + ".." + Opt(t.end) + "]";
  return s;
}

}  // namespace asyncspec::conformance
