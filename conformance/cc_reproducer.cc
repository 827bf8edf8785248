#include "conformance/cc_reproducer.h"

#include <cctype>
#include <cstdio>
#include <functional>
#include <set>
#include <sstream>
#include <variant>

#include <nlohmann/json.hpp>

#include "conformance/quote.h"
#include "spec/text.h"

namespace asyncspec::conformance {
namespace {

// The runtime's sources, as runtime/BUILD's RUNTIME_SRCS lists them
// (cc_reproducer_test.sh builds with exactly this list, so a new source
// file there fails that test until it is added here).
constexpr const char* kRuntimeSources[] = {"core", "errors", "loop", "run", "task_group", "timeout"};

// The fixed part of every file: the program's exceptions and the recorder.
// It mirrors what conformance/reference/interpreter.cc records, element by
// element, and writes it as the check's JSON (keys sorted, nulls dropped).
constexpr char kPrelude[] = R"CC(#include <cstdio>
#include <cstdlib>
#include <exception>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "runtime/rt.h"

namespace rt = asyncspec::rt;
// One unit of program time is one nanosecond of virtual loop time (as in
// conformance/reference/interpreter.cc), so every delay the language allows
// (up to 10^12) stays exact; in seconds it would saturate past 292 years.
constexpr rt::Nanos UNIT = 1;
using Val = std::optional<std::string>;  // what a task returns (`return v`, or None)

// `raise E1`: an ordinary exception with a label.
struct Err : rt::Exception {
  explicit Err(std::string l) : BaseException(l), Exception(l), label(std::move(l)) {}
  const char* type_name() const override { return "Err"; }
  std::string label;
};
// `raise base K1`: a BaseException that asyncio treats like KeyboardInterrupt (TG-5).
struct BaseErr : rt::KeyboardInterrupt {
  explicit BaseErr(std::string l) : BaseException(l), KeyboardInterrupt(l), label(std::move(l)) {}
  const char* type_name() const override { return "BaseErr"; }
  std::string label;
};

// ---------------------------------------------------------------------------
// The recorder (spec/FORMAT.md, "Outcomes"), as JSON text.

std::string js(const std::string& s) {
  std::string o = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"': o += "\\\""; break;
      case '\\': o += "\\\\"; break;
      case '\b': o += "\\b"; break;
      case '\f': o += "\\f"; break;
      case '\n': o += "\\n"; break;
      case '\r': o += "\\r"; break;
      case '\t': o += "\\t"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          o += buf;
        } else {
          o += static_cast<char>(c);
        }
    }
  }
  return o + "\"";
}

// An object from fields already in JSON; std::map keeps the keys sorted.
std::string obj(const std::map<std::string, std::string>& fields) {
  std::string o = "{";
  for (const auto& [k, v] : fields) o += (o.size() > 1 ? "," : "") + js(k) + ":" + v;
  return o + "}";
}

std::string cancelled(const rt::Msg& m) {
  std::map<std::string, std::string> f{{"type", js("cancelled")}};
  if (m) f["msg"] = js(*m);
  return obj(f);
}

std::string exc(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const BaseErr& b) {
    return obj({{"type", js("base")}, {"label", js(b.label)}});
  } catch (const Err& b) {
    return obj({{"type", js("error")}, {"label", js(b.label)}});
  } catch (const rt::CancelledError& c) {
    return cancelled(c.has_message() ? rt::MakeMsg(c.message()) : nullptr);
  } catch (const rt::TimeoutError&) {
    return obj({{"type", js("timeout")}});
  } catch (const rt::BaseExceptionGroup& g) {
    std::string children = "[";
    for (const auto& c : g.exceptions()) children += (children.size() > 1 ? "," : "") + exc(c);
    const bool base = dynamic_cast<const rt::ExceptionGroup*>(&g) == nullptr;
    return obj({{"type", js("group")}, {"base", base ? "true" : "false"}, {"children", children + "]"}});
  } catch (const rt::RuntimeError& r) {
    const std::string& t = r.message();
    auto ends = [&](const std::string& s) { return t.size() >= s.size() && t.compare(t.size() - s.size(), s.size(), s) == 0; };
    std::string what = "other";
    if (t.rfind("TaskGroup ", 0) == 0) {
      if (ends(" is finished")) what = "taskgroup_finished";
      if (ends(" has not been entered")) what = "taskgroup_not_entered";
      if (ends(" is shutting down")) what = "taskgroup_shutting_down";
    }
    return obj({{"type", js("runtime")}, {"what", js(what)}});
  } catch (...) {
    return obj({{"type", js("runtime")}, {"what", js("other")}});
  }
}

