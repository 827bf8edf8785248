// Throughput of the conformance check: programs checked
// per second (wall clock and per CPU second), for each stage and each runtime, measured side by
// side in one run on the same random trees (`--trees` of them, the sizes the
// check itself uses: TreeProgram, 10..100).
//
//   bazel run -c opt //conformance/bench:throughput
//   bazel run -c opt //conformance/bench:throughput -- --trees=500 --reps=3 --python=PATH
//
// Rows:
//   generate           TreeProgram(seed): the RapidCheck generator alone
//   model              spec::RunModelDetailed alone
//   reference          RunOnReference (the runtime and its interpreter) alone
//   check: model       Engine::Check with the model as the runtime (engine cost)
//   check: reference   Engine::Check on the reference runtime in process
//                      (model + two runtime runs for INV-9 + compare + invariants)
//   whole check        Engine::RunAll as `check --nocases` runs it (trees
//                      generated inside): in process, in 1 forked worker
//                      (the default), in 2 (--jobs=2)
//   check: reference, a fork per program   MakeIsolatedRuntime (what the
//                      check did before workers; now only for shrinking)
//   check: cpython     Engine::Check through one CPython driver process
// Each row is the median of --reps repetitions over the same trees; the
// generation of the trees is not part of the check rows (so they add up).
// Two rates per row: programs per wall-clock second, and programs per CPU
// second of every process involved (this one, its threads, and the forked
// workers it has waited for: getrusage RUSAGE_SELF + RUSAGE_CHILDREN, user +
// system). The second is the "per core" figure: it does not depend on
// how many cores the run had, nor (much) on what else the machine ran.
// Wall-clock medians on a shared 2-core machine are noisy: for exact
// comparisons use callgrind (`valgrind --tool=callgrind` on this binary).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <sys/resource.h>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "conformance/engine.h"
#include "conformance/reference/interpreter.h"
#include "conformance/rules.h"
#include "conformance/runtimes.h"
#include "spec/model/model.h"
#include "absl/flags/flag.h"
#include "tools/flags.h"
#include "tools/pyenv.h"

ABSL_FLAG(int, trees, 2000, "random trees every row checks (the check's own sizes), 1..10000000");
ABSL_FLAG(int, reps, 5, "repetitions per row; each row is their median, 1..1000");
ABSL_FLAG(int, cpython_trees, 500, "trees of the CPython row (slower), 1..10000000");
ABSL_FLAG(std::string, python, "",
          "CPython for the CPython row (default: 3.13.0 under $(pyenv root)); missing: the row says skipped");

namespace ac = asyncspec::conformance;
namespace spec = asyncspec::spec;

namespace {

using Clock = std::chrono::steady_clock;

// CPU seconds used so far by this process (all threads) and by its children
// that have been waited for, user + system.
double CpuSeconds() {
  double s = 0;
  for (int who : {RUSAGE_SELF, RUSAGE_CHILDREN}) {
    rusage u{};
    getrusage(who, &u);
    s += u.ru_utime.tv_sec + u.ru_stime.tv_sec + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
  }
  return s;
}

struct Rate {
  double wall = -1;  // programs per wall-clock second; < 0: skipped
  double cpu = -1;   // programs per CPU second (all processes)
};

// Median rates of `reps` runs of `body` over `n` programs (each median on
// its own).
Rate MedianRate(int reps, int n, const std::function<void()>& body) {
  std::vector<double> walls, cpus;
  for (int r = 0; r < reps; ++r) {
    const double c0 = CpuSeconds();
    auto t0 = Clock::now();
    body();
    double s = std::chrono::duration<double>(Clock::now() - t0).count();
    double c = CpuSeconds() - c0;
    walls.push_back(n / std::max(s, 1e-9));
    cpus.push_back(n / std::max(c, 1e-9));
  }
  std::sort(walls.begin(), walls.end());
  std::sort(cpus.begin(), cpus.end());
  return {walls[walls.size() / 2], cpus[cpus.size() / 2]};
}

struct Row {
  std::string name;
  int programs;
  Rate rate;
  std::string note;
};

}  // namespace

