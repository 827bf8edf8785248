// Outcomes equal up to tie freedom (see outcome_allowed.h).
#include "spec/outcome_allowed.h"

#include <cstddef>
#include <optional>
#include <vector>

namespace asyncspec::spec {

namespace {

bool ExcEquiv(const Exc& a, const Exc& b) {
  if (a.type != b.type) return false;
  if (a.type != Exc::Type::kGroup) return a == b;
  if (a.base_group != b.base_group || a.children.size() != b.children.size()) return false;
  std::vector<bool> used(b.children.size(), false);
  for (const Exc& ca : a.children) {
    bool found = false;
    for (size_t i = 0; i < b.children.size(); ++i) {
      if (!used[i] && ExcEquiv(ca, b.children[i])) {
        used[i] = true;
        found = true;
        break;
      }
    }
    if (!found) return false;
  }
  return true;
}

bool OptExcEquiv(const std::optional<Exc>& a, const std::optional<Exc>& b) {
  if (a.has_value() != b.has_value()) return false;
  return !a || ExcEquiv(*a, *b);
}

}  // namespace

bool ExcEquivalent(const Exc& a, const Exc& b) { return ExcEquiv(a, b); }

bool OutcomeAllowed(const Outcome& m, const Outcome& o, std::string* why) {
  auto fail = [&](const std::string& s) {
    if (why) *why = s;
    return false;
  };
  if (m.end_time != o.end_time) return fail("end_time differs");
  if (!OptExcEquiv(m.run, o.run)) return fail("run differs (RT-3)");
  if (m.blocks != o.blocks) return fail("blocks differ");
  if (m.tasks.size() != o.tasks.size()) return fail("task sets differ");
  for (const auto& [name, mt] : m.tasks) {
    auto it = o.tasks.find(name);
    if (it == o.tasks.end()) return fail("task " + name + " missing");
    const TaskOutcome& ot = it->second;
    if (mt.start != ot.start || mt.end != ot.end || mt.state != ot.state || mt.value != ot.value ||
        !OptExcEquiv(mt.error, ot.error))
      return fail("task " + name + " differs");
  }
  if (m.scopes.size() != o.scopes.size()) return fail("scope sets differ");
  for (const auto& [name, ms] : m.scopes) {
    auto it = o.scopes.find(name);
    if (it == o.scopes.end()) return fail("scope " + name + " missing");
    const ScopeOutcome& os = it->second;
    if (ms.end != os.end || ms.value != os.value || ms.expired != os.expired ||
        !OptExcEquiv(ms.raised, os.raised))
      return fail("scope " + name + " differs");
    if (ms.items.has_value() != os.items.has_value()) return fail("scope " + name + " items differ");
    if (ms.items) {
      if (ms.items->size() != os.items->size()) return fail("scope " + name + " items differ");
      for (size_t i = 0; i < ms.items->size(); ++i) {
        if ((*ms.items)[i].value != (*os.items)[i].value ||
            !OptExcEquiv((*ms.items)[i].error, (*os.items)[i].error))
          return fail("scope " + name + " items differ");
      }
    }
  }
  // RT-8: the optional channels, when both sides observed them.
  if (m.handler && o.handler) {
    if (m.handler->size() != o.handler->size()) return fail("exception handler calls differ (RT-8)");
    for (size_t i = 0; i < m.handler->size(); ++i) {
      const HandlerCall &a = (*m.handler)[i], &b = (*o.handler)[i];
      if (a.kind != b.kind || a.task != b.task || !OptExcEquiv(a.error, b.error))
        return fail("exception handler calls differ (RT-8)");
    }
  }
  if (m.warnings && o.warnings && *m.warnings != *o.warnings) return fail("warnings differ (RT-8)");
  if (m.unretrieved.size() != o.unretrieved.size()) return fail("unretrieved differs (RT-4)");
  for (size_t i = 0; i < m.unretrieved.size(); ++i) {
    if (m.unretrieved[i].task != o.unretrieved[i].task ||
        !ExcEquiv(m.unretrieved[i].error, o.unretrieved[i].error))
      return fail("unretrieved differs (RT-4)");
  }
  return true;
}

}  // namespace asyncspec::spec
