// Tests of the text form (spec/text.h, spec/LANGUAGE.md): the examples of
// LANGUAGE.md parse to the programs they describe, the printer's output
// parses back to an equal program (property over generated programs), and
// bad inputs are refused with the right line and column.
#include "spec/text.h"

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "rapidcheck/gtest.h"
#include "spec/json.h"
#include "spec/program_gen.h"
#include "spec/validate.h"

namespace asyncspec::spec {
namespace {

constexpr char kTwoErrors[] = R"(program tg_two_errors
main:
  group g:
    spawn g a:
      sleep 1
      raise E1
    spawn g b:
      raise base K1
  try t1:
    await a
  except* error E1 as h1 then swallow:
    sleep 1
  finally f1:
    sleep 0
)";

// The same program in JSON (FORMAT.md), written by hand.
constexpr char kTwoErrorsJson[] = R"({"asyncspec": 1, "name": "tg_two_errors", "main": [
  {"op": "group", "name": "g", "body": [
    {"op": "spawn", "group": "g", "task": {"name": "a", "body": [
      {"op": "sleep", "d": 1}, {"op": "raise", "label": "E1"}]}},
    {"op": "spawn", "group": "g", "task": {"name": "b", "body": [
      {"op": "raise", "label": "K1", "base": true}]}}]},
  {"op": "try", "name": "t1", "body": [{"op": "await", "target": "a"}],
   "handlers": [{"name": "h1", "catch": "error", "label": "E1", "star": true,
                 "body": [{"op": "sleep", "d": 1}], "then": "swallow"}],
   "finally": {"name": "f1", "body": [{"op": "sleep", "d": 0}]}}]})";

Program MustParse(std::string_view text) {
  absl::StatusOr<Program> p = ProgramFromText(text);
  EXPECT_TRUE(p.ok()) << p.status() << "\n" << text;
  return p.ok() ? *std::move(p) : Program{};
}

TEST(Text, BriefExampleMeansTheSameAsItsJson) {
  Program text = MustParse(kTwoErrors);
  absl::StatusOr<Program> json = ProgramFromJson(kTwoErrorsJson);
  ASSERT_TRUE(json.ok()) << json.status();
  EXPECT_EQ(text, *json);
  EXPECT_TRUE(Validate(text).ok()) << Validate(text);
}

TEST(Text, PrintsTheBriefExampleVerbatim) {
  EXPECT_EQ(ProgramToText(MustParse(kTwoErrors)), kTwoErrors);
}

TEST(Text, StepsCarryLineAndColumn) {
  Program p = MustParse(kTwoErrors);
  EXPECT_EQ(p.main[0].line, 3);
  EXPECT_EQ(p.main[0].column, 3);
  const auto& g = std::get<Group>(p.main[0].op);
  EXPECT_EQ(g.body[1].line, 7);
  EXPECT_EQ(g.body[1].column, 5);
  const auto& b = std::get<Spawn>(g.body[1].op);
  EXPECT_EQ(b.task.body[0].line, 8);
  EXPECT_EQ(b.task.body[0].column, 7);
  EXPECT_EQ(p.main[1].line, 9);
}

// Every construct of FORMAT.md, in its text spelling.
constexpr char kEverything[] = R"(# every construct once
main:
  sleep 0
  task free:
    pass
  gather G return_exceptions:
    child c1:
      raise "odd label"
    child c2:
      return "a value"
  gather G2:
    pass
  timeout tm 3:
    reschedule tm none
    sleep 5
  timeout never none:   # no deadline
    pass
  shield s inner:
    sleep 1
  wait_for w slow 2:
    sleep 9
    return done
  cancel free "because"
  cancel free
  await slow
  uncancel
  try t:
    raise E2
  except cancelled as h1 then reraise:
    pass
  except timeout as h2 then uncancel:
    pass
  except error as h3:
    pass
  except base K1 as h4 then swallow:
    pass
  except group as h5 then swallow:
    pass
  except runtime as h6 then swallow:
    pass
  except exception as h7 then swallow:
    pass
  except any as h8 then swallow:
    pass
)";

