// Tests of the JSON form (spec/json.h): hand-written programs and outcomes
// from FORMAT.md, bad inputs whose errors must name the right place, and
// property-based round trips over generated programs and outcomes.
#include "spec/json.h"

#include <string>

#include "gtest/gtest.h"
#include "rapidcheck/gtest.h"
#include "spec/program_gen.h"
#include "spec/validate.h"

namespace asyncspec::spec {
namespace {

// The program of FORMAT.md's example, written by hand.
constexpr char kTwoErrors[] = R"({"asyncspec": 1, "name": "tg_two_errors", "main": [
  {"op": "group", "name": "g", "body": [
    {"op": "spawn", "group": "g", "task": {"name": "a", "body": [
      {"op": "sleep", "d": 1}, {"op": "raise", "label": "E1"}]}},
    {"op": "spawn", "group": "g", "task": {"name": "b", "body": [
      {"op": "raise", "label": "K1", "base": true}]}}]},
  {"op": "try", "name": "t1", "body": [{"op": "await", "target": "a"}],
   "handlers": [{"name": "h1", "catch": "error", "label": "E1", "star": true,
                 "body": [{"op": "sleep", "d": 1}], "then": "swallow"}],
   "finally": {"name": "f1", "body": [{"op": "sleep", "d": 0}]}}]})";

TEST(ProgramJson, ReadsFormatExample) {
  absl::StatusOr<Program> p = ProgramFromJson(kTwoErrors);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->name, "tg_two_errors");
  ASSERT_EQ(p->main.size(), 2u);
  const auto& g = std::get<Group>(p->main[0].op);
  EXPECT_EQ(g.name, "g");
  ASSERT_EQ(g.body.size(), 2u);
  const auto& b = std::get<Spawn>(g.body[1].op);
  EXPECT_EQ(b.group, "g");
  EXPECT_EQ(b.task.name, "b");
  const auto& k1 = std::get<Raise>(b.task.body[0].op);
  EXPECT_EQ(k1.label, "K1");
  EXPECT_TRUE(k1.base);
  const auto& t = std::get<Try>(p->main[1].op);
  ASSERT_EQ(t.handlers.size(), 1u);
  EXPECT_EQ(t.handlers[0].kind, CatchKind::kError);
  EXPECT_EQ(t.handlers[0].label, "E1");
  EXPECT_TRUE(t.handlers[0].star);
  EXPECT_EQ(t.handlers[0].then, Then::kSwallow);
  ASSERT_TRUE(t.finally.has_value());
  EXPECT_EQ(t.finally->name, "f1");
  EXPECT_EQ(std::get<Sleep>(t.finally->body[0].op).d, 0);
}

TEST(ProgramJson, WritesOneLineThatReadsBackEqual) {
  absl::StatusOr<Program> p = ProgramFromJson(kTwoErrors);
  ASSERT_TRUE(p.ok()) << p.status();
  std::string out = ProgramToJson(*p);
  EXPECT_EQ(out.find('\n'), std::string::npos);
  absl::StatusOr<Program> q = ProgramFromJson(out);
  ASSERT_TRUE(q.ok()) << q.status() << "\n" << out;
  EXPECT_EQ(*p, *q);
  EXPECT_EQ(ProgramToJson(*q), out);
}

struct BadJson {
  const char* json;
  const char* error;  // the whole message
};

class BadProgramJson : public testing::TestWithParam<BadJson> {};

TEST_P(BadProgramJson, RefusedWithPlace) {
  absl::StatusOr<Program> p = ProgramFromJson(GetParam().json);
  ASSERT_FALSE(p.ok()) << GetParam().json;
  EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(p.status().message()), GetParam().error) << GetParam().json;
}

#define MAIN(steps) "{\"main\": [" steps "]}"

