// The runtime's performance benchmark: the reference runtime, a bare C++20
// coroutine "floor", and CPython 3.13's asyncio, side by side, in one run.
//
//   bazel run -c opt //runtime/bench:bench                 # full run (~2 min)
//   bazel run -c opt //runtime/bench:bench -- --quick      # tiny N, seconds
//   bench --workload=spawn --impl=runtime --n=100000 --reps=1 --no_python
//                                                          # one cell (for callgrind)
//
// What is measured
// ----------------
// Every workload exists three times, doing the same thing the same way:
//   runtime  this project's runtime (runtime/rt.h), virtual clock;
//   floor    the least a coroutine scheduler can do: a task type whose frame
//            comes from a free list, a FIFO ring of coroutine handles, a join
//            counter; no cancellation, no task object, no done callbacks.
//            It bounds from below what any asyncio-like runtime can cost;
//   CPython  asyncio_bench.py run by CPython 3.13 as a subprocess, plus its
//            eager_task_factory variant where task creation matters.
// Each is timed around the work inside the running loop (loop creation
// excluded), repeated --reps times (default 5, after one unreported warm-up
// for the C++ sides so the frame pools are filled). Two clocks are read: wall
// time and the thread's CPU time (CLOCK_THREAD_CPUTIME_ID, time.thread_time
// in Python). The table quotes medians of CPU time by default: the machine
// has 2 cores shared with other engineers' builds, and a preempted run's wall
// time says more about them than about the code (--wall switches the table;
// both medians are printed per cell). CPU time still includes what sharing
// the caches costs.
//
// Workloads:
//   spawn_join    1,000,000 trivial tasks created in one TaskGroup, joined;
//   switch_one    1,000,000 sleep(0) in one task;
//   switch_rr     1,000,000 sleep(0) spread over 1,000 tasks, round-robin
//                 (timed once every task has started);
//   cancel_storm  100,000 children sleep in a TaskGroup; one more child
//                 raises; timed from its creation until the ExceptionGroup is
//                 caught, divided by the number of cancelled children;
//   gather        gather() of 1,000,000 trivial coroutines.
// Memory: 1,000,000 live tasks asleep in sleep(1000), measured in a fresh
// child process (this binary with --workload=memory) so that no pool is warm:
// heap bytes counted by the replaced operator new below, resident set size,
// and the coroutine frame size as the promise's operator new sees it.
//
// Instruction counts: `bazel run -c opt //runtime/bench:callgrind` (see
// callgrind.sh) runs single cells under callgrind; collection is switched on
// only inside the timed region of the last repetition (Stamp::Now below).
#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <coroutine>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <map>
#include <new>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/flags/flag.h"
#include "runtime/rt.h"
#include "tools/flags.h"
#include "tools/pyenv.h"

#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#else
#define CALLGRIND_TOGGLE_COLLECT
#endif

// ---------------------------------------------------------------------------
// Heap accounting. Replacing the global operator new lets the memory
// workload count every byte the runtime asks for (the frame pool gets its
// blocks from ::operator new). malloc_usable_size counts what malloc really
// hands out. Single-threaded, so plain counters.
namespace {
std::size_t g_live_bytes = 0;
std::size_t g_news = 0;
}  // namespace

