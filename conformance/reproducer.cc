#include "conformance/reproducer.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <functional>
#include <sstream>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "spec/json.h"
#include "conformance/quote.h"
#include "spec/text.h"

namespace asyncspec::conformance {
namespace {

// The fixed part of every Python reproducer: the labelled exceptions of the
// program language, the virtual-clock loop and the recorder.
constexpr char kPrelude[] = R"PY(import asyncio
import json
import os
import selectors
import sys
import warnings

if sys.version_info < (3, 11):
    sys.exit("this reproducer needs Python 3.11+ (TaskGroup, asyncio.timeout, except*)")


class Err(Exception):
    """`raise E1`: an ordinary exception with a label."""
    def __init__(self, label):
        super().__init__(label)
        self.label = label


class BaseErr(KeyboardInterrupt):
    """`raise base K1`: a BaseException that asyncio treats like KeyboardInterrupt."""
    def __init__(self, label):
        super().__init__(label)
        self.label = label


_CLASSES = {}


def L(base, label):
    """The class of one label, so that `except* L(False, "E1")` selects it."""
    key = (base, label)
    if key not in _CLASSES:
        _CLASSES[key] = type("BaseErr_" if base else "Err_", (BaseErr if base else Err,), {})
    return _CLASSES[key]


class Deadlock(Exception):
    pass


class _Selector(selectors.BaseSelector):
    """Never waits: a wait of `timeout` seconds moves the clock instead."""
    def __init__(self):
        self.now = 0.0
        self._keys = {}

    def register(self, fileobj, events, data=None):
        fd = fileobj if isinstance(fileobj, int) else fileobj.fileno()
        self._keys[fd] = selectors.SelectorKey(fileobj, fd, events, data)
        return self._keys[fd]

    def unregister(self, fileobj):
        return self._keys.pop(fileobj if isinstance(fileobj, int) else fileobj.fileno())

    def select(self, timeout=None):
        if timeout is None:
            raise Deadlock("every task waits and no timer is armed")
        self.now += max(timeout, 0)
        return []

    def get_map(self):
        return self._keys


class VirtualLoop(asyncio.SelectorEventLoop):
    def __init__(self):
        self._sel = _Selector()
        super().__init__(self._sel)
        self._clock_resolution = 1e-9

