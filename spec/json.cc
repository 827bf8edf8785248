// JSON form of programs, outcomes and exceptions (spec/json.h, FORMAT.md).
//
// Reading is two passes. First a byte scan bounds the nesting depth of the
// input, so that nothing downstream (nlohmann's DOM, our readers, the
// destructors of what they build) sees an input deeper than a valid program
// can be; nlohmann's own parser is iterative, but the readers here recurse
// once per level, so the bound is what keeps them safe. Then nlohmann parses
// the text into a DOM and a reader walks it, moving strings out rather than
// copying them, and reports the first problem with its JSON path.
//
// Errors inside the readers are thrown as ReadError and caught at the public
// entry points, which also catch anything else (std::bad_alloc on a huge
// input): no exception leaves this file.
//
// Writing appends directly to one std::string: no DOM is built.
#include "spec/json.h"

#include <algorithm>
#include <charconv>
#include <initializer_list>
#include <limits>
#include <optional>
#include <type_traits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "nlohmann/json.hpp"

namespace asyncspec::spec {
namespace {

using nlohmann::json;

// String concatenation of text and integers. (Debian's Abseil is built with
// its own string_view, so absl::StrCat does not take std::string_view.)
void Append1(std::string& out, std::string_view s) { out.append(s.data(), s.size()); }
[[maybe_unused]] void Append1(std::string& out, char c) { out += c; }
template <typename I, typename = std::enable_if_t<std::is_integral_v<I>>>
void Append1(std::string& out, I i) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, i);
  out.append(buf, end);
}
template <typename... Args>
void StrAppend(std::string* out, const Args&... args) {
  (Append1(*out, args), ...);
}
template <typename... Args>
std::string StrCat(const Args&... args) {
  std::string out;
  (Append1(out, args), ...);
  return out;
}

// Depth of JSON containers a valid input can need: a program nests 4 JSON
// levels per body level (step, handlers, handler, body), an exception 2 per
// group level; the slack covers the top-level object and outcome maps.
constexpr int kMaxJsonDepth = 4 * kMaxNesting + 16;

struct ReadError {
  std::string message;
};

// A JSON path, as a chain of frames on the reader's stack: a reader pushes
// one segment per level at no cost, and the chain is formatted only when an
// error is reported.
struct Path {
  const Path* parent = nullptr;
  std::string_view field;  // ".field" (or just "field" at the root) ...
  std::size_t index = 0;   // ... or "[index]" when field is empty
  bool is_root = false;

  Path Field(std::string_view f) const { return Path{this, f, 0, false}; }
  Path Index(std::size_t i) const { return Path{this, {}, i, false}; }
};

bool IsIdentifier(std::string_view s) {
  if (s.empty()) return false;
  auto head = [](char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; };
  if (!head(s[0])) return false;
  return std::all_of(s.begin() + 1, s.end(), [&](char c) { return head(c) || (c >= '0' && c <= '9'); });
}

std::string FormatPath(const Path& path) {
  std::vector<const Path*> chain;
  for (const Path* p = &path; p != nullptr && !p->is_root; p = p->parent) chain.push_back(p);
  std::reverse(chain.begin(), chain.end());
  // A path through 1000 nested bodies is useless to print in full; keep its
  // two ends, which say where it starts and exactly where it went wrong.
  constexpr std::size_t kHead = 6, kTail = 12;
  std::string out;
  for (std::size_t i = 0; i < chain.size(); ++i) {
    if (chain.size() > kHead + kTail + 1 && i == kHead) {
      StrAppend(&out, "...(", chain.size() - kHead - kTail, " more)...");
      i = chain.size() - kTail - 1;
      continue;
    }
    const Path& p = *chain[i];
    if (p.field.empty()) {
      StrAppend(&out, "[", p.index, "]");
    } else if (IsIdentifier(p.field)) {
      if (!out.empty()) out += '.';
      out += p.field;
    } else {  // a map key such as a task name that is not an identifier
      out += '[';
      AppendJsonString(out, p.field);
      out += ']';
    }
  }
  return out.empty() ? std::string("(top level)") : out;
}

[[noreturn]] void Fail(const Path& path, std::string_view message) {
  throw ReadError{StrCat(FormatPath(path), ": ", message)};
}

// A short rendering of an offending value for error messages.
std::string Got(const json& v) {
  constexpr std::size_t kMax = 60;
  std::string s = v.dump(-1, ' ', false, json::error_handler_t::replace);
  if (s.size() > kMax) {
    s.resize(kMax);
    s += "...";
  }
  return s;
}

[[noreturn]] void Expected(const Path& path, std::string_view what, const json& got) {
  Fail(path, StrCat("expected ", what, ", got ", Got(got)));
}

void ExpectObject(const json& v, const Path& path) {
  if (!v.is_object()) Expected(path, "an object", v);
}

// Refuses any key of `obj` not in `allowed`; `what` says whose keys these are.
void AllowOnly(const json& obj, const Path& path, std::initializer_list<std::string_view> allowed,
               std::string_view what) {
  for (const auto& [key, value] : obj.items()) {
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      std::string list;
      for (std::string_view a : allowed) StrAppend(&list, list.empty() ? "" : ", ", a);
      Fail(path.Field(key), StrCat("unknown field of ", what, " (allowed: ", list, ")"));
    }
  }
}

