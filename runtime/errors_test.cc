// PEP 654 groups: split/subgroup and except* (EG-1, EG-3).
#include <gtest/gtest.h>

#include "runtime/errors.h"

namespace asyncspec::rt {
namespace {

std::exception_ptr E(auto e) { return std::make_exception_ptr(e); }

TEST(ExceptionGroup, ReprMatchesPython) {
  auto g = MakeGroup("unhandled errors in a TaskGroup", {E(ValueError()), E(TypeError("t"))});
  EXPECT_EQ(Repr(g), "ExceptionGroup('unhandled errors in a TaskGroup', [ValueError(), TypeError('t')])");
}

// EG-1: a group with a base leaf is a BaseExceptionGroup, else an ExceptionGroup.
TEST(ExceptionGroup, BaseLeafMakesBaseGroup) {
  auto g = MakeGroup("m", {E(ValueError()), E(KeyboardInterrupt())});
  EXPECT_EQ(Classify(g), ErrorKind::kBase);
  EXPECT_EQ(Repr(g), "BaseExceptionGroup('m', [ValueError(), KeyboardInterrupt()])");
  EXPECT_EQ(Classify(MakeGroup("m", {E(ValueError())})), ErrorKind::kException);
}

// EG-3: split keeps nesting; except* hands the matching part and returns the rest.
TEST(ExceptionGroup, SplitKeepsNestingAndExceptStarReturnsRest) {
  auto inner = MakeGroup("inner", {E(ValueError("a")), E(TypeError("b"))});
  auto g = MakeGroup("outer", {inner, E(ValueError("c"))});
  std::string seen;
  auto rest = ExceptStar(g, Match<ValueError>(), [&](const BaseExceptionGroup& m) { seen = m.repr(); });
  EXPECT_EQ(seen, "ExceptionGroup('outer', [ExceptionGroup('inner', [ValueError('a')]), ValueError('c')])");
  EXPECT_EQ(Repr(rest), "ExceptionGroup('outer', [ExceptionGroup('inner', [TypeError('b')])])");
  auto none = ExceptStar(rest, Match<TypeError>(), [](const BaseExceptionGroup&) {});
  EXPECT_EQ(none, nullptr);
}

TEST(ExceptionGroup, ExceptStarWrapsANakedException) {
  std::string seen;
  auto rest = ExceptStar(E(ValueError("x")), Match<ValueError>(), [&](const BaseExceptionGroup& m) { seen = m.repr(); });
  EXPECT_EQ(seen, "ExceptionGroup('', [ValueError('x')])");
  EXPECT_EQ(rest, nullptr);
}

}  // namespace
}  // namespace asyncspec::rt