    def time(self):
        return self._sel.now


T, G, TM, STARTS, ENDS, SCOPES, BLOCKS = {}, {}, {}, {}, {}, {}, {}


LOOPS = []  # the run's event loop (kept: task bodies may finish after it stopped)


def now():
    t = LOOPS[-1].time()
    return int(t) if t == int(t) else t


def new(name, task):
    T[name] = task
    task.add_done_callback(lambda t: ENDS.setdefault(name, now()))
    return task


def started(name):
    STARTS[name] = now()


def ended(name):
    ENDS[name] = now()


def exc(e):
    if isinstance(e, BaseExceptionGroup):
        return {"type": "group", "base": not isinstance(e, Exception), "children": [exc(c) for c in e.exceptions]}
    if isinstance(e, asyncio.CancelledError):
        return {"type": "cancelled", "msg": str(e.args[0])} if e.args and e.args[0] is not None else {"type": "cancelled"}
    if isinstance(e, Err):
        return {"type": "error", "label": e.label}
    if isinstance(e, BaseErr):
        return {"type": "base", "label": e.label}
    if isinstance(e, TimeoutError):
        return {"type": "timeout"}
    text = str(e)
    what = "other"
    for suffix, w in ((" is finished", "taskgroup_finished"), (" has not been entered", "taskgroup_not_entered"),
                      (" is shutting down", "taskgroup_shutting_down")):
        if isinstance(e, RuntimeError) and text.startswith("TaskGroup ") and text.endswith(suffix):
            what = w
    return {"type": "runtime", "what": what}


def scope(name, e=None, **fields):
    d = {"end": now()}
    if e is not None:
        d["raised"] = exc(e)
    d.update(fields)
    SCOPES[name] = d


def valued(v):
    return {} if v is None else {"value": v}


def items(results):
    return [{"error": exc(r)} if isinstance(r, BaseException) else {"value": r} for r in results]


def block_start(name):
    BLOCKS[name] = {"start": now()}


def block_end(name):
    BLOCKS[name]["end"] = now()


def observe():
    """Runs main() as asyncio.run would, on the virtual clock; returns the
    outcome elements (spec/FORMAT.md) this run produced."""
    warnings.simplefilter("ignore", RuntimeWarning)  # coroutines of refused spawns
    loops = LOOPS
    elements = {}
    try:
        with asyncio.Runner(loop_factory=lambda: loops.append(VirtualLoop()) or loops[-1]) as runner:
            runner.run(main())
        elements["run"] = None
    except Deadlock:
        print("the program deadlocks: every task waits and no timer is armed (asyncio.run would never return)")
        elements["run"] = "deadlock"
    except BaseException as e:
        elements["run"] = exc(e)
    t_end = loops[-1]._sel.now if loops else 0
    elements["end_time"] = int(t_end) if t_end == int(t_end) else t_end
    for name, t in T.items():
        if t.done() and not t.cancelled() and t._exception is not None and t._log_traceback:
            elements["unretrieved." + name] = exc(t._exception)
    for name, t in T.items():
        d = {"start": STARTS.get(name), "end": ENDS.get(name)}
        if not t.done():
            d["state"] = "pending"
        elif t.cancelled():
            d["state"] = "cancelled"
            try:
                t.result()
            except asyncio.CancelledError as e:
                d["error"] = exc(e)
        elif t.exception() is not None:
            d["state"], d["error"] = "raised", exc(t.exception())
        else:
            d["state"], d["value"] = "returned", t.result()
        elements["tasks." + name] = d
    for name, d in SCOPES.items():
        elements["scopes." + name] = d
    for name, d in BLOCKS.items():
        elements["blocks." + name] = d
    return elements


def _clean(v):
    """Drops null fields, so that "absent" and null compare equal."""
    if isinstance(v, dict):
        return {k: _clean(x) for k, x in v.items() if x is not None}
    if isinstance(v, list):
        return [_clean(x) for x in v]
    return v


def report():
    observed = observe()
    print("asyncspec reproducer: rule %s, %s" % (RULE, TITLE))
    print("  %s" % STATEMENT)
    print("checked on: %s; this run: Python %s asyncio" % (RUNTIME, sys.version.split()[0]))
    print()
    differ = 0
    for key, required in REQUIRED.items():
        got = observed.get(key, "(absent)")
        same = _clean(got) == _clean(required)
        differ += not same
        print("%s: %s" % (key, "as required" if same else "DIFFERS"))
        print("  observed: %s" % json.dumps(_clean(got), sort_keys=True))
        print("  required: %s  (model, profile %s)" % (json.dumps(_clean(required), sort_keys=True), PROFILE))
    print()
    if differ:
        print("FAIL %s: %d of %d elements differ from what the rules require" % (RULE, differ, len(REQUIRED)))
        return 1
    print("PASS: this interpreter's asyncio now does what %s requires for this program" % RULE)
    return 0
)PY";

// Every string of the program or from the adapter as a Python literal with
// its exact value (quote.h): JSON's escaping is not Python's for every
// string, and nlohmann's dump() throws on bytes that are not UTF-8.
std::string Lit(const std::string& s) { return PyStr(s); }

std::string OptTime(const std::optional<spec::Time>& d) { return d ? std::to_string(*d) : "None"; }

class PyWriter {
 public:
  // Writes `body` at `indent`; nested task bodies become functions in fns_.
  void Body(const spec::Body& body, int indent) {
    if (body.empty()) {
      Line(indent, "pass");
      return;
    }
    for (const spec::Step& s : body) Step(s, indent);
  }

  std::string TaskFn(const spec::TaskDef& t) {
    // Written once per task, at the top level (names are unique).
    std::ostringstream saved;
    saved.swap(out_);
    Line(0, "async def task_" + t.name + "():");
    Line(1, "started(" + Lit(t.name) + ")");
    Line(1, "try:");
    Body(t.body, 2);
    Line(1, "finally:");
    Line(2, "ended(" + Lit(t.name) + ")");
    fns_ += out_.str() + "\n\n";
    out_.swap(saved);
    return "task_" + t.name + "()";
  }

  std::string Main(const spec::Body& body) {
    Line(0, "async def main():");
    Line(1, "T[\"main\"] = asyncio.current_task()");
    Line(1, "started(\"main\")");
    Line(1, "try:");
    Body(body, 2);
    Line(1, "finally:");
    Line(2, "ended(\"main\")");
    return fns_ + out_.str();
  }

  std::vector<std::string> groups;  // every group, created up front (spawn may name one not entered yet)

 private:
  void Line(int indent, const std::string& s) { out_ << std::string(4 * indent, ' ') << s << "\n"; }

  std::string NewTask(const spec::TaskDef& t) {
    return "new(" + Lit(t.name) + ", asyncio.create_task(" + TaskFn(t) + "))";
  }