json* Opt(json& obj, const char* key) {
  auto it = obj.find(key);
  return it == obj.end() ? nullptr : &*it;
}

json& Req(json& obj, const Path& path, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end()) Fail(path, StrCat("missing field \"", key, "\""));
  return *it;
}

std::string Str(json& v, const Path& path) {
  if (!v.is_string()) Expected(path, "a string", v);
  return std::move(v.get_ref<std::string&>());
}

std::optional<std::string> StrOrNull(json& v, const Path& path) {
  if (v.is_null()) return std::nullopt;
  if (!v.is_string()) Expected(path, "a string or null", v);
  return std::move(v.get_ref<std::string&>());
}

std::string Name(json& v, const Path& path) {
  if (!v.is_string() || !IsIdentifier(v.get_ref<const std::string&>())) {
    Expected(path, "a name matching [A-Za-z_][A-Za-z0-9_]*", v);
  }
  return std::move(v.get_ref<std::string&>());
}

bool Bool(const json& v, const Path& path) {
  if (!v.is_boolean()) Expected(path, "true or false", v);
  return v.get<bool>();
}

bool OptBool(json& obj, const Path& path, const char* key) {
  json* v = Opt(obj, key);
  return v != nullptr && Bool(*v, path.Field(key));
}

// An integer >= 0 and <= `max`. Floats are refused even when integral
// (1.0): FORMAT.md says integer, and a writer that emits 1.0 is confused.
Time NonNegative(const json& v, const Path& path, Time max) {
  if (v.is_number_unsigned()) {
    auto u = v.get<std::uint64_t>();
    if (u > static_cast<std::uint64_t>(max)) {
      Fail(path, StrCat("expected integer <= ", max, ", got ", Got(v)));
    }
    return static_cast<Time>(u);
  }
  if (v.is_number_integer() && v.get<std::int64_t>() >= 0) {
    auto i = v.get<std::int64_t>();
    if (i > max) Fail(path, StrCat("expected integer <= ", max, ", got ", Got(v)));
    return i;
  }
  Expected(path, "integer >= 0", v);
}

Time Delay(const json& v, const Path& path) { return NonNegative(v, path, kMaxDelay); }

std::optional<Time> DelayOrNull(const json& v, const Path& path) {
  if (v.is_null()) return std::nullopt;
  if (!v.is_number_integer() && !v.is_number_unsigned()) Expected(path, "integer >= 0 or null", v);
  return Delay(v, path);
}

Time TimeValue(const json& v, const Path& path) {
  return NonNegative(v, path, std::numeric_limits<Time>::max());
}

std::optional<Time> TimeOrNull(const json& v, const Path& path) {
  if (v.is_null()) return std::nullopt;
  if (!v.is_number_integer() && !v.is_number_unsigned()) Expected(path, "integer >= 0 or null", v);
  return TimeValue(v, path);
}

json& Array(json& v, const Path& path) {
  if (!v.is_array()) Expected(path, "an array", v);
  return v;
}

// ---------------------------------------------------------------- programs

constexpr std::pair<CatchKind, std::string_view> kCatchNames[] = {
    {CatchKind::kCancelled, "cancelled"}, {CatchKind::kTimeout, "timeout"},
    {CatchKind::kError, "error"},         {CatchKind::kBase, "base"},
    {CatchKind::kGroup, "group"},         {CatchKind::kRuntime, "runtime"},
    {CatchKind::kException, "exception"}, {CatchKind::kAny, "any"},
};
constexpr std::pair<Then, std::string_view> kThenNames[] = {
    {Then::kReraise, "reraise"}, {Then::kSwallow, "swallow"}, {Then::kUncancel, "uncancel"}};

class ProgramReader {
 public:
  Program Read(json& top) {
    const Path root{nullptr, {}, 0, true};
    ExpectObject(top, root);
    AllowOnly(top, root, {"asyncspec", "name", "main"}, "a program");
    Program program;
    if (json* v = Opt(top, "asyncspec"); v != nullptr && !(v->is_number() && *v == 1)) {
      Expected(root.Field("asyncspec"), "1 (the format version)", *v);
    }
    if (json* v = Opt(top, "name")) program.name = Str(*v, root.Field("name"));
    const Path main = root.Field("main");
    program.main = ReadBody(Req(top, root, "main"), main, 1);
    return program;
  }

 private:
  // `depth` is the nesting depth of the steps of this body (main's: 1).
  Body ReadBody(json& v, const Path& path, int depth) {
    Array(v, path);
    if (depth > kMaxNesting) {
      Fail(path, StrCat("bodies nested deeper than ", kMaxNesting, " (the limit)"));
    }
    Body body;
    body.reserve(v.size());
    for (std::size_t i = 0; i < v.size(); ++i) body.push_back(ReadStep(v[i], path.Index(i), depth));
    return body;
  }

  TaskDef ReadTask(json& v, const Path& path, int depth) {
    ExpectObject(v, path);
    AllowOnly(v, path, {"name", "body"}, "a task");
    TaskDef task;
    task.name = Name(Req(v, path, "name"), path.Field("name"));
    task.body = ReadBody(Req(v, path, "body"), path.Field("body"), depth + 1);
    return task;
  }

