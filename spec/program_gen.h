// RapidCheck generators of asyncspec programs, exceptions and outcomes, for
// property tests here and for the conformance engine, which reuses and
// extends them (e.g. with other weights, or its own step generators fed to
// MakeValid).
//
// Design: a valid program has cross-step constraints (unique names,
// references to declared groups and tasks, no await cycles, `reschedule`
// inside its timeout) that a tree generator cannot respect locally. So
// generation is two stages composed with rc::gen::map:
//   1. RawProgram builds the tree shape with rc::gen combinators only
//      (containers of steps, weighted op choice, recursive bodies through
//      detail::Memo, built once). Names are left empty and every reference is a
//      placeholder "#k" (k a generated integer).
//   2. MakeValid (a pure function) names everything in tree order and
//      resolves each placeholder to the k-th suitable declaration (mod their
//      number), or rewrites the step when nothing suits (see below).
// Shrinking therefore comes entirely from the combinators of stage 1
// (removing steps, shrinking bodies, delays, strings, picks); stage 2 is
// re-applied to every shrunk tree, so shrunk programs are valid too.
#ifndef ASYNCSPEC_SPEC_PROGRAM_GEN_H_
#define ASYNCSPEC_SPEC_PROGRAM_GEN_H_

#include <algorithm>
#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "rapidcheck.h"
#include "spec/outcome.h"
#include "spec/program.h"

namespace asyncspec::spec {

// How RapidCheck prints counterexamples (found by ADL): programs in the text
// form (spec/LANGUAGE.md), outcomes and exceptions in JSON.
void showValue(const Program& program, std::ostream& os);
void showValue(const Outcome& outcome, std::ostream& os);
void showValue(const Exc& exc, std::ostream& os);

}  // namespace asyncspec::spec