std::map<std::string, rt::TaskRef<void>> T;  // every task by name, main included
std::map<std::string, rt::TaskRef<Val>> V;   // the same but main, for their values
std::map<std::string, long long> STARTS, ENDS;
std::map<std::string, std::map<std::string, std::string>> SCOPES, BLOCKS;
std::map<std::string, std::string> SHUTDOWN_ERRORS;  // "unhandled exception during asyncio.run() shutdown"
long long LAST = 0;                                  // the latest loop time the recorder saw

long long now() {
  rt::Loop* loop = rt::Loop::Current();
  if (!loop) return LAST;
  long long t = loop->Time() / UNIT;
  if (t > LAST) LAST = t;
  return t;
}

// A task's end, the first time it is seen: its body finished, or (for a
// task cancelled before it ran) its done callback ran.
void ended(const std::string& name) {
  if (rt::Loop::Current()) ENDS.emplace(name, now());
}

// Lives in a task's coroutine: its start now, its end when the frame goes,
// however the body ends (returning, raising, or unwound by a cancellation).
struct Started {
  std::string name;
  explicit Started(std::string n) : name(std::move(n)) { STARTS[name] = now(); }
  ~Started() { ended(name); }
};

rt::TaskRef<Val> new_task(const std::string& name, rt::TaskRef<Val> t) {
  T[name] = t;
  V[name] = t;
  rt::add_done_callback(t, [name] { ended(name); });
  return t;
}

void block_start(const std::string& name) { BLOCKS[name] = {{"start", std::to_string(now())}}; }
void block_end(const std::string& name) { BLOCKS[name]["end"] = std::to_string(now()); }

std::string items(const std::vector<Val>& v) {
  std::string o = "[";
  for (const Val& x : v) o += (o.size() > 1 ? "," : "") + (x ? obj({{"value", js(*x)}}) : "{}");
  return o + "]";
}
std::string items(const std::vector<rt::Outcome<Val>>& v) {
  std::string o = "[";
  for (const auto& x : v) {
    o += o.size() > 1 ? "," : "";
    if (x.failed()) {
      o += obj({{"error", exc(x.error())}});
    } else if (x.cancelled()) {
      o += obj({{"error", cancelled(x.cancel_message())}});
    } else {
      o += x.value() ? obj({{"value", js(*x.value())}}) : "{}";
    }
  }
  return o + "]";
}

// Runs one scope (`body` is a lambda returning rt::Coro<T>) and records how
// it ended: when, what it raised, its value (gather, shield, wait_for) and,
// for a timeout, whether it expired; then passes its outcome on unchanged.
template <class F>
rt::Coro<> scoped(std::string name, F body, const rt::Timeout* tm = nullptr) {
  auto r = co_await rt::try_await(body());
  auto& s = SCOPES[name];
  s = {{"end", std::to_string(now())}};
  if (r.failed()) s["raised"] = exc(r.error());
  if (r.cancelled()) s["raised"] = cancelled(r.cancel_message());
  if (tm) s["expired"] = tm->expired() ? "true" : "false";
  using R = std::remove_cvref_t<decltype(r)>;
  if constexpr (!std::is_same_v<R, rt::Outcome<void>>) {
    if constexpr (std::is_same_v<R, rt::Outcome<Val>>) {
      if (r.ok() && r.value()) s["value"] = js(*r.value());
    } else {
      if (r.ok()) s["value"] = items(r.value());
    }
  }
  co_await std::move(r);
}

// A nested body as a coroutine of its own (for rt::try_await).
template <class F>
rt::Coro<> block(F body) {
  co_await body();
}

