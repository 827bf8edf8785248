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
#include <array>
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
#include "spec/str_cat.h"

namespace asyncspec::spec {
namespace {

using nlohmann::json;

using internal::StrAppend;
using internal::StrCat;

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

[[noreturn, gnu::noinline]] void Fail(const Path& path, std::string_view message) {
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

[[noreturn, gnu::noinline]] void Expected(const Path& path, std::string_view what, const json& got) {
  Fail(path, StrCat("expected ", what, ", got ", Got(got)));
}

void ExpectObject(const json& v, const Path& path) {
  if (!v.is_object()) Expected(path, "an object", v);
}

// Refuses any key of `obj` not in [allowed, allowed_end); `what` says whose
// keys these are.
[[gnu::noinline]] void AllowOnly(const json& obj, const Path& path,
                                 const std::string_view* allowed,
                                 const std::string_view* allowed_end, std::string_view what) {
  for (const auto& [key, value] : obj.items()) {
    if (std::find(allowed, allowed_end, key) == allowed_end) {
      std::string list;
      for (const std::string_view* a = allowed; a != allowed_end; ++a) {
        StrAppend(&list, list.empty() ? "" : ", ", *a);
      }
      Fail(path.Field(key), StrCat("unknown field of ", what, " (allowed: ", list, ")"));
    }
  }
}

void AllowOnly(const json& obj, const Path& path, std::initializer_list<std::string_view> allowed,
               std::string_view what) {
  AllowOnly(obj, path, allowed.begin(), allowed.end(), what);
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

// Reads a program, one function per op. The readers recurse once per
// nesting level (ReadBody -> ReadStep -> ReadX -> ReadBody), up to
// kMaxNesting levels, so each keeps a small stack frame: the per-op readers
// are not inlined into ReadStep (which would give it the locals of all of
// them: ~9 KB per level under AddressSanitizer, which overflowed 8 MB at
// 1000 levels), and error messages are built in separate functions.
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
  using OpReader = Step::Op (ProgramReader::*)(json&, const Path&, int);
  struct OpEntry {
    std::string_view name;
    OpReader read;
    std::string_view what;                     // for messages: op "name"
    std::array<std::string_view, 5> fields;   // allowed, "op" included; then empty
  };
  static const OpEntry kOps[15];

  [[noreturn, gnu::noinline]] static void TooDeep(const Path& path) {
    Fail(path, StrCat("bodies nested deeper than ", kMaxNesting, " (the limit)"));
  }
  [[noreturn, gnu::noinline]] static void TooMany(const Path& path) {
    Fail(path, StrCat("more than ", kMaxSteps, " steps in the program (the limit)"));
  }
  [[noreturn, gnu::noinline]] static void UnknownOp(const Path& path, const json& op) {
    Fail(path, StrCat("unknown op ", Got(op),
                      " (expected sleep, raise, return, task, group, spawn, gather, timeout, "
                      "reschedule, shield, wait_for, cancel, await, uncancel or try)"));
  }

  // `depth` is the nesting depth of the steps of this body (main's: 1).
  [[gnu::noinline]] Body ReadBody(json& v, const Path& path, int depth) {
    Array(v, path);
    if (depth > kMaxNesting) TooDeep(path);
    Body body;
    body.reserve(v.size());
    for (std::size_t i = 0; i < v.size(); ++i) {
      body.emplace_back();
      ReadStep(v[i], path.Index(i), depth, body.back());
    }
    return body;
  }

  [[gnu::noinline]] void ReadStep(json& v, const Path& path, int depth, Step& step) {
    ExpectObject(v, path);
    if (++steps_ > kMaxSteps) TooMany(path);
    json& op = Req(v, path, "op");
    if (!op.is_string()) Expected(path.Field("op"), "an op name (a string)", op);
    const std::string& name = op.get_ref<const std::string&>();
    for (const OpEntry& e : kOps) {
      if (e.name == name) {
        auto end = std::find(e.fields.begin(), e.fields.end(), std::string_view());
        AllowOnly(v, path, e.fields.data(), e.fields.data() + (end - e.fields.begin()), e.what);
        step.op = (this->*e.read)(v, path, depth);
        return;
      }
    }
    UnknownOp(path.Field("op"), op);
  }

  std::string Name(json& v, const Path& path, const char* key) {
    return spec::Name(Req(v, path, key), path.Field(key));
  }
  std::optional<Time> DelayField(json& v, const Path& path) {
    return DelayOrNull(Req(v, path, "d"), path.Field("d"));
  }
  Body BodyField(json& obj, const Path& path, const char* key, int depth) {
    return ReadBody(Req(obj, path, key), path.Field(key), depth + 1);
  }
  TaskDef TaskField(json& v, const Path& path, int depth) {
    return ReadTask(Req(v, path, "task"), path.Field("task"), depth);
  }

  [[gnu::noinline]] TaskDef ReadTask(json& v, const Path& path, int depth) {
    ExpectObject(v, path);
    AllowOnly(v, path, {"name", "body"}, "a task");
    TaskDef task;
    task.name = Name(v, path, "name");
    task.body = BodyField(v, path, "body", depth);
    return task;
  }

  Step::Op ReadSleep(json& v, const Path& path, int) {
    return Sleep{Delay(Req(v, path, "d"), path.Field("d"))};
  }
  Step::Op ReadRaise(json& v, const Path& path, int) {
    return Raise{Str(Req(v, path, "label"), path.Field("label")), OptBool(v, path, "base")};
  }
  Step::Op ReadReturn(json& v, const Path& path, int) {
    return Return{Str(Req(v, path, "value"), path.Field("value"))};
  }
  Step::Op ReadCreateTask(json& v, const Path& path, int depth) {
    return CreateTask{TaskField(v, path, depth)};
  }
  Step::Op ReadGroup(json& v, const Path& path, int depth) {
    Group g;
    g.name = Name(v, path, "name");
    g.body = BodyField(v, path, "body", depth);
    return g;
  }
  Step::Op ReadSpawn(json& v, const Path& path, int depth) {
    Spawn s;
    s.group = Name(v, path, "group");
    s.task = TaskField(v, path, depth);
    return s;
  }
  Step::Op ReadGather(json& v, const Path& path, int depth) {
    Gather g;
    g.name = Name(v, path, "name");
    const Path cpath = path.Field("children");
    json& children = Array(Req(v, path, "children"), cpath);
    g.children.reserve(children.size());
    for (std::size_t i = 0; i < children.size(); ++i) {
      g.children.push_back(ReadTask(children[i], cpath.Index(i), depth));
    }
    g.return_exceptions = OptBool(v, path, "return_exceptions");
    return g;
  }
  Step::Op ReadTimeout(json& v, const Path& path, int depth) {
    Timeout t;
    t.name = Name(v, path, "name");
    t.d = DelayField(v, path);
    t.body = BodyField(v, path, "body", depth);
    return t;
  }
  Step::Op ReadReschedule(json& v, const Path& path, int) {
    Reschedule r;
    r.timeout = Name(v, path, "timeout");
    r.d = DelayField(v, path);
    return r;
  }
  Step::Op ReadShield(json& v, const Path& path, int depth) {
    Shield s;
    s.name = Name(v, path, "name");
    s.task = TaskField(v, path, depth);
    return s;
  }
  Step::Op ReadWaitFor(json& v, const Path& path, int depth) {
    WaitFor w;
    w.name = Name(v, path, "name");
    w.task = TaskField(v, path, depth);
    w.d = DelayField(v, path);
    return w;
  }
  Step::Op ReadCancel(json& v, const Path& path, int) {
    Cancel c;
    c.target = Name(v, path, "target");
    if (json* m = Opt(v, "msg")) c.msg = StrOrNull(*m, path.Field("msg"));
    return c;
  }
  Step::Op ReadAwait(json& v, const Path& path, int) { return Await{Name(v, path, "target")}; }
  Step::Op ReadUncancel(json&, const Path&, int) { return Uncancel{}; }

  Step::Op ReadTry(json& v, const Path& path, int depth) {
    Try t;
    t.name = Name(v, path, "name");
    t.body = BodyField(v, path, "body", depth);
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
      fin.name = Name(*f, fpath, "name");
      fin.body = BodyField(*f, fpath, "body", depth);
      t.finally = std::move(fin);
    }
    return t;
  }

  [[gnu::noinline]] Handler ReadHandler(json& v, const Path& path, int depth) {
    ExpectObject(v, path);
    AllowOnly(v, path, {"name", "catch", "label", "star", "body", "then"}, "a handler");
    Handler h;
    h.name = Name(v, path, "name");
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
    h.body = BodyField(v, path, "body", depth);
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

const ProgramReader::OpEntry ProgramReader::kOps[15] = {
    {"sleep", &ProgramReader::ReadSleep, "op \"sleep\"", {"op", "d"}},
    {"raise", &ProgramReader::ReadRaise, "op \"raise\"", {"op", "label", "base"}},
    {"return", &ProgramReader::ReadReturn, "op \"return\"", {"op", "value"}},
    {"task", &ProgramReader::ReadCreateTask, "op \"task\"", {"op", "task"}},
    {"group", &ProgramReader::ReadGroup, "op \"group\"", {"op", "name", "body"}},
    {"spawn", &ProgramReader::ReadSpawn, "op \"spawn\"", {"op", "group", "task"}},
    {"gather", &ProgramReader::ReadGather, "op \"gather\"", {"op", "name", "children", "return_exceptions"}},
    {"timeout", &ProgramReader::ReadTimeout, "op \"timeout\"", {"op", "name", "d", "body"}},
    {"reschedule", &ProgramReader::ReadReschedule, "op \"reschedule\"", {"op", "timeout", "d"}},
    {"shield", &ProgramReader::ReadShield, "op \"shield\"", {"op", "name", "task"}},
    {"wait_for", &ProgramReader::ReadWaitFor, "op \"wait_for\"", {"op", "name", "task", "d"}},
    {"cancel", &ProgramReader::ReadCancel, "op \"cancel\"", {"op", "target", "msg"}},
    {"await", &ProgramReader::ReadAwait, "op \"await\"", {"op", "target"}},
    {"uncancel", &ProgramReader::ReadUncancel, "op \"uncancel\"", {"op"}},
    {"try", &ProgramReader::ReadTry, "op \"try\"", {"op", "name", "body", "handlers", "finally"}},
};

// ---------------------------------------------------------------- outcomes

constexpr std::string_view kRuntimeWhats[] = {"taskgroup_finished", "taskgroup_not_entered",
                                             "taskgroup_shutting_down", "other"};

Exc ReadExc(json& v, const Path& path, int depth);

// The exception readers recurse once per group level (ReadExc ->
// ReadExcGroup -> ReadExc); the leaf cases live in their own function so
// that the recursive frames stay small (see ProgramReader).
[[gnu::noinline]] void ReadExcLeaf(json& v, const Path& path, json& type, Exc& e) {
  if (type == "error" || type == "base") {
    e.type = type == "error" ? Exc::Type::kError : Exc::Type::kBase;
    AllowOnly(v, path, {"type", "label"},
              e.type == Exc::Type::kError ? "an exception of type \"error\""
                                          : "an exception of type \"base\"");
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
  } else {
    Expected(path.Field("type"), "one of error, base, cancelled, timeout, runtime, group", type);
  }
}

[[gnu::noinline]] void ReadExcGroup(json& v, const Path& path, int depth, Exc& e) {
  AllowOnly(v, path, {"type", "base", "children"}, "an exception of type \"group\"");
  e.type = Exc::Type::kGroup;
  e.base_group = Bool(Req(v, path, "base"), path.Field("base"));
  const Path cpath = path.Field("children");
  json& children = Array(Req(v, path, "children"), cpath);
  e.children.resize(children.size());
  for (std::size_t i = 0; i < children.size(); ++i) {
    e.children[i] = ReadExc(children[i], cpath.Index(i), depth + 1);
  }
}

[[noreturn, gnu::noinline]] void ExcTooDeep(const Path& path) {
  Fail(path, StrCat("exception groups nested deeper than ", kMaxNesting, " (the limit)"));
}

Exc ReadExc(json& v, const Path& path, int depth) {
  ExpectObject(v, path);
  if (depth > kMaxNesting) ExcTooDeep(path);
  json& type = Req(v, path, "type");
  Exc e;
  if (type == "group") {
    ReadExcGroup(v, path, depth, e);
  } else {
    ReadExcLeaf(v, path, type, e);
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

// The optional channels of RT-8: "handler" (exception-handler calls) and
// "warnings". A handler call names a task of the outcome; the lists are read in
// any order and kept sorted (outcome.h).
void ReadChannels(json& top, const Path& root, Outcome& o) {
  auto known_task = [&](json& v, const Path& path) {
    std::string t = Str(v, path);
    if (!o.tasks.count(t)) Fail(path, StrCat("names no task of the outcome: \"", t, "\""));
    return t;
  };
  if (json* h = Opt(top, "handler")) {
    const Path hpath = root.Field("handler");
    json& arr = Array(*h, hpath);
    std::vector<HandlerCall> calls;
    calls.reserve(arr.size());
    for (std::size_t i = 0; i < arr.size(); ++i) {
      const Path ipath = hpath.Index(i);
      ExpectObject(arr[i], ipath);
      AllowOnly(arr[i], ipath, {"kind", "task", "error"}, "an exception-handler call");
      HandlerCall c;
      const std::string kind = Str(Req(arr[i], ipath, "kind"), ipath.Field("kind"));
      std::optional<HandlerCall::Kind> k = HandlerKindFromName(kind);
      if (!k) {
        Fail(ipath.Field("kind"), StrCat("unknown exception-handler call kind \"", kind,
                                         "\" (allowed: never_retrieved, run_shutdown, destroyed_pending, "
                                         "parent_done, shielded)"));
      }
      c.kind = *k;
      c.task = known_task(Req(arr[i], ipath, "task"), ipath.Field("task"));
      json* e = Opt(arr[i], "error");
      if (c.kind == HandlerCall::Kind::kDestroyedPending) {
        if (e != nullptr) Fail(ipath.Field("error"), "a destroyed_pending call carries no error");
      } else {
        c.error = ReadExc(Req(arr[i], ipath, "error"), ipath.Field("error"), 1);
      }
      calls.push_back(std::move(c));
    }
    std::stable_sort(calls.begin(), calls.end());
    o.handler = std::move(calls);
  }
  if (json* w = Opt(top, "warnings")) {
    const Path wpath = root.Field("warnings");
    json& arr = Array(*w, wpath);
    std::vector<WarningRecord> ws;
    ws.reserve(arr.size());
    for (std::size_t i = 0; i < arr.size(); ++i) {
      const Path ipath = wpath.Index(i);
      ExpectObject(arr[i], ipath);
      AllowOnly(arr[i], ipath, {"kind", "task"}, "a warning");
      WarningRecord r;
      const std::string kind = Str(Req(arr[i], ipath, "kind"), ipath.Field("kind"));
      std::optional<WarningRecord::Kind> k = WarningKindFromName(kind);
      if (!k) Fail(ipath.Field("kind"), StrCat("unknown warning kind \"", kind, "\" (allowed: never_awaited)"));
      r.kind = *k;
      // A refused spawn's task never existed: any name.
      r.task = Str(Req(arr[i], ipath, "task"), ipath.Field("task"));
      ws.push_back(std::move(r));
    }
    std::stable_sort(ws.begin(), ws.end());
    o.warnings = std::move(ws);
  }
}

Outcome ReadOutcome(json& top) {
  const Path root{nullptr, {}, 0, true};
  ExpectObject(top, root);
  AllowOnly(top, root, {"tasks", "blocks", "scopes", "run", "unretrieved", "end_time", "handler", "warnings"},
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
  ReadChannels(top, root, o);
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

// Builds the DOM exactly as nlohmann's own builder does (it forwards every
// event to one), but also refuses a key repeated within one object, which
// the DOM (a map) would otherwise collapse silently, last one winning. It
// tracks the JSON path of the current value to say where.
class StrictDomBuilder {
 public:
  explicit StrictDomBuilder(json& root) : dom_(root, /*allow_exceptions_=*/true) {}

  bool null() { return Value() && dom_.null(); }
  bool boolean(bool b) { return Value() && dom_.boolean(b); }
  bool number_integer(json::number_integer_t v) { return Value() && dom_.number_integer(v); }
  bool number_unsigned(json::number_unsigned_t v) { return Value() && dom_.number_unsigned(v); }
  bool number_float(json::number_float_t v, const json::string_t& s) {
    return Value() && dom_.number_float(v, s);
  }
  bool string(json::string_t& s) { return Value() && dom_.string(s); }
  bool binary(json::binary_t& b) { return Value() && dom_.binary(b); }
  bool start_object(std::size_t n) {
    Value();
    frames_.push_back(Frame{false, 0, {}});
    return dom_.start_object(n);
  }
  bool key(json::string_t& k) {
    Frame& f = frames_.back();
    if (std::find(f.keys.begin(), f.keys.end(), k) != f.keys.end()) {
      duplicate_ = StrCat(FramePath(), ": key \"", k,
                          "\" appears twice in one object (the first would be ignored)");
      return false;
    }
    f.keys.push_back(k);
    return dom_.key(k);
  }
  bool end_object() {
    frames_.pop_back();
    return dom_.end_object();
  }
  bool start_array(std::size_t n) {
    Value();
    frames_.push_back(Frame{true, 0, {}});
    return dom_.start_array(n);
  }
  bool end_array() {
    frames_.pop_back();
    return dom_.end_array();
  }
  template <typename Exception>
  bool parse_error(std::size_t position, const std::string& token, const Exception& e) {
    return dom_.parse_error(position, token, e);  // throws e
  }

  const std::string& duplicate() const { return duplicate_; }

 private:
  struct Frame {
    bool is_array;
    std::size_t values;             // arrays: values seen so far
    std::vector<std::string> keys;  // objects: keys seen so far, last = current
  };

  bool Value() {
    if (!frames_.empty() && frames_.back().is_array) ++frames_.back().values;
    return true;
  }

  // The path of the object whose key is being read, as in FormatPath.
  std::string FramePath() const {
    std::string out;
    for (std::size_t i = 0; i + 1 < frames_.size(); ++i) {
      const Frame& f = frames_[i];
      if (f.is_array) {
        StrAppend(&out, "[", f.values - 1, "]");
      } else {
        StrAppend(&out, out.empty() ? "" : ".", f.keys.back());
      }
    }
    return out.empty() ? std::string("(top level)") : out;
  }

  nlohmann::detail::json_sax_dom_parser<json> dom_;
  std::vector<Frame> frames_;
  std::string duplicate_;
};

absl::StatusOr<json> Parse(std::string_view text) {
  if (text.size() > kMaxJsonBytes) {
    return absl::InvalidArgumentError(
        StrCat("input of ", text.size(), " bytes is larger than the limit of ",
                     kMaxJsonBytes, " bytes"));
  }
  if (absl::Status s = CheckDepth(text); !s.ok()) return s;
  try {
    json doc;
    StrictDomBuilder builder(doc);
    if (!json::sax_parse(text.data(), text.data() + text.size(), &builder)) {
      return absl::InvalidArgumentError(builder.duplicate());
    }
    return doc;
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
  if (o.handler) {
    out += ",\"handler\":[";
    for (std::size_t i = 0; i < o.handler->size(); ++i) {
      const HandlerCall& c = (*o.handler)[i];
      if (i > 0) out += ',';
      out += "{\"kind\":";
      AppendJsonString(out, HandlerKindName(c.kind));
      out += ",\"task\":";
      AppendJsonString(out, c.task);
      if (c.error) {
        out += ",\"error\":";
        WriteExc(out, *c.error);
      }
      out += '}';
    }
    out += ']';
  }
  if (o.warnings) {
    out += ",\"warnings\":[";
    for (std::size_t i = 0; i < o.warnings->size(); ++i) {
      if (i > 0) out += ',';
      out += "{\"kind\":";
      AppendJsonString(out, WarningKindName((*o.warnings)[i].kind));
      out += ",\"task\":";
      AppendJsonString(out, (*o.warnings)[i].task);
      out += '}';
    }
    out += ']';
  }
  out += '}';
  return out;
}

}  // namespace asyncspec::spec
