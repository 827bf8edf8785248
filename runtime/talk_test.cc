// The six programs of the talk "Asyncio Evolved: Enhanced Exception Handling
// with TaskGroup in Python 3.11" (Junya Fukuda, PyCon TW 2023, slides 23-124)
// written on the runtime, printing what the Python versions print.
//
// The Python versions are runtime/talk/N_name.py (each states how it was
// reconstructed from the slides); runtime/talk/N_name.expected is their
// stdout on CPython 3.11.7, 3.12.1 and 3.13.0 (identical on all three,
// recorded by runtime/talk/record.sh; //runtime:talk_python_test re-checks
// it). Each test here runs the C++ translation and compares its output with
// the .expected file read at test time, so the expected text comes from
// CPython, never from this file. CPython's stderr is empty for all six
// programs (check.sh compares stdout+stderr), so each test also asserts
// that the loop reported nothing (no "Task exception was never retrieved").
//
// Translation conventions:
// - `print(f"{err=}")` is `out += "err=" + repr + "\n"`, with the runtime's
//   Python-style reprs (BaseException::repr, rt::Repr).
// - `except* E as err:` is rt::ExceptStar(eg, rt::Match<E>(), handler),
//   applied clause by clause to what is left (EG-3).
// - `except CancelledError: ...; raise CancelledError` is try_await on the
//   sleep, then raise_cancelled() (cancellation does not throw in this
//   runtime, core.h).
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "runtime/rt.h"