// `except KIND ["label"]` against one exception (for except*, one leaf).
enum class Catch { Cancelled, Timeout, Error, Base, Group, Runtime, Exception, Any };
bool catches(const std::exception_ptr& e, Catch k, const std::optional<std::string>& label = std::nullopt) {
  if (k == Catch::Any) return true;
  try {
    std::rethrow_exception(e);
  } catch (const BaseErr& b) {
    return k == Catch::Base && (!label || b.label == label);
  } catch (const Err& b) {
    return (k == Catch::Error && (!label || b.label == label)) || k == Catch::Exception;
  } catch (const rt::CancelledError&) {
    return k == Catch::Cancelled;
  } catch (const rt::TimeoutError&) {
    return k == Catch::Timeout || k == Catch::Exception;
  } catch (const rt::ExceptionGroup&) {
    return k == Catch::Group || k == Catch::Exception;
  } catch (const rt::BaseExceptionGroup&) {
    return k == Catch::Group;
  } catch (const rt::RuntimeError&) {
    return k == Catch::Runtime || k == Catch::Exception;
  } catch (...) {
    return k == Catch::Exception;
  }
}
rt::LeafPredicate leaf(Catch k, std::optional<std::string> label = std::nullopt) {
  return [=](const std::exception_ptr& e) { return catches(e, k, label); };
}

// What leaves a try with except* clauses (rt::TryStar::Result): nothing, an
// exception, or a naked CancelledError, which goes on as a cancellation with
// the message of the one that left (the body's, or a clause's).
rt::Coro<> leave_star(std::exception_ptr rest, std::exception_ptr orig, rt::Msg orig_msg) {
  if (!rest) co_return;
  bool group = false;
  try {
    std::rethrow_exception(rest);
  } catch (const rt::BaseExceptionGroup&) {
    group = true;
  } catch (...) {
  }
  if (!group && rt::Classify(rest) == rt::ErrorKind::kCancelled) {
    rt::Msg msg = orig_msg;
    if (rest != orig) {
      msg = nullptr;
      try {
        std::rethrow_exception(rest);
      } catch (const rt::CancelledError& c) {
        if (c.has_message()) msg = rt::MakeMsg(c.message());
      }
    }
    co_await rt::RaiseCancelled(std::move(msg));
  }
  std::rethrow_exception(rest);
}

rt::Coro<Val> main_();

// Runs main_ as asyncio.run would, on the virtual clock, and returns the
// outcome's elements (spec/FORMAT.md) by name: "tasks.<t>", "scopes.<s>",
// "blocks.<b>", "run", "unretrieved.<t>", "end_time".
std::map<std::string, std::string> observe() {
  std::map<std::string, std::string> el;
  rt::RunOptions opts;
  opts.exception_handler = [](const rt::LoopEvent& e) {
    if (e.message.rfind("unhandled exception during asyncio.run() shutdown", 0) == 0) {
      SHUTDOWN_ERRORS.emplace(e.task_name, exc(e.error));  // RT-4
    }
  };
  Val main_value;
  try {
    main_value = rt::run(main_(), std::move(opts));
    el["run"] = "null";
  } catch (const rt::Deadlock&) {
    std::printf("the program deadlocks: every task waits and no timer is armed\n");
    el["run"] = js("deadlock");
  } catch (...) {
    el["run"] = exc(std::current_exception());
  }
  el["end_time"] = std::to_string(LAST);
  for (auto& [name, t] : T) {
    rt::TaskState* s = t.state();
    std::map<std::string, std::string> d;
    if (STARTS.count(name)) d["start"] = std::to_string(STARTS[name]);
    if (s->done()) d["end"] = std::to_string(ENDS.count(name) ? ENDS[name] : LAST);
    if (!s->done()) {
      d["state"] = js("pending");
    } else if (s->cancelled()) {
      d["state"] = js("cancelled");
      d["error"] = cancelled(s->cancel_msg);
    } else if (s->state == rt::Completion::kError) {
      d["state"] = js("raised");
      d["error"] = exc(s->error);
      if (s->log_traceback) el["unretrieved." + name] = d["error"];  // RT-4
    } else {
      d["state"] = js("returned");
      const Val& v = name == "main" ? main_value : V.at(name).result();
      if (v) d["value"] = js(*v);
    }
    el["tasks." + name] = obj(d);
  }
  for (auto& [name, e] : SHUTDOWN_ERRORS) el.emplace("unretrieved." + name, e);
  for (auto& [name, f] : SCOPES) el["scopes." + name] = obj(f);
  for (auto& [name, f] : BLOCKS) el["blocks." + name] = obj(f);
  return el;
}