TEST(Text, ParsesEveryConstruct) {
  Program p = MustParse(kEverything);
  ASSERT_EQ(p.main.size(), 13u);
  EXPECT_EQ(std::get<Sleep>(p.main[0].op).d, 0);
  EXPECT_TRUE(std::get<CreateTask>(p.main[1].op).task.body.empty());
  const auto& g = std::get<Gather>(p.main[2].op);
  EXPECT_TRUE(g.return_exceptions);
  ASSERT_EQ(g.children.size(), 2u);
  EXPECT_EQ(std::get<Raise>(g.children[0].body[0].op).label, "odd label");
  EXPECT_EQ(std::get<Return>(g.children[1].body[0].op).value, "a value");
  EXPECT_TRUE(std::get<Gather>(p.main[3].op).children.empty());
  EXPECT_FALSE(std::get<Gather>(p.main[3].op).return_exceptions);
  const auto& tm = std::get<Timeout>(p.main[4].op);
  EXPECT_EQ(tm.d, 3);
  EXPECT_EQ(std::get<Reschedule>(tm.body[0].op).d, std::nullopt);
  EXPECT_EQ(std::get<Timeout>(p.main[5].op).d, std::nullopt);
  EXPECT_EQ(std::get<Shield>(p.main[6].op).task.name, "inner");
  const auto& w = std::get<WaitFor>(p.main[7].op);
  EXPECT_EQ(w.task.name, "slow");
  EXPECT_EQ(w.d, 2);
  EXPECT_EQ(std::get<Return>(w.task.body[1].op).value, "done");
  EXPECT_EQ(std::get<Cancel>(p.main[8].op).msg, "because");
  EXPECT_EQ(std::get<Cancel>(p.main[9].op).msg, std::nullopt);
  EXPECT_EQ(std::get<Await>(p.main[10].op).target, "slow");
  EXPECT_TRUE(std::holds_alternative<Uncancel>(p.main[11].op));
  const auto& t = std::get<Try>(p.main[12].op);
  ASSERT_EQ(t.handlers.size(), 8u);
  EXPECT_EQ(t.handlers[0].kind, CatchKind::kCancelled);
  EXPECT_EQ(t.handlers[0].then, Then::kReraise);
  EXPECT_EQ(t.handlers[1].then, Then::kUncancel);
  EXPECT_EQ(t.handlers[2].then, Then::kSwallow);  // the default
  EXPECT_EQ(t.handlers[2].label, std::nullopt);
  EXPECT_EQ(t.handlers[3].label, "K1");
  EXPECT_EQ(t.handlers[7].kind, CatchKind::kAny);
  EXPECT_FALSE(t.finally.has_value());
  EXPECT_TRUE(Validate(p).ok()) << Validate(p);
  // And the canonical print of it reads back equal.
  EXPECT_EQ(MustParse(ProgramToText(p)), p);
}

TEST(Text, KeywordsAreNamesWherePositionSaysSo) {
  // Names may be any identifier; strings that are keywords are quoted.
  Program p = MustParse(
      "main:\n  group as:\n    spawn as then:\n      raise \"base\"\n  raise base base\n"
      "  try none:\n    pass\n  except error \"as\" as then then reraise:\n    pass\n");
  const auto& g = std::get<Group>(p.main[0].op);
  EXPECT_EQ(g.name, "as");
  EXPECT_EQ(std::get<Spawn>(g.body[0].op).task.name, "then");
  EXPECT_EQ(std::get<Raise>(std::get<Spawn>(g.body[0].op).task.body[0].op).label, "base");
  EXPECT_FALSE(std::get<Raise>(std::get<Spawn>(g.body[0].op).task.body[0].op).base);
  EXPECT_TRUE(std::get<Raise>(p.main[1].op).base);
  EXPECT_EQ(std::get<Raise>(p.main[1].op).label, "base");
  const auto& h = std::get<Try>(p.main[2].op).handlers[0];
  EXPECT_EQ(h.label, "as");
  EXPECT_EQ(h.name, "then");
  EXPECT_EQ(h.then, Then::kReraise);
  EXPECT_EQ(MustParse(ProgramToText(p)), p);
}

