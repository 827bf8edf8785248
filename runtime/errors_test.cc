// PEP 654 groups: split/subgroup and except* (EG-1, EG-3).
#include <gtest/gtest.h>

#include "runtime/errors.h"

#include <stdexcept>
#include <utility>
#include <vector>

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

// ExceptionAs answers what a catch clause would, without a rethrow: the
// classification of TG-5 (base errors pass a TaskGroup alone) and CX-4 (a
// thrown CancelledError is a cancellation) rests on it.
struct Derived : ValueError {
  Derived() : BaseException("d"), ValueError("d") {}
  int tag = 7;
};
struct Mixed : std::runtime_error, virtual KeyboardInterrupt {
  Mixed() : BaseException("k"), std::runtime_error("m") {}
};

template <class E>
bool CatchSays(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const E&) {
    return true;
  } catch (...) {
    return false;
  }
}

TEST(ExceptionAs, AgreesWithCatchClauses) {
  const std::vector<std::exception_ptr> all = {
      E(ValueError("v")), E(CancelledError()), E(CancelledError("why")), E(KeyboardInterrupt()),
      E(SystemExit()), E(TimeoutError()), E(Derived()), E(Mixed()), E(std::runtime_error("s")), E(42),
      MakeGroup("g", {E(ValueError())}), MakeGroup("b", {E(KeyboardInterrupt())})};
  for (const auto& e : all) {
    SCOPED_TRACE(Repr(e));
    EXPECT_EQ(ExceptionAs<BaseException>(e) != nullptr, CatchSays<BaseException>(e));
    EXPECT_EQ(ExceptionAs<Exception>(e) != nullptr, CatchSays<Exception>(e));
    EXPECT_EQ(ExceptionAs<ValueError>(e) != nullptr, CatchSays<ValueError>(e));
    EXPECT_EQ(ExceptionAs<CancelledError>(e) != nullptr, CatchSays<CancelledError>(e));
    EXPECT_EQ(ExceptionAs<KeyboardInterrupt>(e) != nullptr, CatchSays<KeyboardInterrupt>(e));
    EXPECT_EQ(ExceptionAs<BaseExceptionGroup>(e) != nullptr, CatchSays<BaseExceptionGroup>(e));
    EXPECT_EQ(ExceptionAs<ExceptionGroup>(e) != nullptr, CatchSays<ExceptionGroup>(e));
    EXPECT_EQ(ExceptionAs<std::exception>(e) != nullptr, CatchSays<std::exception>(e));
    EXPECT_EQ(ExceptionAs<int>(e) != nullptr, CatchSays<int>(e));
  }
  EXPECT_EQ(ExceptionAs<BaseException>(nullptr), nullptr);
}

TEST(ExceptionAs, PointsAtTheSubobjectACatchWouldBind) {
  auto e = E(Derived());
  const Derived* d = ExceptionAs<Derived>(e);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->tag, 7);
  // Through a virtual base: the same object as catch (const BaseException&).
  const BaseException* via_catch = nullptr;
  try {
    std::rethrow_exception(e);
  } catch (const BaseException& b) {
    via_catch = &b;
  }
  EXPECT_EQ(ExceptionAs<BaseException>(e), via_catch);
  EXPECT_EQ(ExceptionAs<BaseException>(e)->message(), "d");
  EXPECT_EQ(*ExceptionAs<int>(E(42)), 42);
  EXPECT_TRUE(IsBaseError(E(Mixed())));
  EXPECT_EQ(Classify(E(Mixed())), ErrorKind::kBase);
  EXPECT_EQ(Repr(E(std::runtime_error("s"))), "Exception('s')");
  EXPECT_EQ(Repr(E(42)), "Exception('<non-standard C++ exception>')");
}

// CastException keeps each (thrown type, target type) answer in a table: a
// second question about another object of the same type must point into
// that object, through a virtual base too, and every answer must still be
// the catch clause's when the table has been filled and overwritten.
template <class To>
const To* CatchBinds(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const To& x) {
    return &x;
  } catch (...) {
    return nullptr;
  }
}

TEST(ExceptionAs, RemembersOffsetsNotObjects) {
  for (int round = 0; round < 3; ++round) {
    auto a = E(Mixed()), b = E(Mixed());
    EXPECT_EQ(ExceptionAs<KeyboardInterrupt>(a), CatchBinds<KeyboardInterrupt>(a));
    EXPECT_EQ(ExceptionAs<KeyboardInterrupt>(b), CatchBinds<KeyboardInterrupt>(b));
    EXPECT_EQ(ExceptionAs<BaseException>(b), CatchBinds<BaseException>(b));
    EXPECT_EQ(ExceptionAs<std::exception>(a), CatchBinds<std::exception>(a));
    EXPECT_NE(ExceptionAs<KeyboardInterrupt>(a), ExceptionAs<KeyboardInterrupt>(b));
    auto d = E(Derived());
    EXPECT_EQ(ExceptionAs<Derived>(d)->tag, 7);
    EXPECT_EQ(ExceptionAs<ValueError>(d), CatchBinds<ValueError>(d));
    EXPECT_EQ(ExceptionAs<ValueError>(a), nullptr);
  }
}

template <int N>
struct Many : ValueError {
  Many() : BaseException("m"), ValueError("m") {}
};

template <int... N>
void AskMany(std::integer_sequence<int, N...>) {
  const std::vector<std::exception_ptr> all = {E(Many<N>())...};
  for (int pass = 0; pass < 2; ++pass) {
    for (const auto& e : all) {
      EXPECT_EQ(ExceptionAs<ValueError>(e), CatchBinds<ValueError>(e));
      EXPECT_EQ(ExceptionAs<Exception>(e), CatchBinds<Exception>(e));
      EXPECT_EQ(ExceptionAs<CancelledError>(e), nullptr);
      EXPECT_EQ(ExceptionAs<Many<0>>(e) != nullptr, CatchBinds<Many<0>>(e) != nullptr);
    }
  }
}

TEST(ExceptionAs, AgreesWithCatchClausesPastTheTablesSize) {
  // 100 types x 4 questions: more pairs than the table holds, so entries
  // are overwritten and asked again.
  AskMany(std::make_integer_sequence<int, 100>());
}

}  // namespace
}  // namespace asyncspec::rt