struct Required {
  const char* element;
  const char* json;  // the model's element, as the check writes it; "(absent)" if it has none
};
extern const char* const RULE;
extern const char* const TITLE;
extern const char* const STATEMENT;
extern const char* const PROFILE;
extern const char* const RUNTIME;
extern const std::vector<Required> REQUIRED;

int report() {
#ifdef ASYNCSPEC_MUTANTS
  // Only for the project's tests: the same file on runtime/mutants.h's bugs.
  if (const char* m = std::getenv("ASYNCSPEC_MUTANT")) {
    if (const auto* info = rt::mutants::Find(m)) rt::mutants::Set(info->id);
  }
#endif
  std::map<std::string, std::string> observed = observe();
  std::printf("asyncspec reproducer: rule %s, %s\n  %s\n", RULE, TITLE, STATEMENT);
  std::printf("checked on: %s; this run: the reference runtime (runtime/rt.h) this file was built with\n\n", RUNTIME);
  int differ = 0;
  for (const Required& r : REQUIRED) {
    auto it = observed.find(r.element);
    const std::string got = it == observed.end() ? js("(absent)") : it->second;
    const bool same = got == r.json;
    differ += !same;
    std::printf("%s: %s\n  observed: %s\n  required: %s  (model, profile %s)\n", r.element,
                same ? "as required" : "DIFFERS", got.c_str(), r.json, PROFILE);
  }
  std::printf("\n");
  if (differ) {
    std::printf("FAIL %s: %d of %zu elements differ from what the rules require\n", RULE, differ, REQUIRED.size());
    return 1;
  }
  std::printf("PASS: this runtime now does what %s requires for this program\n", RULE);
  return 0;
}

// ---------------------------------------------------------------------------
// The program.
)CC";

// Every string of the program (labels, values, messages, names) as a
// std::string expression with its exact bytes (quote.h).
std::string Lit(const std::string& s) { return CcStr(s); }

// The check's element JSON with null fields dropped, keys sorted (what the
// recorder writes); "" (absent) becomes the string "(absent)".
std::string Canonical(const std::string& json) {
  if (json.empty()) return nlohmann::json("(absent)").dump();
  std::function<nlohmann::json(const nlohmann::json&)> clean = [&](const nlohmann::json& v) -> nlohmann::json {
    if (v.is_object()) {
      nlohmann::json o = nlohmann::json::object();
      for (auto& [k, x] : v.items()) {
        if (!x.is_null()) o[k] = clean(x);
      }
      return o;
    }
    if (v.is_array()) {
      nlohmann::json a = nlohmann::json::array();
      for (const auto& x : v) a.push_back(clean(x));
      return a;
    }
    return v;
  };
  return clean(nlohmann::json::parse(json)).dump();
}

std::string Secs(spec::Time d) { return std::to_string(d) + " * UNIT"; }
std::string OptSecs(const std::optional<spec::Time>& d) { return d ? Secs(*d) : "std::nullopt"; }

// C++ identifiers for the program's names (which are identifiers already,
// spec/validate.h; kept safe anyway), unique per kind.
class Idents {
 public:
  std::string Get(const std::string& kind, const std::string& name) {
    auto key = kind + "/" + name;
    auto it = ids_.find(key);
    if (it != ids_.end()) return it->second;
    std::string id = kind + "_";
    for (char c : name) id += (std::isalnum(static_cast<unsigned char>(c)) ? c : '_');
    while (used_.count(id)) id += "_";
    used_.insert(id);
    return ids_[key] = id;
  }

 private:
  std::map<std::string, std::string> ids_;
  std::set<std::string> used_;
};