TEST(Text, StringEscapesAndUtf8) {
  // A bare word is ASCII; anything else is a quoted JSON string literal.
  absl::StatusOr<Program> bare = ProgramFromText("main:\n  raise caf\xc3\xa9\n");
  ASSERT_FALSE(bare.ok());
  EXPECT_EQ(std::string(bare.status().message()), "2:12: unexpected character '\\xc3'");
  Program p = MustParse("main:\n  raise \"a\\\"b\\\\c\\n\\u00e9\\ud83d\\udc0d\xc3\xa9\"\n");
  EXPECT_EQ(std::get<Raise>(p.main[0].op).label, "a\"b\\c\n\xc3\xa9\xf0\x9f\x90\x8d\xc3\xa9");
  std::string printed = ProgramToText(p);
  EXPECT_EQ(MustParse(printed), p);
  // The label's newline is printed escaped: the step stays on one line.
  EXPECT_EQ(printed, "main:\n  raise \"a\\\"b\\\\c\\n\xc3\xa9\xf0\x9f\x90\x8d\xc3\xa9\"\n");
}

TEST(Text, CommentsBlankLinesCrLfAndDeeperIndents) {
  Program p = MustParse(
      "# header\r\n\r\nmain:   # root\r\n\r\n      group g:\r\n         # inside\r\n"
      "          sleep 1\r\n\r\n      sleep 2\r\n");
  ASSERT_EQ(p.main.size(), 2u);
  EXPECT_EQ(std::get<Sleep>(std::get<Group>(p.main[0].op).body[0].op).d, 1);
  EXPECT_EQ(std::get<Sleep>(p.main[1].op).d, 2);
}

// Every program example in LANGUAGE.md (a ``` block starting with "program"
// or "main:") parses, is valid, and prints back to a text that parses equal.
TEST(Text, LanguageMdExamplesParseAndAreValid) {
  std::ifstream in("spec/LANGUAGE.md");
  ASSERT_TRUE(in.good()) << "spec/LANGUAGE.md not in the test's runfiles";
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string doc = buffer.str();
  // Fenced blocks: a line starting with ``` opens one (maybe with a
  // language) and the next such line closes it.
  std::vector<std::string> blocks;
  std::istringstream lines(doc);
  std::string line, block;
  bool in_block = false;
  while (std::getline(lines, line)) {
    if (line.rfind("```", 0) == 0) {
      if (in_block) blocks.push_back(block);
      in_block = !in_block;
      block.clear();
    } else if (in_block) {
      block += line + "\n";
    }
  }
  EXPECT_FALSE(in_block) << "unclosed ``` block";
  int examples = 0;
  for (const std::string& b : blocks) {
    if (b.rfind("program ", 0) == 0 || b.rfind("main:", 0) == 0) {
      ++examples;
      absl::StatusOr<Program> p = ProgramFromText(b);
      ASSERT_TRUE(p.ok()) << p.status() << "\n" << b;
      EXPECT_TRUE(Validate(*p).ok()) << Validate(*p) << "\n" << b;
      EXPECT_EQ(MustParse(ProgramToText(*p)), *p);
    }
  }
  EXPECT_EQ(examples, 5);
}

struct BadText {
  const char* text;
  const char* error;  // the whole message, "line:column: ..."
};

class BadTextTest : public testing::TestWithParam<BadText> {};

TEST_P(BadTextTest, RefusedWithPlace) {
  absl::StatusOr<Program> p = ProgramFromText(GetParam().text);
  ASSERT_FALSE(p.ok()) << GetParam().text;
  EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(p.status().message()), GetParam().error) << GetParam().text;
}

