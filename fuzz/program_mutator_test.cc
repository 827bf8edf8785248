// The mutator's contract (program_mutator.h): whatever the input, every
// mutant reads as a valid program within kMaxFuzzSteps and max_size, the same
// seed gives the same mutant, and mutations do change programs, drawing
// every kind of step over time.
#include "fuzz/program_mutator.h"

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "spec/json.h"
#include "spec/validate.h"

namespace asyncspec::fuzz {
namespace {

// The differential seeds: the golden cases' programs (//fuzz:case_corpus)
// and the committed inputs of fixed findings.
std::vector<std::string> Corpus() {
  std::vector<std::string> out;
  for (const char* dir : {"fuzz/case_corpus/differential", "fuzz/corpus/differential"}) {
    for (const auto& e : std::filesystem::directory_iterator(dir)) {
      std::ifstream in(e.path(), std::ios::binary);
      out.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
  }
  return out;
}

// Checks that `bytes` is a valid small program whose timer delays are
// distinct powers of two (no SCHED-2 ties); records its step kinds.
void ExpectValid(const std::string& bytes, std::set<std::size_t>* kinds, const std::string& where,
                 bool tie_free = true) {
  auto p = spec::ProgramFromJson(bytes);
  ASSERT_TRUE(p.ok()) << where << ": " << p.status() << "\n" << bytes;
  absl::Status s = spec::Validate(*p);
  ASSERT_TRUE(s.ok()) << where << ": " << s << "\n" << bytes;
  EXPECT_LE(CountSteps(*p), kMaxFuzzSteps) << where;
  std::set<spec::Time> delays;
  auto delay = [&](spec::Time d) {
    if (!tie_free) return;
    EXPECT_TRUE(d > 0 && (d & (d - 1)) == 0) << where << ": delay " << d << " is not a power of two";
    EXPECT_TRUE(delays.insert(d).second) << where << ": delay " << d << " twice (SCHED-2 tie)";
  };
  std::vector<const spec::Body*> todo{&p->main};
  while (!todo.empty()) {
    const spec::Body* b = todo.back();
    todo.pop_back();
    for (const spec::Step& st : *b) {
      if (kinds != nullptr) kinds->insert(st.op.index());
      if (auto* s = std::get_if<spec::Sleep>(&st.op); s && s->d > 0) delay(s->d);
      if (auto* r = std::get_if<spec::Reschedule>(&st.op); r && r->d) delay(*r->d);
      if (auto* t = std::get_if<spec::CreateTask>(&st.op)) todo.push_back(&t->task.body);
      if (auto* t = std::get_if<spec::Spawn>(&st.op)) todo.push_back(&t->task.body);
      if (auto* t = std::get_if<spec::Shield>(&st.op)) todo.push_back(&t->task.body);
      if (auto* w = std::get_if<spec::WaitFor>(&st.op)) {
        if (w->d) delay(*w->d);
        todo.push_back(&w->task.body);
      }
      if (auto* g = std::get_if<spec::Gather>(&st.op)) {
        for (const spec::TaskDef& c : g->children) todo.push_back(&c.body);
      }
      if (auto* g = std::get_if<spec::Group>(&st.op)) todo.push_back(&g->body);
      if (auto* t = std::get_if<spec::Timeout>(&st.op)) {
        if (t->d) delay(*t->d);
        todo.push_back(&t->body);
      }
      if (auto* t = std::get_if<spec::Try>(&st.op)) {
        todo.push_back(&t->body);
        for (const spec::Handler& h : t->handlers) todo.push_back(&h.body);
        if (t->finally) todo.push_back(&t->finally->body);
      }
    }
  }
}

// Precondition: in.size() <= max_size (as libFuzzer guarantees).
std::string Mutate(std::string in, std::size_t max_size, unsigned seed) {
  const std::size_t size = in.size();
  in.resize(std::max(size, max_size));
  const std::size_t n = MutateProgram(reinterpret_cast<std::uint8_t*>(in.data()), size, max_size, seed);
  EXPECT_LE(n, max_size);
  in.resize(n);
  return in;
}

TEST(ProgramMutator, ChainsOfMutantsOfEveryGoldenCaseStayValid) {
  const std::vector<std::string> corpus = Corpus();
  ASSERT_GE(corpus.size(), 100u);
  std::set<std::size_t> kinds;
  int changed = 0, total = 0;
  for (std::size_t c = 0; c < corpus.size(); ++c) {
    std::string cur = corpus[c];
    for (unsigned i = 0; i < 30; ++i) {
      std::string next = Mutate(cur, 4096, static_cast<unsigned>(c * 1000 + i));
      ExpectValid(next, &kinds, "case " + std::to_string(c) + " mutation " + std::to_string(i));
      if (::testing::Test::HasFatalFailure()) return;
      changed += next != cur;
      ++total;
      cur = std::move(next);
    }
  }
  // Most mutations change the program (a removal from an empty body, or a
  // swap of a step with itself, may not).
  EXPECT_GT(changed, total * 3 / 4) << changed << " of " << total;
  // Drawn from StepGen: every one of the 15 step kinds shows up.
  EXPECT_EQ(kinds.size(), std::variant_size_v<spec::Step::Op>);
}

TEST(ProgramMutator, InputThatDoesNotReadBecomesAProgram) {
  for (const std::string& junk : {std::string(), std::string("{"), std::string("\xff\x00 garbage", 10),
                                  std::string(R"({"main":[{"op":"await","target":"main"}]})")}) {
    for (unsigned seed = 0; seed < 50; ++seed) {
      ExpectValid(Mutate(junk, 4096, seed), nullptr, "junk seed " + std::to_string(seed));
    }
  }
}

TEST(ProgramMutator, RespectsMaxSize) {
  const std::vector<std::string> corpus = Corpus();
  for (unsigned seed = 0; seed < 200; ++seed) {
    const std::string& in = corpus[seed % corpus.size()];
    const std::size_t max = in.size() + 20;  // room for little growth
    std::string out = Mutate(in, max, seed);
    EXPECT_LE(out.size(), max);
    // (When no mutant fits, the input is kept as it is: not tie-free then.)
    ExpectValid(out, nullptr, "seed " + std::to_string(seed), /*tie_free=*/out != in);
  }
}

TEST(ProgramMutator, SameSeedSameMutant) {
  const std::string in = Corpus().front();
  for (unsigned seed = 0; seed < 20; ++seed) EXPECT_EQ(Mutate(in, 4096, seed), Mutate(in, 4096, seed));
}

TEST(ProgramMutator, CrossOverSplicesAStepOfTheSecondIntoTheFirst) {
  const std::vector<std::string> corpus = Corpus();
  int grew = 0;
  for (unsigned seed = 0; seed < 200; ++seed) {
    const std::string& a = corpus[seed % corpus.size()];
    const std::string& b = corpus[(seed * 7 + 3) % corpus.size()];
    std::string out(4096, '\0');
    const std::size_t n = CrossOverPrograms(reinterpret_cast<const std::uint8_t*>(a.data()), a.size(),
                                            reinterpret_cast<const std::uint8_t*>(b.data()), b.size(),
                                            reinterpret_cast<std::uint8_t*>(out.data()), out.size(), seed);
    if (n == 0) continue;  // too big to fit
    out.resize(n);
    ExpectValid(out, nullptr, "crossover seed " + std::to_string(seed));
    auto pa = spec::ProgramFromJson(a);
    auto po = spec::ProgramFromJson(out);
    ASSERT_TRUE(pa.ok() && po.ok());
    grew += CountSteps(*po) > CountSteps(*pa);
  }
  EXPECT_GT(grew, 100);
}

}  // namespace
}  // namespace asyncspec::fuzz