class CcWriter {
 public:
  std::string Program(const spec::Body& main) {
    std::ostringstream saved;
    saved.swap(out_);
    Line(0, "rt::Coro<Val> main_() {");
    Line(1, "T.emplace(\"main\", rt::current_task());");
    Line(1, "rt::add_done_callback(T.at(\"main\"), [] { ended(\"main\"); });");
    Line(1, "Started started(\"main\");");
    TaskBody(main);
    Line(0, "}");
    fns_ += out_.str();
    out_.swap(saved);
    std::string decls;
    for (const auto& [id, name] : groups_) decls += "rt::TaskGroup " + id + ";  // group " + CommentText(name) + "\n";
    return decls + (decls.empty() ? "" : "\n") + protos_ + "\n" + fns_;
  }

 private:
  void Line(int indent, const std::string& s) { out_ << std::string(2 * indent, ' ') << s << "\n"; }

  // A task's body (indent 1): ends with its value, or None.
  void TaskBody(const spec::Body& body) {
    for (const spec::Step& s : body) Step(s, 1, true);
    if (body.empty() || !std::holds_alternative<spec::Return>(body.back().op)) Line(1, "co_return std::nullopt;");
  }

  // Written once, at the top level (task names are unique), before use.
  std::string TaskFn(const spec::TaskDef& t) {
    const std::string fn = ids_.Get("task", t.name);
    protos_ += "rt::Coro<Val> " + fn + "();\n";
    std::ostringstream saved;
    saved.swap(out_);
    Line(0, "rt::Coro<Val> " + fn + "() {");
    Line(1, "Started started(" + Lit(t.name) + ");");
    TaskBody(t.body);
    Line(0, "}");
    fns_ += out_.str() + "\n";
    out_.swap(saved);
    return fn + "()";
  }

  std::string NewTask(const spec::TaskDef& t) {
    return "new_task(" + Lit(t.name) + ", rt::create_task(" + TaskFn(t) + ", " + Lit(t.name) + "))";
  }

  // The steps of a nested body, as the body of a coroutine lambda.
  void Body(const spec::Body& body, int in) {
    for (const spec::Step& s : body) Step(s, in, false);
    Line(in, "co_return;");
  }

  static std::string CatchArgs(const spec::Handler& h) {
    using K = spec::CatchKind;
    std::string k;
    switch (h.kind) {
      case K::kCancelled: k = "Catch::Cancelled"; break;
      case K::kTimeout: k = "Catch::Timeout"; break;
      case K::kError: k = "Catch::Error"; break;
      case K::kBase: k = "Catch::Base"; break;
      case K::kGroup: k = "Catch::Group"; break;
      case K::kRuntime: k = "Catch::Runtime"; break;
      case K::kException: k = "Catch::Exception"; break;
      case K::kAny: k = "Catch::Any"; break;
    }
    return h.label ? k + ", " + Lit(*h.label) : k;
  }

  static std::string Python(const spec::Handler& h) {
    using K = spec::CatchKind;
    std::string what;
    switch (h.kind) {
      case K::kCancelled: what = "CancelledError"; break;
      case K::kTimeout: what = "TimeoutError"; break;
      case K::kError: what = h.label ? "Err " + *h.label : "Err"; break;
      case K::kBase: what = h.label ? "BaseErr " + *h.label : "BaseErr"; break;
      case K::kGroup: what = "BaseExceptionGroup"; break;
      case K::kRuntime: what = "RuntimeError"; break;
      case K::kException: what = "Exception"; break;
      case K::kAny: what = "BaseException"; break;
    }
    const char* then = h.then == spec::Then::kReraise ? ", then raise" : h.then == spec::Then::kUncancel ? ", then uncancel()" : "";
    return std::string(h.star ? "except* " : "except ") + what + " (" + h.name + ")" + then;
  }

