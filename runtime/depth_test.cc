// Depth and scale: the runtime must not use stack proportional to the
// nesting of awaits or scopes, on success, on error and on cancellation,
// and must run a million tasks in one group.
//
// Why these shapes: core.h promises that a chain of awaits resumes by
// symmetric transfer (no stack per level) and that cancellation unwinds
// frames in a loop (detail::Unwind) rather than by recursion or by throwing
// through every frame. Each test below builds one of those chains 10,000
// deep: in one task (frames / scopes stacked in a task) and across tasks
// (a group whose child enters the next group). A recursion of a few hundred
// bytes per level would need several MB at this depth and overflow under
// ASan's larger frames; these tests run under --config=asan as well.
// Rules exercised on the way: TG-1, TG-2, TG-7, TG-8, CX-2, CX-7, EG-2.
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "runtime/rt.h"

namespace asyncspec::rt {
namespace {

constexpr int kDepth = 10'000;
constexpr int kTasks = 1'000'000;

Nanos Now() { return Loop::Current()->Time(); }

// ------------------------------------------------ 10,000 nested awaits ----

// Stack depth probe: the address of a local in the innermost frame when it
// first runs, to report how much machine stack a nesting level costs.
// (g++ 12 compiles symmetric transfer as a real tail call only when
// optimising; at -O0 and under ASan every level of a chain that is being
// entered keeps its resumer's machine frame, see the report in the file.)
const char* g_leaf_sp = nullptr;

// `return 1 + await deep(n - 1)`, the innermost sleeps `leaf` (or forever).
Coro<int> DeepAwait(int n, Nanos leaf, int& destroyed) {
  struct Count {
    int& n;
    ~Count() { ++n; }
  } count{destroyed};
  if (n == 0) {
    g_leaf_sp = static_cast<const char*>(__builtin_frame_address(0));  // the machine frame, not the coroutine frame
    co_await sleep(leaf);
    co_return 0;
  }
  co_return 1 + co_await DeepAwait(n - 1, leaf, destroyed);
}

TEST(Depth, NestedAwaitsComplete) {
  int destroyed = 0;
  const char* top = static_cast<const char*>(__builtin_frame_address(0));
  int v = run([](int& destroyed) -> Coro<int> { co_return co_await DeepAwait(kDepth, Seconds(1), destroyed); }(destroyed));
  EXPECT_EQ(v, kDepth);
  EXPECT_EQ(destroyed, kDepth + 1);
  std::printf("machine stack while entering %d nested awaits: %td bytes (%.1f per level)\n", kDepth, top - g_leaf_sp,
              static_cast<double>(top - g_leaf_sp) / kDepth);
}

// An error raised at the bottom propagates through every frame.
Coro<int> DeepThrow(int n) {
  if (n == 0) {
    co_await sleep(Seconds(1));
    throw ValueError("bottom");
  }
  co_return 1 + co_await DeepThrow(n - 1);
}

TEST(Depth, NestedAwaitsPropagateAnError) {
  std::string got;
  try {
    run(DeepThrow(kDepth));
  } catch (const ValueError& e) {
    got = e.repr();
  }
  EXPECT_EQ(got, "ValueError('bottom')");
}

// CX-2/CX-7: cancelling the task from outside unwinds all 10,000 frames
// (their destructors run, innermost first) without a catcher in between.
TEST(Depth, NestedAwaitsCancelledFromOutside) {
  int destroyed = 0;
  run([](int& destroyed) -> Coro<> {
    auto t = create_task(DeepAwait(kDepth, Seconds(1000), destroyed));
    co_await sleep(Seconds(1));
    t.cancel();
    co_await try_await(t);
    EXPECT_TRUE(t.cancelled()) << "CX-2";
    EXPECT_EQ(Now(), Seconds(1));
  }(destroyed));
  EXPECT_EQ(destroyed, kDepth + 1);
}

// The same chain with a catcher (try_await scope) at every level: each
// level sees the cancellation and re-raises it.
Coro<> DeepTryAwait(int n, int& seen) {
  if (n == 0) {
    co_await sleep(Seconds(1000));
    co_return;
  }
  auto r = co_await try_await(DeepTryAwait(n - 1, seen));
  if (r.cancelled()) ++seen;
  co_await std::move(r);
}

TEST(Depth, NestedTryAwaitsEachSeeTheCancellation) {
  int seen = 0;
  run([](int& seen) -> Coro<> {
    auto t = create_task(DeepTryAwait(kDepth, seen));
    co_await sleep(Seconds(1));
    t.cancel();
    co_await try_await(t);
    EXPECT_TRUE(t.cancelled());
  }(seen));
  EXPECT_EQ(seen, kDepth);
}

// ------------------------------------------ 10,000 nested TaskGroups ----

// The innermost child: sleeps `leaf`, or fails at once if `leaf` < 0.
Coro<> Leaf(Nanos leaf) {
  if (leaf < 0) throw ValueError("leaf");
  co_await sleep(leaf);
}

// Groups nested in one task: each group's body enters the next group; the
// innermost body has one child, Leaf(leaf).
Coro<> NestedGroups(int n, Nanos leaf, int& exited) {
  co_await task_group([&](TaskGroup& g) -> Coro<> {
    if (n == 0) {
      g.create_task(Leaf(leaf));
      co_return;
    }
    co_await NestedGroups(n - 1, leaf, exited);
  });
  ++exited;
}

// The in-task nesting tests run at two depths, under every configuration.
// g++ 12 compiles symmetric transfer as a tail call only when optimising and
// never with -fsanitize=address; core.h's trampoline (detail::Transfer)
// keeps the stack flat in those builds, and these tests are what shows it.
class NestedGroupsDepth : public ::testing::TestWithParam<int> {};

TEST_P(NestedGroupsDepth, InOneTaskComplete) {
  const int depth = GetParam();
  int exited = 0;
  run([](int depth, int& exited) -> Coro<> {
    co_await NestedGroups(depth, Seconds(1), exited);
    EXPECT_EQ(Now(), Seconds(1)) << "TG-1";
  }(depth, exited));
  EXPECT_EQ(exited, depth + 1);
}

// TG-7/TG-8: cancelled from outside, every level aborts and propagates the
// CancelledError; nothing is left running.
TEST_P(NestedGroupsDepth, InOneTaskCancelledFromOutside) {
  const int depth = GetParam();
  int exited = 0;
  run([](int depth, int& exited) -> Coro<> {
    auto t = create_task(NestedGroups(depth, Seconds(1000), exited));
    co_await sleep(Seconds(1));
    t.cancel();
    co_await try_await(t);
    EXPECT_TRUE(t.cancelled()) << "TG-7";
    EXPECT_EQ(Now(), Seconds(1));
    EXPECT_EQ(Loop::Current()->live_tasks(), 1u) << "only main is left";
  }(depth, exited));
  EXPECT_EQ(exited, 0) << "no level exits normally";
}

// EG-2 at depth: a failure at the bottom nests one ExceptionGroup per level.
TEST_P(NestedGroupsDepth, NestTheirErrors) {
  const int levels = GetParam();
  int depth = -1;
  run([](int levels, int& depth) -> Coro<> {
    int exited = 0;
    auto r = co_await try_await(NestedGroups(levels, -1, exited));  // -1: the leaf child fails
    EXPECT_TRUE(r.failed());
    if (!r.failed()) co_return;
    depth = 0;
    std::exception_ptr e = r.error();
    for (;;) {  // count the nesting without recursion
      try {
        std::rethrow_exception(e);
      } catch (const BaseExceptionGroup& g) {
        ++depth;
        e = g.exceptions().front();
        continue;
      } catch (...) {
      }
      break;
    }
    EXPECT_EQ(Repr(e), "ValueError('leaf')");
  }(levels, depth));
  EXPECT_EQ(depth, levels + 1) << "EG-2";
}

INSTANTIATE_TEST_SUITE_P(Depth, NestedGroupsDepth, ::testing::Values(1'000, kDepth),
                         [](const auto& info) { return "levels" + std::to_string(info.param); });

// Groups nested across tasks: level n's group runs a child task that enters
// level n - 1's group. 10,000 tasks each waiting in __aexit__.
Coro<> GroupChain(int n, Nanos leaf, int& done) {
  co_await task_group([&](TaskGroup& g) -> Coro<> {
    if (n == 0) {
      co_await sleep(leaf);
    } else {
      g.create_task(GroupChain(n - 1, leaf, done));
    }
    co_return;
  });
  ++done;
}

TEST(Depth, GroupChainAcrossTasksCompletes) {
  int done = 0;
  run([](int& done) -> Coro<> {
    co_await GroupChain(kDepth, Seconds(1), done);
    EXPECT_EQ(Now(), Seconds(1)) << "TG-1";
  }(done));
  EXPECT_EQ(done, kDepth + 1);
}

TEST(Depth, GroupChainAcrossTasksCancelledFromOutside) {
  int done = 0;
  run([](int& done) -> Coro<> {
    auto t = create_task(GroupChain(kDepth, Seconds(1000), done));
    co_await sleep(Seconds(1));
    t.cancel();
    co_await try_await(t);
    EXPECT_TRUE(t.cancelled()) << "TG-8, CX-7";
    EXPECT_EQ(Now(), Seconds(1));
    EXPECT_EQ(Loop::Current()->live_tasks(), 1u) << "TG-1: every child is done";
  }(done));
  EXPECT_EQ(done, 0);
}

// ------------------------------------------ 1,000,000 tasks, one group ----

Coro<> Tick(int& count) {
  co_await sleep(0);
  ++count;
}

TEST(Scale, MillionTasksInOneGroup) {
  int count = 0;
  const auto start = std::chrono::steady_clock::now();
  run([](int& count) -> Coro<> {
    co_await task_group([&](TaskGroup& g) -> Coro<> {
      for (int i = 0; i < kTasks; ++i) g.create_task(Tick(count));
      co_return;
    });
  }(count));
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(count, kTasks) << "TG-1";
  std::printf("1,000,000 tasks in one group: %.2f s\n", secs);
}

// TG-2 at scale: one failure cancels 999,999 sleeping siblings.
Coro<> SleepLong() { co_await sleep(Seconds(1000)); }

TEST(Scale, MillionTasksOneFailureCancelsTheRest) {
  std::string got;
  const auto start = std::chrono::steady_clock::now();
  run([](std::string& got) -> Coro<> {
    try {
      co_await task_group([&](TaskGroup& g) -> Coro<> {
        for (int i = 0; i < kTasks - 1; ++i) g.create_task(SleepLong());
        g.create_task([]() -> Coro<> {
          co_await sleep(Seconds(1));
          throw ValueError("one");
        }());
        co_return;
      });
    } catch (const BaseExceptionGroup& e) {
      got = e.repr();
    }
    EXPECT_EQ(Now(), Seconds(1)) << "TG-2";
  }(got));
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(got, "ExceptionGroup('unhandled errors in a TaskGroup', [ValueError('one')])") << "TG-2, TG-6";
  std::printf("1,000,000 tasks, cancel storm: %.2f s\n", secs);
}

}  // namespace
}  // namespace asyncspec::rt
