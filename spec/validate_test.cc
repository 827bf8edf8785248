// Tests of program validity (spec/validate.h): one refused program per rule,
// each checked for the exact place and message; await cycles; generated
// programs are valid; MakeValid repairs arbitrary shapes into valid ones.
#include "spec/validate.h"

#include <string>

#include "gtest/gtest.h"
#include "rapidcheck/gtest.h"
#include "spec/json.h"
#include "spec/program_gen.h"
#include "spec/text.h"

namespace asyncspec::spec {
namespace {

Program Parse(std::string_view text) {
  absl::StatusOr<Program> p = ProgramFromText(text);
  EXPECT_TRUE(p.ok()) << p.status() << "\n" << text;
  return p.ok() ? *std::move(p) : Program{};
}

TEST(Validate, AcceptsAValidProgram) {
  Program p = Parse(R"(main:
  group g:
    spawn g a:
      sleep 1
      return ok
    task b:
      await a
      cancel main "stop"
  timeout tm 5:
    try t:
      reschedule tm 2
    except cancelled as h then reraise:
      reschedule tm none
    finally f:
      reschedule tm 1
  gather G:
    child c:
      spawn g late:
        pass
)");
  EXPECT_TRUE(Validate(p).ok()) << Validate(p);
  EXPECT_TRUE(FindProblems(p).empty());
}

struct Bad {
  const char* text;
  const char* problem;  // Problem::ToString() of the first problem
};

class BadProgram : public testing::TestWithParam<Bad> {};

TEST_P(BadProgram, RefusedWithPlace) {
  Program p = Parse(GetParam().text);
  std::vector<Problem> problems = FindProblems(p);
  ASSERT_FALSE(problems.empty()) << GetParam().text;
  EXPECT_EQ(problems.front().ToString(), GetParam().problem) << GetParam().text;
  absl::Status s = Validate(p);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(s.message()).rfind(GetParam().problem, 0), 0u) << s;
}

INSTANTIATE_TEST_SUITE_P(
    Rules, BadProgram,
    testing::Values(
        Bad{"main:\n  group g:\n    pass\n  group g:\n    pass\n",
            "4:3: main[1].name: the name \"g\" is already used by a group; names are unique in a "
            "program"},
        Bad{"main:\n  task a:\n    pass\n  timeout a 1:\n    pass\n",
            "4:3: main[1].name: the name \"a\" is already used by a task; names are unique in a "
            "program"},
        Bad{"main:\n  try t:\n    pass\n  except error as x:\n    pass\n  finally x:\n    pass\n",
            "2:3: main[0].finally.name: the name \"x\" is already used by a handler; names are "
            "unique in a program"},
        Bad{"main:\n  spawn g main:\n    pass\n  group g:\n    pass\n",
            "2:3: main[0].task.name: the name \"main\" is taken by the root task; this task needs "
            "another"},
        Bad{"main:\n  return early\n  sleep 1\n",
            "2:3: main[0]: return must be the last step of its task body"},
        Bad{"main:\n  group g:\n    return x\n",
            "3:5: main[0].body[0]: return is only allowed as the last step of a task body, not "
            "inside a group, timeout or try block"},
        Bad{"main:\n  timeout tm 1:\n    task a:\n      reschedule tm 2\n",
            "4:7: main[0].body[0].task.body[0].timeout: reschedule of \"tm\": it must be inside "
            "the body of that timeout, in the same task (TO-5: tm.reschedule is called by the "
            "task that entered tm)"},
        Bad{"main:\n  timeout tm 1:\n    pass\n  reschedule tm 2\n",
            "4:3: main[1].timeout: reschedule of \"tm\": it must be inside the body of that "
            "timeout, in the same task (TO-5: tm.reschedule is called by the task that entered "
            "tm)"},
        Bad{"main:\n  try t:\n    pass\n  except error as a:\n    pass\n  except* error as b:\n"
            "    pass\n",
            "2:3: main[0].handlers[1].star: handler \"b\" is except* but the first handler of try "
            "\"t\" is except; a try's handlers are all except or all except* (EG-3)"},
        Bad{"main:\n  try t:\n    pass\n  except* group as a:\n    pass\n",
            "2:3: main[0].handlers[0].catch: handler \"a\": except* cannot catch group (Python "
            "refuses except* ExceptionGroup)"},
        Bad{"main:\n  spawn nowhere a:\n    pass\n",
            "2:3: main[0].group: spawn into \"nowhere\": no group of that name in the program"},
        Bad{"main:\n  timeout tm none:\n    spawn tm a:\n      pass\n",
            "3:5: main[0].body[0].group: spawn into \"tm\": that is a timeout, not a group"},
        Bad{"main:\n  cancel ghost\n",
            "2:3: main[0].target: cancel \"ghost\": no task of that name in the program"},
        Bad{"main:\n  group g:\n    await g\n",
            "3:5: main[0].body[0].target: await \"g\": that is a group, not a task"},
        Bad{"main:\n  await main\n",
            "2:3: main[0]: task \"main\" awaits itself: it can never finish (deadlock by "
            "construction)"},
        Bad{"main:\n  task a:\n    await a\n",
            "3:5: main[0].task.body[0]: task \"a\" awaits itself: it can never finish (deadlock "
            "by construction)"},
        Bad{"main:\n  task a:\n    await b\n  task b:\n    sleep 1\n    await a\n",
            "6:5: main[1].task.body[1]: await cycle, deadlock by construction: a awaits b "
            "(main[0].task.body[0]), b awaits a"},
        Bad{"main:\n  group g:\n    spawn g a:\n      await main\n",
            "4:7: main[0].body[0].task.body[0]: await cycle, deadlock by construction: main waits "
            "at the exit of group g for (TG-1) a (main[0].body[0]), a awaits main"},
        Bad{"main:\n  shield s a:\n    await main\n",
            "3:5: main[0].task.body[0]: await cycle, deadlock by construction: main shields "
            "(shield s) a (main[0]), a awaits main"},
        Bad{"main:\n  task a:\n    wait_for w b 1:\n      await a\n",
            "4:7: main[0].task.body[0].task.body[0]: await cycle, deadlock by construction: a "
            "waits for (wait_for w) b (main[0].task.body[0]), b awaits a"},
        Bad{"main:\n  task x:\n    await y\n  task y:\n    gather G:\n      child z:\n"
            "        await x\n",
            // The search starts from the first task with an edge (y, whose
            // gather is met first) and reports the edge that closes the cycle.
            "3:5: main[0].task.body[0]: await cycle, deadlock by construction: y gathers "
            "(gather G) z (main[1].task.body[0]), z awaits x "
            "(main[1].task.body[0].children[0].body[0]), x awaits y"}));

TEST(Validate, CodeBuiltProgramsAreCheckedToo) {
  Program p;
  p.main.push_back(Step{Sleep{-1}});
  TaskDef bad;
  bad.name = "1bad";
  p.main.push_back(Step{CreateTask{bad}});
  Handler h;
  h.name = "h";
  h.kind = CatchKind::kTimeout;
  h.label = "E1";
  p.main.push_back(Step{Try{"t", {}, {h}, std::nullopt}});
  std::vector<Problem> problems = FindProblems(p);
  ASSERT_EQ(problems.size(), 3u);
  EXPECT_EQ(problems[0].ToString(), "main[0].d: delay -1 is outside [0, 1000000000000]");
  EXPECT_EQ(problems[1].ToString(),
            "main[1].task.name: the task name \"1bad\" does not match [A-Za-z_][A-Za-z0-9_]*");
  EXPECT_EQ(problems[2].ToString(),
            "main[2].handlers[0].label: handler \"h\": a label is only allowed with catch kinds "
            "error and base");
  EXPECT_EQ(std::string(Validate(p).message()),
            "main[0].d: delay -1 is outside [0, 1000000000000] (and 2 more problems)");
  EXPECT_EQ(FindProblems(p, 2).size(), 2u);
}

TEST(Validate, NestingBeyondTheLimitIsReportedNotWalked) {
  Program p;
  Body* body = &p.main;
  for (int i = 0; i < kMaxNesting + 5; ++i) {
    body->push_back(Step{Group{"g" + std::to_string(i), {}}});
    body = &std::get<Group>(body->back().op).body;
  }
  std::vector<Problem> problems = FindProblems(p);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].message, "bodies nested deeper than 1000 (the limit)");
  EXPECT_EQ(problems[0].path.rfind("main[0].body[0].body[0]", 0), 0u) << problems[0].path;
}

