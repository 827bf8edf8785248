// Throughput of the program language: JSON and text, read and write, and
// validation, over a fixed corpus of generated valid programs.
//   bazel run -c opt //spec:language_bench
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "rapidcheck.h"
#include "spec/json.h"
#include "spec/program_gen.h"
#include "spec/text.h"
#include "spec/validate.h"

namespace asyncspec::spec {
namespace {

// 500 programs drawn at full size with fixed seeds (so runs compare).
const std::vector<Program>& Corpus() {
  static const std::vector<Program> corpus = [] {
    std::vector<Program> out;
    const rc::Gen<Program> gen = gen::ValidProgram();
    for (int i = 0; i < 500; ++i) out.push_back(gen(rc::Random(i + 1), 100).value());
    return out;
  }();
  return corpus;
}

template <typename Fn>
void Run(benchmark::State& state, Fn fn) {
  std::size_t bytes = 0;
  for (auto _ : state) {
    for (const Program& p : Corpus()) bytes += fn(p);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(Corpus().size()));
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
}

void BM_ProgramToJson(benchmark::State& state) {
  Run(state, [](const Program& p) { return ProgramToJson(p).size(); });
}
void BM_ProgramFromJson(benchmark::State& state) {
  std::vector<std::string> texts;
  for (const Program& p : Corpus()) texts.push_back(ProgramToJson(p));
  std::size_t bytes = 0;
  for (auto _ : state) {
    for (const std::string& t : texts) {
      benchmark::DoNotOptimize(ProgramFromJson(t));
      bytes += t.size();
    }
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(texts.size()));
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
}
void BM_ProgramToText(benchmark::State& state) {
  Run(state, [](const Program& p) { return ProgramToText(p).size(); });
}
void BM_ProgramFromText(benchmark::State& state) {
  std::vector<std::string> texts;
  for (const Program& p : Corpus()) texts.push_back(ProgramToText(p));
  std::size_t bytes = 0;
  for (auto _ : state) {
    for (const std::string& t : texts) {
      benchmark::DoNotOptimize(ProgramFromText(t));
      bytes += t.size();
    }
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(texts.size()));
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
}
void BM_Validate(benchmark::State& state) {
  for (auto _ : state) {
    for (const Program& p : Corpus()) benchmark::DoNotOptimize(Validate(p));
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(Corpus().size()));
}

BENCHMARK(BM_ProgramToJson);
BENCHMARK(BM_ProgramFromJson);
BENCHMARK(BM_ProgramToText);
BENCHMARK(BM_ProgramFromText);
BENCHMARK(BM_Validate);

}  // namespace
}  // namespace asyncspec::spec

BENCHMARK_MAIN();