INSTANTIATE_TEST_SUITE_P(
    Errors, BadProgramJson,
    testing::Values(
        // Syntax: line, column and byte offset of the offending byte.
        BadJson{"", "line 1, column 1 (byte 0): syntax error while parsing value - unexpected "
                    "end of input; expected '[', '{', or a literal"},
        BadJson{"{\"main\": [\n  {\"op\": \"sleep\" \"d\": 1}]}",
                // The place is the last byte nlohmann read: the closing quote of "d".
                "line 2, column 20 (byte 30): syntax error while parsing object - unexpected "
                "string literal; expected '}'"},
        BadJson{"{\"main\": []} x", "line 1, column 14 (byte 13): syntax error while parsing "
                                   "value - invalid literal; last read: '\"main\": []} x'; "
                                   "expected end of input"},
        // Shape.
        BadJson{"[]", "(top level): expected an object, got []"},
        BadJson{"{}", "(top level): missing field \"main\""},
        BadJson{"{\"asyncspec\": 2, \"main\": []}",
                "asyncspec: expected 1 (the format version), got 2"},
        BadJson{"{\"main\": [], \"mian\": []}",
                "mian: unknown field of a program (allowed: asyncspec, name, main)"},
        BadJson{"{\"main\": {}}", "main: expected an array, got {}"},
        BadJson{MAIN("1"), "main[0]: expected an object, got 1"},
        BadJson{MAIN("{}"), "main[0]: missing field \"op\""},
        BadJson{MAIN("{\"op\": 7}"), "main[0].op: expected an op name (a string), got 7"},
        BadJson{MAIN("{\"op\": \"sleep\", \"d\": 1}, {\"op\": \"slep\", \"d\": 1}"),
                "main[1].op: unknown op \"slep\" (expected sleep, raise, return, task, group, "
                "spawn, gather, timeout, reschedule, shield, wait_for, cancel, await, uncancel "
                "or try)"},
        BadJson{MAIN("{\"op\": \"sleep\"}"), "main[0]: missing field \"d\""},
        BadJson{MAIN("{\"op\": \"sleep\", \"d\": \"x\"}"),
                "main[0].d: expected integer >= 0, got \"x\""},
        BadJson{MAIN("{\"op\": \"sleep\", \"d\": -1}"), "main[0].d: expected integer >= 0, got -1"},
        BadJson{MAIN("{\"op\": \"sleep\", \"d\": 1.5}"), "main[0].d: expected integer >= 0, got 1.5"},
        BadJson{MAIN("{\"op\": \"sleep\", \"d\": null}"), "main[0].d: expected integer >= 0, got null"},
        BadJson{MAIN("{\"op\": \"sleep\", \"d\": 1000000000001}"),
                "main[0].d: expected integer <= 1000000000000, got 1000000000001"},
        BadJson{MAIN("{\"op\": \"sleep\", \"d\": 99999999999999999999}"),
                "main[0].d: expected integer >= 0, got 1e+20"},
        BadJson{MAIN("{\"op\": \"sleep\", \"d\": 1, \"dd\": 2}"),
                "main[0].dd: unknown field of op \"sleep\" (allowed: op, d)"},
        BadJson{MAIN("{\"op\": \"group\", \"name\": \"g\", \"body\": [{\"op\": \"timeout\", "
                     "\"name\": \"t\", \"d\": -3, \"body\": []}]}"),
                "main[0].body[0].d: expected integer >= 0, got -3"},
        BadJson{MAIN("{\"op\": \"group\", \"name\": \"1g\", \"body\": []}"),
                "main[0].name: expected a name matching [A-Za-z_][A-Za-z0-9_]*, got \"1g\""},
        BadJson{MAIN("{\"op\": \"raise\", \"label\": \"E\", \"base\": \"yes\"}"),
                "main[0].base: expected true or false, got \"yes\""},
        BadJson{MAIN("{\"op\": \"spawn\", \"group\": \"g\", \"task\": {\"name\": \"a\"}}"),
                "main[0].task: missing field \"body\""},
        BadJson{MAIN("{\"op\": \"gather\", \"name\": \"G\", \"children\": [{\"name\": \"a\", "
                     "\"body\": [{\"op\": \"await\", \"target\": 3}]}]}"),
                "main[0].children[0].body[0].target: expected a name matching "
                "[A-Za-z_][A-Za-z0-9_]*, got 3"},
        BadJson{MAIN("{\"op\": \"wait_for\", \"name\": \"w\", \"task\": {\"name\": \"a\", "
                     "\"body\": []}}"),
                "main[0]: missing field \"d\""},
        BadJson{MAIN("{\"op\": \"cancel\", \"target\": \"a\", \"msg\": 5}"),
                "main[0].msg: expected a string or null, got 5"},
        BadJson{MAIN("{\"op\": \"try\", \"name\": \"t\", \"body\": [], \"handlers\": [{\"name\": "
                     "\"h\", \"catch\": \"oops\", \"body\": [], \"then\": \"swallow\"}]}"),
                "main[0].handlers[0].catch: expected one of cancelled, timeout, error, base, "
                "group, runtime, exception, any, got \"oops\""},
        BadJson{MAIN("{\"op\": \"try\", \"name\": \"t\", \"body\": [], \"handlers\": [{\"name\": "
                     "\"h\", \"catch\": \"timeout\", \"label\": \"E1\", \"body\": [], \"then\": "
                     "\"swallow\"}]}"),
                "main[0].handlers[0].label: a label is only allowed with catch \"error\" or "
                "\"base\""},
        BadJson{MAIN("{\"op\": \"try\", \"name\": \"t\", \"body\": [], \"handlers\": [{\"name\": "
                     "\"h\", \"catch\": \"any\", \"body\": []}]}"),
                "main[0].handlers[0]: missing field \"then\""},
        BadJson{MAIN("{\"op\": \"try\", \"name\": \"t\", \"body\": [], \"handlers\": [], "
                     "\"finally\": {\"name\": \"f\", \"body\": [{\"op\": \"return\"}]}}"),
                "main[0].finally.body[0]: missing field \"value\""},
        BadJson{MAIN("{\"op\": \"sleep\", \"d\": 1, \"d\": 2}"),
                "main[0]: key \"d\" appears twice in one object (the first would be ignored)"},
        BadJson{"{\"main\": [], \"main\": []}",
                "(top level): key \"main\" appears twice in one object (the first would be "
                "ignored)"},
        BadJson{MAIN("{\"op\": \"group\", \"name\": \"g\", \"body\": [{\"op\": \"uncancel\"}, "
                     "{\"op\": \"task\", \"task\": {\"name\": \"a\", \"name\": \"b\"}}]}"),
                "main[0].body[1].task: key \"name\" appears twice in one object (the first would "
                "be ignored)"},
        BadJson{MAIN("{\"op\": \"uncancel\", \"now\": true}"),
                "main[0].now: unknown field of op \"uncancel\" (allowed: op)"}));

