// Facts about Boost.Asio 1.81 that the adapter's mapping and FINDINGS.md
// rest on, checked on plain Asio (no adapter code, a real io_context and
// steady_timer): if a Boost upgrade changes one of them, this test says which
// judgement in FINDINGS.md to revisit. Each test names the rule of
// spec/RULES.md the fact bears on.
#include <chrono>
#include <exception>
#include <variant>
#include <vector>

#include <boost/asio.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/experimental/parallel_group.hpp>

#include "gtest/gtest.h"

namespace asio = boost::asio;
using asio::awaitable;
using asio::use_awaitable;
using namespace std::chrono_literals;

namespace {

bool IsAborted(std::exception_ptr ep) {
  try {
    std::rethrow_exception(ep);
  } catch (const boost::system::system_error& e) {
    return e.code() == asio::error::operation_aborted;
  } catch (...) {
    return false;
  }
}

awaitable<void> Wait(std::chrono::steady_clock::duration d) {
  asio::steady_timer t(co_await asio::this_coro::executor, d);
  co_await t.async_wait(use_awaitable);
}

// CX-6 / CX-10: after a cancellation, the coroutine's cancellation_state stays
// cancelled and the next co_await of an Asio operation throws before it starts
// (awaitable_frame_base::await_transform, this_coro::throw_if_cancelled).
TEST(AsioFacts, CancellationIsLatchedAndThrownAgainAtTheNextAwait_CX6) {
  asio::io_context ctx;
  asio::cancellation_signal sig;
  int phase = 0;
  bool second_threw = false;
  auto body = [&]() -> awaitable<void> {
    try {
      co_await Wait(1h);
    } catch (const boost::system::system_error&) {
      phase = 1;  // the cancellation arrived; swallow it
    }
    try {
      co_await Wait(1h);  // would take an hour if it started
    } catch (const boost::system::system_error& e) {
      second_threw = e.code() == asio::error::operation_aborted;
    }
  };
  asio::co_spawn(ctx, body(), asio::bind_cancellation_slot(sig.slot(), asio::detached));
  asio::post(ctx, [&] { sig.emit(asio::cancellation_type::terminal); });
  const auto t0 = std::chrono::steady_clock::now();
  ctx.run();
  EXPECT_EQ(phase, 1);
  EXPECT_TRUE(second_threw);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 10min);
}

// CX-9 / CX-10: reset_cancellation_state() clears the latch.
TEST(AsioFacts, ResetCancellationStateClearsTheLatch_CX10) {
  asio::io_context ctx;
  asio::cancellation_signal sig;
  bool waited = false;
  auto body = [&]() -> awaitable<void> {
    try {
      co_await Wait(1h);
    } catch (const boost::system::system_error&) {
    }
    co_await asio::this_coro::reset_cancellation_state();
    co_await Wait(0ms);
    waited = true;
  };
  asio::co_spawn(ctx, body(), asio::bind_cancellation_slot(sig.slot(), asio::detached));
  asio::post(ctx, [&] { sig.emit(asio::cancellation_type::terminal); });
  ctx.run();
  EXPECT_TRUE(waited);
}

// CX-3 / SCHED-1: co_spawn called inside the io_context runs the new
// coroutine at once (co_spawn_entry_point's `co_await dispatch(...)`), up to
// its first suspension, before co_spawn returns.
TEST(AsioFacts, CoSpawnFromInsideRunsTheChildAtOnce_CX3) {
  asio::io_context ctx;
  bool child_started = false, seen_right_after_spawn = false;
  auto child = [&]() -> awaitable<void> {
    child_started = true;
    co_return;
  };
  auto parent = [&]() -> awaitable<void> {
    asio::co_spawn(co_await asio::this_coro::executor, child(), asio::detached);
    seen_right_after_spawn = child_started;
  };
  asio::co_spawn(ctx, parent(), asio::detached);
  ctx.run();
  EXPECT_TRUE(seen_right_after_spawn);
}

// TO-3: `a || b` is make_parallel_group(...).async_wait(wait_for_one_success()):
// an operand that throws does not win, the other one still has to succeed,
// and the first operand's exception is dropped.
TEST(AsioFacts, OrOperatorWaitsForOneSuccess_TO3) {
  using namespace asio::experimental::awaitable_operators;
  asio::io_context ctx;
  int index = -1;
  auto fails = []() -> awaitable<void> {
    throw std::runtime_error("E1");
    co_return;
  };
  auto main = [&]() -> awaitable<void> {
    auto r = co_await (fails() || Wait(1ms));
    index = static_cast<int>(r.index());
  };
  asio::co_spawn(ctx, main(), asio::detached);
  ctx.run();
  EXPECT_EQ(index, 1);
}

// TG-2: wait_for_one_error cancels the other operations on the first error
// and completes after all of them did.
TEST(AsioFacts, WaitForOneErrorCancelsTheOthers_TG2) {
  asio::io_context ctx;
  std::exception_ptr e0, e1;
  auto fails = []() -> awaitable<void> {
    co_await Wait(1ms);
    throw std::runtime_error("E1");
  };
  auto main = [&]() -> awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    auto [order, a, b] = co_await asio::experimental::make_parallel_group(
                             asio::co_spawn(ex, fails(), asio::deferred),
                             asio::co_spawn(ex, Wait(1h), asio::deferred))
                             .async_wait(asio::experimental::wait_for_one_error(), use_awaitable);
    e0 = a;
    e1 = b;
  };
  asio::co_spawn(ctx, main(), asio::detached);
  ctx.run();
  ASSERT_TRUE(e0);
  EXPECT_FALSE(IsAborted(e0));
  EXPECT_TRUE(IsAborted(e1));
}