void* operator new(std::size_t n) {
  void* p = std::malloc(n ? n : 1);
  if (!p) throw std::bad_alloc();
  g_live_bytes += malloc_usable_size(p);
  ++g_news;
  return p;
}
void operator delete(void* p) noexcept {
  if (!p) return;
  g_live_bytes -= malloc_usable_size(p);
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept { operator delete(p); }

ABSL_FLAG(bool, quick, false, "tiny N (10,000; cancel 1,000; 100 round-robin tasks), at most 3 reps: seconds, for smoke tests");
ABSL_FLAG(std::string, workload, "all", "spawn, switch_one, switch_rr, cancel, gather, memory or all");
ABSL_FLAG(std::string, impl, "all", "the C++ sides to run: runtime, floor or all (CPython runs only with all)");
ABSL_FLAG(int, n, 0, "N for every workload (0: each workload's default, see the top of bench.cc)");
ABSL_FLAG(int, reps, 5, "timed repetitions per cell; the table quotes medians");
ABSL_FLAG(int, rr_tasks, 1000, "tasks that share switch_rr's switches");
ABSL_FLAG(bool, no_python, false, "leave out the CPython column");
ABSL_FLAG(bool, wall, false, "the table on wall-clock time instead of thread CPU time");
ABSL_FLAG(std::string, python, "", "CPython for its column (default: 3.13.0 under $(pyenv root))");
ABSL_FLAG(std::string, python_script, "", "asyncio_bench.py (default: found in runfiles)");
ABSL_FLAG(bool, memory_child, false, "internal: the memory workload's fresh child process");

namespace asyncspec::bench {
namespace {

using Clock = std::chrono::steady_clock;
// Both clocks: wall time, and this thread's CPU time, which leaves out the
// time the thread waited for a core (the machine is shared; see the table).
// Under callgrind (--collect-atstart=no), collection is switched on and off
// at the two stamps of the repetition Repeat() marks, so instruction counts
// cover exactly the timed region.
bool g_toggle_callgrind = false;

struct Stamp {
  Clock::time_point wall;
  timespec cpu;
  static Stamp Now() {
    if (g_toggle_callgrind) CALLGRIND_TOGGLE_COLLECT;
    Stamp s;
    s.wall = Clock::now();
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &s.cpu);
    return s;
  }
};
struct Secs {
  double wall = 0, cpu = 0;
};
Secs Since(const Stamp& t0) {
  const Stamp t1 = Stamp::Now();
  return {std::chrono::duration<double>(t1.wall - t0.wall).count(),
          double(t1.cpu.tv_sec - t0.cpu.tv_sec) + 1e-9 * double(t1.cpu.tv_nsec - t0.cpu.tv_nsec)};
}

// ---------------------------------------------------------------------------
// The floor: a minimal coroutine scheduler.
namespace bare {

// Frames come from a free list per 16-byte size class, never returned, so the
// floor pays no malloc in steady state (the runtime's pool does the same).
class FreeList {
 public:
  static void* Allocate(std::size_t n) {
    const std::size_t c = (n + 15) / 16;
    if (c < kClasses && heads_[c]) {
      Node* p = heads_[c];
      heads_[c] = p->next;
      return p;
    }
    return ::operator new(c * 16);
  }
  static void Free(void* p, std::size_t n) noexcept {
    const std::size_t c = (n + 15) / 16;
    if (c >= kClasses) {
      ::operator delete(p);
      return;
    }
    auto* node = static_cast<Node*>(p);
    node->next = heads_[c];
    heads_[c] = node;
  }

 private:
  struct Node {
    Node* next;
  };
  static constexpr std::size_t kClasses = 64;
  static inline Node* heads_[kClasses] = {};
};

// FIFO ring of handles to resume.
class Queue {
 public:
  Queue() : slots_(1024), mask_(1023) {}
  void Push(std::coroutine_handle<> h) {
    if (tail_ - head_ == slots_.size()) Grow();
    slots_[tail_++ & mask_] = h;
  }
  bool Empty() const { return head_ == tail_; }
  std::coroutine_handle<> Pop() { return slots_[head_++ & mask_]; }

 private:
  void Grow() {
    std::vector<std::coroutine_handle<>> n(slots_.size() * 2);
    for (std::size_t s = head_; s != tail_; ++s) n[s & (n.size() - 1)] = slots_[s & mask_];
    slots_ = std::move(n);
    mask_ = slots_.size() - 1;
  }
  std::vector<std::coroutine_handle<>> slots_;
  std::size_t mask_;
  std::size_t head_ = 0, tail_ = 0;
};

Queue* g_queue = nullptr;

// Children outstanding, and who waits for them to reach zero.
struct Join {
  std::size_t pending = 0;
  std::coroutine_handle<> waiter;
};

class Task {
 public:
  struct promise_type {
    Join* join = nullptr;
    static void* operator new(std::size_t n) { return FreeList::Allocate(n); }
    static void operator delete(void* p, std::size_t n) noexcept { FreeList::Free(p, n); }
    Task get_return_object() { return Task(std::coroutine_handle<promise_type>::from_promise(*this)); }
    std::suspend_always initial_suspend() noexcept { return {}; }
    struct Final {
      bool await_ready() noexcept { return false; }
      void await_suspend(std::coroutine_handle<promise_type> h) noexcept {
        Join* j = h.promise().join;
        h.destroy();
        if (j && --j->pending == 0 && j->waiter) g_queue->Push(std::exchange(j->waiter, {}));
      }
      void await_resume() noexcept {}
    };
    Final final_suspend() noexcept { return {}; }
    void return_void() {}
    void unhandled_exception() { std::terminate(); }
  };
  explicit Task(std::coroutine_handle<promise_type> h) : h_(h) {}
  std::coroutine_handle<promise_type> h_;
};

void Spawn(Task t, Join* j) {
  t.h_.promise().join = j;
  ++j->pending;
  g_queue->Push(t.h_);
}

struct JoinAwait {
  Join* j;
  bool await_ready() const noexcept { return j->pending == 0; }
  void await_suspend(std::coroutine_handle<> h) noexcept { j->waiter = h; }
  void await_resume() noexcept {}
};

struct Yield {
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> h) noexcept { g_queue->Push(h); }
  void await_resume() noexcept {}
};

// A sleeping task's place in a list the "failing" task walks to wake them.
struct Parked {
  std::coroutine_handle<> h;
  Parked* next = nullptr;
};
struct Park {
  Parked** list;
  Parked node;
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> h) noexcept {
    node.h = h;
    node.next = *list;
    *list = &node;
  }
  void await_resume() noexcept {}
};

void Run(Task main) {
  Queue q;
  g_queue = &q;
  Join j;
  Spawn(main, &j);
  while (!q.Empty()) q.Pop().resume();
  g_queue = nullptr;
}

Task Trivial() { co_return; }
Task TrivialOut(int* slot) {
  *slot = 1;
  co_return;
}

Task SpawnJoinMain(int n, Secs* secs) {
  const auto t0 = Stamp::Now();
  Join j;
  for (int i = 0; i < n; ++i) Spawn(Trivial(), &j);
  co_await JoinAwait{&j};
  *secs = Since(t0);
}

Task SwitchOneMain(int n, Secs* secs) {
  const auto t0 = Stamp::Now();
  for (int i = 0; i < n; ++i) co_await Yield{};
  *secs = Since(t0);
}

Task Yielder(int m) {
  for (int i = 0; i < m; ++i) co_await Yield{};
}

Task SwitchRrMain(int k, int m, Secs* secs) {
  Join j;
  for (int i = 0; i < k; ++i) Spawn(Yielder(m), &j);
  co_await Yield{};  // every yielder has made its first step
  const auto t0 = Stamp::Now();
  co_await JoinAwait{&j};
  *secs = Since(t0);
}

Task Sleeper(Parked** list) { co_await Park{list, {}}; }
// "Cancels" every sleeper: wakes it so that it returns, which is the least a
// cancellation must do (resume the task once, finish it, free its frame).
Task Failer(Parked** list) {
  for (Parked* p = *list; p; p = p->next) g_queue->Push(p->h);
  *list = nullptr;
  co_return;
}

Task CancelStormMain(int n, Secs* secs) {
  Parked* list = nullptr;
  Join j;
  for (int i = 0; i < n; ++i) Spawn(Sleeper(&list), &j);
  co_await Yield{};
  const auto t0 = Stamp::Now();
  Spawn(Failer(&list), &j);
  co_await JoinAwait{&j};
  *secs = Since(t0);
}

Task GatherMain(int n, Secs* secs) {
  const auto t0 = Stamp::Now();
  std::vector<int> results(n);
  Join j;
  for (int i = 0; i < n; ++i) Spawn(TrivialOut(&results[i]), &j);
  co_await JoinAwait{&j};
  *secs = Since(t0);
  if (static_cast<int>(results.size()) != n || results.back() != 1) std::abort();
}

}  // namespace bare