  // The except clauses of `tr` after its body ran into r_<t> (indent `in`).
  void Handlers(const spec::Try& tr, int in) {
    const std::string r = ids_.Get("r", tr.name), e = ids_.Get("e", tr.name);
    Line(in, "if (" + r + ".ok()) co_return;");
    if (!tr.handlers.front().star) {
      Line(in, "const std::exception_ptr " + e + " = " + r + ".as_exception();");
      for (const spec::Handler& h : tr.handlers) {
        Line(in, "if (catches(" + e + ", " + CatchArgs(h) + ")) {  // " + CommentText(Python(h)));
        Line(in + 1, "block_start(" + Lit(h.name) + ");");
        for (const spec::Step& s : h.body) Step(s, in + 1, false);
        if (h.then == spec::Then::kUncancel) Line(in + 1, "rt::current_task().uncancel();");
        Line(in + 1, "block_end(" + Lit(h.name) + ");");
        if (h.then == spec::Then::kReraise) Line(in + 1, "co_await std::move(" + r + ");  // raise");
        Line(in + 1, "co_return;");
        Line(in, "}");
      }
      Line(in, "co_await std::move(" + r + ");  // no clause matched: it goes on");
      return;
    }
    // except* (PEP 654, EG-3, EG-4): each clause takes the leaves it matches.
    const std::string star = ids_.Get("star", tr.name), orig = ids_.Get("orig", tr.name),
                      msg = ids_.Get("msg", tr.name);
    Line(in, "const std::exception_ptr " + orig + " = " + r + ".as_exception();");
    Line(in, "const rt::Msg " + msg + " = " + r + ".cancelled() ? " + r + ".cancel_message() : nullptr;");
    Line(in, "rt::TryStar " + star + "(" + orig + ");");
    for (const spec::Handler& h : tr.handlers) {
      const std::string m = ids_.Get("m", h.name), hr = ids_.Get("hr", h.name);
      Line(in, "if (std::exception_ptr " + m + " = " + star + ".Take(leaf(" + CatchArgs(h) + "))) {  // " + CommentText(Python(h)));
      Line(in + 1, "block_start(" + Lit(h.name) + ");");
      Line(in + 1, "rt::Outcome<> " + hr + " = co_await rt::try_await(block([&]() -> rt::Coro<> {");
      Body(h.body, in + 2);
      Line(in + 1, "}));");
      Line(in + 1, "if (!" + hr + ".ok()) {");
      Line(in + 2, star + ".Raised(" + hr + ".as_exception());  // the clause raised");
      Line(in + 1, "} else {");
      if (h.then == spec::Then::kUncancel) Line(in + 2, "rt::current_task().uncancel();");
      Line(in + 2, "block_end(" + Lit(h.name) + ");");
      if (h.then == spec::Then::kReraise) Line(in + 2, star + ".Reraise(" + m + ");  // raise");
      Line(in + 1, "}");
      Line(in, "}");
    }
    Line(in, "co_await leave_star(" + star + ".Result(), " + orig + ", " + msg + ");");
  }

  void Try(const spec::Try& tr, int in) {
    const std::string r = ids_.Get("r", tr.name);
    Line(in, "co_await scoped(" + Lit(tr.name) + ", [&]() -> rt::Coro<> {  // try " + CommentText(tr.name));
    int at = in + 1;
    std::string f;
    if (tr.finally) {
      f = ids_.Get("f", tr.finally->name);
      Line(at, "rt::Outcome<> " + f + " = co_await rt::try_await(block([&]() -> rt::Coro<> {");
      ++at;
    }
    if (tr.handlers.empty()) {
      Body(tr.body, at);
    } else {
      Line(at, "rt::Outcome<> " + r + " = co_await rt::try_await(block([&]() -> rt::Coro<> {");
      Body(tr.body, at + 1);
      Line(at, "}));");
      Handlers(tr, at);
    }
    if (tr.finally) {
      --at;
      Line(at, "}));");
      Line(at, "block_start(" + Lit(tr.finally->name) + ");  // finally (" + CommentText(tr.finally->name) + ")");
      for (const spec::Step& s : tr.finally->body) Step(s, at, false);
      Line(at, "block_end(" + Lit(tr.finally->name) + ");");
      Line(at, "co_await std::move(" + f + ");");
    }
    Line(in, "});");
  }