// GA-5: a ranged parallel group cancelled from outside completes with its
// children's exceptions; the co_await of it does not throw.
TEST(AsioFacts, CancelledRangedGroupCompletesWithoutThrowing_GA5) {
  asio::io_context ctx;
  asio::cancellation_signal sig;
  bool returned = false;
  std::vector<std::exception_ptr> errs;
  auto main = [&]() -> awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    using Op = decltype(asio::co_spawn(ex, Wait(1h), asio::deferred));
    std::vector<Op> ops;
    ops.push_back(asio::co_spawn(ex, Wait(1h), asio::deferred));
    ops.push_back(asio::co_spawn(ex, Wait(1h), asio::deferred));
    auto [order, e] = co_await asio::experimental::make_parallel_group(std::move(ops))
                          .async_wait(asio::experimental::wait_for_all(), use_awaitable);
    errs = e;
    returned = true;
  };
  asio::co_spawn(ctx, main(), asio::bind_cancellation_slot(sig.slot(), asio::detached));
  asio::post(ctx, [&] { sig.emit(asio::cancellation_type::terminal); });
  ctx.run();
  EXPECT_TRUE(returned);
  ASSERT_EQ(errs.size(), 2u);
  EXPECT_TRUE(IsAborted(errs[0]));
  EXPECT_TRUE(IsAborted(errs[1]));
}

// RT-1 / GA-1: a ranged parallel group over an empty range never completes:
// ranged_parallel_group_launch completes the group when its last operation
// does, and with none there is no last one. (Not found reported upstream.)
TEST(AsioFacts, EmptyRangedGroupNeverCompletes_RT1) {
  asio::io_context ctx;
  bool resumed = false;
  auto main = [&]() -> awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    using Op = decltype(asio::co_spawn(ex, Wait(1h), asio::deferred));
    std::vector<Op> none;
    co_await asio::experimental::make_parallel_group(std::move(none))
        .async_wait(asio::experimental::wait_for_all(), use_awaitable);
    resumed = true;
  };
  asio::co_spawn(ctx, main(), asio::detached);
  ctx.poll();  // runs everything that is ready; nothing is left to wait for
  EXPECT_FALSE(resumed);
}

// TG-9 / TG-7: parallel_group_launch launches the operations (a co_spawned
// one runs inline, up to its first suspension) *before* it registers its
// handler with the awaiting coroutine's cancellation slot, so a cancellation
// of the awaiting coroutine emitted during the launch does not reach the
// operations: they complete normally; only the awaiting coroutine's state
// is latched.
TEST(AsioFacts, CancelDuringGroupLaunchDoesNotReachTheOperations_TG7) {
  asio::io_context ctx;
  asio::cancellation_signal sig;
  std::exception_ptr e0 = std::make_exception_ptr(1), e1 = std::make_exception_ptr(1);
  bool latched = false;
  auto cancels_parent = [&]() -> awaitable<void> {
    sig.emit(asio::cancellation_type::terminal);
    co_return;
  };
  auto main = [&]() -> awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    auto [order, a, b] = co_await asio::experimental::make_parallel_group(
                             asio::co_spawn(ex, cancels_parent(), asio::deferred),
                             asio::co_spawn(ex, Wait(1ms), asio::deferred))
                             .async_wait(asio::experimental::wait_for_one_error(), use_awaitable);
    e0 = a;
    e1 = b;
    latched = (co_await asio::this_coro::cancellation_state).cancelled() !=
              asio::cancellation_type::none;
  };
  asio::co_spawn(ctx, main(), asio::bind_cancellation_slot(sig.slot(), asio::detached));
  ctx.run();
  EXPECT_FALSE(e0);
  EXPECT_FALSE(e1);  // the 1 ms wait was not cancelled
  EXPECT_TRUE(latched);
}

// RT-3: chriskohlhoff/asio#1452 (open): a coroutine whose cancellation is
// latched and that then ends without suspending again (here: it cancels
// itself, and its next co_await throws at once) makes co_spawn_entry_point's
// final `co_await post(...)` throw; that exception leaves io_context::run()
// and the completion handler never runs.
TEST(AsioFacts, SelfCancelThenThrowEscapesRun_Issue1452_RT3) {
  asio::io_context ctx;
  asio::cancellation_signal sig;
  bool handler_ran = false;
  auto body = [&]() -> awaitable<void> {
    sig.emit(asio::cancellation_type::terminal);  // latched: nothing is awaited now
    co_await Wait(1h);                             // throws before it starts
  };
  asio::co_spawn(ctx, body(),
                 asio::bind_cancellation_slot(sig.slot(),
                                              [&](std::exception_ptr) { handler_ran = true; }));
  EXPECT_THROW(ctx.run(), boost::system::system_error);
  EXPECT_FALSE(handler_ran);
}

}  // namespace