  Body ReadField(json& obj, const Path& path, const char* key, int depth) {
    return ReadBody(Req(obj, path, key), path.Field(key), depth + 1);
  }

  Step ReadStep(json& v, const Path& path, int depth) {
    ExpectObject(v, path);
    if (++steps_ > kMaxSteps) {
      Fail(path, StrCat("more than ", kMaxSteps, " steps in the program (the limit)"));
    }
    json& op_json = Req(v, path, "op");
    const Path op_path = path.Field("op");
    if (!op_json.is_string()) Expected(op_path, "an op name (a string)", op_json);
    const std::string& op = op_json.get_ref<const std::string&>();
    auto name = [&] { return Name(Req(v, path, "name"), path.Field("name")); };
    auto task = [&] { return ReadTask(Req(v, path, "task"), path.Field("task"), depth); };
    auto delay = [&] { return DelayOrNull(Req(v, path, "d"), path.Field("d")); };
    Step step;
    if (op == "sleep") {
      AllowOnly(v, path, {"op", "d"}, "op \"sleep\"");
      step.op = Sleep{Delay(Req(v, path, "d"), path.Field("d"))};
    } else if (op == "raise") {
      AllowOnly(v, path, {"op", "label", "base"}, "op \"raise\"");
      step.op = Raise{Str(Req(v, path, "label"), path.Field("label")), OptBool(v, path, "base")};
    } else if (op == "return") {
      AllowOnly(v, path, {"op", "value"}, "op \"return\"");
      step.op = Return{Str(Req(v, path, "value"), path.Field("value"))};
    } else if (op == "task") {
      AllowOnly(v, path, {"op", "task"}, "op \"task\"");
      step.op = CreateTask{task()};
    } else if (op == "group") {
      AllowOnly(v, path, {"op", "name", "body"}, "op \"group\"");
      Group g;
      g.name = name();
      g.body = ReadField(v, path, "body", depth);
      step.op = std::move(g);
    } else if (op == "spawn") {
      AllowOnly(v, path, {"op", "group", "task"}, "op \"spawn\"");
      Spawn s;
      s.group = Name(Req(v, path, "group"), path.Field("group"));
      s.task = task();
      step.op = std::move(s);
    } else if (op == "gather") {
      AllowOnly(v, path, {"op", "name", "children", "return_exceptions"}, "op \"gather\"");
      Gather g;
      g.name = name();
      const Path cpath = path.Field("children");
      json& children = Array(Req(v, path, "children"), cpath);
      g.children.reserve(children.size());
      for (std::size_t i = 0; i < children.size(); ++i) {
        g.children.push_back(ReadTask(children[i], cpath.Index(i), depth));
      }
      g.return_exceptions = OptBool(v, path, "return_exceptions");
      step.op = std::move(g);
    } else if (op == "timeout") {
      AllowOnly(v, path, {"op", "name", "d", "body"}, "op \"timeout\"");
      Timeout t;
      t.name = name();
      t.d = delay();
      t.body = ReadField(v, path, "body", depth);
      step.op = std::move(t);
    } else if (op == "reschedule") {
      AllowOnly(v, path, {"op", "timeout", "d"}, "op \"reschedule\"");
      step.op = Reschedule{Name(Req(v, path, "timeout"), path.Field("timeout")), delay()};
    } else if (op == "shield") {
      AllowOnly(v, path, {"op", "name", "task"}, "op \"shield\"");
      Shield s;
      s.name = name();
      s.task = task();
      step.op = std::move(s);
    } else if (op == "wait_for") {
      AllowOnly(v, path, {"op", "name", "task", "d"}, "op \"wait_for\"");
      WaitFor w;
      w.name = name();
      w.task = task();
      w.d = delay();
      step.op = std::move(w);
    } else if (op == "cancel") {
      AllowOnly(v, path, {"op", "target", "msg"}, "op \"cancel\"");
      Cancel c;
      c.target = Name(Req(v, path, "target"), path.Field("target"));
      if (json* m = Opt(v, "msg")) c.msg = StrOrNull(*m, path.Field("msg"));
      step.op = std::move(c);
    } else if (op == "await") {
      AllowOnly(v, path, {"op", "target"}, "op \"await\"");
      step.op = Await{Name(Req(v, path, "target"), path.Field("target"))};
    } else if (op == "uncancel") {
      AllowOnly(v, path, {"op"}, "op \"uncancel\"");
      step.op = Uncancel{};
    } else if (op == "try") {
      AllowOnly(v, path, {"op", "name", "body", "handlers", "finally"}, "op \"try\"");
      step.op = ReadTry(v, path, depth);
    } else {
      Fail(op_path, StrCat("unknown op ", Got(op_json),
                                 " (expected sleep, raise, return, task, group, spawn, gather, "
                                 "timeout, reschedule, shield, wait_for, cancel, await, "
                                 "uncancel or try)"));
    }
    return step;
  }