int main(int argc, char** argv) {
  asyncspec::ParseFlagsOrExit(argc, argv,
                              "Programs checked per wall-clock second and per CPU second, per stage and per runtime.\n"
                              "  bazel run -c opt //conformance/bench:throughput -- [--trees=N] [--reps=R]\n"
                              "      [--cpython_trees=N] [--python=PATH]");
  struct {
    int trees, reps, cpython_trees;
    std::string python;
  } f{absl::GetFlag(FLAGS_trees), absl::GetFlag(FLAGS_reps), absl::GetFlag(FLAGS_cpython_trees),
      absl::GetFlag(FLAGS_python)};
  for (auto [name, v, hi] : {std::tuple{"trees", f.trees, 10'000'000}, std::tuple{"reps", f.reps, 1000},
                             std::tuple{"cpython_trees", f.cpython_trees, 10'000'000}}) {
    if (v < 1 || v > hi) asyncspec::FlagError("--" + std::string(name) + " must be in [1, " + std::to_string(hi) + "]");
  }
  if (f.python.empty()) f.python = asyncspec::PyenvPython("3.13.0");

  const std::string root = ac::DataRoot(argv[0]);
  std::ifstream rules_in(ac::LocateRulesMd(root));
  std::stringstream rules_text;
  rules_text << rules_in.rdbuf();
  const ac::RuleCatalogue rules = ac::RuleCatalogue::Parse(rules_text.str());
  spec::Profile profile = spec::SpecProfile();

  std::vector<std::uint64_t> seeds;
  for (int i = 0; i < f.trees; ++i) seeds.push_back(ac::TreeSeed(1, i));
  std::vector<spec::Program> programs;
  programs.reserve(seeds.size());
  for (std::uint64_t s : seeds) programs.push_back(ac::TreeProgram(s));
  const int n = static_cast<int>(programs.size());

  std::vector<Row> rows;
  std::size_t sink = 0;  // keeps results observable so nothing is optimised away

  rows.push_back({"generate (TreeProgram)", n, MedianRate(f.reps, n, [&] {
                    for (std::uint64_t s : seeds) sink += ac::TreeProgram(s).main.size();
                  }), ""});
  rows.push_back({"model alone (RunModelDetailed)", n, MedianRate(f.reps, n, [&] {
                    for (const auto& p : programs) sink += spec::RunModelDetailed(p, profile).outcome.tasks.size();
                  }), ""});
  rows.push_back({"reference alone (RunOnReference)", n, MedianRate(f.reps, n, [&] {
                    for (const auto& p : programs) {
                      auto o = ac::RunOnReference(p);
                      sink += o.ok() ? o->tasks.size() : 1;
                    }
                  }), ""});

  int failures = 0;
  auto check_rate = [&](const std::string& runtime_name, std::function<std::unique_ptr<ac::Runtime>()> make,
                        const std::vector<spec::Program>& progs, int reps) {
    ac::Options o;
    o.runtime = runtime_name;
    o.quiet = true;
    ac::Engine engine(o, profile, make(), rules);
    return MedianRate(reps, static_cast<int>(progs.size()), [&] {
      for (std::size_t i = 0; i < progs.size(); ++i) {
        ac::ProgramResult r = engine.Check(progs[i], "tree");
        if (r.verdict != ac::Verdict::kPass && r.verdict != ac::Verdict::kPassTies &&
            r.verdict != ac::Verdict::kSkipped) {
          ++failures;
        }
      }
    });
  };

  rows.push_back({"check: model as runtime (engine cost)", n,
                  check_rate("model", [] { return std::unique_ptr<ac::Runtime>(); }, programs, f.reps), ""});
  rows.push_back({"check: reference, in process", n,
                  check_rate("reference", [] { return ac::MakeReferenceRuntime(); }, programs, f.reps),
                  "--noisolate"});
  // The whole check as `bazel run //conformance:check -- --nocases` runs it
  // (Engine::RunAll: generation included), in process and in workers.
  auto run_all_rate = [&](int workers) {
    ac::Options o;
    o.trees = n;
    o.cases = false;
    o.quiet = true;
    o.workers = workers;
    ac::Engine engine(o, profile, ac::MakeReferenceRuntime(), rules);
    return MedianRate(f.reps, n, [&] {
      auto r = engine.RunAll();
      if (!r.ok() || r->failed + r->adapter_errors + r->timeouts > 0) ++failures;
    });
  };
  rows.push_back({"whole check: reference, in process", n, run_all_rate(0), "--noisolate"});
  rows.push_back({"whole check: reference, 1 worker", n, run_all_rate(1), "the default"});
  rows.push_back({"whole check: reference, 2 workers", n, run_all_rate(2), "--jobs=2"});
  {
    // Forking is slow; a tenth of the trees keeps the row under a few seconds.
    std::vector<spec::Program> some(programs.begin(), programs.begin() + std::max(1, n / 10));
    rows.push_back({"check: reference, a fork per program", static_cast<int>(some.size()),
                    check_rate("reference",
                               [] { return ac::MakeIsolatedRuntime(ac::MakeReferenceRuntime(), 10000); }, some,
                               f.reps),
                    "isolation before workers"});
  }
  {
    const std::string driver = root + "/conformance/adapters/cpython/driver.py";
    std::vector<spec::Program> some(programs.begin(), programs.begin() + std::min(n, f.cpython_trees));
    auto started = ac::CPythonRuntime::Start(f.python, driver, 10000);
    if (!std::filesystem::exists(f.python) || !started.ok()) {
      rows.push_back({"check: cpython driver", 0, Rate{},
                      "skipped: " + (started.ok() ? f.python + " not found" : started.status().ToString())});
    } else {
      const std::string version = (*started)->version();
      started->reset();
      // The driver's outcomes are compared with the model of its own
      // release (shipped-3.X), so that the rate is not that of failures.
      spec::ShippedProfileForVersion(version, &profile);
      std::string py = f.python;
      rows.push_back({"check: cpython " + version + " driver, one process", static_cast<int>(some.size()),
                      check_rate("cpython",
                                 [&]() -> std::unique_ptr<ac::Runtime> {
                                   auto rt = ac::CPythonRuntime::Start(py, driver, 10000);
                                   if (!rt.ok()) return nullptr;
                                   return std::move(*rt);
                                 },
                                 some, std::min(f.reps, 3)),
                      "per CPU s: this process only (the driver is not reaped yet)"});
    }
  }

  const double model_rate = rows[1].rate.wall;
  std::printf("Programs per second; median of %d runs over the same %d random trees (seed 1)\n", f.reps, n);
  std::printf("%-44s %9s %12s %10s %12s  %s\n", "stage", "programs", "programs/s", "vs model", "per CPU s", "");
  for (const Row& r : rows) {
    if (r.rate.wall < 0) {
      std::printf("%-44s %9s %12s %10s %12s  %s\n", r.name.c_str(), "-", "-", "-", "-", r.note.c_str());
      continue;
    }
    std::printf("%-44s %9d %12.0f %9.2fx %12.0f  %s\n", r.name.c_str(), r.programs, r.rate.wall,
                r.rate.wall / model_rate, r.rate.cpu, r.note.c_str());
  }
  std::printf("(programs/s: per wall-clock second; per CPU s: per CPU second of this process and its workers,\n"
              " user + system, the \"per core\" figure)\n");
  std::printf("(checks that did not pass: %d; sink %zu)\n", failures, sink % 10);
  return 0;
}