// ---------------------------------------------------------------------------
// The same workloads on the reference runtime. Task coroutines take their
// state as parameters (a lambda's captures would die with the closure).
namespace runtime {

rt::Coro<> Trivial() { co_return; }

rt::Coro<> SpawnBody(rt::TaskGroup& tg, int n) {
  for (int i = 0; i < n; ++i) tg.create_task(Trivial());
  co_return;
}

rt::Coro<> SpawnJoinMain(int n, Secs* secs) {
  const auto t0 = Stamp::Now();
  rt::TaskGroup tg;
  co_await tg.run([n](rt::TaskGroup& g) { return SpawnBody(g, n); });
  *secs = Since(t0);
}

rt::Coro<> SwitchOneMain(int n, Secs* secs) {
  const auto t0 = Stamp::Now();
  for (int i = 0; i < n; ++i) co_await rt::sleep(0);
  *secs = Since(t0);
}

rt::Coro<> Yielder(int m) {
  for (int i = 0; i < m; ++i) co_await rt::sleep(0);
}

rt::Coro<> SwitchRrBody(rt::TaskGroup& tg, int k, int m, Stamp* t0) {
  for (int i = 0; i < k; ++i) tg.create_task(Yielder(m));
  co_await rt::sleep(0);  // every yielder has made its first step
  *t0 = Stamp::Now();
}

rt::Coro<> SwitchRrMain(int k, int m, Secs* secs) {
  Stamp t0;
  rt::TaskGroup tg;
  co_await tg.run([k, m, &t0](rt::TaskGroup& g) { return SwitchRrBody(g, k, m, &t0); });
  *secs = Since(t0);
}

rt::Coro<> Sleeper() { co_await rt::sleep(rt::Seconds(1000)); }
rt::Coro<> Failer() {
  throw rt::ValueError("boom");
  co_return;
}

rt::Coro<> CancelBody(rt::TaskGroup& tg, int n, Stamp* t0) {
  for (int i = 0; i < n; ++i) tg.create_task(Sleeper());
  co_await rt::sleep(0);  // every sleeper is now asleep
  *t0 = Stamp::Now();
  tg.create_task(Failer());
}

rt::Coro<> CancelStormMain(int n, Secs* secs) {
  Stamp t0;
  bool caught = false;
  try {
    rt::TaskGroup tg;
    co_await tg.run([n, &t0](rt::TaskGroup& g) { return CancelBody(g, n, &t0); });
  } catch (const rt::ExceptionGroup& eg) {
    caught = eg.exceptions().size() == 1;
  }
  *secs = Since(t0);
  if (!caught) {
    std::fprintf(stderr, "cancel_storm: the TaskGroup did not raise ExceptionGroup([ValueError])\n");
    std::abort();
  }
}

rt::Coro<> GatherMain(int n, Secs* secs) {
  const auto t0 = Stamp::Now();
  std::vector<rt::Coro<>> cs;
  cs.reserve(n);
  for (int i = 0; i < n; ++i) cs.push_back(Trivial());
  auto r = co_await rt::gather(std::move(cs));
  *secs = Since(t0);
  if (static_cast<int>(r.size()) != n) std::abort();
}

}  // namespace runtime
}  // namespace
}  // namespace asyncspec::bench