  Try ReadTry(json& v, const Path& path, int depth) {
    Try t;
    t.name = Name(Req(v, path, "name"), path.Field("name"));
    t.body = ReadField(v, path, "body", depth);
    const Path hpath = path.Field("handlers");
    json& handlers = Array(Req(v, path, "handlers"), hpath);
    t.handlers.reserve(handlers.size());
    for (std::size_t i = 0; i < handlers.size(); ++i) {
      t.handlers.push_back(ReadHandler(handlers[i], hpath.Index(i), depth));
    }
    if (json* f = Opt(v, "finally"); f != nullptr && !f->is_null()) {
      const Path fpath = path.Field("finally");
      ExpectObject(*f, fpath);
      AllowOnly(*f, fpath, {"name", "body"}, "a finally block");
      Finally fin;
      fin.name = Name(Req(*f, fpath, "name"), fpath.Field("name"));
      fin.body = ReadField(*f, fpath, "body", depth);
      t.finally = std::move(fin);
    }
    return t;
  }

  Handler ReadHandler(json& v, const Path& path, int depth) {
    ExpectObject(v, path);
    AllowOnly(v, path, {"name", "catch", "label", "star", "body", "then"}, "a handler");
    Handler h;
    h.name = Name(Req(v, path, "name"), path.Field("name"));
    {
      json& c = Req(v, path, "catch");
      auto it = std::find_if(std::begin(kCatchNames), std::end(kCatchNames),
                             [&](const auto& e) { return c.is_string() && c == e.second; });
      if (it == std::end(kCatchNames)) {
        Expected(path.Field("catch"),
                 "one of cancelled, timeout, error, base, group, runtime, exception, any", c);
      }
      h.kind = it->first;
    }
    if (json* l = Opt(v, "label"); l != nullptr && !l->is_null()) {
      if (h.kind != CatchKind::kError && h.kind != CatchKind::kBase) {
        Fail(path.Field("label"), "a label is only allowed with catch \"error\" or \"base\"");
      }
      h.label = Str(*l, path.Field("label"));
    }
    h.star = OptBool(v, path, "star");
    h.body = ReadField(v, path, "body", depth);
    {
      json& t = Req(v, path, "then");
      auto it = std::find_if(std::begin(kThenNames), std::end(kThenNames),
                             [&](const auto& e) { return t.is_string() && t == e.second; });
      if (it == std::end(kThenNames)) {
        Expected(path.Field("then"), "one of reraise, swallow, uncancel", t);
      }
      h.then = it->first;
    }
    return h;
  }

  std::size_t steps_ = 0;
};

// ---------------------------------------------------------------- outcomes

constexpr std::string_view kRuntimeWhats[] = {"taskgroup_finished", "taskgroup_not_entered",
                                             "taskgroup_shutting_down", "other"};

Exc ReadExc(json& v, const Path& path, int depth) {
  ExpectObject(v, path);
  if (depth > kMaxNesting) {
    Fail(path, StrCat("exception groups nested deeper than ", kMaxNesting, " (the limit)"));
  }
  json& type = Req(v, path, "type");
  Exc e;
  if (type == "error" || type == "base") {
    AllowOnly(v, path, {"type", "label"}, StrCat("an exception of type ", Got(type)));
    e.type = type == "error" ? Exc::Type::kError : Exc::Type::kBase;
    e.label = Str(Req(v, path, "label"), path.Field("label"));
  } else if (type == "cancelled") {
    AllowOnly(v, path, {"type", "msg"}, "an exception of type \"cancelled\"");
    e.type = Exc::Type::kCancelled;
    if (json* m = Opt(v, "msg")) e.msg = StrOrNull(*m, path.Field("msg"));
  } else if (type == "timeout") {
    AllowOnly(v, path, {"type"}, "an exception of type \"timeout\"");
    e.type = Exc::Type::kTimeout;
  } else if (type == "runtime") {
    // `text` is the human message of the RuntimeError; it differs between
    // Python versions and runtimes, so it is accepted and not kept.
    AllowOnly(v, path, {"type", "what", "text"}, "an exception of type \"runtime\"");
    e.type = Exc::Type::kRuntime;
    json& what = Req(v, path, "what");
    auto it = std::find_if(std::begin(kRuntimeWhats), std::end(kRuntimeWhats),
                           [&](std::string_view w) {
                             return what.is_string() && what.get_ref<const std::string&>() == w;
                           });
    if (it == std::end(kRuntimeWhats)) {
      Expected(path.Field("what"),
               "one of taskgroup_finished, taskgroup_not_entered, taskgroup_shutting_down, other",
               what);
    }
    e.what = Str(what, path.Field("what"));
    if (json* t = Opt(v, "text"); t != nullptr && !t->is_string()) {
      Expected(path.Field("text"), "a string", *t);
    }
  } else if (type == "group") {
    AllowOnly(v, path, {"type", "base", "children"}, "an exception of type \"group\"");
    e.type = Exc::Type::kGroup;
    e.base_group = Bool(Req(v, path, "base"), path.Field("base"));
    const Path cpath = path.Field("children");
    json& children = Array(Req(v, path, "children"), cpath);
    e.children.reserve(children.size());
    for (std::size_t i = 0; i < children.size(); ++i) {
      e.children.push_back(ReadExc(children[i], cpath.Index(i), depth + 1));
    }
  } else {
    Expected(path.Field("type"), "one of error, base, cancelled, timeout, runtime, group", type);
  }
  return e;
}

std::optional<Exc> ExcOrNull(json& v, const Path& path) {
  if (v.is_null()) return std::nullopt;
  return ReadExc(v, path, 1);
}

