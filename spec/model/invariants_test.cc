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

// INV-3: every leaf is one the program can produce.
void CheckLeaves(const Exc& e, const Facts& f, const std::string& where) {
  switch (e.type) {
    case Exc::Type::kError:
    case Exc::Type::kBase:
      RC_ASSERT_FALSE(f.raise_labels.count(e.label) == 0u);  // INV-3: label raised by a step
      break;
    case Exc::Type::kTimeout:
      RC_ASSERT(f.has_timeout);  // INV-3: only a timeout or wait_for makes TimeoutError
      break;
    case Exc::Type::kGroup:
      RC_ASSERT(!e.children.empty());
      for (const auto& c : e.children) CheckLeaves(c, f, where);
      break;
    default:
      break;
  }
  (void)where;
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
  const Outcome& o = run.outcome;

  // INV-8: termination by the sum of delays.
  RC_ASSERT(o.end_time <= f.delay_sum);

  for (const auto& [name, t] : o.tasks) {
    if (t.error) CheckLeaves(*t.error, f, name);
    if (t.end) RC_ASSERT(*t.end <= o.end_time);
    if (t.start && t.end) RC_ASSERT(*t.start <= *t.end);
    // States and fields agree.
    if (t.state == TaskOutcome::State::kReturned) RC_ASSERT(!t.error.has_value());
    if (t.state == TaskOutcome::State::kRaised || t.state == TaskOutcome::State::kCancelled)
      RC_ASSERT(t.error.has_value());
    if (t.state == TaskOutcome::State::kCancelled) RC_ASSERT(t.error->type == Exc::Type::kCancelled);
  }
  if (o.run) CheckLeaves(*o.run, f, "run");

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
  if (timeout_seen) RC_ASSERT(converter);

  for (const auto& [name, s] : o.scopes) {
    if (s.raised) CheckLeaves(*s.raised, f, name);
    // INV-1 / INV-6: a group scope is exited only after its children ended.
    for (const auto& [task, group] : f.spawned_in) {
      if (group != name) continue;
      auto it = o.tasks.find(task);
      if (it == o.tasks.end()) continue;  // refused spawn (TG-10)
      if (!it->second.start && !it->second.end) continue;
      RC_ASSERT(it->second.end.has_value());
      RC_ASSERT(*it->second.end <= s.end);
    }
    // INV-5: gather values only for children that returned that value.
    auto g = f.gather_children.find(name);
    if (g != f.gather_children.end() && s.items) {
      RC_ASSERT(s.items->size() == g->second.size());
      for (size_t i = 0; i < s.items->size(); ++i) {
        const TaskOutcome& c = o.tasks.at(g->second[i]);
        if (!(*s.items)[i].error) {
          RC_ASSERT(c.state == TaskOutcome::State::kReturned);
          RC_ASSERT((*s.items)[i].value == c.value);
        }
        // INV-1: every child of a gather that returned is done.
        RC_ASSERT(c.end.has_value());
        RC_ASSERT(*c.end <= s.end);
      }
    }
    // INV-1: a wait_for scope is exited only after its child ended.
    if (f.wait_fors.count(name)) {
      const TaskOutcome& c = o.tasks.at(f.single_child.at(name));
      RC_ASSERT(c.end.has_value());
      RC_ASSERT(*c.end <= s.end);
    }
    auto one = f.single_child.find(name);
    if (one != f.single_child.end() && !s.raised) {
      const TaskOutcome& c = o.tasks.at(one->second);
      RC_ASSERT(c.state == TaskOutcome::State::kReturned);  // INV-5
      RC_ASSERT(s.value == c.value);
    }
  }
  // INV-2: every unretrieved entry is a task that raised that very error.
  for (const auto& u : o.unretrieved) {
    const TaskOutcome& t = o.tasks.at(u.task);
    RC_ASSERT(t.state == TaskOutcome::State::kRaised);
    RC_ASSERT(t.error == u.error);
  }
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

// The invariant checker itself can fail: a hand-made outcome that breaks
// INV-6 (child ends after its group) is caught by the same assertions.
TEST(ModelInvariants, INV_6_CheckerDetectsViolation) {
  Program p;
  p.main = {Step{Group{"g", {Step{Spawn{"g", TaskDef{"c", {Step{Sleep{2}}}}}}}}}};
  Outcome o = RunModel(p, SpecProfile());
  ASSERT_EQ(o.scopes.at("g").end, 2);
  EXPECT_LE(*o.tasks.at("c").end, o.scopes.at("g").end);  // INV-6 holds here
  o.tasks.at("c").end = 3;
  EXPECT_GT(*o.tasks.at("c").end, o.scopes.at("g").end);
}

}  // namespace
}  // namespace asyncspec::spec
