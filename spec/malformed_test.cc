// Malformed input to the readers and the validator (hardening):
// every refusal names its place, and nothing crashes or recurses without
// bound. Complements the tables of json_test, text_test and validate_test
// (one case per error message) with the shapes those tables cannot list:
//   - truncation: every proper prefix of a program's JSON (what a writer
//     killed mid-line leaves) is refused with its line, column and byte;
//     every prefix of its text form either reads or is refused at a
//     "line:column:"; the same for outcomes, which adapters send back;
//   - absurd sizes: inputs past the byte limits, refused before parsing;
//     a 50,000-task await cycle, reported at the step that closes it
//     without exhausting the stack;
//   - wrong types and unknown steps deep inside a program: the path names
//     every level down to the field.
// (100,000-deep nesting: json_test HundredThousand*; text_test explains why
// text stops at the size limit first.)
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "rapidcheck.h"
#include "rapidcheck/gtest.h"
#include "spec/json.h"
#include "spec/model/model.h"
#include "spec/program_gen.h"
#include "spec/text.h"
#include "spec/validate.h"

namespace asyncspec::spec {
namespace {

// About 40 cut points spread over `s` (every one for short strings).
std::vector<std::size_t> CutPoints(const std::string& s) {
  std::vector<std::size_t> cuts;
  const std::size_t step = std::max<std::size_t>(1, s.size() / 40);
  for (std::size_t n = 0; n < s.size(); n += step) cuts.push_back(n);
  cuts.push_back(s.size() - 1);
  return cuts;
}

bool NamesAJsonPosition(const std::string& m) {
  return m.rfind("line ", 0) == 0 && m.find(", column ") != std::string::npos &&
         m.find(" (byte ") != std::string::npos;
}

RC_GTEST_PROP(Malformed, TruncatedProgramJsonIsRefusedWithItsPosition, ()) {
  const Program p = *gen::ValidProgram();
  const std::string json = ProgramToJson(p);
  for (std::size_t n : CutPoints(json)) {
    absl::StatusOr<Program> r = ProgramFromJson(json.substr(0, n));
    RC_ASSERT(!r.ok());
    const std::string m(r.status().message());
    RC_LOG() << n << ": " << m << "\n";
    RC_ASSERT(NamesAJsonPosition(m));
  }
}

RC_GTEST_PROP(Malformed, TruncatedOutcomeJsonIsRefusedWithItsPosition, ()) {
  const Program p = *gen::ValidProgram();
  const std::string json = OutcomeToJson(RunModel(p, SpecProfile()));
  for (std::size_t n : CutPoints(json)) {
    absl::StatusOr<Outcome> r = OutcomeFromJson(json.substr(0, n));
    RC_ASSERT(!r.ok());
    const std::string m(r.status().message());
    RC_LOG() << n << ": " << m << "\n";
    RC_ASSERT(NamesAJsonPosition(m));
  }
}

// A prefix of the text form that ends at a line break is often a program
// itself; any other outcome must be a refusal at "line:column: ".
RC_GTEST_PROP(Malformed, TruncatedTextReadsOrIsRefusedAtALineAndColumn, ()) {
  const Program p = *gen::ValidProgram();
  const std::string text = ProgramToText(p);
  for (std::size_t n : CutPoints(text)) {
    absl::StatusOr<Program> r = ProgramFromText(text.substr(0, n));
    if (r.ok()) continue;
    const std::string m(r.status().message());
    RC_LOG() << n << ": " << m << "\n";
    const std::size_t colon1 = m.find(':'), colon2 = m.find(':', colon1 + 1);
    RC_ASSERT(colon1 != std::string::npos && colon1 > 0 && colon2 != std::string::npos);
    RC_ASSERT(m.find_first_not_of("0123456789") == colon1);
    RC_ASSERT(m.substr(colon1 + 1, colon2 - colon1 - 1).find_first_not_of("0123456789") ==
              std::string::npos);
  }
}

TEST(Malformed, InputsPastTheByteLimitsAreRefusedBeforeParsing) {
  const std::string huge(kMaxJsonBytes + 1, ' ');
  absl::StatusOr<Program> p = ProgramFromJson(huge);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(std::string(p.status().message()),
            "input of 67108865 bytes is larger than the limit of 67108864 bytes");
  absl::StatusOr<Outcome> o = OutcomeFromJson(huge);
  ASSERT_FALSE(o.ok());
  EXPECT_NE(std::string(o.status().message()).find("larger than the limit"), std::string::npos);
  absl::StatusOr<Program> t = ProgramFromText(std::string(kMaxTextBytes + 1, '#'));
  ASSERT_FALSE(t.ok());
  EXPECT_NE(std::string(t.status().message()).find("larger than the limit"), std::string::npos)
      << t.status();
}

// main: task t0: await t1 / task t1: await t2 / ... / task t49999: await t0.
// The cycle is found iteratively and reported at the edge that closes it.
TEST(Malformed, FiftyThousandTaskAwaitCycleIsReportedAtItsLastEdge) {
  constexpr int kTasks = 50'000;
  std::string text = "main:\n";
  for (int i = 0; i < kTasks; ++i) {
    text += "  task t" + std::to_string(i) + ":\n    await t" + std::to_string((i + 1) % kTasks) + "\n";
  }
  absl::StatusOr<Program> p = ProgramFromText(text);
  ASSERT_TRUE(p.ok()) << p.status();
  absl::Status s = Validate(*p);
  ASSERT_FALSE(s.ok());
  const std::string m(s.message());
  EXPECT_NE(m.find(": await cycle, deadlock by construction: "), std::string::npos) << m.substr(0, 300);
  // "L:C: main[i].task.body[0]: ..." names a step of the program.
  EXPECT_NE(m.find(": main["), std::string::npos) << m.substr(0, 300);
  EXPECT_NE(m.find("].task.body[0]: "), std::string::npos) << m.substr(0, 300);
}

// Wrong types and unknown ops four levels down: the path names each level.
TEST(Malformed, DeepWrongTypesAndUnknownStepsNameTheWholePath) {
  const std::string pre =
      R"({"main":[{"op":"group","name":"g","body":[{"op":"spawn","group":"g","task":{"name":"a","body":[)"
      R"({"op":"try","name":"t","body":[],"handlers":[{"name":"h","catch":"any","then":"swallow","body":[)";
  const std::string post = "]}]}]}}]}]}";
  struct Case {
    std::string step, message;
  };
  for (const Case& c : std::vector<Case>{
           {R"({"op":"sleep","d":"soon"})",
            "main[0].body[0].task.body[0].handlers[0].body[0].d: expected integer >= 0, got \"soon\""},
           {R"({"op":"nap","d":1})",
            "main[0].body[0].task.body[0].handlers[0].body[0].op: unknown op \"nap\""},
           {R"({"op":"cancel","target":["a"]})",
            "main[0].body[0].task.body[0].handlers[0].body[0].target: expected a name"},
           {R"({"op":"raise","label":"E","base":1})",
            "main[0].body[0].task.body[0].handlers[0].body[0].base: expected true or false, got 1"},
       }) {
    absl::StatusOr<Program> p = ProgramFromJson(pre + c.step + post);
    ASSERT_FALSE(p.ok()) << c.step;
    EXPECT_EQ(std::string(p.status().message()).rfind(c.message, 0), 0u) << p.status();
  }
}

}  // namespace
}  // namespace asyncspec::spec