TaskOutcome ReadTaskOutcome(json& v, const Path& path) {
  ExpectObject(v, path);
  AllowOnly(v, path, {"start", "end", "state", "value", "error"}, "a task outcome");
  TaskOutcome t;
  t.start = TimeOrNull(Req(v, path, "start"), path.Field("start"));
  t.end = TimeOrNull(Req(v, path, "end"), path.Field("end"));
  json& state = Req(v, path, "state");
  if (state == "returned") {
    t.state = TaskOutcome::State::kReturned;
    if (json* val = Opt(v, "value")) t.value = StrOrNull(*val, path.Field("value"));
  } else if (state == "raised" || state == "cancelled") {
    t.state = state == "raised" ? TaskOutcome::State::kRaised : TaskOutcome::State::kCancelled;
    t.error = ReadExc(Req(v, path, "error"), path.Field("error"), 1);
  } else if (state == "pending") {
    t.state = TaskOutcome::State::kPending;
  } else {
    Expected(path.Field("state"), "one of returned, raised, cancelled, pending", state);
  }
  if (t.state != TaskOutcome::State::kReturned && Opt(v, "value") != nullptr) {
    Fail(path.Field("value"), "a value is only allowed with state \"returned\"");
  }
  if (t.state != TaskOutcome::State::kRaised && t.state != TaskOutcome::State::kCancelled &&
      Opt(v, "error") != nullptr) {
    Fail(path.Field("error"), "an error is only allowed with state \"raised\" or \"cancelled\"");
  }
  return t;
}

BlockOutcome ReadBlockOutcome(json& v, const Path& path) {
  ExpectObject(v, path);
  AllowOnly(v, path, {"start", "end"}, "a block outcome");
  BlockOutcome b;
  b.start = TimeValue(Req(v, path, "start"), path.Field("start"));
  b.end = TimeOrNull(Req(v, path, "end"), path.Field("end"));
  return b;
}

ScopeOutcome ReadScopeOutcome(json& v, const Path& path) {
  ExpectObject(v, path);
  AllowOnly(v, path, {"end", "raised", "value", "expired"}, "a scope outcome");
  ScopeOutcome s;
  s.end = TimeValue(Req(v, path, "end"), path.Field("end"));
  if (json* r = Opt(v, "raised")) s.raised = ExcOrNull(*r, path.Field("raised"));
  if (json* val = Opt(v, "value")) {
    const Path vpath = path.Field("value");
    if (val->is_array()) {  // a gather's results
      std::vector<GatherItem> items;
      items.reserve(val->size());
      for (std::size_t i = 0; i < val->size(); ++i) {
        json& item = (*val)[i];
        const Path ipath = vpath.Index(i);
        ExpectObject(item, ipath);
        AllowOnly(item, ipath, {"value", "error"}, "a gather result");
        GatherItem g;
        json* iv = Opt(item, "value");
        json* ie = Opt(item, "error");
        if ((iv == nullptr) == (ie == nullptr)) {
          Fail(ipath, "expected exactly one of \"value\" and \"error\"");
        }
        if (iv != nullptr) g.value = StrOrNull(*iv, ipath.Field("value"));
        if (ie != nullptr) g.error = ReadExc(*ie, ipath.Field("error"), 1);
        items.push_back(std::move(g));
      }
      s.items = std::move(items);
    } else if (!val->is_null() && !val->is_string()) {
      Expected(vpath, "a string, null or a list of gather results", *val);
    } else {
      s.value = StrOrNull(*val, vpath);
    }
  }
  if (json* x = Opt(v, "expired")) s.expired = Bool(*x, path.Field("expired"));
  return s;
}

template <typename T, typename ReadOne>
std::map<std::string, T> ReadMap(json& v, const Path& path, ReadOne read_one) {
  ExpectObject(v, path);
  std::map<std::string, T> out;
  for (auto& [key, value] : v.items()) {
    const Path kpath = path.Field(key);
    out.emplace_hint(out.end(), key, read_one(value, kpath));
  }
  return out;
}

Outcome ReadOutcome(json& top) {
  const Path root{nullptr, {}, 0, true};
  ExpectObject(top, root);
  AllowOnly(top, root, {"tasks", "blocks", "scopes", "run", "unretrieved", "end_time"},
            "an outcome");
  Outcome o;
  o.tasks = ReadMap<TaskOutcome>(Req(top, root, "tasks"), root.Field("tasks"), ReadTaskOutcome);
  o.blocks =
      ReadMap<BlockOutcome>(Req(top, root, "blocks"), root.Field("blocks"), ReadBlockOutcome);
  o.scopes =
      ReadMap<ScopeOutcome>(Req(top, root, "scopes"), root.Field("scopes"), ReadScopeOutcome);
  o.run = ExcOrNull(Req(top, root, "run"), root.Field("run"));
  const Path upath = root.Field("unretrieved");
  json& un = Array(Req(top, root, "unretrieved"), upath);
  o.unretrieved.reserve(un.size());
  for (std::size_t i = 0; i < un.size(); ++i) {
    const Path ipath = upath.Index(i);
    ExpectObject(un[i], ipath);
    AllowOnly(un[i], ipath, {"task", "error"}, "an unretrieved entry");
    Unretrieved u;
    u.task = Str(Req(un[i], ipath, "task"), ipath.Field("task"));
    u.error = ReadExc(Req(un[i], ipath, "error"), ipath.Field("error"), 1);
    o.unretrieved.push_back(std::move(u));
  }
  o.end_time = TimeValue(Req(top, root, "end_time"), root.Field("end_time"));
  return o;
}