  // try: <stmt> / except BaseException as e: scope(name, e[, extra]); raise / else: scope(name[, ok])
  void Scoped(int indent, const std::string& name, const std::function<void(int)>& inner,
              const std::string& on_error = "", const std::string& on_ok = "") {
    Line(indent, "try:");
    inner(indent + 1);
    Line(indent, "except BaseException as e:");
    Line(indent + 1, "scope(" + Lit(name) + ", e" + on_error + ")");
    Line(indent + 1, "raise");
    Line(indent, "else:");
    Line(indent + 1, "scope(" + Lit(name) + on_ok + ")");
  }

  static std::string CatchExpr(const spec::Handler& h) {
    switch (h.kind) {
      case spec::CatchKind::kCancelled: return "asyncio.CancelledError";
      case spec::CatchKind::kTimeout: return "TimeoutError";
      case spec::CatchKind::kError: return h.label ? "L(False, " + Lit(*h.label) + ")" : "Err";
      case spec::CatchKind::kBase: return h.label ? "L(True, " + Lit(*h.label) + ")" : "BaseErr";
      case spec::CatchKind::kGroup: return "BaseExceptionGroup";
      case spec::CatchKind::kRuntime: return "RuntimeError";
      case spec::CatchKind::kException: return "Exception";
      case spec::CatchKind::kAny: return "BaseException";
    }
    return "BaseException";
  }

  void Block(int indent, const std::string& name, const spec::Body& body) {
    Line(indent, "block_start(" + Lit(name) + ")");
    Line(indent, "try:");
    Body(body, indent + 1);
    Line(indent, "finally:");
    Line(indent + 1, "block_end(" + Lit(name) + ")");
  }

  void Step(const spec::Step& step, int in) {
    std::visit(
        [&](const auto& op) {
          using T = std::decay_t<decltype(op)>;
          if constexpr (std::is_same_v<T, spec::Sleep>) {
            Line(in, "await asyncio.sleep(" + std::to_string(op.d) + ")");
          } else if constexpr (std::is_same_v<T, spec::Raise>) {
            Line(in, std::string("raise L(") + (op.base ? "True" : "False") + ", " + Lit(op.label) + ")(" +
                         Lit(op.label) + ")");
          } else if constexpr (std::is_same_v<T, spec::Return>) {
            Line(in, "return " + Lit(op.value));
          } else if constexpr (std::is_same_v<T, spec::CreateTask>) {
            Line(in, NewTask(op.task));
          } else if constexpr (std::is_same_v<T, spec::Group>) {
            groups.push_back(op.name);
            Scoped(in, op.name, [&](int i) {
              Line(i, "async with G[" + Lit(op.name) + "]:");
              Body(op.body, i + 1);
            });
          } else if constexpr (std::is_same_v<T, spec::Spawn>) {
            Line(in, "new(" + Lit(op.task.name) + ", G[" + Lit(op.group) + "].create_task(" + TaskFn(op.task) + "))");
          } else if constexpr (std::is_same_v<T, spec::Gather>) {
            std::string args;
            for (const spec::TaskDef& c : op.children) args += NewTask(c) + ", ";
            Scoped(in, op.name, [&](int i) {
              Line(i, "_r = await asyncio.gather(" + args + "return_exceptions=" +
                          (op.return_exceptions ? "True" : "False") + ")");
            }, "", ", value=items(_r)");
          } else if constexpr (std::is_same_v<T, spec::Timeout>) {
            Line(in, "TM[" + Lit(op.name) + "] = asyncio.timeout(" + OptTime(op.d) + ")");
            const std::string expired = ", expired=TM[" + Lit(op.name) + "].expired()";
            Scoped(in, op.name, [&](int i) {
              Line(i, "async with TM[" + Lit(op.name) + "]:");
              Body(op.body, i + 1);
            }, expired, expired);
          } else if constexpr (std::is_same_v<T, spec::Reschedule>) {
            Line(in, "TM[" + Lit(op.timeout) + "].reschedule(" +
                         (op.d ? "asyncio.get_running_loop().time() + " + std::to_string(*op.d) : "None") + ")");
          } else if constexpr (std::is_same_v<T, spec::Shield>) {
            Scoped(in, op.name, [&](int i) { Line(i, "_v = await asyncio.shield(" + NewTask(op.task) + ")"); }, "",
                   ", **valued(_v)");
          } else if constexpr (std::is_same_v<T, spec::WaitFor>) {
            Scoped(in, op.name, [&](int i) {
              Line(i, "_v = await asyncio.wait_for(" + NewTask(op.task) + ", " + OptTime(op.d) + ")");
            }, "", ", **valued(_v)");
          } else if constexpr (std::is_same_v<T, spec::Cancel>) {
            Line(in, "if " + Lit(op.target) + " in T:");
            Line(in + 1, "T[" + Lit(op.target) + "].cancel(" + (op.msg ? Lit(*op.msg) : "") + ")");
          } else if constexpr (std::is_same_v<T, spec::Await>) {
            Line(in, "if " + Lit(op.target) + " in T:");
            Line(in + 1, "await T[" + Lit(op.target) + "]");
            Line(in, "else:");
            Line(in + 1, "await asyncio.sleep(0)");
          } else if constexpr (std::is_same_v<T, spec::Uncancel>) {
            Line(in, "asyncio.current_task().uncancel()");
          } else if constexpr (std::is_same_v<T, spec::Try>) {
            Scoped(in, op.name, [&](int i) {
              Line(i, "try:");
              Body(op.body, i + 1);
              for (const spec::Handler& h : op.handlers) {
                Line(i, std::string(h.star ? "except* " : "except ") + CatchExpr(h) + ":");
                Block(i + 1, h.name, h.body);
                if (h.then == spec::Then::kReraise) Line(i + 1, "raise");
                if (h.then == spec::Then::kUncancel) Line(i + 1, "asyncio.current_task().uncancel()");
              }
              if (op.finally) {
                Line(i, "finally:");
                Block(i + 1, op.finally->name, op.finally->body);
              } else if (op.handlers.empty()) {
                Line(i, "finally:");  // a try needs a clause
                Line(i + 1, "pass");
              }
            });
          }
        },
        step.op);
  }