namespace asyncspec::spec::gen {

// Rewrites `program` into a valid one (spec/validate.h), changing as little
// as it can:
//   - names: a valid name (identifier, not "main") keeps its first
//     occurrence; empty, invalid and repeated names get fresh ones (t0, g0,
//     ...; prefixes by kind);
//   - `spawn` group "^" (kEnclosingGroup) becomes the innermost group around
//     the step in the same task, if there is one; `cancel` target "^"
//     (kSelf) becomes the step's own task;
//   - `spawn` group, `cancel`/`await` target, `reschedule` timeout: kept if
//     it names a suitable declaration; otherwise resolved to candidate k mod
//     n, where k is the number in a placeholder "#k" (0 for anything else),
//     skipping candidates that would close an await cycle. With no candidate:
//     spawn becomes `task` (same task), await and reschedule become `sleep 0`;
//   - `return` anywhere but last in a task body becomes `sleep 0`;
//   - handlers take the star of the try's first handler; `except* group`
//     becomes `except* any`; a label on a kind other than error/base is
//     dropped; delays are clamped to [0, kMaxDelay].
// Precondition: the program is within kMaxNesting and kMaxSteps.
void MakeValid(Program& program);
inline constexpr char kEnclosingGroup[] = "^";
// As a `cancel` target: the task the step runs in.
inline constexpr char kSelf[] = "^";

// Rewrites every positive delay (sleep, timeout, reschedule, wait_for d) to a
// distinct power of two, 2^0, 2^1, ... in tree order; delays past 2^32 (the
// 34th positive delay on) become 0. Zero delays and `none` stay. Why this
// avoids timer ties (SCHED-2): no step runs twice, and the clock only moves
// to a timer's deadline, so every deadline is the sum of the delays of a
// chain of timers that each set the clock for the next; distinct powers of
// two give distinct sums to distinct chains, and two timers with the same
// chain would each have fired before the other was armed. (Ties of TG-2 and
// RT-2 remain possible: the model's ModelRun::tie_points says.) The sum of
// all delays stays below 2^33, so times in nanoseconds fit in 63 bits.
void DistinctDelays(Program& program);

// Knobs of the program generator. Weights are relative; 0 disables an op.
struct GenOptions {
  int max_depth = 3;     // levels of bodies below main (0: main has only leaf steps)
  int max_body = 4;      // steps per body (before a task's optional final return)
  int max_children = 3;  // gather children
  int max_handlers = 3;  // handlers per try
  Time max_delay = 4;    // delays are drawn from [0, max_delay]
  bool odd_strings = true;  // labels/values/messages that need quoting in text
  // Simultaneous events (RULES.md "Freedom under ties"):
  //   kAny   delays from [0, max_delay], ties as they come;
  //   kAvoid ValidProgram applies DistinctDelays: no two timers coincide
  //          (for exact comparison with the model);
  //   kHeavy delays mostly 1 (some 0 and 2): many timers fall due together,
  //          and groups abort many sleeping children at once (for checking
  //          against every schedule the model allows).
  enum class Ties { kAny, kAvoid, kHeavy };
  Ties ties = Ties::kAny;
  // The presets the conformance check uses for its two tie modes. TieHeavy
  // also shifts the weights towards concurrency (more sleeps, tasks and
  // gathers, fewer raises and cancels, which mostly end a program at t=0):
  // about a third of its programs then meet a tie point
  // (spec/model/ties_test.cc measures it).
  static GenOptions TieFree() {
    GenOptions o;
    o.ties = Ties::kAvoid;
    return o;
  }
  static GenOptions TieHeavy() {
    GenOptions o;
    o.ties = Ties::kHeavy;
    o.max_body = 5;
    o.weights.sleep = 10;
    o.weights.raise = 2;
    o.weights.task = 4;
    o.weights.group = 2;
    o.weights.spawn = 3;
    o.weights.gather = 4;
    o.weights.cancel = 1;
    o.weights.await = 1;
    return o;
  }
  struct Weights {
    int sleep = 6, raise = 3, task = 1, group = 3, spawn = 4, gather = 2, timeout = 2,
        reschedule = 1, shield = 2, wait_for = 1, cancel = 2, await = 3, uncancel = 1,
        try_ = 2;
    // A composite step for the shape of the TaskGroup fixes of 3.13
    // (gh-116720, TG-9, TG-11): a timeout around a try around a group whose
    // children fail while it waits in __aexit__, its error caught, then a
    // timeout, wait_for, group or sleep in the same task.
    int after_group = 2;
    // A composite step: a group whose child `victim` runs a shield, gather,
    // wait_for, nested group, timeout or guarded try, and whose other child
    // fails or cancels `victim` (with a message) at some instant: nested
    // scopes under an outside cancel (TG-2, TG-7, SH-1, SH-3, GA-5, CX-5).
    int under_cancel = 4;
    // A composite step: `cancel` of the running task itself (message or
    // not), `uncancel`, then a suspension inside a try that catches the
    // cancel: whether uncancel() clears the pending cancel (CX-9, 3.13).
    int self_uncancel = 1;
  } weights;
  // Shapes where the bugs of real runtimes live, which uniform choices reach
  // rarely (conformance/bench/README.md, "Reach"); each pair is relative weights.
  struct Shapes {
    // A group starts with children of its own (spawned into it, "^"), or
    // not: most spawns into other groups are refused (TG-10).
    int own_children = 2, no_own_children = 1;
    // `spawn` into the innermost enclosing group of its task, or any group.
    int spawn_enclosing = 3, spawn_any = 1;
    // A task body wrapped in a try whose handler catches cancellation (CX-6,
    // CX-10), or not.
    int guarded_task = 1, plain_task = 3;
    // `cancel` with a message (CX-5, GA-3, GA-5), or without; messages with
    // characters that need escaping in every reproducer language, or plain.
    int cancel_msg = 1, cancel_no_msg = 1;
    int odd_msg = 2, plain_msg = 1;
    // Base errors (KeyboardInterrupt, TG-5, RT-5) among raises.
    int base_raise = 1, error_raise = 3;
    // main ends by creating a task that raises a base error (RT-6), or by
    // leaving a task whose cancellation by run()'s drain starts a base error
    // and ends it with an error (RT-2, RT-4, RT-5), or neither.
    int base_at_main_end = 1, drain_error_at_main_end = 1, plain_main_end = 14;
  } shapes;
};

namespace detail {

// A container of at most `max` elements (fewer at small sizes) whose
// elements are generated at the caller's size. (rc::gen::resize alone would
// shrink the elements' size too, and RapidCheck scales integer ranges by
// size, so every delay would be 0.) Shrinks by removing elements.
template <typename Container, typename... Ts>
rc::Gen<Container> SmallContainer(int max, rc::Gen<Ts>... elements) {
  return rc::gen::withSize([=](int size) {
    return rc::gen::resize(std::min(size, max),
                           rc::gen::container<Container>(rc::gen::resize(size, elements)...));
  });
}

// A generator built on first use and then kept (shared by copies). The step
// generators below are recursive: every body holds steps of 14 kinds, each
// with generators of its own. Building them afresh for each drawn step (as
// rc::gen::lazy and a mapcat's mapper do) was most of the cost of drawing a
// program; built once, a draw only walks them. Building consumes
// no randomness, so the values drawn are the same either way: a seed still
// replays the same program. Safe to draw from on several threads.
template <typename T, typename Make>
rc::Gen<T> Memo(Make make) {
  struct Cell {
    std::once_flag once;
    std::optional<rc::Gen<T>> gen;
  };
  auto cell = std::make_shared<Cell>();
  return rc::Gen<T>([cell, make](const rc::Random& random, int size) {
    std::call_once(cell->once, [&] { cell->gen.emplace(make()); });
    return (*cell->gen)(random, size);
  });
}

inline rc::Gen<Time> Delay(const GenOptions& o) {
  if (o.ties == GenOptions::Ties::kHeavy) {
    return rc::gen::weightedElement<Time>({{6, 1}, {1, 0}, {1, 2}});
  }
  return rc::gen::inRange<Time>(0, o.max_delay + 1);
}

inline rc::Gen<std::optional<Time>> DelayOrNone(const GenOptions& o) {
  return rc::gen::weightedOneOf<std::optional<Time>>(
      {{4, rc::gen::map(Delay(o), [](Time d) { return std::optional<Time>(d); })},
       {1, rc::gen::just(std::optional<Time>())}});
}

// A label, return value or cancel message. Mostly short words; with
// odd_strings also keywords, quotes, control characters and UTF-8, which
// the text form must quote and escape.
inline rc::Gen<std::string> Str(const GenOptions& o, std::vector<std::string> common) {
  auto usual = rc::gen::elementOf(std::move(common));
  if (!o.odd_strings) return usual;
  return rc::gen::weightedOneOf<std::string>(
      {{12, usual},
       {2, rc::gen::element<std::string>("", "base", "as", "none", "pass", "a b", "q\"uote",
                                         "back\\slash", "tab\tnew\nline", "caf\xc3\xa9",
                                         "#hash", "1", "\x01", "\xf0\x9f\x90\x8d")},
       {1, rc::gen::container<std::string>(rc::gen::inRange<char>(32, 127))}});
}

// A cancel message. Mostly ones that need escaping in the text form, JSON,
// Python and C++ reproducers: quotes, backslashes, '#', newlines, non-ASCII
// (a reference-runtime bug kept the message "#hash" that asyncio drops, and
// was met only after ~1.9M trees of the uniform Str).
inline rc::Gen<std::string> CancelMsg(const GenOptions& o) {
  auto plain = rc::gen::element<std::string>("why", "stop");
  if (!o.odd_strings) return plain;
  return rc::gen::weightedOneOf<std::string>(
      {{static_cast<std::size_t>(o.shapes.plain_msg), plain},
       {static_cast<std::size_t>(o.shapes.odd_msg),
        rc::gen::element<std::string>("#hash", "#", "a#b", "q\"uote", "'", "\"\"\"", "back\\slash",
                                      "\\", "tab\tnew\nline", "\n", "caf\xc3\xa9",
                                      "\xf0\x9f\x90\x8d", "", " ", "#\"\\\n\xc3\xa9")},
       {1, rc::gen::container<std::string>(rc::gen::inRange<char>(32, 127))}});
}

inline rc::Gen<std::string> Pick() {
  return rc::gen::map(rc::gen::inRange(0, 64), [](int k) { return "#" + std::to_string(k); });
}

inline rc::Gen<Step> StepGen(const GenOptions& o, int depth);

// A body whose steps are at nesting `depth` (main's: 0 here, i.e. relative).
inline rc::Gen<Body> BodyGen(const GenOptions& o, int depth) {
  return SmallContainer<Body>(o.max_body, StepGen(o, depth));
}

// A handler for a cancellation: `except cancelled`/`any`/`base` (plain or
// star), swallowing, uncancelling or re-raising, with a body of its own.
inline rc::Gen<Handler> CancelHandlerGen(rc::Gen<Body> body) {
  return rc::gen::map(
      rc::gen::tuple(rc::gen::weightedElement<CatchKind>(
                         {{3, CatchKind::kCancelled}, {1, CatchKind::kAny}, {1, CatchKind::kBase}}),
                     rc::gen::arbitrary<bool>(), body,
                     rc::gen::element(Then::kSwallow, Then::kReraise, Then::kUncancel)),
      [](std::tuple<CatchKind, bool, Body, Then> t) {
        Handler h;
        h.kind = std::get<0>(t);
        h.star = std::get<1>(t);
        h.body = std::move(std::get<2>(t));
        h.then = std::get<3>(t);
        return h;
      });
}

// `try: <body> except cancelled-ish: ... [finally: ...]`, the body starting
// with a sleep so that a cancel has somewhere to land (CX-2, CX-6, CX-10).
inline rc::Gen<Body> GuardedBody(const GenOptions& o, rc::Gen<Body> body) {
  return rc::gen::map(
      rc::gen::tuple(Delay(o), body, CancelHandlerGen(body),
                     rc::gen::weightedOneOf<std::optional<Body>>(
                         {{2, rc::gen::just(std::optional<Body>())},
                          {1, rc::gen::map(body, [](Body b) { return std::optional(b); })}})),
      [](std::tuple<Time, Body, Handler, std::optional<Body>> t) {
        Try x;
        x.body.push_back(Step{Sleep{std::get<0>(t)}});
        for (Step& st : std::get<1>(t)) x.body.push_back(std::move(st));
        x.handlers.push_back(std::move(std::get<2>(t)));
        if (std::get<3>(t)) x.finally = Finally{"", std::move(*std::get<3>(t))};
        Body b;
        b.push_back(Step{std::move(x)});
        return b;
      });
}

inline rc::Gen<TaskDef> TaskGen(const GenOptions& o, int depth) {
  // Guarded bodies hold a try one level down: only above max_depth.
  auto body = depth < o.max_depth
                  ? rc::gen::weightedOneOf<Body>(
                        {{static_cast<std::size_t>(o.shapes.plain_task), BodyGen(o, depth)},
                         {static_cast<std::size_t>(o.shapes.guarded_task), GuardedBody(o, BodyGen(o, depth + 1))}})
                  : BodyGen(o, depth);
  return rc::gen::map(
      rc::gen::pair(body,
                    rc::gen::weightedOneOf<std::optional<std::string>>(
                        {{3, rc::gen::just(std::optional<std::string>())},
                         {1, rc::gen::map(Str(o, {"ok", "r1", "r2"}),
                                          [](std::string s) { return std::optional(s); })}})),
      [](std::pair<Body, std::optional<std::string>> p) {
        TaskDef t;
        t.body = std::move(p.first);
        if (p.second) t.body.push_back(Step{Return{std::move(*p.second)}});
        return t;
      });
}

inline rc::Gen<Step> AsStep(rc::Gen<Step::Op> op) {
  return rc::gen::map(std::move(op), [](Step::Op o) { return Step{std::move(o)}; });
}

template <typename T, typename Gen, typename F>
rc::Gen<Step::Op> OpMap(Gen gen, F f) {
  return rc::gen::map(std::move(gen), [f](auto v) { return Step::Op(f(std::move(v))); });
}

inline rc::Gen<Try> TryGen(const GenOptions& o, int depth) {
  const int next = depth + 1;
  auto body = Memo<Body>([o, next] { return BodyGen(o, next); });
  auto handler = rc::gen::map(
      // Cancellation, groups and base errors are where the rules differ
      // (CX-10, EG-5, TG-5): they are caught more often than the rest.
      rc::gen::tuple(rc::gen::weightedElement<CatchKind>(
                         {{3, CatchKind::kCancelled}, {1, CatchKind::kTimeout}, {2, CatchKind::kError},
                          {2, CatchKind::kBase}, {2, CatchKind::kGroup}, {1, CatchKind::kRuntime},
                          {1, CatchKind::kException}, {2, CatchKind::kAny}}),
                     rc::gen::weightedOneOf<std::optional<std::string>>(
                         {{1, rc::gen::just(std::optional<std::string>())},
                          {2, rc::gen::map(Str(o, {"E1", "E2", "K1"}),
                                           [](std::string s) { return std::optional(s); })}}),
                     body, rc::gen::element(Then::kSwallow, Then::kReraise, Then::kUncancel)),
      [](std::tuple<CatchKind, std::optional<std::string>, Body, Then> t) {
        Handler h;
        h.kind = std::get<0>(t);
        // Labels only where they mean something; MakeValid would drop them.
        if (h.kind == CatchKind::kError || h.kind == CatchKind::kBase) h.label = std::get<1>(t);
        h.body = std::move(std::get<2>(t));
        h.then = std::get<3>(t);
        return h;
      });
  return rc::gen::map(
      rc::gen::tuple(body,
                     SmallContainer<std::vector<Handler>>(o.max_handlers, handler),
                     rc::gen::weightedOneOf<std::optional<Body>>(
                         {{2, rc::gen::just(std::optional<Body>())},
                          {1, rc::gen::map(body, [](Body b) { return std::optional(b); })}}),
                     rc::gen::arbitrary<bool>()),
      [](std::tuple<Body, std::vector<Handler>, std::optional<Body>, bool> t) {
        Try x;
        x.body = std::move(std::get<0>(t));
        x.handlers = std::move(std::get<1>(t));
        for (Handler& h : x.handlers) h.star = std::get<3>(t);
        if (std::get<2>(t)) x.finally = Finally{"", std::move(*std::get<2>(t))};
        return x;  // MakeValid fixes except* group
      });
}

// A group body that starts with 1..3 children spawned into the group itself
// ("^"), then `body`: the children's failures abort it (TG-2), with company.
inline rc::Gen<Body> OwnChildrenBody(rc::Gen<TaskDef> task, rc::Gen<Body> body) {
  auto own = rc::gen::map(task, [](TaskDef t) { return Step{Spawn{kEnclosingGroup, std::move(t)}}; });
  return rc::gen::map(rc::gen::pair(SmallContainer<Body>(3, own), body), [](std::pair<Body, Body> p) {
    Body b = std::move(p.first);
    if (b.empty()) b.push_back(Step{Spawn{kEnclosingGroup, TaskDef{}}});
    for (Step& st : p.second) b.push_back(std::move(st));
    return b;
  });
}

// timeout d0: try: group (own children) except <kind>: pass; <then>
// where <then> is a timeout, a wait_for, another group or a sleep: the
// parent's cancel count after the group decides what the later scope (and
// the outer timeout) does (TG-9, TG-11, TO-3, WF-1). The group's children
// usually fail after its body ended, while it waits in __aexit__.
inline rc::Gen<Step> AfterGroup(const GenOptions& o, rc::Gen<TaskDef> task, rc::Gen<Body> body) {
  // sleep d; <body>; and mostly a raise (an error, or a base error) last.
  enum End { kNoRaise, kError, kBase };
  auto failing = rc::gen::map(
      rc::gen::tuple(Delay(o), task, rc::gen::weightedElement<End>({{1, kNoRaise}, {3, kError}, {1, kBase}})),
      [](std::tuple<Time, TaskDef, End> p) {
        TaskDef t = std::move(std::get<1>(p));
        t.body.insert(t.body.begin(), Step{Sleep{std::get<0>(p)}});
        if (std::get<2>(p) != kNoRaise) t.body.push_back(Step{Raise{"E2", std::get<2>(p) == kBase}});
        return Step{Spawn{kEnclosingGroup, std::move(t)}};
      });
  auto group = rc::gen::map(SmallContainer<Body>(3, failing), [](Body b) {
    if (b.empty()) b.push_back(Step{Spawn{kEnclosingGroup, TaskDef{"", {Step{Raise{"E1", false}}}}}});
    return Step{Group{"", std::move(b)}};
  });
  auto then = rc::gen::weightedOneOf<Step>(
      {{2, rc::gen::map(rc::gen::pair(DelayOrNone(o), body),
                        [](std::pair<std::optional<Time>, Body> p) {
                          return Step{Timeout{"", p.first, std::move(p.second)}};
                        })},
       {2, rc::gen::map(rc::gen::pair(task, DelayOrNone(o)),
                        [](std::pair<TaskDef, std::optional<Time>> p) {
                          return Step{WaitFor{"", std::move(p.first), p.second}};
                        })},
       {1, rc::gen::map(body, [](Body b) { return Step{Group{"", std::move(b)}}; })},
       {1, rc::gen::map(Delay(o), [](Time d) { return Step{Sleep{d}}; })}});
  auto handler = rc::gen::map(
      rc::gen::pair(rc::gen::weightedElement<CatchKind>(
                        {{2, CatchKind::kGroup}, {2, CatchKind::kAny}, {1, CatchKind::kException}}),
                    rc::gen::arbitrary<bool>()),
      [](std::pair<CatchKind, bool> p) {
        Handler h;
        h.kind = p.first;
        h.star = p.second;  // MakeValid turns a star `group` into `any`
        h.then = Then::kSwallow;
        return h;
      });
  return rc::gen::map(rc::gen::tuple(DelayOrNone(o), group, handler, then),
                      [](std::tuple<std::optional<Time>, Step, Handler, Step> t) {
                        Try x;
                        x.body.push_back(std::move(std::get<1>(t)));
                        x.handlers.push_back(std::move(std::get<2>(t)));
                        Body outer;
                        outer.push_back(Step{std::move(x)});
                        outer.push_back(std::move(std::get<3>(t)));
                        return Step{Timeout{"", std::get<0>(t), std::move(outer)}};
                      });
}

// group:
//   spawn ^ victim: <scope>
//   spawn ^: sleep d; (raise E | raise base | cancel victim [msg]; <body>)
//   <body>
// <scope>: shield, gather, wait_for of a task that sleeps and may fail; a
// group with children of its own; a timeout; a guarded try. (A second
// composite in the same program renames its victim and cancels the first.)
inline rc::Gen<Step> UnderCancel(const GenOptions& o, rc::Gen<TaskDef> task, rc::Gen<Body> body) {
  auto sleeper = rc::gen::map(rc::gen::tuple(Delay(o), task, rc::gen::weightedElement<int>({{2, 0}, {1, 1}, {1, 2}})),
                              [](std::tuple<Time, TaskDef, int> p) {
                                TaskDef t = std::move(std::get<1>(p));
                                t.body.insert(t.body.begin(), Step{Sleep{std::get<0>(p) + 1}});
                                if (std::get<2>(p) > 0) t.body.push_back(Step{Raise{"E3", std::get<2>(p) == 2}});
                                return t;
                              });
  auto scope = rc::gen::weightedOneOf<Step>({
      // The shielded task fails (after the shield may have been cancelled:
      // SH-3, its error then reaches nobody but RT-4).
      {4, rc::gen::map(rc::gen::pair(sleeper, rc::gen::weightedElement<bool>({{3, false}, {1, true}})),
                       [](std::pair<TaskDef, bool> p) {
                         TaskDef t = std::move(p.first);
                         if (t.body.empty() || !std::holds_alternative<Raise>(t.body.back().op)) {
                           t.body.push_back(Step{Raise{"E3", p.second}});
                         }
                         return Step{Shield{"", std::move(t)}};
                       })},
      // The same, bare: the shielded task fails after any killer's cancel
      // (at most max_delay) and before the killer's own end (SH-3).
      {4, rc::gen::map(rc::gen::weightedElement<bool>({{3, false}, {1, true}}),
                       [max_delay = o.max_delay](bool base) {
                         return Step{Shield{"", TaskDef{"", {Step{Sleep{max_delay + 1}}, Step{Raise{"E3", base}}}}}};
                       })},
      {2, rc::gen::map(rc::gen::pair(SmallContainer<std::vector<TaskDef>>(3, sleeper), rc::gen::arbitrary<bool>()),
                       [](std::pair<std::vector<TaskDef>, bool> p) {
                         return Step{Gather{"", std::move(p.first), p.second}};
                       })},
      {2, rc::gen::map(rc::gen::pair(sleeper, DelayOrNone(o)),
                       [](std::pair<TaskDef, std::optional<Time>> p) {
                         return Step{WaitFor{"", std::move(p.first), p.second}};
                       })},
      {2, rc::gen::map(OwnChildrenBody(sleeper, body), [](Body b) { return Step{Group{"", std::move(b)}}; })},
      {1, rc::gen::map(rc::gen::pair(DelayOrNone(o), body),
                       [](std::pair<std::optional<Time>, Body> p) {
                         return Step{Timeout{"", p.first, std::move(p.second)}};
                       })},
      {1, rc::gen::map(GuardedBody(o, body), [](Body b) { return std::move(b.front()); })},
  });
  enum How { kRaise, kBase, kCancel };
  auto killer = rc::gen::map(
      rc::gen::tuple(Delay(o), rc::gen::weightedElement<How>({{2, kRaise}, {1, kBase}, {4, kCancel}}),
                     rc::gen::weightedOneOf<std::optional<std::string>>(
                         {{1, rc::gen::just(std::optional<std::string>())},
                          {2, rc::gen::map(CancelMsg(o), [](std::string m) { return std::optional(m); })}}),
                     body),
      [max_delay = o.max_delay](std::tuple<Time, How, std::optional<std::string>, Body> p) {
        TaskDef t;
        t.body.push_back(Step{Sleep{std::get<0>(p)}});
        if (std::get<1>(p) == kCancel) {
          t.body.push_back(Step{Cancel{"victim", std::move(std::get<2>(p))}});
          // Outlive what victim left running (a shielded task that fails
          // after its shield was cancelled, SH-3).
          t.body.push_back(Step{Sleep{max_delay + 2}});
          for (Step& st : std::get<3>(p)) t.body.push_back(std::move(st));
        } else {
          t.body.push_back(Step{Raise{"E1", std::get<1>(p) == kBase}});
        }
        return Step{Spawn{kEnclosingGroup, std::move(t)}};
      });
  return rc::gen::map(rc::gen::tuple(scope, killer, body), [](std::tuple<Step, Step, Body> p) {
    Body b;
    b.push_back(Step{Spawn{kEnclosingGroup, TaskDef{"victim", {std::move(std::get<0>(p))}}}});
    b.push_back(std::move(std::get<1>(p)));
    for (Step& st : std::get<2>(p)) b.push_back(std::move(st));
    return Step{Group{"", std::move(b)}};
  });
}

// try: cancel ^ [msg]; uncancel; sleep d; <body>  except <cancel handler>
// 3.13's uncancel() clears the pending cancel when the count reaches 0
// (CX-9), so the sleep is not interrupted; 3.11/3.12 deliver it there.
inline rc::Gen<Step> SelfUncancel(const GenOptions& o, rc::Gen<Body> body) {
  return rc::gen::map(
      rc::gen::tuple(rc::gen::weightedOneOf<std::optional<std::string>>(
                         {{1, rc::gen::just(std::optional<std::string>())},
                          {1, rc::gen::map(CancelMsg(o), [](std::string m) { return std::optional(m); })}}),
                     Delay(o), body, CancelHandlerGen(body)),
      [](std::tuple<std::optional<std::string>, Time, Body, Handler> p) {
        Try x;
        x.body.push_back(Step{Cancel{kSelf, std::move(std::get<0>(p))}});
        x.body.push_back(Step{Uncancel{}});
        x.body.push_back(Step{Sleep{std::get<1>(p)}});
        for (Step& st : std::get<2>(p)) x.body.push_back(std::move(st));
        x.handlers.push_back(std::move(std::get<3>(p)));
        return Step{std::move(x)};
      });
}

// One step at relative depth `depth`; compound steps only below max_depth.
inline rc::Gen<Step> StepGen(const GenOptions& o, int depth) {
  const GenOptions::Weights& w = o.weights;
  const bool deeper = depth < o.max_depth;
  const int next = depth + 1;
  enum Tag {
    kSleep, kRaise, kTask, kGroup, kSpawn, kGather, kTimeout, kReschedule, kShield, kWaitFor,
    kCancel, kAwait, kUncancel, kTry, kAfterGroup, kUnderCancel, kSelfUncancel
  };
  auto c = [deeper](int weight) { return static_cast<std::size_t>(deeper ? weight : 0); };
  auto tag = rc::gen::weightedElement<Tag>({
      {static_cast<std::size_t>(w.sleep), kSleep},
      {static_cast<std::size_t>(w.raise), kRaise},
      {c(w.task), kTask},
      {c(w.group), kGroup},
      {c(w.spawn), kSpawn},
      {c(w.gather), kGather},
      {c(w.timeout), kTimeout},
      {static_cast<std::size_t>(w.reschedule), kReschedule},
      {c(w.shield), kShield},
      {c(w.wait_for), kWaitFor},
      {static_cast<std::size_t>(w.cancel), kCancel},
      {static_cast<std::size_t>(w.await), kAwait},
      {static_cast<std::size_t>(w.uncancel), kUncancel},
      {c(w.try_), kTry},
      {c(w.after_group), kAfterGroup},
      {c(w.under_cancel), kUnderCancel},
      {c(w.self_uncancel), kSelfUncancel},
  });
  // The bodies and tasks one level down, and the generator of each kind of
  // step, are built when first drawn from and kept (Memo): not per step.
  auto body_gen = Memo<Body>([o, next] { return BodyGen(o, next); });
  auto task_gen = Memo<TaskDef>([o, next] { return TaskGen(o, next); });
  auto kind = [o, next, body_gen, task_gen](Tag t) -> rc::Gen<Step> {
    auto body = [body_gen] { return body_gen; };
    auto task = [task_gen] { return task_gen; };
    switch (t) {
      case kSleep:
        return AsStep(OpMap<Sleep>(Delay(o), [](Time d) { return Sleep{d}; }));
      case kRaise:
        return AsStep(OpMap<Raise>(
            rc::gen::pair(Str(o, {"E1", "E2", "E3", "K1"}),
                          rc::gen::weightedElement<bool>(
                              {{static_cast<std::size_t>(o.shapes.error_raise), false},
                               {static_cast<std::size_t>(o.shapes.base_raise), true}})),
            [](std::pair<std::string, bool> p) { return Raise{std::move(p.first), p.second}; }));
      case kTask:
        return AsStep(OpMap<CreateTask>(task(), [](TaskDef t) { return CreateTask{std::move(t)}; }));
      case kGroup:
        if (o.ties == GenOptions::Ties::kHeavy) {
          // Tie-heavy: a group starts with 2..4 children of its own, so its
          // abort (TG-2) and their timers (SCHED-2) have company.
          auto own = rc::gen::map(task(), [](TaskDef t) { return Step{Spawn{kEnclosingGroup, std::move(t)}}; });
          return AsStep(OpMap<Group>(
              rc::gen::pair(rc::gen::mapcat(rc::gen::inRange<std::size_t>(2, 5),
                                            [own](std::size_t n) { return rc::gen::container<Body>(n, own); }),
                            body()),
              [](std::pair<Body, Body> p) {
                Body b = std::move(p.first);
                for (Step& st : p.second) b.push_back(std::move(st));
                return Group{"", std::move(b)};
              }));
        }
        return AsStep(OpMap<Group>(
            rc::gen::weightedOneOf<Body>({{static_cast<std::size_t>(o.shapes.no_own_children), body()},
                                          {static_cast<std::size_t>(o.shapes.own_children),
                                           OwnChildrenBody(task(), body())}}),
            [](Body b) { return Group{"", std::move(b)}; }));
      case kSpawn:
        return AsStep(OpMap<Spawn>(rc::gen::pair(rc::gen::weightedOneOf<std::string>(
                                                     {{static_cast<std::size_t>(o.shapes.spawn_enclosing),
                                                       rc::gen::just(std::string(kEnclosingGroup))},
                                                      {static_cast<std::size_t>(o.shapes.spawn_any), Pick()}}),
                                                 task()),
                                   [](std::pair<std::string, TaskDef> p) {
                                     return Spawn{std::move(p.first), std::move(p.second)};
                                   }));
      case kGather:
        return AsStep(OpMap<Gather>(
            rc::gen::pair(SmallContainer<std::vector<TaskDef>>(o.max_children, task()),
                          rc::gen::arbitrary<bool>()),
            [](std::pair<std::vector<TaskDef>, bool> p) {
              return Gather{"", std::move(p.first), p.second};
            }));
      case kTimeout: {
        // A third of the timeouts reschedule themselves first (TO-5; a
        // reschedule elsewhere is rarely inside its timeout). Not when
        // reschedule is weighted out: a runtime that lacks it gets none.
        auto rescheduled = rc::gen::map(rc::gen::pair(DelayOrNone(o), body()),
                                        [](std::pair<std::optional<Time>, Body> p) {
                                          Body b;
                                          b.push_back(Step{Reschedule{"#0", p.first}});
                                          for (Step& st : p.second) b.push_back(std::move(st));
                                          return b;
                                        });
        const std::size_t reschedule = o.weights.reschedule > 0 ? 1 : 0;
        return AsStep(OpMap<Timeout>(
            rc::gen::pair(DelayOrNone(o), rc::gen::weightedOneOf<Body>({{2, body()}, {reschedule, rescheduled}})),
            [](std::pair<std::optional<Time>, Body> p) { return Timeout{"", p.first, std::move(p.second)}; }));
      }
      case kReschedule:
        return AsStep(OpMap<Reschedule>(rc::gen::pair(Pick(), DelayOrNone(o)),
                                        [](std::pair<std::string, std::optional<Time>> p) {
                                          return Reschedule{std::move(p.first), p.second};
                                        }));
      case kShield:
        return AsStep(OpMap<Shield>(task(), [](TaskDef t) { return Shield{"", std::move(t)}; }));
      case kWaitFor:
        return AsStep(OpMap<WaitFor>(rc::gen::pair(task(), DelayOrNone(o)),
                                     [](std::pair<TaskDef, std::optional<Time>> p) {
                                       return WaitFor{"", std::move(p.first), p.second};
                                     }));
      case kCancel:
        return AsStep(OpMap<Cancel>(
            rc::gen::pair(Pick(), rc::gen::weightedOneOf<std::optional<std::string>>(
                                      {{static_cast<std::size_t>(o.shapes.cancel_no_msg),
                                        rc::gen::just(std::optional<std::string>())},
                                       {static_cast<std::size_t>(o.shapes.cancel_msg),
                                        rc::gen::map(CancelMsg(o), [](std::string s) {
                                          return std::optional(s);
                                        })}})),
            [](std::pair<std::string, std::optional<std::string>> p) {
              return Cancel{std::move(p.first), std::move(p.second)};
            }));
      case kAwait:
        return AsStep(OpMap<Await>(Pick(), [](std::string s) { return Await{std::move(s)}; }));
      case kUncancel:
        return rc::gen::just(Step{Uncancel{}});
      case kTry:
        return AsStep(OpMap<Try>(TryGen(o, next - 1), [](Try t) { return t; }));
      case kAfterGroup:
        return AfterGroup(o, task(), body());
      case kUnderCancel:
        return UnderCancel(o, task(), body());
      case kSelfUncancel:
        return SelfUncancel(o, body());
    }
    return rc::gen::just(Step{Sleep{0}});
  };
  // (Shared, not a vector in the mapper: RapidCheck copies the mapper on
  // every draw.)
  auto kinds = std::make_shared<std::vector<rc::Gen<Step>>>();
  for (int t = kSleep; t <= kSelfUncancel; ++t) {
    kinds->push_back(Memo<Step>([kind, t] { return kind(static_cast<Tag>(t)); }));
  }
  return rc::gen::mapcat(tag, [kinds](Tag t) { return (*kinds)[t]; });
}

// A task left pending when main returns, for run()'s drain (RT-2): its
// handler of the drain's cancellation starts a task that starts another,
// which raises a base error (RT-5), then ends with an error. The drain's
// gather retrieves that error before the base error stops the loop, so only
// run()'s report of the leftovers' errors reaches it (RT-4, INV-2;
// conformance/findings/drain-stopped-error-dropped.md). The nested task
// makes the base error come after the gather completed; a direct one (or a
// sleep first) races it, and both orders are drawn.
inline rc::Gen<Step> DrainErrorTask(const GenOptions& o) {
  enum Base { kNested, kDirect, kAfterSleep };
  return rc::gen::map(
      rc::gen::tuple(rc::gen::weightedElement<CatchKind>(
                         {{3, CatchKind::kCancelled}, {1, CatchKind::kAny}, {1, CatchKind::kBase}}),
                     rc::gen::arbitrary<bool>(), rc::gen::element(Then::kSwallow, Then::kUncancel),
                     rc::gen::weightedElement<Base>({{3, kNested}, {1, kDirect}, {1, kAfterSleep}})),
      [max_delay = o.max_delay](std::tuple<CatchKind, bool, Then, Base> p) {
        TaskDef base{"", {Step{Raise{"K1", true}}}};
        if (std::get<3>(p) == kAfterSleep) base.body.insert(base.body.begin(), Step{Sleep{0}});
        if (std::get<3>(p) == kNested) base = TaskDef{"", {Step{CreateTask{std::move(base)}}}};
        Handler h;
        h.kind = std::get<0>(p);
        h.star = std::get<1>(p);
        h.then = std::get<2>(p);
        h.body.push_back(Step{CreateTask{std::move(base)}});
        h.body.push_back(Step{Raise{"E3", false}});
        Try x;
        x.body.push_back(Step{Sleep{max_delay + 1}});
        x.handlers.push_back(std::move(h));
        return Step{CreateTask{TaskDef{"", {Step{std::move(x)}}}}};
      });
}

}  // namespace detail

// Programs of the right shape with empty names and placeholder references
// (stage 1 above); feed them to MakeValid, or use ValidProgram.
// Some mains end by creating a sleeping task and a task that raises a base
// error at once: main returns in the same loop iteration as the base error
// leaves the loop, the shape of a stale stop request (RT-5, RT-6). Others
// leave a task for run()'s drain (detail::DrainErrorTask).
inline rc::Gen<Program> RawProgram(const GenOptions& o = {}) {
  // A task left sleeping, so that the drain needs more than one iteration
  // and the stale stop request ends it early.
  const Step sleeper{CreateTask{TaskDef{"", {Step{Sleep{o.max_delay + 1}}}}}};
  const Step base{CreateTask{TaskDef{"", {Step{Raise{"K1", true}}}}}};
  auto last = rc::gen::weightedOneOf<Body>(
      {{static_cast<std::size_t>(o.shapes.plain_main_end), rc::gen::just(Body())},
       {static_cast<std::size_t>(o.shapes.base_at_main_end), rc::gen::just(Body{sleeper, base})},
       {static_cast<std::size_t>(o.shapes.drain_error_at_main_end),
        rc::gen::map(detail::DrainErrorTask(o), [](Step s) { return Body{std::move(s)}; })}});
  return rc::gen::map(
      rc::gen::tuple(rc::gen::weightedOneOf<std::string>(
                         {{3, rc::gen::just(std::string())},
                          {1, detail::Str(o, {"p", "tg_two_errors", "case_1"})}}),
                     detail::BodyGen(o, 0), last),
      [](std::tuple<std::string, Body, Body> p) {
        Program program;
        program.name = std::move(std::get<0>(p));
        program.main = std::move(std::get<1>(p));
        for (Step& st : std::get<2>(p)) program.main.push_back(std::move(st));
        return program;
      });
}

// Arbitrary valid programs (spec/validate.h), shrinking to smaller valid ones.
// With o.ties == kAvoid, also DistinctDelays (after MakeValid, so shrunk
// programs keep distinct delays too).
inline rc::Gen<Program> ValidProgram(const GenOptions& o = {}) {
  const bool distinct = o.ties == GenOptions::Ties::kAvoid;
  return rc::gen::map(RawProgram(o), [distinct](Program p) {
    MakeValid(p);
    if (distinct) DistinctDelays(p);
    return p;
  });
}

// Exceptions nested up to `depth` group levels.
inline rc::Gen<Exc> ExcGen(int depth = 2) {
  auto label = rc::gen::element<std::string>("E1", "E2", "K1", "", "a \"b\"");
  auto leaf = rc::gen::oneOf(
      rc::gen::map(label, [](std::string l) { Exc e; e.type = Exc::Type::kError; e.label = l; return e; }),
      rc::gen::map(label, [](std::string l) { Exc e; e.type = Exc::Type::kBase; e.label = l; return e; }),
      rc::gen::map(rc::gen::element<std::optional<std::string>>(std::nullopt, "why", ""),
                   [](std::optional<std::string> m) {
                     Exc e;
                     e.type = Exc::Type::kCancelled;
                     e.msg = m;
                     return e;
                   }),
      rc::gen::just([] { Exc e; e.type = Exc::Type::kTimeout; return e; }()),
      rc::gen::map(rc::gen::element<std::string>("taskgroup_finished", "taskgroup_not_entered",
                                                 "taskgroup_shutting_down", "other"),
                   [](std::string w) {
                     Exc e;
                     e.type = Exc::Type::kRuntime;
                     e.what = w;
                     return e;
                   }));
  if (depth <= 0) return leaf;
  auto group = rc::gen::map(
      rc::gen::pair(rc::gen::arbitrary<bool>(),
                    detail::SmallContainer<std::vector<Exc>>(
                        3, rc::gen::lazy([depth] { return ExcGen(depth - 1); }))),
      [](std::pair<bool, std::vector<Exc>> p) {
        Exc e;
        e.type = Exc::Type::kGroup;
        e.base_group = p.first;
        e.children = std::move(p.second);
        return e;
      });
  return rc::gen::weightedOneOf<Exc>({{3, leaf}, {1, group}});
}

// Outcomes whose fields are consistent with their states (as FORMAT.md
// requires: a value only when returned, an error when raised or cancelled).
inline rc::Gen<Outcome> OutcomeGen() {
  auto time = rc::gen::inRange<Time>(0, 10);
  auto opt_time = rc::gen::weightedOneOf<std::optional<Time>>(
      {{3, rc::gen::map(time, [](Time t) { return std::optional(t); })},
       {1, rc::gen::just(std::optional<Time>())}});
  auto opt_str = rc::gen::element<std::optional<std::string>>(std::nullopt, "ok", "", "v\n");
  auto opt_exc = rc::gen::weightedOneOf<std::optional<Exc>>(
      {{1, rc::gen::just(std::optional<Exc>())},
       {1, rc::gen::map(ExcGen(), [](Exc e) { return std::optional(e); })}});
  auto name = rc::gen::element<std::string>("main", "a", "b", "c", "g1", "h1", "odd name");
  auto task = rc::gen::map(
      rc::gen::tuple(rc::gen::element(TaskOutcome::State::kPending, TaskOutcome::State::kReturned,
                                      TaskOutcome::State::kRaised, TaskOutcome::State::kCancelled),
                     opt_time, opt_time, opt_str, ExcGen()),
      [](std::tuple<TaskOutcome::State, std::optional<Time>, std::optional<Time>,
                    std::optional<std::string>, Exc> t) {
        TaskOutcome o;
        o.state = std::get<0>(t);
        o.start = std::get<1>(t);
        o.end = std::get<2>(t);
        if (o.state == TaskOutcome::State::kReturned) o.value = std::get<3>(t);
        if (o.state == TaskOutcome::State::kRaised || o.state == TaskOutcome::State::kCancelled) {
          o.error = std::get<4>(t);
        }
        return o;
      });
  auto block = rc::gen::map(rc::gen::pair(time, opt_time), [](std::pair<Time, std::optional<Time>> p) {
    return BlockOutcome{p.first, p.second};
  });
  auto item = rc::gen::map(rc::gen::pair(opt_str, opt_exc),
                           [](std::pair<std::optional<std::string>, std::optional<Exc>> p) {
                             GatherItem g;
                             if (p.second) {
                               g.error = std::move(p.second);
                             } else {
                               g.value = std::move(p.first);
                             }
                             return g;
                           });
  auto scope = rc::gen::map(
      rc::gen::tuple(time, opt_exc, opt_str,
                     rc::gen::weightedOneOf<std::optional<std::vector<GatherItem>>>(
                         {{2, rc::gen::just(std::optional<std::vector<GatherItem>>())},
                          {1, rc::gen::map(detail::SmallContainer<std::vector<GatherItem>>(3, item),
                                           [](std::vector<GatherItem> v) { return std::optional(v); })}}),
                     rc::gen::element<std::optional<bool>>(std::nullopt, true, false)),
      [](std::tuple<Time, std::optional<Exc>, std::optional<std::string>,
                    std::optional<std::vector<GatherItem>>, std::optional<bool>> t) {
        ScopeOutcome s;
        s.end = std::get<0>(t);
        s.raised = std::move(std::get<1>(t));
        if (std::get<3>(t)) {
          s.items = std::move(std::get<3>(t));  // a gather: its value is the list
        } else {
          s.value = std::move(std::get<2>(t));
        }
        s.expired = std::get<4>(t);
        return s;
      });
  auto unretrieved = rc::gen::map(rc::gen::pair(name, ExcGen()), [](std::pair<std::string, Exc> p) {
    return Unretrieved{std::move(p.first), std::move(p.second)};
  });
  return rc::gen::map(
      rc::gen::tuple(
          detail::SmallContainer<std::map<std::string, TaskOutcome>>(4, name, task),
          detail::SmallContainer<std::map<std::string, BlockOutcome>>(3, name, block),
          detail::SmallContainer<std::map<std::string, ScopeOutcome>>(3, name, scope),
          opt_exc, detail::SmallContainer<std::vector<Unretrieved>>(2, unretrieved),
          time),
      [](std::tuple<std::map<std::string, TaskOutcome>, std::map<std::string, BlockOutcome>,
                    std::map<std::string, ScopeOutcome>, std::optional<Exc>,
                    std::vector<Unretrieved>, Time> t) {
        Outcome o;
        o.tasks = std::move(std::get<0>(t));
        o.blocks = std::move(std::get<1>(t));
        o.scopes = std::move(std::get<2>(t));
        o.run = std::move(std::get<3>(t));
        o.unretrieved = std::move(std::get<4>(t));
        std::sort(o.unretrieved.begin(), o.unretrieved.end(),
                  [](const Unretrieved& a, const Unretrieved& b) { return a.task < b.task; });
        o.end_time = std::get<5>(t);
        return o;
      });
}

}  // namespace asyncspec::spec::gen

#endif  // ASYNCSPEC_SPEC_PROGRAM_GEN_H_