  // `top`: a step of a task's own body (a coroutine returning Val).
  void Step(const spec::Step& step, int in, bool top) {
    std::visit(
        [&](const auto& op) {
          using S = std::decay_t<decltype(op)>;
          if constexpr (std::is_same_v<S, spec::Sleep>) {
            Line(in, op.d == 0 ? "co_await rt::sleep(0);" : "co_await rt::sleep(" + Secs(op.d) + ");");
          } else if constexpr (std::is_same_v<S, spec::Raise>) {
            Line(in, std::string("throw ") + (op.base ? "BaseErr(" : "Err(") + Lit(op.label) + ");");
          } else if constexpr (std::is_same_v<S, spec::Return>) {
            Line(in, top ? "co_return Val(" + Lit(op.value) + ");" : "co_return;  // return (ends this block)");
          } else if constexpr (std::is_same_v<S, spec::CreateTask>) {
            Line(in, NewTask(op.task) + ";");
          } else if constexpr (std::is_same_v<S, spec::Group>) {
            const std::string g = ids_.Get("group", op.name);
            groups_.emplace(g, op.name);
            Line(in, "co_await scoped(" + Lit(op.name) + ", [&]() -> rt::Coro<> {");
            Line(in + 1, "co_await " + g + ".run([&]() -> rt::Coro<> {  // async with TaskGroup() as " + CommentText(op.name) + ":");
            Body(op.body, in + 2);
            Line(in + 1, "});");
            Line(in, "});");
          } else if constexpr (std::is_same_v<S, spec::Spawn>) {
            groups_.emplace(ids_.Get("group", op.group), op.group);
            Line(in, "new_task(" + Lit(op.task.name) + ", " + ids_.Get("group", op.group) + ".create_task(" +
                         TaskFn(op.task) + ", " + Lit(op.task.name) + "));");
          } else if constexpr (std::is_same_v<S, spec::Gather>) {
            // The children pushed one by one: GCC 12 rejects a braced
            // initializer list inside a co_await ("array used as initializer").
            const std::string v = ids_.Get("children", op.name);
            Line(in, "co_await scoped(" + Lit(op.name) + ", [&]() -> rt::Coro<std::vector<" +
                         (op.return_exceptions ? "rt::Outcome<Val>" : "Val") + ">> {");
            Line(in + 1, "std::vector<rt::TaskRef<Val>> " + v + ";");
            for (const spec::TaskDef& c : op.children) Line(in + 1, v + ".push_back(" + NewTask(c) + ");");
            Line(in + 1, std::string("co_return co_await rt::") +
                             (op.return_exceptions ? "gather_outcomes" : "gather") + "(std::move(" + v + "));");
            Line(in, "});");
          } else if constexpr (std::is_same_v<S, spec::Timeout>) {
            const std::string tm = ids_.Get("timeout", op.name);
            Line(in, "{");
            Line(in + 1, "rt::Timeout " + tm + "(" +
                             (op.d ? "rt::Loop::Current()->Time() + " + Secs(*op.d) : std::string("std::nullopt")) +
                             ");  // asyncio.timeout(" + (op.d ? std::to_string(*op.d) : "None") + ")");
            Line(in + 1, "co_await scoped(" + Lit(op.name) + ", [&]() -> rt::Coro<> {");
            Line(in + 2, "co_await " + tm + ".run([&]() -> rt::Coro<> {");
            Body(op.body, in + 3);
            Line(in + 2, "});");
            Line(in + 1, "}, &" + tm + ");");
            Line(in, "}");
          } else if constexpr (std::is_same_v<S, spec::Reschedule>) {
            Line(in, ids_.Get("timeout", op.timeout) + ".reschedule(" +
                         (op.d ? "rt::Loop::Current()->Time() + " + Secs(*op.d) : std::string("std::nullopt")) + ");");
          } else if constexpr (std::is_same_v<S, spec::Shield>) {
            Line(in, "co_await scoped(" + Lit(op.name) + ", [&]() -> rt::Coro<Val> {");
            Line(in + 1, "co_return co_await rt::shield(" + NewTask(op.task) + ");");
            Line(in, "});");
          } else if constexpr (std::is_same_v<S, spec::WaitFor>) {
            Line(in, "co_await scoped(" + Lit(op.name) + ", [&]() -> rt::Coro<Val> {");
            Line(in + 1, "co_return co_await rt::wait_for(" + NewTask(op.task) + ", " + OptSecs(op.d) + ");");
            Line(in, "});");
          } else if constexpr (std::is_same_v<S, spec::Cancel>) {
            Line(in, "if (T.count(" + Lit(op.target) + ")) T.at(" + Lit(op.target) + ").cancel(" +
                         (op.msg ? Lit(*op.msg) : "") + ");");
          } else if constexpr (std::is_same_v<S, spec::Await>) {
            Line(in, "if (T.count(" + Lit(op.target) + ")) {");
            Line(in + 1, "co_await T.at(" + Lit(op.target) + ");");
            Line(in, "} else {");
            Line(in + 1, "co_await rt::sleep(0);  // no such task yet");
            Line(in, "}");
          } else if constexpr (std::is_same_v<S, spec::Uncancel>) {
            Line(in, "rt::current_task().uncancel();");
          } else if constexpr (std::is_same_v<S, spec::Try>) {
            Try(op, in);
          }
        },
        step.op);
  }