// A JSON text 100,000 levels deep is refused by the depth scan, before any
// recursive reader could see it.
TEST(ProgramJson, HundredThousandDeepArraysAreRefused) {
  const std::string deep = "{\"main\": " + std::string(100'000, '[') + std::string(100'000, ']') + "}";
  absl::StatusOr<Program> p = ProgramFromJson(deep);
  ASSERT_FALSE(p.ok());
  // The scan stops at the first bracket beyond 4016 levels: byte 9 + 4015.
  EXPECT_EQ(std::string(p.status().message()),
            "line 1, column 4025 (byte 4024): JSON nested deeper than 4016 levels; no valid "
            "input is that deep (limit kMaxNesting = 1000)");
  absl::StatusOr<Outcome> o = OutcomeFromJson(deep);
  EXPECT_FALSE(o.ok());
  absl::StatusOr<Exc> e = ExcFromJson(std::string(100'000, '{'));
  EXPECT_FALSE(e.ok());
}

// 100,000 nested groups, as real steps: refused with the limit's message.
TEST(ProgramJson, HundredThousandNestedGroupsAreRefused) {
  std::string deep = "{\"main\": [";
  constexpr int kDepth = 100'000;
  for (int i = 0; i < kDepth; ++i) deep += "{\"op\": \"group\", \"name\": \"g\", \"body\": [";
  for (int i = 0; i < kDepth; ++i) deep += "]}";
  deep += "]}";
  absl::StatusOr<Program> p = ProgramFromJson(deep);
  ASSERT_FALSE(p.ok());
  EXPECT_NE(std::string(p.status().message()).find("JSON nested deeper than 4016 levels"),
            std::string::npos)
      << p.status();
}

// Just deeper than kMaxNesting, but within the JSON depth scan: the reader's
// own limit names the step path (its middle elided).
TEST(ProgramJson, NestingBeyondTheLimitNamesThePath) {
  std::string deep = "{\"main\": [";
  for (int i = 0; i < kMaxNesting; ++i) {
    deep += "{\"op\": \"group\", \"name\": \"g" + std::to_string(i) + "\", \"body\": [";
  }
  for (int i = 0; i < kMaxNesting; ++i) deep += "]}";
  deep += "]}";
  absl::StatusOr<Program> p = ProgramFromJson(deep);
  ASSERT_FALSE(p.ok());
  // The body of the 1000th group holds steps at depth 1001.
  EXPECT_EQ(std::string(p.status().message()),
            // 2001 segments: main [0], (body [0]) x 999, body; 6 + 12 are kept.
            "main[0].body[0].body[0]...(1983 more)...[0].body[0].body[0].body[0].body[0].body[0]"
            ".body: bodies nested deeper than 1000 (the limit)");
}

TEST(ProgramJson, TooManyStepsAreRefused) {
  std::string big = "{\"main\": [";
  for (std::size_t i = 0; i <= kMaxSteps; ++i) big += i == 0 ? "{\"op\":\"uncancel\"}" : ",{\"op\":\"uncancel\"}";
  big += "]}";
  absl::StatusOr<Program> p = ProgramFromJson(big);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(std::string(p.status().message()),
            "main[100000]: more than 100000 steps in the program (the limit)");
}

TEST(ProgramJson, DefaultsAndNulls) {
  absl::StatusOr<Program> p = ProgramFromJson(
      MAIN("{\"op\": \"raise\", \"label\": \"E\"}, {\"op\": \"gather\", \"name\": \"G\", "
           "\"children\": []}, {\"op\": \"cancel\", \"target\": \"x\", \"msg\": null}, "
           "{\"op\": \"timeout\", \"name\": \"t\", \"d\": null, \"body\": []}, "
           "{\"op\": \"try\", \"name\": \"y\", \"body\": [], \"handlers\": [{\"name\": \"h\", "
           "\"catch\": \"error\", \"body\": [], \"then\": \"reraise\"}], \"finally\": null}"));
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->name, "");
  EXPECT_FALSE(std::get<Raise>(p->main[0].op).base);
  EXPECT_FALSE(std::get<Gather>(p->main[1].op).return_exceptions);
  EXPECT_EQ(std::get<Cancel>(p->main[2].op).msg, std::nullopt);
  EXPECT_EQ(std::get<Timeout>(p->main[3].op).d, std::nullopt);
  const Try& t = std::get<Try>(p->main[4].op);
  EXPECT_FALSE(t.handlers[0].star);
  EXPECT_EQ(t.handlers[0].label, std::nullopt);
  EXPECT_EQ(t.handlers[0].then, Then::kReraise);
  EXPECT_FALSE(t.finally.has_value());
}

TEST(ProgramJson, WriterEscapesStringsAndReplacesInvalidUtf8) {
  Program p;
  p.main.push_back(Step{Raise{"a\"b\\c\n\x01\xc3\xa9\xff", false}});
  const std::string out = ProgramToJson(p);
  EXPECT_EQ(out,
            "{\"asyncspec\":1,\"main\":[{\"op\":\"raise\",\"label\":\"a\\\"b\\\\c\\n\\u0001"
            "\xc3\xa9\\ufffd\",\"base\":false}]}");
  absl::StatusOr<Program> q = ProgramFromJson(out);
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_EQ(std::get<Raise>(q->main[0].op).label, "a\"b\\c\n\x01\xc3\xa9\xef\xbf\xbd");
}

RC_GTEST_PROP(ProgramJsonProperty, WriteReadWriteIsIdentity, ()) {
  const Program p = *gen::ValidProgram();
  const std::string json = ProgramToJson(p);
  RC_ASSERT(json.find('\n') == std::string::npos);
  absl::StatusOr<Program> q = ProgramFromJson(json);
  RC_ASSERT(q.ok());
  RC_ASSERT(*q == p);
  RC_ASSERT(ProgramToJson(*q) == json);
}

// Any byte string is either read or refused with a message; never a crash.
RC_GTEST_PROP(ProgramJsonProperty, GarbageNeverEscapes, (const std::string& junk)) {
  absl::StatusOr<Program> p = ProgramFromJson(junk);
  const bool program_ok = p.ok() || !p.status().message().empty();
  RC_ASSERT(program_ok);
  absl::StatusOr<Outcome> o = OutcomeFromJson(junk);
  const bool outcome_ok = o.ok() || !o.status().message().empty();
  RC_ASSERT(outcome_ok);
}

// A valid program's JSON with one byte changed is read or refused with a
// message; never a crash or an exception (a poor man's fuzzer, run by every
// test; the JSON syntax is then mostly valid, so the readers are reached).
RC_GTEST_PROP(ProgramJsonProperty, OneByteMutationsAreHandled, ()) {
  std::string json = ProgramToJson(*gen::ValidProgram());
  const auto at = *rc::gen::inRange<std::size_t>(0, json.size());
  const auto byte = *rc::gen::element<char>('"', '{', '}', '[', ']', ',', ':', '0', '-', 'x', ' ',
                                            '\\', '\0', '\xff');
  json[at] = byte;
  absl::StatusOr<Program> p = ProgramFromJson(json);
  const bool handled = p.ok() || (p.status().code() == absl::StatusCode::kInvalidArgument &&
                                  !p.status().message().empty());
  RC_ASSERT(handled);
}

// ---------------------------------------------------------------- outcomes

constexpr char kOutcome[] = R"({
  "tasks": {"main": {"start": 0, "end": 3, "state": "raised",
                     "error": {"type": "group", "base": false, "children": [
                        {"type": "error", "label": "E1"}]}},
            "a": {"start": 0, "end": 1, "state": "returned", "value": null},
            "b": {"start": null, "end": 2, "state": "cancelled",
                  "error": {"type": "cancelled", "msg": "why"}},
            "c": {"start": 1, "end": null, "state": "pending"}},
  "blocks": {"h1": {"start": 2, "end": 3}, "f1": {"start": 3, "end": null}},
  "scopes": {"g1": {"end": 3, "raised": {"type": "runtime", "what": "taskgroup_finished",
                                          "text": "TaskGroup g1 is finished"}},
             "G": {"end": 2, "value": [{"value": "x"}, {"error": {"type": "timeout"}},
                                       {"value": null}]},
             "tm": {"end": 1, "expired": true}, "w": {"end": 2, "value": "v"}},
  "run": {"type": "base", "label": "K1"},
  "unretrieved": [{"task": "b", "error": {"type": "error", "label": "E2"}}],
  "end_time": 3
})";

TEST(OutcomeJson, ReadsAnExample) {
  absl::StatusOr<Outcome> o = OutcomeFromJson(kOutcome);
  ASSERT_TRUE(o.ok()) << o.status();
  const TaskOutcome& main = o->tasks.at("main");
  EXPECT_EQ(main.state, TaskOutcome::State::kRaised);
  EXPECT_EQ(main.error->type, Exc::Type::kGroup);
  EXPECT_FALSE(main.error->base_group);
  EXPECT_EQ(main.error->children.at(0).label, "E1");
  EXPECT_EQ(o->tasks.at("a").value, std::nullopt);
  EXPECT_EQ(o->tasks.at("b").start, std::nullopt);
  EXPECT_EQ(o->tasks.at("b").error->msg, "why");
  EXPECT_EQ(o->tasks.at("c").state, TaskOutcome::State::kPending);
  EXPECT_EQ(o->blocks.at("f1").end, std::nullopt);
  EXPECT_EQ(o->scopes.at("g1").raised->what, "taskgroup_finished");
  ASSERT_TRUE(o->scopes.at("G").items.has_value());
  EXPECT_EQ(o->scopes.at("G").items->size(), 3u);
  EXPECT_EQ(o->scopes.at("G").items->at(1).error->type, Exc::Type::kTimeout);
  EXPECT_EQ(o->scopes.at("tm").expired, true);
  EXPECT_EQ(o->scopes.at("w").value, "v");
  EXPECT_EQ(o->run->type, Exc::Type::kBase);
  EXPECT_EQ(o->unretrieved.at(0).task, "b");
  EXPECT_EQ(o->end_time, 3);
  const std::string out = OutcomeToJson(*o);
  EXPECT_EQ(out.find('\n'), std::string::npos);
  absl::StatusOr<Outcome> back = OutcomeFromJson(out);
  ASSERT_TRUE(back.ok()) << back.status() << "\n" << out;
  EXPECT_EQ(*back, *o);
}

// RT-8: the optional channels are read in any order, kept sorted by
// (task, kind), written back, and absent means "not observed".
TEST(OutcomeJson, RT_8_ReadsHandlerCallsAndWarnings) {
  const std::string with = R"({"tasks": {"a": {"start": 0, "end": 0, "state": "raised",
      "error": {"type": "error", "label": "E1"}}, "b": {"start": null, "end": null, "state": "pending"}},
    "blocks": {}, "scopes": {}, "run": null,
    "unretrieved": [{"task": "a", "error": {"type": "error", "label": "E1"}}], "end_time": 0,
    "handler": [{"kind": "destroyed_pending", "task": "b"},
                {"kind": "never_retrieved", "task": "a", "error": {"type": "error", "label": "E1"}}],
    "warnings": [{"kind": "never_awaited", "task": "b"}]})";
  absl::StatusOr<Outcome> o = OutcomeFromJson(with);
  ASSERT_TRUE(o.ok()) << o.status();
  ASSERT_TRUE(o->handler.has_value());
  ASSERT_EQ(o->handler->size(), 2u);
  EXPECT_EQ(o->handler->at(0).task, "a");
  EXPECT_EQ(o->handler->at(0).kind, HandlerCall::Kind::kNeverRetrieved);
  EXPECT_EQ(o->handler->at(0).error->label, "E1");
  EXPECT_EQ(o->handler->at(1).kind, HandlerCall::Kind::kDestroyedPending);
  EXPECT_FALSE(o->handler->at(1).error.has_value());
  ASSERT_TRUE(o->warnings.has_value());
  EXPECT_EQ(o->warnings->at(0).task, "b");
  absl::StatusOr<Outcome> back = OutcomeFromJson(OutcomeToJson(*o));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, *o);
  absl::StatusOr<Outcome> without = OutcomeFromJson(kOutcome);
  ASSERT_TRUE(without.ok());
  EXPECT_FALSE(without->handler.has_value());
  EXPECT_FALSE(without->warnings.has_value());
  EXPECT_EQ(OutcomeToJson(*without).find("handler"), std::string::npos);
}