// ---------------------------------------------------------------- parsing

struct LineColumn {
  std::size_t line = 1, column = 1;
};

// 1-based line and column of byte `offset` (0-based) of `text`.
LineColumn Locate(std::string_view text, std::size_t offset) {
  LineColumn lc;
  offset = std::min(offset, text.size());
  for (std::size_t i = 0; i < offset; ++i) {
    if (text[i] == '\n') {
      ++lc.line;
      lc.column = 1;
    } else {
      ++lc.column;
    }
  }
  return lc;
}

// Bounds the container nesting of `text` without parsing it: a scan that
// skips strings (with their escapes) and counts brackets. Exact for valid
// JSON; for invalid JSON the parser reports the real error.
absl::Status CheckDepth(std::string_view text) {
  int depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxJsonDepth) {
        LineColumn lc = Locate(text, i);
        return absl::InvalidArgumentError(
            StrCat("line ", lc.line, ", column ", lc.column, " (byte ", i,
                         "): JSON nested deeper than ", kMaxJsonDepth,
                         " levels; no valid input is that deep (limit kMaxNesting = ",
                         kMaxNesting, ")"));
      }
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<json> Parse(std::string_view text) {
  if (text.size() > kMaxJsonBytes) {
    return absl::InvalidArgumentError(
        StrCat("input of ", text.size(), " bytes is larger than the limit of ",
                     kMaxJsonBytes, " bytes"));
  }
  if (absl::Status s = CheckDepth(text); !s.ok()) return s;
  try {
    return json::parse(text.data(), text.data() + text.size());
  } catch (const json::parse_error& e) {
    // nlohmann's message is "[json.exception.parse_error.N] parse error at
    // line L, column C: <what>"; keep <what> and say where ourselves, with
    // the byte offset too (e.byte is 1-based, the offending byte).
    std::string_view what = e.what();
    if (auto pos = what.find(": "); pos != std::string_view::npos) what.remove_prefix(pos + 2);
    const std::size_t offset = e.byte == 0 ? 0 : e.byte - 1;
    LineColumn lc = Locate(text, offset);
    return absl::InvalidArgumentError(StrCat("line ", lc.line, ", column ", lc.column,
                                                   " (byte ", offset, "): ", what));
  }
}

template <typename T, typename Read>
absl::StatusOr<T> ReadWith(std::string_view text, Read read) {
  try {
    absl::StatusOr<json> doc = Parse(text);
    if (!doc.ok()) return doc.status();
    return read(*doc);
  } catch (const ReadError& e) {
    return absl::InvalidArgumentError(e.message);
  } catch (const std::bad_alloc&) {
    return absl::ResourceExhaustedError("out of memory while reading JSON");
  } catch (const std::exception& e) {  // a bug here; still never let it out
    return absl::InternalError(StrCat("unexpected error reading JSON: ", e.what()));
  }
}

// ---------------------------------------------------------------- writing

// Length of the well-formed UTF-8 sequence at s[i] (RFC 3629), or 0.
std::size_t Utf8Length(std::string_view s, std::size_t i) {
  auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  auto cont = [&](std::size_t k, unsigned lo, unsigned hi) {
    return k < s.size() && byte(k) >= lo && byte(k) <= hi;
  };
  const unsigned c = byte(i);
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) return cont(i + 1, 0x80, 0xBF) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    const unsigned lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
    return cont(i + 1, lo, hi) && cont(i + 2, 0x80, 0xBF) ? 3 : 0;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    const unsigned lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
    return cont(i + 1, lo, hi) && cont(i + 2, 0x80, 0xBF) && cont(i + 3, 0x80, 0xBF) ? 4 : 0;
  }
  return 0;
}

void AppendInt(std::string& out, Time t) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, t);
  out.append(buf, end);
}

void AppendDelay(std::string& out, const std::optional<Time>& d) {
  if (d) {
    AppendInt(out, *d);
  } else {
    out += "null";
  }
}

void AppendStrOrNull(std::string& out, const std::optional<std::string>& s) {
  if (s) {
    AppendJsonString(out, *s);
  } else {
    out += "null";
  }
}

class ProgramWriter {
 public:
  explicit ProgramWriter(std::string& out) : out_(out) {}

  void Body(const spec::Body& body) {
    out_ += '[';
    for (std::size_t i = 0; i < body.size(); ++i) {
      if (i > 0) out_ += ',';
      out_ += "{\"op\":";
      std::visit([this](const auto& op) { Op(op); }, body[i].op);
      out_ += '}';
    }
    out_ += ']';
  }

 private:
  void Key(std::string_view key) {  // ,"key":
    out_ += ",\"";
    out_ += key;
    out_ += "\":";
  }
  void NameKey(std::string_view key, std::string_view name) {
    Key(key);
    AppendJsonString(out_, name);
  }
  void Task(const TaskDef& t) {
    out_ += "{\"name\":";
    AppendJsonString(out_, t.name);
    Key("body");
    Body(t.body);
    out_ += '}';
  }

