// Property tests: the invariants of spec/RULES.md (INV-*) hold for the
// model's outcome of arbitrary valid programs (spec/program_gen.h), on every
// profile. These check the model against the rules' global promises rather
// than against CPython (golden_test and model_test do that).
#include <map>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include "spec/json.h"
#include "spec/model/model.h"
#include "spec/program_gen.h"

namespace asyncspec::spec {
namespace {

// What the program text says, collected once.
struct Facts {
  std::set<std::string> raise_labels;             // INV-3
  bool has_timeout = false;                       // timeouts and wait_fors: INV-3, INV-7
  Time delay_sum = 0;                             // INV-8
  std::map<std::string, std::string> spawned_in;  // task -> group (INV-1, INV-6)
  std::map<std::string, std::vector<std::string>> gather_children;  // INV-1, INV-5
  std::map<std::string, std::string> single_child;  // shield / wait_for -> task (INV-5)
  std::set<std::string> wait_fors;                   // INV-7
};

void Collect(const Body& body, Facts& f) {
  for (const Step& st : body) {
    const auto& op = st.op;
    if (const auto* s = std::get_if<Sleep>(&op)) f.delay_sum += s->d;
    else if (const auto* s = std::get_if<Raise>(&op)) f.raise_labels.insert(s->label);
    else if (const auto* s = std::get_if<CreateTask>(&op)) Collect(s->task.body, f);
    else if (const auto* s = std::get_if<Group>(&op)) Collect(s->body, f);
    else if (const auto* s = std::get_if<Spawn>(&op)) {
      f.spawned_in[s->task.name] = s->group;
      Collect(s->task.body, f);
    } else if (const auto* s = std::get_if<Gather>(&op)) {
      for (const auto& c : s->children) {
        f.gather_children[s->name].push_back(c.name);
        Collect(c.body, f);
      }
    } else if (const auto* s = std::get_if<Timeout>(&op)) {
      f.has_timeout = true;
      if (s->d) f.delay_sum += *s->d;
      Collect(s->body, f);
    } else if (const auto* s = std::get_if<Reschedule>(&op)) {
      if (s->d) f.delay_sum += *s->d;
    } else if (const auto* s = std::get_if<Shield>(&op)) {
      f.single_child[s->name] = s->task.name;
      Collect(s->task.body, f);
    } else if (const auto* s = std::get_if<WaitFor>(&op)) {
      f.has_timeout = true;
      if (s->d) f.delay_sum += *s->d;
      f.single_child[s->name] = s->task.name;
      f.wait_fors.insert(s->name);
      Collect(s->task.body, f);
    } else if (const auto* s = std::get_if<Try>(&op)) {
      Collect(s->body, f);
      for (const auto& h : s->handlers) Collect(h.body, f);
      if (s->finally) Collect(s->finally->body, f);
    }
  }
}

bool HasTimeoutLeaf(const Exc& e) {
  if (e.type == Exc::Type::kTimeout) return true;
  for (const auto& c : e.children)
    if (HasTimeoutLeaf(c)) return true;
  return false;
}

// What the invariants find wrong with an outcome: one entry per violation,
// each starting with its rule ID ("INV-6: ...").
using Findings = std::vector<std::string>;

// INV-3: every leaf is one the program can produce.
void CheckLeaves(const Exc& e, const Facts& f, const std::string& where, Findings& out) {
  switch (e.type) {
    case Exc::Type::kError:
    case Exc::Type::kBase:
      if (f.raise_labels.count(e.label) == 0u) out.push_back("INV-3: " + where + ": label " + e.label + " raised by no step");
      break;
    case Exc::Type::kTimeout:
      if (!f.has_timeout) out.push_back("INV-3: " + where + ": TimeoutError without a timeout or wait_for");
      break;
    case Exc::Type::kGroup:
      if (e.children.empty()) out.push_back("INV-3: " + where + ": an empty exception group");
      for (const auto& c : e.children) CheckLeaves(c, f, where, out);
      break;
    default:
      break;
  }
}

// The invariants of one outcome of a program whose text gave `f`.
Findings OutcomeFindings(const Facts& f, const Outcome& o) {
  Findings out;
  auto need = [&](bool ok, const std::string& finding) {
    if (!ok) out.push_back(finding);
  };
  // INV-8: termination by the sum of delays.
  need(o.end_time <= f.delay_sum, "INV-8: the run ends after the sum of its delays");

  for (const auto& [name, t] : o.tasks) {
    const std::string at = "tasks." + name;
    if (t.error) CheckLeaves(*t.error, f, at, out);
    if (t.end) need(*t.end <= o.end_time, "INV-8: " + at + " ends after the run");
    if (t.start && t.end) need(*t.start <= *t.end, "INV-9: " + at + " ends before it starts");
    // States and fields agree (FORMAT.md).
    if (t.state == TaskOutcome::State::kReturned) need(!t.error.has_value(), "INV-5: " + at + " returned with an error");
    if (t.state == TaskOutcome::State::kRaised || t.state == TaskOutcome::State::kCancelled)
      need(t.error.has_value(), "INV-2: " + at + " raised no error");
    if (t.state == TaskOutcome::State::kCancelled && t.error)
      need(t.error->type == Exc::Type::kCancelled, "INV-2: " + at + " cancelled with another error");
  }
  if (o.run) CheckLeaves(*o.run, f, "run", out);

  // INV-7: a TimeoutError exists only if some timeout expired (its scope says
  // expired) or some wait_for converted its own cancellation.
  bool timeout_seen = o.run && HasTimeoutLeaf(*o.run);
  bool converter = false;
  for (const auto& [name, t] : o.tasks) timeout_seen |= t.error && HasTimeoutLeaf(*t.error);
  for (const auto& [name, s] : o.scopes) {
    timeout_seen |= s.raised && HasTimeoutLeaf(*s.raised);
    if (s.items)
      for (const auto& it : *s.items) timeout_seen |= it.error && HasTimeoutLeaf(*it.error);
    converter |= s.expired.value_or(false);
    converter |= f.wait_fors.count(name) && s.raised && s.raised->type == Exc::Type::kTimeout;
  }
  if (timeout_seen) need(converter, "INV-7: a TimeoutError, but no timeout expired and no wait_for converted");

  for (const auto& [name, s] : o.scopes) {
    const std::string at = "scopes." + name;
    if (s.raised) CheckLeaves(*s.raised, f, at, out);
    // INV-1 / INV-6: a group scope is exited only after its children ended.
    for (const auto& [task, group] : f.spawned_in) {
      if (group != name) continue;
      auto it = o.tasks.find(task);
      if (it == o.tasks.end()) continue;  // refused spawn (TG-10)
      if (!it->second.start && !it->second.end) continue;
      if (!it->second.end) {
        out.push_back("INV-1: tasks." + task + " of group " + name + " never ends");
        continue;
      }
      need(*it->second.end <= s.end, "INV-6: tasks." + task + " ends at " + std::to_string(*it->second.end) +
                                         ", after its group " + name + " exited at " + std::to_string(s.end));
    }
    // INV-5: gather values only for children that returned that value.
    auto g = f.gather_children.find(name);
    if (g != f.gather_children.end() && s.items) {
      if (s.items->size() != g->second.size()) {
        out.push_back("INV-5: " + at + " has " + std::to_string(s.items->size()) + " items for " +
                      std::to_string(g->second.size()) + " children");
        continue;
      }
      for (size_t i = 0; i < s.items->size(); ++i) {
        const TaskOutcome& c = o.tasks.at(g->second[i]);
        const std::string item = at + ".items[" + std::to_string(i) + "]";
        if (!(*s.items)[i].error) {
          need(c.state == TaskOutcome::State::kReturned, "INV-5: " + item + " is a value of a child that did not return");
          need((*s.items)[i].value == c.value, "INV-5: " + item + " is not its child's value");
        }
        // INV-1: every child of a gather that returned is done.
        need(c.end.has_value() && *c.end <= s.end, "INV-1: the child of " + item + " ends after its gather");
      }
    }
    // INV-1: a wait_for scope is exited only after its child ended.
    if (f.wait_fors.count(name)) {
      const TaskOutcome& c = o.tasks.at(f.single_child.at(name));
      need(c.end.has_value() && *c.end <= s.end, "INV-1: the child of wait_for " + name + " ends after it");
    }
    auto one = f.single_child.find(name);
    if (one != f.single_child.end() && !s.raised) {
      const TaskOutcome& c = o.tasks.at(one->second);
      need(c.state == TaskOutcome::State::kReturned, "INV-5: " + at + " has a value, its child did not return");
      need(s.value == c.value, "INV-5: " + at + "'s value is not its child's");
    }
  }
  // INV-2: every unretrieved entry is a task that raised that very error.
  for (const auto& u : o.unretrieved) {
    const TaskOutcome& t = o.tasks.at(u.task);
    need(t.state == TaskOutcome::State::kRaised && t.error == u.error,
         "INV-2: unretrieved." + u.task + " is not the error its task raised");
  }
  return out;
}

std::string Joined(const Findings& fs) {
  std::string s;
  for (const auto& f : fs) s += f + "\n";
  return s;
}

void CheckInvariants(const Program& program, const Profile& profile) {
  Facts f;
  Collect(program.main, f);
  ModelRun run = RunModelDetailed(program, profile);
  // INV-9: determinism.
  ModelRun again = RunModelDetailed(program, profile);
  RC_ASSERT(run.deadlock == again.deadlock);
  RC_ASSERT(run.outcome == again.outcome);
  if (run.deadlock) return;  // asyncio.run would hang: nothing more is promised
  const Findings found = OutcomeFindings(f, run.outcome);
  RC_LOG() << Joined(found);
  RC_ASSERT(found.empty());
}

// INV-1, INV-2, INV-3, INV-5, INV-6, INV-7, INV-8, INV-9 on every profile.
RC_GTEST_PROP(ModelInvariants, HoldForArbitraryValidPrograms, ()) {
  const Program program = *gen::ValidProgram();
  RC_LOG() << ProgramToJson(program) << "\n";
  for (const Profile& p : {ShippedProfile("3.11"), ShippedProfile("3.12"), SpecProfile()}) {
    RC_TAG(p.name);
    CheckInvariants(program, p);
  }
}

// The invariant checker itself can fail: the model's outcome of a group
// with one child passes it; the same outcome with the child ending after the
// group (an INV-6 violation made by hand) gets exactly that one finding.
TEST(ModelInvariants, INV_6_CheckerDetectsViolation) {
  Program p;
  // main: group g (child c: sleep 2); sleep 5. The run ends at 7.
  p.main = {Step{Group{"g", {Step{Spawn{"g", TaskDef{"c", {Step{Sleep{2}}}}}}}}}, Step{Sleep{5}}};
  Facts f;
  Collect(p.main, f);
  Outcome o = RunModel(p, SpecProfile());
  ASSERT_EQ(o.scopes.at("g").end, 2);
  EXPECT_EQ(Joined(OutcomeFindings(f, o)), "") << "INV-6 holds for the model's own outcome";
  ASSERT_EQ(o.end_time, 7);
  o.tasks.at("c").end = 3;  // still within the run: only INV-6 breaks
  EXPECT_EQ(Joined(OutcomeFindings(f, o)), "INV-6: tasks.c ends at 3, after its group g exited at 2\n");
}

}  // namespace
}  // namespace asyncspec::spec