class BadOutcomeJson : public testing::TestWithParam<BadJson> {};

TEST_P(BadOutcomeJson, RefusedWithPlace) {
  absl::StatusOr<Outcome> o = OutcomeFromJson(GetParam().json);
  ASSERT_FALSE(o.ok()) << GetParam().json;
  EXPECT_EQ(std::string(o.status().message()), GetParam().error) << GetParam().json;
}

#define OUT(tasks) "{\"tasks\": {" tasks "}, \"blocks\": {}, \"scopes\": {}, \"run\": null, " \
                   "\"unretrieved\": [], \"end_time\": 0}"

#define CH(channel) "{\"tasks\": {\"a\": {\"start\": 0, \"end\": 0, \"state\": \"pending\"}}, " \
                    "\"blocks\": {}, \"scopes\": {}, \"run\": null, \"unretrieved\": [], \"end_time\": 0, " channel "}"

INSTANTIATE_TEST_SUITE_P(
    Errors, BadOutcomeJson,
    testing::Values(
        BadJson{"{\"tasks\": {}}", "(top level): missing field \"blocks\""},
        BadJson{OUT("\"a\": {\"start\": 0, \"end\": 1, \"state\": \"done\"}"),
                "tasks.a.state: expected one of returned, raised, cancelled, pending, got "
                "\"done\""},
        BadJson{OUT("\"a\": {\"start\": 0, \"end\": 1, \"state\": \"raised\"}"),
                "tasks.a: missing field \"error\""},
        BadJson{OUT("\"a b\": {\"start\": -1, \"end\": 1, \"state\": \"pending\"}"),
                "tasks[\"a b\"].start: expected integer >= 0, got -1"},
        BadJson{OUT("\"a\": {\"start\": 0, \"end\": 1, \"state\": \"returned\", \"error\": "
                    "{\"type\": \"timeout\"}}"),
                "tasks.a.error: an error is only allowed with state \"raised\" or \"cancelled\""},
        BadJson{OUT("\"a\": {\"start\": 0, \"end\": 1, \"state\": \"raised\", \"error\": "
                    "{\"type\": \"group\", \"base\": true, \"children\": [{\"type\": \"oops\"}]}}"),
                "tasks.a.error.children[0].type: expected one of error, base, cancelled, "
                "timeout, runtime, group, got \"oops\""},
        BadJson{OUT("\"a\": {\"start\": 0, \"end\": 1, \"state\": \"raised\", \"error\": "
                    "{\"type\": \"runtime\", \"what\": \"finished\"}}"),
                "tasks.a.error.what: expected one of taskgroup_finished, taskgroup_not_entered, "
                "taskgroup_shutting_down, other, got \"finished\""},
        BadJson{"{\"tasks\": {}, \"blocks\": {}, \"scopes\": {\"G\": {\"end\": 1, \"value\": "
                "[{\"value\": \"x\", \"error\": {\"type\": \"timeout\"}}]}}, \"run\": null, "
                "\"unretrieved\": [], \"end_time\": 0}",
                "scopes.G.value[0]: expected exactly one of \"value\" and \"error\""},
        // RT-8 channels.
        BadJson{CH("\"handler\": [{\"kind\": \"logged\", \"task\": \"a\"}]"),
                "handler[0].kind: unknown exception-handler call kind \"logged\" (allowed: never_retrieved, "
                "run_shutdown, destroyed_pending, parent_done, shielded)"},
        BadJson{CH("\"handler\": [{\"kind\": \"never_retrieved\", \"task\": \"zz\", \"error\": "
                   "{\"type\": \"timeout\"}}]"),
                "handler[0].task: names no task of the outcome: \"zz\""},
        BadJson{CH("\"handler\": [{\"kind\": \"run_shutdown\", \"task\": \"a\"}]"),
                "handler[0]: missing field \"error\""},
        BadJson{CH("\"handler\": [{\"kind\": \"destroyed_pending\", \"task\": \"a\", \"error\": "
                   "{\"type\": \"timeout\"}}]"),
                "handler[0].error: a destroyed_pending call carries no error"},
        BadJson{CH("\"handler\": {}"), "handler: expected an array, got {}"},
        BadJson{CH("\"warnings\": [{\"kind\": \"never_awaited\", \"task\": \"a\", \"line\": 3}]"),
                "warnings[0].line: unknown field of a warning (allowed: kind, task)"},
        BadJson{CH("\"warnings\": [{\"kind\": \"deprecated\", \"task\": \"a\"}]"),
                "warnings[0].kind: unknown warning kind \"deprecated\" (allowed: never_awaited)"}));

RC_GTEST_PROP(OutcomeJsonProperty, WriteReadWriteIsIdentity, ()) {
  const Outcome o = *gen::OutcomeGen();
  const std::string json = OutcomeToJson(o);
  absl::StatusOr<Outcome> back = OutcomeFromJson(json);
  RC_ASSERT(back.ok());
  RC_ASSERT(*back == o);
  RC_ASSERT(OutcomeToJson(*back) == json);
}

RC_GTEST_PROP(ExcJsonProperty, WriteReadIsIdentity, ()) {
  const Exc e = *gen::ExcGen(3);
  absl::StatusOr<Exc> back = ExcFromJson(ExcToJson(e));
  RC_ASSERT(back.ok());
  RC_ASSERT(*back == e);
}

}  // namespace
}  // namespace asyncspec::spec