INSTANTIATE_TEST_SUITE_P(
    Errors, BadTextTest,
    testing::Values(
        BadText{"", "1:1: empty program; expected 'main:'"},
        BadText{"# only a comment\n", "1:1: empty program; expected 'main:'"},
        BadText{"program p\n", "2:1: expected 'main:'"},
        BadText{"mian:\n  sleep 1\n", "1:1: expected 'main:'"},
        BadText{"main\n  sleep 1\n", "1:5: expected ':' after 'main'"},
        BadText{"main:\n", "2:1: expected an indented block after line 1 (write 'pass' for an "
                           "empty body)"},
        BadText{"main:\nsleep 1\n", "2:1: expected an indented block after line 1 (write 'pass' "
                                    "for an empty body)"},
        BadText{"  main:\n", "1:3: unexpected indent"},
        BadText{"main:\n  sleep 1\n    sleep 2\n", "3:5: unexpected indent"},
        BadText{"main:\n    group g:\n      sleep 1\n  sleep 2\n",
                "4:3: unindent does not match any outer indentation level"},
        BadText{"main:\n  sleep 1\nmain:\n  sleep 1\n",
                "3:1: unexpected text after main's body (a program has one main)"},
        BadText{"main:\n\tsleep 1\n", "2:1: tab in indentation; indent with spaces"},
        BadText{"main:\n  slep 1\n",
                "2:3: unknown step 'slep' (expected sleep, raise, return, task, group, spawn, "
                "gather, timeout, reschedule, shield, wait_for, cancel, await, uncancel, try or "
                "pass)"},
        BadText{"main:\n  sleep\n", "2:8: expected a delay (an integer >= 0) after 'sleep'"},
        BadText{"main:\n  sleep x\n", "2:9: expected a delay (an integer >= 0) after 'sleep'"},
        BadText{"main:\n  sleep -1\n", "2:9: negative number; delays are integers >= 0"},
        BadText{"main:\n  sleep 1 2\n", "2:11: unexpected '2' after 'sleep 1'"},
        BadText{"main:\n  sleep 99999999999999999999\n",
                "2:9: a delay 99999999999999999999 is larger than the limit 1000000000000"},
        BadText{"main:\n  sleep 1000000000001\n",
                "2:9: a delay 1000000000001 is larger than the limit 1000000000000"},
        BadText{"main:\n  spawn g a\n    sleep 1\n", "2:12: expected ':' after 'spawn g a'"},
        BadText{"main:\n  spawn g:\n    sleep 1\n", "2:10: expected a task name after 'spawn g'"},
        BadText{"main:\n  group 1g:\n    pass\n",
                "2:9: a name cannot start with a digit (quote it if it is a label)"},
        BadText{"main:\n  group \"g\":\n    pass\n", "2:9: expected a group name after 'group'"},
        BadText{"main:\n  timeout t:\n    pass\n",
                "2:12: expected a delay (an integer >= 0 or none) after 'timeout t'"},
        BadText{"main:\n  raise \"open\n", "2:9: unterminated string"},
        BadText{"main:\n  raise \"bad \\q escape\"\n",
                "2:9: invalid string literal: syntax error while parsing value - invalid string: "
                "forbidden character after backslash; last read: '\"bad \\q'"},
        BadText{"main:\n  raise\n",
                "2:8: expected an exception label (a word or a \"quoted string\") after 'raise'"},
        BadText{"main:\n  sleep 1 @\n", "2:11: unexpected character '@'"},
        BadText{"main:\n  sleep 1 \x01\n", "2:11: unexpected character '\\x01'"},
        BadText{"main:\n  except error as h:\n    pass\n",
                "2:3: 'except' without a try just above it"},
        BadText{"main:\n  finally f:\n    pass\n", "2:3: 'finally' without a try just above it"},
        BadText{"main:\n  try t:\n    pass\n  except oops as h:\n    pass\n",
                "4:10: expected a catch kind (cancelled, timeout, error, base, group, runtime, "
                "exception or any) after 'except'"},
        BadText{"main:\n  try t:\n    pass\n  except timeout T1 as h:\n    pass\n",
                "4:18: expected 'as' after 'except timeout' (a label is only allowed after "
                "error or base)"},
        BadText{"main:\n  try t:\n    pass\n  except* error E1 h:\n    pass\n",
                "4:20: expected 'as NAME' after 'except* error E1'"},
        BadText{"main:\n  try t:\n    pass\n  except error as h then ignore:\n    pass\n",
                "4:26: expected reraise, swallow or uncancel after 'except error as h then'"},
        BadText{"main:\n  try t:\n    pass\n  except error as h:\n", "5:1: expected an indented "
                "block after line 4 (write 'pass' for an empty body)"},
        BadText{"main:\n  gather G:\n    task a:\n      pass\n",
                "3:5: expected 'child NAME:' (a gather's body lists its children)"},
        BadText{"main:\n  pass extra\n", "2:8: unexpected 'extra' after 'pass'"},
        BadText{"main:\n  wait_for w a:\n    pass\n",
                "2:15: expected a delay (an integer >= 0 or none) after 'wait_for w a'"},
        BadText{"main:\n  uncancel now\n", "2:12: unexpected 'now' after 'uncancel'"}));