  void Op(const Sleep& s) {
    out_ += "\"sleep\"";
    Key("d");
    AppendInt(out_, s.d);
  }
  void Op(const Raise& r) {
    out_ += "\"raise\"";
    NameKey("label", r.label);
    Key("base");
    out_ += r.base ? "true" : "false";
  }
  void Op(const Return& r) {
    out_ += "\"return\"";
    NameKey("value", r.value);
  }
  void Op(const CreateTask& t) {
    out_ += "\"task\"";
    Key("task");
    Task(t.task);
  }
  void Op(const Group& g) {
    out_ += "\"group\"";
    NameKey("name", g.name);
    Key("body");
    Body(g.body);
  }
  void Op(const Spawn& s) {
    out_ += "\"spawn\"";
    NameKey("group", s.group);
    Key("task");
    Task(s.task);
  }
  void Op(const Gather& g) {
    out_ += "\"gather\"";
    NameKey("name", g.name);
    Key("children");
    out_ += '[';
    for (std::size_t i = 0; i < g.children.size(); ++i) {
      if (i > 0) out_ += ',';
      Task(g.children[i]);
    }
    out_ += ']';
    Key("return_exceptions");
    out_ += g.return_exceptions ? "true" : "false";
  }
  void Op(const Timeout& t) {
    out_ += "\"timeout\"";
    NameKey("name", t.name);
    Key("d");
    AppendDelay(out_, t.d);
    Key("body");
    Body(t.body);
  }
  void Op(const Reschedule& r) {
    out_ += "\"reschedule\"";
    NameKey("timeout", r.timeout);
    Key("d");
    AppendDelay(out_, r.d);
  }
  void Op(const Shield& s) {
    out_ += "\"shield\"";
    NameKey("name", s.name);
    Key("task");
    Task(s.task);
  }
  void Op(const WaitFor& w) {
    out_ += "\"wait_for\"";
    NameKey("name", w.name);
    Key("task");
    Task(w.task);
    Key("d");
    AppendDelay(out_, w.d);
  }
  void Op(const Cancel& c) {
    out_ += "\"cancel\"";
    NameKey("target", c.target);
    if (c.msg) NameKey("msg", *c.msg);
  }
  void Op(const Await& a) {
    out_ += "\"await\"";
    NameKey("target", a.target);
  }
  void Op(const Uncancel&) { out_ += "\"uncancel\""; }
  void Op(const Try& t) {
    out_ += "\"try\"";
    NameKey("name", t.name);
    Key("body");
    Body(t.body);
    Key("handlers");
    out_ += '[';
    for (std::size_t i = 0; i < t.handlers.size(); ++i) {
      const Handler& h = t.handlers[i];
      if (i > 0) out_ += ',';
      out_ += "{\"name\":";
      AppendJsonString(out_, h.name);
      Key("catch");
      AppendJsonString(out_, CatchKindName(h.kind));
      if (h.label) NameKey("label", *h.label);
      Key("star");
      out_ += h.star ? "true" : "false";
      Key("body");
      Body(h.body);
      Key("then");
      AppendJsonString(out_, ThenName(h.then));
      out_ += '}';
    }
    out_ += ']';
    if (t.finally) {
      Key("finally");
      out_ += "{\"name\":";
      AppendJsonString(out_, t.finally->name);
      Key("body");
      Body(t.finally->body);
      out_ += '}';
    }
  }

  std::string& out_;
};

void WriteExc(std::string& out, const Exc& e) {
  switch (e.type) {
    case Exc::Type::kError:
    case Exc::Type::kBase:
      out += e.type == Exc::Type::kError ? "{\"type\":\"error\",\"label\":"
                                         : "{\"type\":\"base\",\"label\":";
      AppendJsonString(out, e.label);
      break;
    case Exc::Type::kCancelled:
      out += "{\"type\":\"cancelled\"";
      if (e.msg) {
        out += ",\"msg\":";
        AppendJsonString(out, *e.msg);
      }
      break;
    case Exc::Type::kTimeout:
      out += "{\"type\":\"timeout\"";
      break;
    case Exc::Type::kRuntime:
      out += "{\"type\":\"runtime\",\"what\":";
      AppendJsonString(out, e.what);
      break;
    case Exc::Type::kGroup:
      out += "{\"type\":\"group\",\"base\":";
      out += e.base_group ? "true" : "false";
      out += ",\"children\":[";
      for (std::size_t i = 0; i < e.children.size(); ++i) {
        if (i > 0) out += ',';
        WriteExc(out, e.children[i]);
      }
      out += ']';
      break;
  }
  out += '}';
}

void WriteExcOrNull(std::string& out, const std::optional<Exc>& e) {
  if (e) {
    WriteExc(out, *e);
  } else {
    out += "null";
  }
}

void WriteTimeOrNull(std::string& out, const std::optional<Time>& t) { AppendDelay(out, t); }

template <typename T, typename WriteOne>
void WriteMap(std::string& out, const std::map<std::string, T>& map, WriteOne write_one) {
  out += '{';
  bool first = true;
  for (const auto& [key, value] : map) {
    if (!first) out += ',';
    first = false;
    AppendJsonString(out, key);
    out += ':';
    write_one(value);
  }
  out += '}';
}

}  // namespace