namespace asyncspec::rt {
namespace {

// Reads runtime/talk/<name>.expected from the test's runfiles.
std::string Expected(const std::string& name) {
  std::vector<std::string> candidates = {"runtime/talk/" + name + ".expected"};
  if (const char* srcdir = std::getenv("TEST_SRCDIR")) {
    const char* ws = std::getenv("TEST_WORKSPACE");
    candidates.push_back(std::string(srcdir) + "/" + (ws ? ws : "asyncspec") + "/runtime/talk/" + name +
                         ".expected");
  }
  for (const auto& path : candidates) {
    std::ifstream in(path);
    if (!in) continue;
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  ADD_FAILURE() << "cannot read runtime/talk/" << name << ".expected (missing data dep?)";
  return "<missing " + name + ".expected>";
}

// Python's repr of a str (the talk's values are plain ASCII words).
std::string PyStr(const std::string& s) { return "'" + s + "'"; }

// Runs `main` on a fresh loop; the loop's exception-handler reports land in `events`.
RunOptions Recording(std::vector<std::string>& events) {
  RunOptions o;
  o.exception_handler = [&events](const LoopEvent& e) { events.push_back(e.message + ": " + Repr(e.error)); };
  return o;
}

// --- the talk's coroutines -------------------------------------------------

Coro<std::string> coro_success() { co_return "success"; }

Coro<std::string> coro_value_err() {
  throw ValueError();
  co_return "";
}

Coro<std::string> coro_type_err() {
  throw TypeError();
  co_return "";
}

// Program 4's coro_long (slide 82): no handler.
Coro<std::string> coro_long_plain(std::string& out) {
  co_await sleep(Seconds(1));
  out += "coro_long: Task is still running.\n";
  co_return "DONE?";
}

// Programs 5 and 6's coro_long (slide 83):
//   try: await asyncio.sleep(1); print(...still running.); return "DONE?"
//   except asyncio.CancelledError as err:
//       print("coro_long: Task was cancelled."); raise asyncio.CancelledError
Coro<std::string> coro_long(std::string& out) {
  auto r = co_await try_await(sleep(Seconds(1)));
  if (r.cancelled()) {
    out += "coro_long: Task was cancelled.\n";
    co_await raise_cancelled();  // a new CancelledError without message
  }
  out += "coro_long: Task is still running.\n";
  co_return "DONE?";
}

// except* ValueError / except* TypeError, each printing f"{err=}"; what no
// clause matched is re-raised (EG-3).
void ExceptStarValueType(std::exception_ptr eg, std::string& out) {
  auto print = [&out](const BaseExceptionGroup& g) { out += "err=" + g.repr() + "\n"; };
  eg = ExceptStar(eg, Match<ValueError>(), print);
  eg = ExceptStar(eg, Match<TypeError>(), print);
  if (eg) std::rethrow_exception(eg);
}

// --- the programs ---------------------------------------------------------

// 1_asyncio_gather_except.py: gather, return_exceptions=False (GA-2).
Coro<> Main1(std::string& out) {
  try {
    auto results = co_await gather(coro_success(), coro_value_err(), coro_type_err());
    out += "results=[...]\n";  // not reached: gather raises (GA-2)
  } catch (const ValueError& err) {
    out += "err=" + err.repr() + "\n";
  } catch (const TypeError& err) {
    out += "err=" + err.repr() + "\n";
  }
}

// 2_asyncio_gather_except_true.py: gather, return_exceptions=True (GA-4).
Coro<> Main2(std::string& out) {
  auto results = co_await gather_outcomes(coro_success(), coro_value_err(), coro_type_err());
  std::string s = "results=[";
  for (std::size_t i = 0; i < results.size(); ++i) {
    if (i) s += ", ";
    s += results[i].ok() ? PyStr(results[i].value()) : Repr(results[i].as_exception());
  }
  out += s + "]\n";
}

// 3_asyncio_taskgroup_except.py: TaskGroup + except* (TG-3, EG-3).
Coro<> Main3(std::string& out) {
  std::exception_ptr eg;
  try {
    TaskRef<std::string> task1, task2, task3;
    co_await task_group([&](TaskGroup& tg) -> Coro<> {
      task1 = tg.create_task(coro_success());
      task2 = tg.create_task(coro_value_err());
      task3 = tg.create_task(coro_type_err());
      co_return;
    });
    std::vector<std::string> results = {task1.result(), task2.result(), task3.result()};
    out += "results=[...]\n";  // not reached
  } catch (...) {
    eg = std::current_exception();
  }
  ExceptStarValueType(eg, out);
}

// 4_remaining_tasks.py: gather leaves coro_long running; asyncio.run then
// cancels it (RT-2), so its print never happens.
Coro<> Main4(std::string& out) {
  try {
    auto results = co_await gather(coro_success(), coro_value_err(), coro_long_plain(out));
    out += "results=[...]\n";
  } catch (const ValueError& err) {
    out += "err=" + err.repr() + "\n";
  } catch (const TypeError& err) {
    out += "err=" + err.repr() + "\n";
  }
  out += "DONE\n";
}

// 5_canceling_task_gather.py: cancel the unfinished tasks by hand (CX-1, CX-6).
Coro<> Main5(std::string& out) {
  TaskRef<std::string> task1, task2, task3;
  try {
    task1 = create_task(coro_success());
    task2 = create_task(coro_value_err());
    task3 = create_task(coro_long(out));
    // (a named vector: g++ 12 rejects a braced temporary inside a co_await expression)
    std::vector<TaskRef<std::string>> children = {task1, task2, task3};
    auto results = co_await gather(std::move(children));
    out += "results=[...]\n";
  } catch (const ValueError& err) {
    out += "err=" + err.repr() + "\n";
  } catch (const TypeError& err) {
    out += "err=" + err.repr() + "\n";
  }
  for (auto* task : {&task1, &task2, &task3}) {
    if (!task->done()) {
      task->cancel();  // Cancel unfinished tasks
      co_await sleep(Seconds(1));
    }
  }
  out += "DONE\n";
}

// 6_cancelled_task_taskgroup.py: the TaskGroup cancels coro_long itself and
// waits for its cleanup before raising (TG-1, TG-2, TG-3).
Coro<> Main6(std::string& out) {
  std::exception_ptr eg;
  try {
    TaskRef<std::string> task1, task2, task3;
    co_await task_group([&](TaskGroup& g) -> Coro<> {
      task1 = g.create_task(coro_success());
      task2 = g.create_task(coro_value_err());
      task3 = g.create_task(coro_long(out));
      co_return;
    });
    std::vector<std::string> results = {task1.result(), task2.result(), task3.result()};
    out += "results=[...]\n";
  } catch (...) {
    eg = std::current_exception();
  }
  ExceptStarValueType(eg, out);
  out += "DONE\n";
}

struct TalkCase {
  const char* name;
  Coro<> (*main)(std::string&);
};

class Talk : public ::testing::TestWithParam<TalkCase> {};

TEST_P(Talk, PrintsWhatCPythonPrints) {
  std::string out;
  std::vector<std::string> events;
  run(GetParam().main(out), Recording(events));
  EXPECT_EQ(out, Expected(GetParam().name)) << "C++ translation of runtime/talk/" << GetParam().name << ".py";
  EXPECT_TRUE(events.empty()) << "CPython reports nothing on stderr; got: " << events.front();
}

INSTANTIATE_TEST_SUITE_P(Programs, Talk,
                         ::testing::Values(TalkCase{"1_asyncio_gather_except", &Main1},
                                           TalkCase{"2_asyncio_gather_except_true", &Main2},
                                           TalkCase{"3_asyncio_taskgroup_except", &Main3},
                                           TalkCase{"4_remaining_tasks", &Main4},
                                           TalkCase{"5_canceling_task_gather", &Main5},
                                           TalkCase{"6_cancelled_task_taskgroup", &Main6}),
                         [](const auto& info) { return std::string("P") + info.param.name; });

// Program 4's point: the leftover coro_long is still running when main
// returns, and only asyncio.run's final cancellation (RT-2) stops it. The
// loop time shows the drain did not wait for its sleep(1) (CPython prints
// nothing from coro_long, 4_remaining_tasks.expected).
TEST(TalkDetails, Program4LeftoverIsCancelledByRunNotFinished) {
  std::string out;
  Nanos end = -1;
  run([](std::string& out, Nanos& end) -> Coro<> {
    co_await Main4(out);
    end = Loop::Current()->Time();
  }(out, end));
  EXPECT_EQ(end, 0) << "gather raised at once (GA-2): main ends at t=0";
  EXPECT_EQ(out.find("still running"), std::string::npos) << "RT-2: run() cancels the leftover";
}

// Program 6 (slide 124): the group waits for the cancelled child's cleanup,
// so "coro_long: Task was cancelled." comes before err= (TG-1).
TEST(TalkDetails, Program6CleanupPrecedesTheGroupError) {
  std::string out;
  run(Main6(out));
  const auto cleanup = out.find("coro_long: Task was cancelled.");
  const auto error = out.find("err=ExceptionGroup");
  ASSERT_NE(cleanup, std::string::npos) << "TG-1: no cleanup line in\n" << out;
  ASSERT_NE(error, std::string::npos) << "TG-1: no err= line in\n" << out;
  EXPECT_LT(cleanup, error) << "TG-1: the group's error before its child's cleanup\n" << out;
}

}  // namespace
}  // namespace asyncspec::rt