  std::ostringstream out_;
  std::string fns_;
};

}  // namespace

std::string CommentLines(const std::string& text, const std::string& prefix) {
  std::string out;
  std::istringstream in(text);
  // Each line escaped (quote.h CommentText): a carriage return, NUL or
  // trailing backslash inside one must not end the comment.
  for (std::string line; std::getline(in, line);) out += prefix + CommentText(line) + "\n";
  return out;
}

std::map<std::string, std::string> OutcomeElements(const std::optional<spec::Outcome>& o) {
  std::map<std::string, std::string> m;
  if (!o) return m;
  nlohmann::json j = nlohmann::json::parse(spec::OutcomeToJson(*o));
  for (const char* part : {"tasks", "blocks", "scopes"}) {
    if (j.contains(part)) for (auto& [k, v] : j[part].items()) m[std::string(part) + "." + k] = v.dump();
  }
  if (j.contains("run")) m["run"] = j["run"].dump();
  if (j.contains("unretrieved")) {
    for (const auto& u : j["unretrieved"]) m["unretrieved." + u.value("task", "?")] = u["error"].dump();
  }
  if (j.contains("end_time")) m["end_time"] = j["end_time"].dump();
  return m;
}

std::string PythonReproducer(const ReproducerInput& in) {
  PyWriter w;
  const std::string program_code = w.Main(in.program.main);
  std::ostringstream py;
  py << "#!/usr/bin/env python3\n";
  py << "# asyncspec reproducer: " << CommentText(in.rule) << " " << CommentText(in.rule_title) << "\n#\n";
  py << "# Found by the asyncspec conformance check on " << CommentText(in.runtime) << ", shrunk, and written\n"
        "# here as plain asyncio (spec/FORMAT.md, \"Python meaning\") with a small recorder on a\n"
        "# virtual clock. Run it with any CPython 3.11+: it prints, for each outcome element the\n"
        "# check found different, what this run observed and what the rule requires, and exits\n"
        "# 1 if any still differs (0: fixed).\n#\n";
  py << "# The program (spec/LANGUAGE.md):\n#\n" << CommentLines(spec::ProgramToText(in.program), "#   ") << "#\n";
  py << "# Replay in the checker: " << CommentText(in.replay) << "\n\n";
  py << kPrelude << "\n\n";
  py << "RULE = " << Lit(in.rule) << "\nTITLE = " << Lit(in.rule_title) << "\nSTATEMENT = "
     << Lit(in.rule_statement) << "\nPROFILE = " << Lit(in.profile) << "\nRUNTIME = " << Lit(in.runtime) << "\n";
  py << "# What the rules require for the elements that differed (the model's outcome).\nREQUIRED = {\n";
  for (const auto& [key, sides] : in.differing) {
    py << "    " << Lit(key) << ": json.loads(" << Lit(sides.first.empty() ? "\"(absent)\"" : sides.first) << "),\n";
  }
  py << "}\n\n\ndef setup():\n";
  if (w.groups.empty()) py << "    pass\n";
  for (const std::string& g : w.groups) py << "    G[" << Lit(g) << "] = asyncio.TaskGroup()\n";
  // os._exit: the tasks a base error left pending would be finalized at
  // exit, and asyncio would log them; what this file shows is printed.
  py << "\n\n" << program_code
     << "\n\nif __name__ == \"__main__\":\n    setup()\n    code = report()\n    sys.stdout.flush()\n"
        "    os._exit(code)\n";
  return py.str();
}