  std::ostringstream out_;
  std::string fns_, protos_;
  std::map<std::string, std::string> groups_;  // C++ name -> program name
  Idents ids_;
};

}  // namespace

std::string CcReproducerBuildCommand(const std::string& file) {
  std::string exe = file;
  if (exe.size() > 3 && exe.compare(exe.size() - 3, 3, ".cc") == 0) exe.resize(exe.size() - 3);
  std::string cmd = "g++ -std=c++20 -I. -o " + exe + " " + file;
  for (const char* s : kRuntimeSources) cmd += std::string(" runtime/") + s + ".cc";
  return cmd + " && " + (exe.find('/') == std::string::npos ? "./" + exe : exe);
}

std::string CcReproducer(const ReproducerInput& in, const std::string& file) {
  CcWriter w;
  const std::string program = w.Program(in.program.main);
  std::ostringstream cc;
  cc << "// asyncspec reproducer: " << CommentText(in.rule) << " " << CommentText(in.rule_title) << "\n//\n";
  cc << "// Found by the asyncspec conformance check on " << CommentText(in.runtime) << ", shrunk, and written\n"
        "// here in the reference runtime's C++ API (runtime/rt.h) with a small recorder; the\n"
        "// program runs on the virtual clock, so its sleeps cost nothing. It prints, for each\n"
        "// outcome element the check found different, what this run observed and what the\n"
        "// rule requires, and exits 1 if any still differs (0: fixed).\n//\n";
  cc << "// Build and run it from the top of an asyncspec clone (g++ 12, nothing else):\n//\n//   "
     << CommentText(CcReproducerBuildCommand(file)) << "\n//\n";
  cc << "// The program (spec/LANGUAGE.md):\n//\n" << CommentLines(spec::ProgramToText(in.program), "//   ") << "//\n";
  cc << "// Replay in the checker: " << CommentText(in.replay) << "\n";
  cc << kPrelude << "\n";
  cc << program << "\n";
  cc << "// What the rules require for the elements that differed (the model's outcome).\n";
  cc << "const char* const RULE = " << CcCStr(in.rule) << ";\nconst char* const TITLE = " << CcCStr(in.rule_title)
     << ";\nconst char* const STATEMENT = " << CcCStr(in.rule_statement) << ";\nconst char* const PROFILE = "
     << CcCStr(in.profile) << ";\nconst char* const RUNTIME = " << CcCStr(in.runtime) << ";\n";
  cc << "const std::vector<Required> REQUIRED = {\n";
  for (const auto& [key, sides] : in.differing) {
    cc << "    {" << CcCStr(key) << ", " << CcCStr(Canonical(sides.first)) << "},\n";
  }
  cc << "};\n\n";
  // std::_Exit: the tasks a base error left pending are destroyed with the
  // loop already; what this file shows is printed.
  cc << "int main() {\n  const int code = report();\n  std::fflush(stdout);\n  std::_Exit(code);\n}\n";
  return cc.str();
}

}  // namespace asyncspec::conformance
