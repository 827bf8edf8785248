// Structural equality of outcomes (outcome.h). Every field is compared: two
// runtimes agree on a program only if they agree on all of it.
#include "spec/outcome.h"

#include <tuple>
#include <utility>

namespace asyncspec::spec {

bool operator==(const Exc& a, const Exc& b) {
  if (a.type != b.type) return false;
  // Only the fields that belong to the type are compared, so that a leftover
  // value in an unused field (e.g. `label` of a timeout) cannot make two
  // equal exceptions differ.
  switch (a.type) {
    case Exc::Type::kError:
    case Exc::Type::kBase:
      return a.label == b.label;
    case Exc::Type::kCancelled:
      return a.msg == b.msg;
    case Exc::Type::kTimeout:
      return true;
    case Exc::Type::kRuntime:
      return a.what == b.what;
    case Exc::Type::kGroup:
      return a.base_group == b.base_group && a.children == b.children;
  }
  return false;
}

bool operator==(const TaskOutcome& a, const TaskOutcome& b) {
  return a.start == b.start && a.end == b.end && a.state == b.state && a.value == b.value &&
         a.error == b.error;
}

bool operator==(const BlockOutcome& a, const BlockOutcome& b) {
  return a.start == b.start && a.end == b.end;
}

bool operator==(const GatherItem& a, const GatherItem& b) {
  return a.value == b.value && a.error == b.error;
}

bool operator==(const ScopeOutcome& a, const ScopeOutcome& b) {
  return a.end == b.end && a.raised == b.raised && a.value == b.value && a.items == b.items &&
         a.expired == b.expired;
}

bool operator==(const Unretrieved& a, const Unretrieved& b) {
  return a.task == b.task && a.error == b.error;
}

bool operator==(const HandlerCall& a, const HandlerCall& b) {
  return a.kind == b.kind && a.task == b.task && a.error == b.error;
}

bool operator==(const WarningRecord& a, const WarningRecord& b) { return a.kind == b.kind && a.task == b.task; }

bool operator<(const HandlerCall& a, const HandlerCall& b) {
  return std::tie(a.task, a.kind) < std::tie(b.task, b.kind);
}

bool operator<(const WarningRecord& a, const WarningRecord& b) {
  return std::tie(a.task, a.kind) < std::tie(b.task, b.kind);
}

bool operator==(const Outcome& a, const Outcome& b) {
  return a.tasks == b.tasks && a.blocks == b.blocks && a.scopes == b.scopes && a.run == b.run &&
         a.unretrieved == b.unretrieved && a.end_time == b.end_time && a.handler == b.handler &&
         a.warnings == b.warnings;
}

namespace {
constexpr std::pair<HandlerCall::Kind, const char*> kHandlerKinds[] = {
    {HandlerCall::Kind::kNeverRetrieved, "never_retrieved"},
    {HandlerCall::Kind::kRunShutdown, "run_shutdown"},
    {HandlerCall::Kind::kDestroyedPending, "destroyed_pending"},
    {HandlerCall::Kind::kParentDone, "parent_done"},
    {HandlerCall::Kind::kShielded, "shielded"},
};
}  // namespace

const char* HandlerKindName(HandlerCall::Kind k) {
  for (const auto& [kind, name] : kHandlerKinds)
    if (kind == k) return name;
  return "?";
}

std::optional<HandlerCall::Kind> HandlerKindFromName(const std::string& name) {
  for (const auto& [kind, n] : kHandlerKinds)
    if (name == n) return kind;
  return std::nullopt;
}

const char* WarningKindName(WarningRecord::Kind) { return "never_awaited"; }

std::optional<WarningRecord::Kind> WarningKindFromName(const std::string& name) {
  if (name == "never_awaited") return WarningRecord::Kind::kNeverAwaited;
  return std::nullopt;
}

}  // namespace asyncspec::spec