std::string ReproducerInputJson(const ReproducerInput& in) {
  nlohmann::json j;
  j["program"] = nlohmann::json::parse(spec::ProgramToJson(in.program));
  j["program_text"] = spec::ProgramToText(in.program);
  j["rule"] = {{"id", in.rule}, {"title", in.rule_title}, {"statement", in.rule_statement}};
  j["profile"] = in.profile;
  j["runtime"] = in.runtime;
  j["replay"] = in.replay;
  if (!in.file.empty()) j["file"] = in.file;
  j["required"] = nlohmann::json::object();
  j["reported"] = nlohmann::json::object();
  for (const auto& [key, sides] : in.differing) {
    j["required"][key] = sides.first.empty() ? nlohmann::json() : nlohmann::json::parse(sides.first);
    j["reported"][key] = sides.second.empty() ? nlohmann::json() : nlohmann::json::parse(sides.second);
  }
  return j.dump();
}

namespace {

// An unlinked temporary file holding `text` (or empty), positioned at 0.
int TempFile(const std::string& text) {
  const char* dir = std::getenv("TEST_TMPDIR");
  if (!dir || !*dir) dir = "/tmp";
  std::string path = std::string(dir) + "/asyncspec-repro-XXXXXX";
  int fd = mkostemp(path.data(), O_CLOEXEC);
  if (fd < 0) return -1;
  unlink(path.c_str());
  std::size_t off = 0;
  while (off < text.size()) {
    ssize_t n = write(fd, text.data() + off, text.size() - off);
    if (n <= 0) break;
    off += static_cast<std::size_t>(n);
  }
  lseek(fd, 0, SEEK_SET);
  return fd;
}

std::string Slurp(int fd) {
  std::string out;
  lseek(fd, 0, SEEK_SET);
  char buf[65536];
  for (ssize_t n; (n = read(fd, buf, sizeof buf)) > 0;) out.append(buf, static_cast<std::size_t>(n));
  return out;
}

}  // namespace

absl::StatusOr<std::string> RunReproducerCommand(const std::vector<std::string>& command, const std::string& input,
                                                 int timeout_ms) {
  if (command.empty()) return absl::InvalidArgumentError("empty reproducer command");
  const int in = TempFile(input), out = TempFile(""), err = TempFile("");
  auto close_all = [&] {
    for (int fd : {in, out, err}) if (fd >= 0) close(fd);
  };
  if (in < 0 || out < 0 || err < 0) {
    close_all();
    return absl::InternalError("cannot create temporary files for the reproducer command");
  }
  std::vector<std::string> args = command;
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const std::string cannot = "cannot execute " + command[0] + "\n";
  std::fflush(nullptr);
  pid_t pid = fork();
  if (pid < 0) {
    close_all();
    return absl::InternalError("fork failed");
  }
  if (pid == 0) {
    setpgid(0, 0);
    dup2(in, 0);
    dup2(out, 1);
    dup2(err, 2);
    execvp(argv[0], argv.data());
    (void)!write(2, cannot.data(), cannot.size());
    _exit(127);
  }
  int wstatus = 0;
  bool done = false;
  for (int waited = 0; waited <= timeout_ms; waited += 10) {
    if (waitpid(pid, &wstatus, WNOHANG) == pid) {
      done = true;
      break;
    }
    usleep(10000);
  }
  if (!done) {
    kill(-pid, SIGKILL);
    kill(pid, SIGKILL);
    waitpid(pid, &wstatus, 0);
  }
  std::string stdout_text = Slurp(out), stderr_text = Slurp(err);
  close_all();
  if (stderr_text.size() > 1500) stderr_text = "..." + stderr_text.substr(stderr_text.size() - 1500);
  if (!done) return absl::DeadlineExceededError("the reproducer command took longer than " +
                                                std::to_string(timeout_ms) + " ms; stderr: " + stderr_text);
  if (!WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0) {
    return absl::InternalError("the reproducer command " +
                               std::string(WIFEXITED(wstatus) ? "exited with status " + std::to_string(WEXITSTATUS(wstatus))
                                                              : "was killed by a signal") +
                               "; stderr: " + stderr_text);
  }
  if (stdout_text.empty()) return absl::InternalError("the reproducer command printed nothing");
  return stdout_text;
}

}  // namespace asyncspec::conformance