// ---------------------------------------------------------------------------
// Frame-size probe for the memory workload: ProbedSleeper::Run is the same
// coroutine as a plain sleeper, but its promise type (chosen through
// coroutine_traits) records the size the compiler asks for, i.e. the exact
// coroutine frame size, before handing over to the runtime's pool.
namespace asyncspec::bench {
struct ProbedSleeper {
  rt::Coro<> Run(rt::Nanos d) const;
};
struct ProbePromise : rt::Coro<>::promise_type {
  static inline std::size_t frame_size = 0;
  static void* operator new(std::size_t n) {
    frame_size = n;
    return rt::PromiseBase::operator new(n);
  }
  static void operator delete(void* p, std::size_t n) noexcept { rt::PromiseBase::operator delete(p, n); }
};
}  // namespace asyncspec::bench

template <>
struct std::coroutine_traits<asyncspec::rt::Coro<>, const asyncspec::bench::ProbedSleeper&, asyncspec::rt::Nanos> {
  using promise_type = asyncspec::bench::ProbePromise;
};

namespace asyncspec::bench {

rt::Coro<> ProbedSleeper::Run(rt::Nanos d) const { co_await rt::sleep(d); }

namespace {

std::size_t RssBytes() {
  long pages = 0, resident = 0;
  if (FILE* f = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
    std::fclose(f);
  }
  return static_cast<std::size_t>(resident) * static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
}

struct MemResult {
  std::size_t heap_before = 0, heap_after = 0, news_before = 0, news_after = 0;
  std::size_t rss_before = 0, rss_after = 0;
};

rt::Coro<> MemBody(rt::TaskGroup& tg, int n, MemResult* out) {
  for (int i = 0; i < n; ++i) tg.create_task(ProbedSleeper{}.Run(rt::Seconds(1000)));
  co_await rt::sleep(0);  // all n tasks are now asleep
  out->heap_after = g_live_bytes;
  out->news_after = g_news;
  out->rss_after = RssBytes();
}

rt::Coro<> MemMain(int n, MemResult* out) {
  out->heap_before = g_live_bytes;
  out->news_before = g_news;
  out->rss_before = RssBytes();
  rt::TaskGroup tg;
  co_await tg.run([n, out](rt::TaskGroup& g) { return MemBody(g, n, out); });
}

// The child side of the memory workload: one line of JSON on stdout.
int MemoryChild(int n) {
  MemResult r;
  rt::RunOptions opts;
  opts.clock = rt::ClockKind::kVirtual;
  rt::run(MemMain(n, &r), opts);
  nlohmann::json j = {
      {"tasks", n},
      {"frame_bytes", ProbePromise::frame_size},
      {"heap_bytes", r.heap_after - r.heap_before},
      {"allocations", r.news_after - r.news_before},
      {"rss_bytes", r.rss_after > r.rss_before ? r.rss_after - r.rss_before : 0},
      {"task_state_bytes", sizeof(rt::detail::TypedTask<void>)},
      {"sleep_awaiter_bytes", sizeof(rt::SleepAwaiter)},
  };
  std::printf("%s\n", j.dump().c_str());
  return 0;
}

// ---------------------------------------------------------------------------
// Driving, statistics, the table.

struct Config {
  int spawn = 1'000'000;
  int switches = 1'000'000;
  int rr_tasks = 1'000;
  int cancel = 100'000;
  int gather = 1'000'000;
  int memory = 1'000'000;
  int reps = 5;
  bool python = true;
  std::string python_bin;
  std::string python_script;
  std::string workload = "all";  // spawn|switch_one|switch_rr|cancel|gather|memory|all
  std::string impl = "all";      // runtime|floor|all (C++ sides)
  bool memory_child = false;
  bool wall = false;  // table on wall-clock time instead of thread CPU time
};

double Median(std::vector<double> v) {
  if (v.empty()) return -1;
  std::sort(v.begin(), v.end());
  const std::size_t m = v.size() / 2;
  return v.size() % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

// One C++ cell: a warm-up, then `reps` timed runs; the timed region of the
// last one is what callgrind counts.
template <class F>
std::vector<Secs> Repeat(int reps, F once) {
  once();  // warm-up: fills the frame pools
  std::vector<Secs> xs;
  for (int i = 0; i < reps; ++i) {
    g_toggle_callgrind = i == reps - 1;
    xs.push_back(once());
    g_toggle_callgrind = false;
  }
  return xs;
}

struct Row {
  std::string name;
  double count = 0;  // tasks (or switches, or cancelled tasks) per run
  std::optional<double> rt, fl, py, py_eager;  // median ns per unit
};

std::string Fmt(const std::optional<double>& v, int prec = 1) {
  if (!v) return "-";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", prec, *v);
  return buf;
}

std::optional<double> Ratio(const std::optional<double>& a, const std::optional<double>& b) {
  if (!a || !b || *b <= 0) return std::nullopt;
  return *a / *b;
}

// Prints the repetitions; returns the median in ns per unit on the clock
// the table uses.
double PrintReps(const char* impl, const char* name, const std::vector<Secs>& secs, double count, bool wall) {
  std::vector<double> w, c;
  for (const Secs& s : secs) {
    w.push_back(s.wall);
    c.push_back(s.cpu);
  }
  const double mw = Median(w) / count * 1e9, mc = Median(c) / count * 1e9;
  std::printf("  %-8s %-17s median ns/unit: cpu %9.1f  wall %9.1f   cpu reps(ms):", impl, name, mc, mw);
  for (double x : c) std::printf(" %.1f", x * 1e3);
  std::printf("\n");
  std::fflush(stdout);
  return wall ? mw : mc;
}

bool Wants(const Config& c, const char* w) { return c.workload == "all" || c.workload == w; }

std::string FindScript(const Config& c, const char* argv0) {
  if (!c.python_script.empty()) return c.python_script;
  std::vector<std::string> candidates;
  const char* rel = "asyncspec/runtime/bench/asyncio_bench.py";
  if (const char* d = std::getenv("RUNFILES_DIR")) candidates.push_back(std::string(d) + "/" + rel);
  if (const char* d = std::getenv("TEST_SRCDIR")) candidates.push_back(std::string(d) + "/" + rel);
  candidates.push_back(std::string(argv0) + ".runfiles/" + rel);
  candidates.push_back("runtime/bench/asyncio_bench.py");  // bazel run's working directory
  for (const auto& p : candidates) {
    if (access(p.c_str(), R_OK) == 0) return p;
  }
  return "";
}

std::string Slurp(const std::string& cmd, int* status) {
  std::string out;
  FILE* f = popen(cmd.c_str(), "r");
  if (!f) {
    *status = -1;
    return out;
  }
  char buf[4096];
  std::size_t k;
  while ((k = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, k);
  *status = pclose(f);
  return out;
}

struct Target {
  std::string what;
  std::optional<double> value;
  bool less;  // value must be <= bound (else >=)
  double bound;
};

int Main(int argc, char** argv) {
  ParseFlagsOrExit(argc, argv,
                   "The reference runtime, a bare-coroutine floor and CPython 3.13's asyncio, side by side.\n"
                   "  bazel run -c opt //runtime/bench:bench [-- --quick] [--workload=W] [--impl=I] [--n=N]");
  Config c;
  const bool quick = absl::GetFlag(FLAGS_quick);
  c.python = !absl::GetFlag(FLAGS_no_python);
  c.wall = absl::GetFlag(FLAGS_wall);
  c.memory_child = absl::GetFlag(FLAGS_memory_child);
  c.reps = absl::GetFlag(FLAGS_reps);
  c.rr_tasks = absl::GetFlag(FLAGS_rr_tasks);
  c.workload = absl::GetFlag(FLAGS_workload);
  c.impl = absl::GetFlag(FLAGS_impl);
  c.python_bin = absl::GetFlag(FLAGS_python);
  if (c.python_bin.empty()) c.python_bin = PyenvPython("3.13.0");
  c.python_script = absl::GetFlag(FLAGS_python_script);
  const int n = absl::GetFlag(FLAGS_n);
  std::optional<int> n_override;
  if (n != 0) n_override = n;
  const std::set<std::string> workloads = {"spawn", "switch_one", "switch_rr", "cancel", "gather", "memory", "all"};
  if (!workloads.count(c.workload)) FlagError("--workload must be spawn, switch_one, switch_rr, cancel, gather, memory or all");
  if (c.impl != "runtime" && c.impl != "floor" && c.impl != "all") FlagError("--impl must be runtime, floor or all");
  if (n < 0 || n > 100'000'000) FlagError("--n must be in [1, 100000000] (0: each workload's default)");
  if (c.reps < 1 || c.reps > 1000) FlagError("--reps must be in [1, 1000]");
  if (c.rr_tasks < 1) FlagError("--rr_tasks must be at least 1");
  if (quick) {
    c.spawn = c.switches = c.gather = c.memory = 10'000;
    c.cancel = 1'000;
    c.rr_tasks = 100;
    c.reps = std::min(c.reps, 3);
  }
  if (n_override) c.spawn = c.switches = c.cancel = c.gather = c.memory = *n_override;
  if (c.rr_tasks < 1 || c.rr_tasks > c.switches) c.rr_tasks = std::max(1, std::min(c.rr_tasks, c.switches));

  if (c.memory_child) return MemoryChild(c.memory);

  const bool want_rt = c.impl == "all" || c.impl == "runtime";
  const bool want_fl = c.impl == "all" || c.impl == "floor";
  rt::RunOptions opts;
  opts.clock = rt::ClockKind::kVirtual;
  const int rr_m = c.switches / c.rr_tasks;
  std::printf("asyncspec runtime benchmark: reps=%d (medians), spawn=%d switches=%d rr_tasks=%d cancel=%d gather=%d\n",
              c.reps, c.spawn, c.switches, c.rr_tasks, c.cancel, c.gather);

#if !defined(__OPTIMIZE__)
  std::printf("WARNING: built without optimisation; the timings mean nothing (use bazel run -c opt)\n");
#endif

  std::vector<Row> rows;
  auto cell = [&](const char* impl, const char* name, double count, auto once) -> std::optional<double> {
    return PrintReps(impl, name, Repeat(c.reps, once), count, c.wall);
  };
  auto add_row = [&](const char* name, const char* key, double count, auto rt_once, auto fl_once) {
    if (!Wants(c, key)) return;
    Row r{name, count, {}, {}, {}, {}};
    if (want_rt) r.rt = cell("runtime", name, count, rt_once);
    if (want_fl) r.fl = cell("floor", name, count, fl_once);
    rows.push_back(r);
  };

  add_row("spawn_join", "spawn", c.spawn,
          [&] { Secs s; rt::run(runtime::SpawnJoinMain(c.spawn, &s), opts); return s; },
          [&] { Secs s; bare::Run(bare::SpawnJoinMain(c.spawn, &s)); return s; });
  add_row("switch_one", "switch_one", c.switches,
          [&] { Secs s; rt::run(runtime::SwitchOneMain(c.switches, &s), opts); return s; },
          [&] { Secs s; bare::Run(bare::SwitchOneMain(c.switches, &s)); return s; });
  add_row("switch_rr", "switch_rr", double(rr_m) * c.rr_tasks,
          [&] { Secs s; rt::run(runtime::SwitchRrMain(c.rr_tasks, rr_m, &s), opts); return s; },
          [&] { Secs s; bare::Run(bare::SwitchRrMain(c.rr_tasks, rr_m, &s)); return s; });
  add_row("cancel_storm", "cancel", c.cancel,
          [&] { Secs s; rt::run(runtime::CancelStormMain(c.cancel, &s), opts); return s; },
          [&] { Secs s; bare::Run(bare::CancelStormMain(c.cancel, &s)); return s; });
  add_row("gather", "gather", c.gather,
          [&] { Secs s; rt::run(runtime::GatherMain(c.gather, &s), opts); return s; },
          [&] { Secs s; bare::Run(bare::GatherMain(c.gather, &s)); return s; });

  // Memory, in a fresh process so that the pools start empty.
  std::optional<nlohmann::json> mem;
  if (Wants(c, "memory") && want_rt) {
    int st = 0;
    char self[4096];
    const ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    self[len > 0 ? len : 0] = 0;
    const std::string cmd = std::string(self) + " --memory_child --n=" + std::to_string(c.memory);
    const std::string out = Slurp(cmd, &st);
    if (st == 0) {
      try {
        mem = nlohmann::json::parse(out);
      } catch (const std::exception& e) {
        std::fprintf(stderr, "memory child printed no JSON: %s\n", e.what());
      }
    } else {
      std::fprintf(stderr, "memory child failed (status %d)\n", st);
    }
  }

  // CPython.
  std::optional<nlohmann::json> py;
  const bool want_py = c.python && c.impl == "all";
  if (want_py) {
    const std::string script = FindScript(c, argv[0]);
    if (script.empty() || access(c.python_bin.c_str(), X_OK) != 0) {
      std::fprintf(stderr, "CPython column skipped: %s not found\n",
                   script.empty() ? "asyncio_bench.py" : c.python_bin.c_str());
    } else {
      auto n_if = [&](const char* key, int n) { return std::to_string(Wants(c, key) ? n : 0); };
      const std::string cmd = c.python_bin + " " + script + " --reps " + std::to_string(c.reps) +
                              " --spawn " + n_if("spawn", c.spawn) + " --switches " +
                              std::to_string((Wants(c, "switch_one") || Wants(c, "switch_rr")) ? c.switches : 0) +
                              " --rr-tasks " + std::to_string(c.rr_tasks) + " --cancel " + n_if("cancel", c.cancel) +
                              " --gather " + n_if("gather", c.gather) + " --memory " + n_if("memory", c.memory);
      std::printf("running CPython: %s\n", cmd.c_str());
      std::fflush(stdout);
      int st = 0;
      const std::string out = Slurp(cmd, &st);
      if (st == 0) {
        try {
          py = nlohmann::json::parse(out);
        } catch (const std::exception& e) {
          std::fprintf(stderr, "CPython printed no JSON: %s\n", e.what());
        }
      } else {
        std::fprintf(stderr, "CPython run failed (status %d)\n", st);
      }
    }
  }
  if (py) {
    auto med = [&](const std::string& key) -> std::optional<double> {
      const auto& s = (*py)["seconds"];
      if (!s.contains(key)) return std::nullopt;
      const auto w = s[key].get<std::vector<double>>();
      const auto cpu = (*py)["cpu_seconds"][key].get<std::vector<double>>();
      std::vector<Secs> xs;
      for (std::size_t i = 0; i < w.size() && i < cpu.size(); ++i) xs.push_back({w[i], cpu[i]});
      return PrintReps("CPython", key.c_str(), xs, (*py)["n"][key].get<double>(), c.wall);
    };
    for (auto& r : rows) {
      if (!(Wants(c, "switch_one") || Wants(c, "switch_rr")) && r.name.rfind("switch", 0) == 0) continue;
      r.py = med(r.name);
      if (r.name == "spawn_join" || r.name == "gather") r.py_eager = med(r.name + "_eager");
    }
  }

  // The table.
  std::printf("\n=== ns per task (switch rows: per switch; cancel_storm: per cancelled task); medians of %s ===\n",
              c.wall ? "wall-clock time" : "thread CPU time (--wall for wall-clock)");
  std::printf("%-13s %10s %10s %10s %10s %10s %10s %10s\n", "workload", "runtime", "floor", "CPython", "CPy-eager",
              "CPy/rt", "eager/rt", "rt/floor");
  for (const auto& r : rows) {
    std::printf("%-13s %10s %10s %10s %10s %10s %10s %10s\n", r.name.c_str(), Fmt(r.rt).c_str(), Fmt(r.fl).c_str(),
                Fmt(r.py).c_str(), Fmt(r.py_eager).c_str(), Fmt(Ratio(r.py, r.rt)).c_str(),
                Fmt(Ratio(r.py_eager, r.rt)).c_str(), Fmt(Ratio(r.rt, r.fl), 2).c_str());
  }

  std::vector<Target> targets;
  auto find = [&](const char* name) -> const Row* {
    for (const auto& r : rows)
      if (r.name == name) return &r;
    return nullptr;
  };
  if (const Row* r = find("spawn_join")) {
    targets.push_back({"spawn_join runtime ns/task <= 60", r->rt, true, 60});
    targets.push_back({"spawn_join CPython/runtime >= 150", Ratio(r->py, r->rt), false, 150});
    targets.push_back({"spawn_join CPython-eager/runtime >= 15", Ratio(r->py_eager, r->rt), false, 15});
    targets.push_back({"spawn_join runtime/floor <= 3", Ratio(r->rt, r->fl), true, 3});
  }
  for (const char* name : {"switch_one", "switch_rr"}) {
    if (const Row* r = find(name)) {
      targets.push_back({std::string(name) + " runtime ns/switch <= 15", r->rt, true, 15});
      targets.push_back({std::string(name) + " runtime/floor <= 3", Ratio(r->rt, r->fl), true, 3});
    }
  }
  if (const Row* r = find("cancel_storm")) {
    targets.push_back({"cancel_storm runtime ns/cancelled task <= 100", r->rt, true, 100});
    targets.push_back({"cancel_storm CPython/runtime >= 100", Ratio(r->py, r->rt), false, 100});
  }

  if (mem) {
    const double n = (*mem)["tasks"].get<double>();
    const double frame = (*mem)["frame_bytes"].get<double>();
    const double heap = (*mem)["heap_bytes"].get<double>() / n;
    const double rss = (*mem)["rss_bytes"].get<double>() / n;
    const double allocs = (*mem)["allocations"].get<double>() / n;
    std::printf("\n=== memory: %.0f live tasks asleep in sleep(1000) ===\n", n);
    std::printf("coroutine frame (promise operator new size): %.0f bytes\n", frame);
    std::printf("  (of which the SleepAwaiter in the frame: %d bytes); task state sizeof(TypedTask<void>): %d bytes;\n"
                "  the pool rounds blocks up to 32 bytes and malloc adds 8 per block\n",
                (*mem)["sleep_awaiter_bytes"].get<int>(), (*mem)["task_state_bytes"].get<int>());
    std::printf("runtime heap bytes/task (operator new, usable sizes): %.1f  (%.2f allocations/task)\n", heap, allocs);
    std::printf("runtime RSS bytes/task (also counts the malloc'd ready queue): %.1f\n", rss);
    std::printf("runtime bytes/task beyond the frame: heap %.1f, RSS %.1f\n", heap - frame, rss - frame);
    if (py && py->contains("memory")) {
      const double pn = (*py)["memory"]["tasks"].get<double>();
      std::printf("CPython RSS bytes/task (whole task: coroutine, Task, handle, timer): %.1f\n",
                  (*py)["memory"]["rss_bytes"].get<double>() / pn);
    }
    targets.push_back({"memory bytes/task beyond the frame < 200 (worse of heap, RSS)",
                       std::max(heap, rss) - frame, true, 200});
  }

  std::printf("\n=== targets ===\n");
  for (const auto& t : targets) {
    const char* status = "n/a (not measured)";
    if (t.value) status = (t.less ? *t.value <= t.bound : *t.value >= t.bound) ? "met" : "MISSED";
    std::printf("%-62s %10s  %s\n", t.what.c_str(), Fmt(t.value, 2).c_str(), status);
  }
  std::printf("\nbench: done\n");
  return 0;
}

}  // namespace
}  // namespace asyncspec::bench

int main(int argc, char** argv) { return asyncspec::bench::Main(argc, argv); }