// A program at the nesting limit, cycling through every kind of nested
// body, goes through all the recursive code (JSON and text readers and
// writers, the validator) without exhausting the stack, also under
// AddressSanitizer (bazel test --config=asan).
TEST(Validate, EveryRecursiveWalkHandlesTheNestingLimit) {
  Program p;
  Body* body = &p.main;
  body->push_back(Step{Group{"g", {}}});  // the group every spawn below uses
  for (int depth = 1; depth < kMaxNesting; ++depth) {
    const std::string n = "n" + std::to_string(depth);
    switch (depth % 7) {
      case 0: body->push_back(Step{Group{n, {}}}); body = &std::get<Group>(body->back().op).body; break;
      case 1: body->push_back(Step{Spawn{"g", TaskDef{n, {}}}});
              body = &std::get<Spawn>(body->back().op).task.body; break;
      case 2: body->push_back(Step{Timeout{n, 5, {}}});
              body = &std::get<Timeout>(body->back().op).body; break;
      case 3: {
        Handler h;
        h.name = n + "h";
        h.kind = CatchKind::kError;
        h.label = "E";
        body->push_back(Step{Try{n, {}, {h}, Finally{n + "f", {}}}});
        body = &std::get<Try>(body->back().op).handlers[0].body;
        break;
      }
      case 4: body->push_back(Step{Gather{n, {TaskDef{n + "c", {}}}, true}});
              body = &std::get<Gather>(body->back().op).children[0].body; break;
      case 5: body->push_back(Step{Shield{n, TaskDef{n + "t", {}}}});
              body = &std::get<Shield>(body->back().op).task.body; break;
      case 6: body->push_back(Step{WaitFor{n, TaskDef{n + "t", {}}, std::nullopt}});
              body = &std::get<WaitFor>(body->back().op).task.body; break;
    }
  }
  body->push_back(Step{Sleep{1}});
  ASSERT_TRUE(Validate(p).ok()) << Validate(p);
  absl::StatusOr<Program> from_json = ProgramFromJson(ProgramToJson(p));
  ASSERT_TRUE(from_json.ok()) << from_json.status();
  EXPECT_EQ(*from_json, p);
  absl::StatusOr<Program> from_text = ProgramFromText(ProgramToText(p));
  ASSERT_TRUE(from_text.ok()) << from_text.status();
  EXPECT_EQ(*from_text, p);
  // One level more is refused by all three.
  body->back() = Step{Group{"deepest", {Step{Sleep{1}}}}};
  EXPECT_FALSE(Validate(p).ok());
  EXPECT_FALSE(ProgramFromJson(ProgramToJson(p)).ok());
  EXPECT_FALSE(ProgramFromText(ProgramToText(p)).ok());
}