// 1,200 nested groups: refused at the limit, before the parser recurses
// further. (100,000 levels of indentation would be ~5 GB of text, which the
// size limit refuses first; the JSON test covers 100,000 levels.)
TEST(Text, DeepNestingIsRefusedAtTheLimit) {
  std::string text = "main:\n";
  std::string indent = " ";
  for (int i = 0; i < 1200; ++i) {  // deeper than kMaxNesting is enough to be refused
    text += indent + "group g" + std::to_string(i) + ":\n";
    indent += ' ';
  }
  text += indent + "pass\n";
  absl::StatusOr<Program> p = ProgramFromText(text);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(std::string(p.status().message()),
            "1001:1001: bodies nested deeper than 1000 (the limit)");
}

TEST(Text, NestingAtTheLimitIsAccepted) {
  std::string text = "main:\n";
  std::string indent = " ";
  for (int i = 1; i < kMaxNesting; ++i) {
    text += indent + "group g" + std::to_string(i) + ":\n";
    indent += ' ';
  }
  text += indent + "sleep 1\n";
  absl::StatusOr<Program> p = ProgramFromText(text);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_TRUE(Validate(*p).ok()) << Validate(*p);
  EXPECT_EQ(*ProgramFromText(ProgramToText(*p)), *p);
  EXPECT_EQ(*ProgramFromJson(ProgramToJson(*p)), *p);
}

TEST(Text, TooManyStepsIsRefused) {
  std::string text = "main:\n";
  for (std::size_t i = 0; i <= kMaxSteps; ++i) text += "  sleep 0\n";
  absl::StatusOr<Program> p = ProgramFromText(text);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(std::string(p.status().message()),
            "100002:3: more than 100000 steps in the program (the limit)");
}

RC_GTEST_PROP(TextProperty, PrintParsePrintIsIdentity, ()) {
  const Program p = *gen::ValidProgram();
  const std::string text = ProgramToText(p);
  absl::StatusOr<Program> q = ProgramFromText(text);
  RC_ASSERT(q.ok());
  RC_ASSERT(*q == p);
  RC_ASSERT(ProgramToText(*q) == text);
}

RC_GTEST_PROP(TextProperty, TextAndJsonAgree, ()) {
  const Program p = *gen::ValidProgram();
  absl::StatusOr<Program> from_text = ProgramFromText(ProgramToText(p));
  absl::StatusOr<Program> from_json = ProgramFromJson(ProgramToJson(p));
  RC_ASSERT(from_text.ok());
  RC_ASSERT(from_json.ok());
  RC_ASSERT(*from_text == *from_json);
}

// Arbitrary bytes never crash the parser, and a failure always has a place.
RC_GTEST_PROP(TextProperty, GarbageIsRefusedWithAPlace, (const std::string& junk)) {
  absl::StatusOr<Program> p = ProgramFromText("main:\n  " + junk);
  if (!p.ok()) {
    const std::string m(p.status().message());
    const bool has_place = m.find(':') != std::string::npos && m[0] >= '1' && m[0] <= '9';
    RC_ASSERT(has_place);
  }
}

// A valid program's text with one byte changed is parsed or refused with a
// "line:column: " message; never a crash or an exception.
RC_GTEST_PROP(TextProperty, OneByteMutationsAreHandled, ()) {
  std::string text = ProgramToText(*gen::ValidProgram());
  const auto at = *rc::gen::inRange<std::size_t>(0, text.size());
  const auto byte = *rc::gen::element<char>(' ', '\n', '\t', ':', '"', '#', '*', '-', '1', 'x',
                                            '\\', '\0', '\xff');
  text[at] = byte;
  absl::StatusOr<Program> p = ProgramFromText(text);
  if (!p.ok()) {
    const std::string m(p.status().message());
    const bool has_place = p.status().code() == absl::StatusCode::kInvalidArgument &&
                           m.find(':') != std::string::npos && m[0] >= '1' && m[0] <= '9';
    RC_ASSERT(has_place);
  }
}

}  // namespace
}  // namespace asyncspec::spec