// ---------------------------------------------------------------- public

std::string_view CatchKindName(CatchKind kind) {
  for (const auto& [k, name] : kCatchNames) {
    if (k == kind) return name;
  }
  return "?";
}

std::string_view ThenName(Then then) {
  for (const auto& [t, name] : kThenNames) {
    if (t == then) return name;
  }
  return "?";
}

void AppendJsonString(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  std::size_t i = 0;
  while (i < s.size()) {
    // Copy the longest run that needs no escaping in one append.
    std::size_t j = i;
    while (j < s.size()) {
      const auto c = static_cast<unsigned char>(s[j]);
      if (c < 0x20 || c == '"' || c == '\\') break;
      if (c < 0x80) {
        ++j;
        continue;
      }
      const std::size_t n = Utf8Length(s, j);
      if (n == 0) break;
      j += n;
    }
    out.append(s.data() + i, j - i);
    if (j == s.size()) break;
    const auto c = static_cast<unsigned char>(s[j]);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 0xF];
        } else {
          out += "\\ufffd";  // an invalid UTF-8 byte
        }
    }
    i = j + 1;
  }
  out += '"';
}

absl::StatusOr<Program> ProgramFromJson(std::string_view text) {
  return ReadWith<Program>(text, [](json& doc) { return ProgramReader().Read(doc); });
}

absl::StatusOr<Outcome> OutcomeFromJson(std::string_view text) {
  return ReadWith<Outcome>(text, [](json& doc) { return ReadOutcome(doc); });
}

absl::StatusOr<Exc> ExcFromJson(std::string_view text) {
  return ReadWith<Exc>(text, [](json& doc) {
    return ReadExc(doc, Path{nullptr, {}, 0, true}, 1);
  });
}

std::string ProgramToJson(const Program& program) {
  std::string out;
  out.reserve(256);
  out += "{\"asyncspec\":1";
  if (!program.name.empty()) {
    out += ",\"name\":";
    AppendJsonString(out, program.name);
  }
  out += ",\"main\":";
  ProgramWriter(out).Body(program.main);
  out += '}';
  return out;
}

std::string ExcToJson(const Exc& exc) {
  std::string out;
  WriteExc(out, exc);
  return out;
}

std::string OutcomeToJson(const Outcome& o) {
  std::string out;
  out.reserve(256);
  out += "{\"tasks\":";
  WriteMap(out, o.tasks, [&](const TaskOutcome& t) {
    out += "{\"start\":";
    WriteTimeOrNull(out, t.start);
    out += ",\"end\":";
    WriteTimeOrNull(out, t.end);
    out += ",\"state\":";
    switch (t.state) {
      case TaskOutcome::State::kPending: out += "\"pending\""; break;
      case TaskOutcome::State::kReturned:
        out += "\"returned\",\"value\":";
        AppendStrOrNull(out, t.value);
        break;
      case TaskOutcome::State::kRaised:
      case TaskOutcome::State::kCancelled:
        out += t.state == TaskOutcome::State::kRaised ? "\"raised\"" : "\"cancelled\"";
        // A raised/cancelled outcome always has an error; if one built in
        // code lacks it, writing none would produce JSON the reader refuses.
        out += ",\"error\":";
        WriteExcOrNull(out, t.error);
        break;
    }
    out += '}';
  });
  out += ",\"blocks\":";
  WriteMap(out, o.blocks, [&](const BlockOutcome& b) {
    out += "{\"start\":";
    AppendInt(out, b.start);
    out += ",\"end\":";
    WriteTimeOrNull(out, b.end);
    out += '}';
  });
  out += ",\"scopes\":";
  WriteMap(out, o.scopes, [&](const ScopeOutcome& s) {
    out += "{\"end\":";
    AppendInt(out, s.end);
    if (s.raised) {
      out += ",\"raised\":";
      WriteExc(out, *s.raised);
    }
    if (s.items) {
      out += ",\"value\":[";
      for (std::size_t i = 0; i < s.items->size(); ++i) {
        const GatherItem& g = (*s.items)[i];
        if (i > 0) out += ',';
        if (g.error) {
          out += "{\"error\":";
          WriteExc(out, *g.error);
        } else {
          out += "{\"value\":";
          AppendStrOrNull(out, g.value);
        }
        out += '}';
      }
      out += ']';
    } else if (s.value) {
      out += ",\"value\":";
      AppendJsonString(out, *s.value);
    }
    if (s.expired) out += *s.expired ? ",\"expired\":true" : ",\"expired\":false";
    out += '}';
  });
  out += ",\"run\":";
  WriteExcOrNull(out, o.run);
  out += ",\"unretrieved\":[";
  for (std::size_t i = 0; i < o.unretrieved.size(); ++i) {
    if (i > 0) out += ',';
    out += "{\"task\":";
    AppendJsonString(out, o.unretrieved[i].task);
    out += ",\"error\":";
    WriteExc(out, o.unretrieved[i].error);
    out += '}';
  }
  out += "],\"end_time\":";
  AppendInt(out, o.end_time);
  out += '}';
  return out;
}

}  // namespace asyncspec::spec
