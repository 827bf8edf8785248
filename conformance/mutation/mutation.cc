#include "conformance/mutation/mutation.h"

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <exception>
#include <memory>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "conformance/engine.h"
#include "conformance/reference/interpreter.h"
#include "conformance/rules.h"
#include "conformance/shrink.h"
#include "spec/model/model.h"
#include "spec/rule_ids.h"
#include "spec/text.h"

namespace asyncspec::conformance::mutation {
namespace {

using Clock = std::chrono::steady_clock;
using rt::mutants::Id;

// The reference runtime (mutant build) in process. A mutant that makes the
// runtime throw out of run() is an adapter error, as the check would report
// it, not a crash of the hunt.
class MutantRuntime : public Runtime {
 public:
  std::string name() const override { return "reference-mutants"; }
  absl::StatusOr<spec::Outcome> Run(const spec::Program& program) override {
    try {
      return RunOnReference(program);
    } catch (const std::exception& e) {
      return absl::InternalError(std::string("the runtime threw: ") + e.what());
    } catch (...) {
      return absl::InternalError("the runtime threw a non-std exception");
    }
  }
};

const char* CodeOf(Id id) {
  for (const rt::mutants::Info& m : rt::mutants::kCatalogue) {
    if (m.id == id) return m.code;
  }
  return "none";
}

// A kill is a finding against the runtime (a rule it broke), or an adapter
// error / timeout of the runtime. Findings against the model would be a bug
// of the harness, never a kill.
const Finding* Killing(const ProgramResult& r) {
  for (const Finding& f : r.findings) {
    if (f.subject == "runtime") return &f;
  }
  return nullptr;
}

bool Kills(const ProgramResult& r) {
  return Killing(r) != nullptr || r.verdict == Verdict::kAdapterError || r.verdict == Verdict::kTimeout;
}

nlohmann::json ToJson(const HuntResult& h) {
  return {{"code", h.code},         {"killed", h.killed},   {"trees", h.trees},
          {"seconds", h.seconds},   {"rule", h.rule},       {"where", h.where},
          {"message", h.message},   {"verdict", h.verdict}, {"tree_seed", h.tree_seed},
          {"shrunk", h.shrunk},     {"original_steps", h.original_steps},
          {"shrunk_steps", h.shrunk_steps}, {"crash", h.crash}, {"control_failures", h.control_failures},
          {"shrunk_finding", h.shrunk_finding}, {"cases_checked", h.cases_checked},
          {"cases_failed", h.cases_failed}, {"first_case", h.first_case},
          {"first_case_rule", h.first_case_rule}};
}

HuntResult FromJson(const nlohmann::json& j) {
  HuntResult h;
  h.code = j.at("code");
  h.killed = j.at("killed");
  h.trees = j.at("trees");
  h.seconds = j.at("seconds");
  h.rule = j.at("rule");
  h.where = j.at("where");
  h.message = j.at("message");
  h.verdict = j.at("verdict");
  h.tree_seed = j.at("tree_seed");
  h.shrunk = j.at("shrunk");
  h.original_steps = j.at("original_steps");
  h.shrunk_steps = j.at("shrunk_steps");
  h.crash = j.at("crash");
  h.control_failures = j.at("control_failures");
  h.shrunk_finding = j.at("shrunk_finding");
  h.cases_checked = j.at("cases_checked");
  h.cases_failed = j.at("cases_failed");
  h.first_case = j.at("first_case");
  h.first_case_rule = j.at("first_case_rule");
  return h;
}

}  // namespace

HuntResult Hunt(Id id, const HuntOptions& options) {
  rt::mutants::Set(id);
  Options o;  // the check's defaults: reference runtime, profile spec, all rules
  Engine engine(o, spec::SpecProfile(), std::make_unique<MutantRuntime>(), RuleCatalogue::Parse(""));
  HuntResult h;
  h.code = CodeOf(id);
  const auto t0 = Clock::now();
  for (int i = 0; i < options.budget; ++i) {
    const std::uint64_t seed = TreeSeed(options.seed, i);
    const spec::Program program = TreeProgram(seed);
    ProgramResult r = engine.Check(program, "tree:" + std::to_string(seed));
    h.trees = i + 1;
    if (!Kills(r)) continue;
    if (id != Id::kNone) {
      // Control: a tree the unmutated build fails too (a tie the model
      // orders differently, RULES.md "Freedom under ties" 2-4) kills nothing.
      rt::mutants::Set(Id::kNone);
      const bool clean_fails = Kills(engine.Check(program, "control"));
      rt::mutants::Set(id);
      if (clean_fails) {
        ++h.control_failures;
        continue;
      }
    }
    h.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    h.killed = true;
    h.tree_seed = seed;
    h.verdict = VerdictName(r.verdict);
    const Finding* f = Killing(r);
    h.rule = f ? f->rule : std::string(kAdapterErrorRule);
    h.where = f ? f->where : "runtime";
    h.message = f ? f->message : r.note;
    // Shrink to a program that still breaks the same rule (as the check does).
    const std::string want = h.rule;
    auto still_fails = [&](const spec::Program& p) {
      ProgramResult s = engine.Check(p, "shrink");
      if (!f) return s.verdict == r.verdict;
      for (const Finding& g : s.findings) {
        if (g.subject == "runtime" && g.rule == want) return true;
      }
      return false;
    };
    spec::Program shrunk = options.shrink_budget > 0 ? Shrink(program, still_fails, options.shrink_budget) : program;
    h.original_steps = CountSteps(program);
    h.shrunk_steps = CountSteps(shrunk);
    h.shrunk = spec::ProgramToText(shrunk);
    // What the check says about the shrunk program (its own message).
    ProgramResult sr = engine.Check(shrunk, "shrunk");
    h.shrunk_finding = sr.note;
    for (const Finding& g : sr.findings) {
      if (g.subject == "runtime" && g.rule == want) {
        h.shrunk_finding = g.where + ": " + g.message;
        break;
      }
    }
    break;
  }
  if (!h.killed) h.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  if (!options.cases_dir.empty()) {
    Options co;
    co.trees = 0;
    co.cases_dir = options.cases_dir;
    co.quiet = true;
    co.shrink_budget = 0;
    Engine cases(co, spec::SpecProfile(), std::make_unique<MutantRuntime>(), RuleCatalogue::Parse(""));
    absl::StatusOr<Report> report = cases.RunAll();
    if (!report.ok()) {
      h.first_case = "cannot read the golden cases: " + report.status().ToString();
    } else {
      for (const ProgramResult& r : report->results) {
        ++h.cases_checked;
        if (!Kills(r)) continue;
        if (++h.cases_failed > 1) continue;
        h.first_case = r.id;
        const Finding* f = Killing(r);
        h.first_case_rule = f ? f->rule : std::string(kAdapterErrorRule);
      }
    }
  }
  rt::mutants::Set(Id::kNone);
  return h;
}

HuntResult HuntIsolated(Id id, const HuntOptions& options) {
  HuntResult failed;
  failed.code = CodeOf(id);
  int fds[2];
  if (pipe(fds) != 0) {
    failed.crash = std::string("pipe: ") + std::strerror(errno);
    return failed;
  }
  std::fflush(nullptr);
  const auto t0 = Clock::now();
  const pid_t pid = fork();
  if (pid < 0) {
    failed.crash = std::string("fork: ") + std::strerror(errno);
    close(fds[0]);
    close(fds[1]);
    return failed;
  }
  if (pid == 0) {
    close(fds[0]);
    const std::string out = ToJson(Hunt(id, options)).dump() + "\n";
    std::size_t off = 0;
    while (off < out.size()) {
      const ssize_t n = write(fds[1], out.data() + off, out.size() - off);
      if (n <= 0) _exit(3);
      off += static_cast<std::size_t>(n);
    }
    _exit(0);
  }
  close(fds[1]);
  std::string buf;
  bool timed_out = false;
  for (;;) {
    const double left = options.timeout_s - std::chrono::duration<double>(Clock::now() - t0).count();
    if (left <= 0) {
      timed_out = true;
      break;
    }
    pollfd p{fds[0], POLLIN, 0};
    const int ready = poll(&p, 1, static_cast<int>(std::min(left * 1000, 1000.0)) + 1);
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) continue;
    char chunk[4096];
    const ssize_t n = read(fds[0], chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    buf.append(chunk, static_cast<std::size_t>(n));
  }
  close(fds[0]);
  if (timed_out) kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  failed.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  if (timed_out) {
    failed.crash = "no result within " + std::to_string(options.timeout_s) + " s (killed)";
    return failed;
  }
  if (WIFSIGNALED(status)) {
    failed.crash = std::string("the hunt died of signal ") + strsignal(WTERMSIG(status));
    return failed;
  }
  nlohmann::json j = nlohmann::json::parse(buf, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    failed.crash = "the hunt exited (status " + std::to_string(WEXITSTATUS(status)) + ") without a result";
    return failed;
  }
  return FromJson(j);
}

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

const char* AttributionName(Attribution a) {
  switch (a) {
    case Attribution::kExact: return "exact";
    case Attribution::kSameFamily: return "same family";
    case Attribution::kWrongFamily: return "wrong family";
    case Attribution::kNoRule: return "no rule";
    case Attribution::kNotKilled: return "-";
  }
  return "?";
}

std::vector<std::string> DeclaredRules(const rt::mutants::Info& m) {
  return absl::StrSplit(m.rules, ' ', absl::SkipEmpty());
}

Attribution Judge(const HuntResult& h) {
  const rt::mutants::Info* m = rt::mutants::Find(h.code);
  if (!h.killed || !h.crash.empty() || !m) return Attribution::kNotKilled;
  if (!spec::ParseRuleId(h.rule)) return Attribution::kNoRule;
  bool same_family = false;
  for (const std::string& r : DeclaredRules(*m)) {
    if (r == h.rule) return Attribution::kExact;
    same_family |= FamilyOf(r) == FamilyOf(h.rule);
  }
  return same_family ? Attribution::kSameFamily : Attribution::kWrongFamily;
}

std::vector<std::string> CatalogueFaults() {
  std::vector<std::string> faults;
  int n = 0;
  for (const rt::mutants::Info& m : rt::mutants::kCatalogue) {
    ++n;
    const std::string want = absl::StrFormat("M%02d", n);
    if (m.code != want || static_cast<int>(m.id) != n) {
      faults.push_back(absl::StrCat("entry ", n, " is ", m.code, ", expected ", want, " (codes in order, as Id)"));
    }
    if (std::string_view(m.name).empty() || std::string_view(m.mistake).empty() || std::string_view(m.where).empty()) {
      faults.push_back(absl::StrCat(m.code, ": name, where and mistake are required"));
    }
    const std::vector<std::string> rules = DeclaredRules(m);
    if (rules.empty()) faults.push_back(absl::StrCat(m.code, ": declares no rule it breaks"));
    for (const std::string& r : rules) {
      if (!spec::ParseRuleId(r)) faults.push_back(absl::StrCat(m.code, ": '", r, "' is not a rule of spec/RULES.md"));
    }
  }
  return faults;
}

Summary Summarize(const std::vector<HuntResult>& results) {
  Summary s;
  std::vector<double> trees, secs;
  for (const HuntResult& h : results) {
    ++s.mutants;
    if (!h.crash.empty()) {
      ++s.crashed;
      continue;
    }
    if (!h.killed) {
      ++s.survived;
      continue;
    }
    ++s.killed;
    trees.push_back(h.trees);
    secs.push_back(h.seconds);
    if (h.trees > 5000) s.over_5000.push_back(h.code);
    switch (Judge(h)) {
      case Attribution::kExact: ++s.exact; break;
      case Attribution::kSameFamily: ++s.same_family; break;
      case Attribution::kWrongFamily: ++s.wrong_family; break;
      case Attribution::kNoRule: ++s.no_rule; break;
      case Attribution::kNotKilled: break;
    }
  }
  s.median_trees = Median(trees);
  s.median_seconds = Median(secs);
  s.max_trees = trees.empty() ? 0 : *std::max_element(trees.begin(), trees.end());
  s.max_seconds = secs.empty() ? 0 : *std::max_element(secs.begin(), secs.end());
  return s;
}

namespace {

std::string GoldenCell(const HuntResult& h) {
  if (h.cases_checked > 0) {
    std::string cell = absl::StrCat(h.cases_failed, " of ", h.cases_checked);
    if (h.cases_failed > 0) {
      absl::StrAppend(&cell, " (first ", h.first_case.substr(h.first_case.find(':') + 1), ": ", h.first_case_rule, ")");
    }
    return cell;
  }
  return h.first_case.empty() ? "-" : h.first_case;
}

}  // namespace

std::string Table(const std::vector<HuntResult>& results) {
  std::string out =
      "| mutant | name | breaks | killed | trees | seconds | rule reported | attribution | not counted | golden cases failed |\n"
      "|---|---|---|---|---:|---:|---|---|---:|---|\n";
  for (const HuntResult& h : results) {
    const rt::mutants::Info* m = rt::mutants::Find(h.code);
    const std::string status = !h.crash.empty() ? "CRASH: " + h.crash : h.killed ? "killed" : "SURVIVED";
    absl::StrAppendFormat(&out, "| %s | %s | %s | %s | %d | %.3f | %s | %s | %d | %s |\n", h.code,
                          m ? m->name : "unmutated", m ? m->rules : "-", status, h.trees, h.seconds,
                          h.killed ? h.rule : "-", AttributionName(Judge(h)), h.control_failures, GoldenCell(h));
  }
  const Summary s = Summarize(results);
  absl::StrAppendFormat(&out,
                        "\n%d of %d mutants killed (%d survived, %d crashed); the rule reported is exact for %d, "
                        "of the same family for %d, of the wrong family for %d, no rule for %d\n",
                        s.killed, s.mutants, s.survived, s.crashed, s.exact, s.same_family, s.wrong_family,
                        s.no_rule);
  absl::StrAppendFormat(&out, "median %.1f trees and %.3f s to the kill (max %.0f trees, %.3f s); over 5,000 trees: %s\n",
                        s.median_trees, s.median_seconds, s.max_trees, s.max_seconds,
                        s.over_5000.empty() ? "none" : absl::StrJoin(s.over_5000, ", "));
  return out;
}

std::string TableJson(const std::vector<HuntResult>& results, const HuntOptions& options, const HuntResult& unmutated) {
  nlohmann::json mutants = nlohmann::json::array();
  for (const HuntResult& h : results) {
    const rt::mutants::Info* m = rt::mutants::Find(h.code);
    nlohmann::json j = ToJson(h);
    j["name"] = m ? m->name : "";
    j["breaks"] = m ? DeclaredRules(*m) : std::vector<std::string>{};
    j["where_mutated"] = m ? m->where : "";
    j["mistake"] = m ? m->mistake : "";
    j["attribution"] = AttributionName(Judge(h));
    mutants.push_back(std::move(j));
  }
  const Summary s = Summarize(results);
  nlohmann::json out = {
      {"options", {{"budget", options.budget}, {"seed", options.seed}, {"shrink_budget", options.shrink_budget},
                   {"timeout_s", options.timeout_s}, {"cases_dir", options.cases_dir}}},
      {"unmutated", ToJson(unmutated)},
      {"mutants", std::move(mutants)},
      {"summary",
       {{"mutants", s.mutants}, {"killed", s.killed}, {"survived", s.survived}, {"crashed", s.crashed},
        {"exact", s.exact}, {"same_family", s.same_family}, {"wrong_family", s.wrong_family},
        {"no_rule", s.no_rule}, {"median_trees", s.median_trees}, {"max_trees", s.max_trees},
        {"median_seconds", s.median_seconds}, {"max_seconds", s.max_seconds}, {"over_5000_trees", s.over_5000}}},
  };
  return out.dump(2) + "\n";
}

}  // namespace asyncspec::conformance::mutation