RC_GTEST_PROP(ValidateProperty, GeneratedProgramsAreValid, ()) {
  const Program p = *gen::ValidProgram();
  const std::vector<Problem> problems = FindProblems(p);
  RC_ASSERT(problems.empty());
}

// MakeValid repairs any shape: take a valid program, break its references
// and names at random, and it is valid again afterwards.
RC_GTEST_PROP(ValidateProperty, MakeValidRepairsRawPrograms, ()) {
  gen::GenOptions o;
  o.max_depth = 4;
  o.weights.await = 8;  // many awaits: many potential cycles to avoid
  o.weights.spawn = 8;
  Program p = *gen::RawProgram(o);
  gen::MakeValid(p);
  RC_ASSERT(FindProblems(p).empty());
}

TEST(Validate, MakeValidKeepsGoodNamesAndResolvesPlaceholders) {
  Program p = Parse("main:\n  group g:\n    spawn nowhere a:\n      await a\n  group a:\n    pass\n");
  gen::MakeValid(p);
  EXPECT_TRUE(Validate(p).ok()) << Validate(p) << "\n" << ProgramToText(p);
  // "g" and task "a" kept; the group "a" renamed; spawn resolved to group 0
  // (g, entered by main); the self-await can target neither a (itself) nor
  // main (which waits for a at g's exit), so it became `sleep 0`.
  EXPECT_EQ(ProgramToText(p),
            "main:\n  group g:\n    spawn g a:\n      sleep 0\n  group g0:\n    pass\n");
}

}  // namespace
}  // namespace asyncspec::spec
