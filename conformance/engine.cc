#include "conformance/engine.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "conformance/shrink.h"
#include "conformance/workers.h"
#include "spec/json.h"
#include "spec/model/ties.h"
#include "spec/program_gen.h"
#include "spec/text.h"
#include "spec/validate.h"

namespace asyncspec::conformance {
namespace {

using Clock = std::chrono::steady_clock;

double Since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

std::uint64_t SplitMix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError("cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool SameFinding(const Finding& a, const Finding& b) {
  return a.rule == b.rule && a.where == b.where && a.subject == b.subject;
}

// A ProgramResult as it comes back from a forked worker (conformance/
// workers.h). Passing programs are a few bytes; failures carry their
// program and both outcomes in the spec's JSON forms.
std::string ResultToWire(const ProgramResult& r) {
  nlohmann::json j;
  j["v"] = static_cast<int>(r.verdict);
  j["id"] = r.id;
  if (r.seed) j["seed"] = *r.seed;
  j["families"] = r.families;
  j["ignored"] = r.ignored_findings;
  if (!r.note.empty()) j["note"] = r.note;
  if (r.tie_points) j["ties"] = r.tie_points;
  if (r.schedules_run) j["schedules"] = r.schedules_run;
  j["s"] = r.seconds;
  if (!r.findings.empty()) {
    nlohmann::json fs = nlohmann::json::array();
    for (const Finding& f : r.findings) fs.push_back({f.rule, f.where, f.message, f.subject});
    j["findings"] = std::move(fs);
  }
  if (r.program) j["program"] = spec::ProgramToJson(*r.program);
  if (r.expected) j["expected"] = spec::OutcomeToJson(*r.expected);
  if (r.observed) j["observed"] = spec::OutcomeToJson(*r.observed);
  return j.dump();
}

absl::StatusOr<ProgramResult> ResultFromWire(const std::string& wire, ProgramResult r) {
  nlohmann::json j = nlohmann::json::parse(wire, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return absl::DataLossError("a worker's result is not JSON");
  r.verdict = static_cast<Verdict>(j.at("v").get<int>());
  r.id = j.at("id").get<std::string>();
  if (j.contains("seed")) r.seed = j["seed"].get<std::uint64_t>();
  r.families = j.at("families").get<std::set<std::string>>();
  r.ignored_findings = j.at("ignored").get<int>();
  r.note = j.value("note", std::string());
  r.tie_points = j.value("ties", 0);
  r.schedules_run = j.value("schedules", 0);
  r.undecided = r.verdict == Verdict::kUndecided;
  r.seconds = j.at("s").get<double>();
  if (j.contains("findings")) {
    for (const auto& f : j["findings"]) {
      r.findings.push_back(Finding{f[0].get<std::string>(), f[1].get<std::string>(), f[2].get<std::string>(),
                                   f[3].get<std::string>()});
    }
  }
  if (j.contains("program")) {
    auto p = spec::ProgramFromJson(j["program"].get<std::string>());
    if (!p.ok()) return p.status();
    r.program = *std::move(p);
  }
  for (const char* key : {"expected", "observed"}) {
    if (!j.contains(key)) continue;
    auto o = spec::OutcomeFromJson(j[key].get<std::string>());
    if (!o.ok()) return o.status();
    (std::string(key) == "expected" ? r.expected : r.observed) = *std::move(o);
  }
  return r;
}

}  // namespace

const char* VerdictName(Verdict v) {
  switch (v) {
    case Verdict::kPass: return "pass";
    case Verdict::kPassTies: return "pass_up_to_ties";
    case Verdict::kFail: return "fail";
    case Verdict::kTimeout: return "timeout";
    case Verdict::kAdapterError: return "adapter_error";
    case Verdict::kSkipped: return "skipped";
    case Verdict::kUndecided: return "undecided";
  }
  return "?";
}

std::uint64_t TreeSeed(std::uint64_t run_seed, int index) {
  return SplitMix64(run_seed * 0x100000001b3ull + static_cast<std::uint64_t>(index));
}

spec::Program TreeProgram(std::uint64_t tree_seed, const std::string& ties) {
  // Sizes 10..100 so that small and large trees both occur; the size is a
  // function of the seed, so a tree seed alone replays the program.
  const int size = 10 + static_cast<int>(SplitMix64(tree_seed) % 91);
  rc::Random random(tree_seed);
  const spec::gen::GenOptions g = ties == "free"    ? spec::gen::GenOptions::TieFree()
                                  : ties == "heavy" ? spec::gen::GenOptions::TieHeavy()
                                                    : spec::gen::GenOptions();
  return spec::gen::ValidProgram(g)(random, size).value();
}

std::uint64_t ScheduleSeed(int k) { return SplitMix64(0x5c4ed01e5eedull + static_cast<std::uint64_t>(k)) | 1; }

bool Engine::JudgeUnderTies(const spec::Program& program, const spec::ModelRun& model,
                            const spec::Outcome& obs, const std::string& at, std::vector<Finding>& findings,
                            ProgramResult& res) {
  if (obs == model.outcome) return true;
  Comparison c = Compare(program, profile_, model.outcome, obs);
  if (c.match == Match::kUpToTies) {
    if (res.verdict == Verdict::kPass) res.verdict = Verdict::kPassTies;
    return true;
  }
  // (a) on a tie-free program (one schedule) this is exact comparison;
  // (b) otherwise the outcome must be some schedule's.
  spec::TieCheck t = spec::OutcomeAllowedUnderTies(program, profile_, obs, o_.tie_budget);
  if (t.verdict == spec::TieVerdict::kAllowed) {
    if (res.verdict == Verdict::kPass) res.verdict = Verdict::kPassTies;
    res.note = "outcome of another model schedule" + at;
    return true;
  }
  if (t.verdict == spec::TieVerdict::kUndecided) {
    res.undecided = true;
    res.note = "undecided: no model schedule matched in " + std::to_string(t.runs) + " runs" + at;
    return true;
  }
  Finding f = *c.blame;
  f.message = "no schedule the rules allow yields this outcome (" + std::to_string(t.runs) +
              " model schedules)" + at + ": " + f.message;
  findings.push_back(std::move(f));
  return false;
}

std::optional<spec::Outcome> Engine::CheckSchedules(const spec::Program& program, const spec::ModelRun& model,
                                                    std::vector<Finding>& findings, ProgramResult& res) {
  std::optional<spec::Outcome> first_bad;
  for (int k = 1; k <= o_.schedules; ++k) {
    const std::uint64_t seed = ScheduleSeed(k);
    if (!runtime_->SetScheduleSeed(seed)) break;  // check.cc refuses such runtimes
    absl::StatusOr<spec::Outcome> obs = runtime_->Run(program);
    runtime_->SetScheduleSeed(0);
    ++res.schedules_run;
    const std::string at = " (perturbed schedule " + std::to_string(k) + ", seed " + std::to_string(seed) + ")";
    if (!obs.ok()) {
      findings.push_back(Finding{"RT-1", "run", "the runtime failed under a perturbed schedule" + at + ": " +
                                                    obs.status().ToString()});
      continue;
    }
    bool bad = !JudgeUnderTies(program, model, *obs, at, findings, res);
    // (c) the invariants hold under every schedule.
    for (Finding& f : CheckInvariants(program, *obs)) {
      f.message += at;
      findings.push_back(std::move(f));
      bad = true;
    }
    if (bad && !first_bad) first_bad = *obs;
  }
  return first_bad;
}

Engine::Engine(Options options, spec::Profile profile, std::unique_ptr<Runtime> runtime,
               RuleCatalogue rules)
    : o_(std::move(options)), profile_(std::move(profile)), runtime_(std::move(runtime)),
      rules_(std::move(rules)) {}

ProgramResult Engine::Check(const spec::Program& program, const std::string& id,
                            const std::optional<spec::Outcome>& recorded,
                            const std::vector<std::string>& case_rules) {
  auto t0 = Clock::now();
  ProgramResult res;
  res.id = id;
  res.case_rules = case_rules;
  res.families = FamiliesOf(program);
  for (const std::string& r : case_rules) res.families.insert(FamilyOf(r));

  spec::ModelRun model = spec::RunModelDetailed(program, profile_);
  res.tie_points = model.tie_points;
  std::vector<Finding> findings;
  std::optional<spec::Outcome> schedule_observed;  // a failing perturbed run's

  if (recorded && !(model.outcome == *recorded)) {
    // The model is the expectation; a golden case says what CPython did.
    Finding f;
    f.rule = case_rules.empty() ? "RT-3" : case_rules.front();
    f.where = "model vs recorded CPython outcome";
    Comparison c = Compare(program, profile_, *recorded, model.outcome);
    f.message = "the model (profile " + profile_.name + ") differs from the outcome recorded from CPython" +
                (c.blame ? ": " + c.blame->where + ": " + c.blame->message : "");
    f.subject = "model";
    findings.push_back(f);
  }

  absl::StatusOr<spec::Outcome> observed;
  if (runtime_) {
    observed = runtime_->Run(program);
  } else {
    observed = model.outcome;  // --runtime=model: the engine's own cost
    if (model.deadlock) observed = absl::FailedPreconditionError("deadlock (model)");
  }

  if (!observed.ok()) {
    const absl::Status& s = observed.status();
    std::string msg(s.message());
    if (absl::IsFailedPrecondition(s) && msg.find("deadlock") != std::string::npos) {
      if (model.deadlock) {
        res.verdict = Verdict::kSkipped;
        res.note = "deadlock in both the model and the runtime";
      } else {
        findings.push_back(Finding{"RT-1", "run", "the runtime reports a deadlock (" + msg +
                                                      ") but the model's asyncio.run returns at t=" +
                                                      std::to_string(model.outcome.end_time)});
      }
    } else if (absl::IsDeadlineExceeded(s)) {
      res.verdict = Verdict::kTimeout;
      res.note = "TIMEOUT: " + msg;
    } else {
      res.verdict = Verdict::kAdapterError;
      res.note = "adapter error: " + s.ToString();
    }
  } else if (model.deadlock) {
    findings.push_back(Finding{"RT-1", "run",
                               "the model deadlocks (asyncio.run never returns) but the runtime "
                               "finished at t=" + std::to_string(observed->end_time)});
  } else {
    if (TieMode()) {
      // The runtime's own fixed order is one schedule among those allowed.
      JudgeUnderTies(program, model, *observed, "", findings, res);
    } else {
      Comparison c = Compare(program, profile_, model.outcome, *observed);
      if (c.blame) findings.push_back(*c.blame);
      if (c.match == Match::kUpToTies) res.verdict = Verdict::kPassTies;
    }
    for (Finding& f : CheckInvariants(program, *observed)) {
      bool dup = false;
      for (const Finding& g : findings) dup |= SameFinding(f, g);
      if (!dup) findings.push_back(std::move(f));
    }
    // INV-9: the same program again gives the same outcome. Cheap in
    // process, so always on the reference runtime; elsewhere only for
    // failures, where a flaky runtime would otherwise mislead the reader.
    if (runtime_ && (o_.runtime == "reference" || !findings.empty())) {
      auto again = runtime_->Run(program);
      if (!again.ok()) {
        findings.push_back(Finding{"INV-9", "outcome",
                                   "a second run of the same program failed: " + again.status().ToString()});
      } else if (!(*again == *observed)) {
        Comparison d = Compare(program, profile_, *observed, *again);
        findings.push_back(Finding{
            "INV-9", d.blame ? d.blame->where : "outcome",
            "the runtime is not deterministic: a second run of the same program differs" +
                (d.blame ? " (second run vs first, 'model' meaning the first run: " + d.blame->message + ")"
                         : std::string())});
      }
    }
    if (o_.schedules > 0 && runtime_) schedule_observed = CheckSchedules(program, model, findings, res);
  }
  // The model itself must satisfy the invariants; a violation is a bug in
  // the model or in the invariant, reported against the model.
  if (!model.deadlock && (res.verdict == Verdict::kPass || res.verdict == Verdict::kPassTies ||
                          res.verdict == Verdict::kFail)) {
    for (Finding& f : CheckInvariants(program, model.outcome)) {
      f.subject = "model";
      findings.push_back(std::move(f));
    }
  }

  if (res.undecided && findings.empty() && res.verdict != Verdict::kAdapterError &&
      res.verdict != Verdict::kTimeout) {
    res.verdict = Verdict::kUndecided;
  }
  for (Finding& f : findings) {
    if (!o_.rules.empty() && !GlobMatch(o_.rules, f.rule)) {
      ++res.ignored_findings;
      continue;
    }
    res.families.insert(FamilyOf(f.rule));
    res.findings.push_back(std::move(f));
  }
  if (!res.findings.empty() && res.verdict != Verdict::kTimeout &&
      res.verdict != Verdict::kAdapterError) {
    res.verdict = Verdict::kFail;
  }
  if (res.verdict != Verdict::kPass && res.verdict != Verdict::kPassTies &&
      res.verdict != Verdict::kSkipped && res.verdict != Verdict::kUndecided) {
    res.program = program;
    res.expected = model.outcome;
    if (observed.ok()) res.observed = *observed;
    if (schedule_observed) res.observed = *schedule_observed;
  }
  res.seconds = Since(t0);
  return res;
}

bool Engine::Selected(const std::set<std::string>& families,
                      const std::vector<std::string>& case_rules) const {
  if (o_.rules.empty()) return true;
  if (!case_rules.empty()) {
    for (const std::string& r : case_rules) if (GlobMatch(o_.rules, r)) return true;
    return false;
  }
  for (const std::string& fam : families) {
    for (const std::string& id : rules_.IdsOfFamily(fam)) {
      if (GlobMatch(o_.rules, id)) return true;
    }
  }
  return false;
}

void Engine::Account(Report& r, ProgramResult res) {
  r.ignored_findings += res.ignored_findings;
  r.tie_programs += res.tie_points > 0;
  r.schedule_runs += res.schedules_run;
  r.schedule_other_outcome += res.note.rfind("outcome of another model schedule", 0) == 0;
  switch (res.verdict) {
    case Verdict::kTimeout: ++r.timeouts; break;
    case Verdict::kAdapterError: ++r.adapter_errors; break;
    case Verdict::kSkipped: ++r.skipped; break;
    case Verdict::kUndecided: ++r.undecided; break;
    default: {
      ++r.checked;
      if (res.verdict == Verdict::kPass) ++r.passed_exact;
      if (res.verdict == Verdict::kPassTies) ++r.passed_ties;
      if (res.verdict == Verdict::kFail) ++r.failed;
      std::set<std::string> failed_fams;
      for (const Finding& f : res.findings) failed_fams.insert(FamilyOf(f.rule));
      for (const std::string& fam : res.families) {
        FamilyRow& row = r.families[fam];
        ++row.checked;
        if (failed_fams.count(fam)) ++row.failed;
        else ++row.passed;
      }
    }
  }
  for (const Finding& f : res.findings) {
    if (f.subject == "model" && f.where.rfind("model vs", 0) == 0) ++r.cases_model_disagreements;
  }
  // Keep programs only for what the report needs.
  if (res.verdict == Verdict::kPass || res.verdict == Verdict::kPassTies) {
    res.program.reset();
    res.expected.reset();
    res.observed.reset();
  }
  r.results.push_back(std::move(res));
}

std::string Engine::ReplayCommand(const ProgramResult& res) const {
  std::string cmd = "bazel run //conformance:check -- --runtime=" + o_.runtime +
                    " --profile=" + profile_.name;
  if (o_.runtime == "cpython") cmd += " --python=" + o_.python;
  if (!o_.ties.empty()) cmd += " --ties=" + o_.ties;
  if (o_.schedules > 0) cmd += " --schedules=" + std::to_string(o_.schedules);
  if (res.seed) return cmd + " --replay=" + std::to_string(*res.seed);
  if (res.id.rfind("case:", 0) == 0) return cmd + " --trees=0 --rules='" +
                                             (res.case_rules.empty() ? std::string("*") : res.case_rules.front()) +
                                             "'  # case " + res.id.substr(5);
  if (res.id.rfind("file:", 0) == 0) return cmd + " --program=" + res.id.substr(5);
  return cmd;
}

void Engine::ShrinkFailures(Report& r) {
  std::map<std::string, std::size_t> by_rule;
  for (const ProgramResult& res : r.results) {
    if (res.verdict != Verdict::kFail && res.verdict != Verdict::kAdapterError) continue;
    std::vector<Finding> findings = res.findings;
    if (res.verdict == Verdict::kAdapterError) {
      // Shrunk like a rule violation, so the runtime's author gets a small
      // program, but kept apart from the rules.
      findings = {Finding{kAdapterErrorRule, "runtime", res.note}};
    }
    std::set<std::string> seen;
    for (const Finding& f : findings) {
      const std::string key = f.subject == "model" ? f.rule + " (model)" : f.rule;
      if (!seen.insert(key).second) continue;
      auto it = by_rule.find(key);
      if (it == by_rule.end()) {
        FailureGroup g;
        g.rule = key;
        g.first = f;
        g.replay = ReplayCommand(res);
        g.original = *res.program;
        g.shrunk = *res.program;
        g.expected = res.expected;
        g.observed = res.observed;
        g.shrunk_findings = findings;
        by_rule[key] = r.failures.size();
        r.failures.push_back(std::move(g));
        it = by_rule.find(key);
      }
      r.failures[it->second].program_ids.push_back(res.id);
    }
  }
  for (FailureGroup& g : r.failures) {
    const Finding want = g.first;
    // Golden cases compare with their recording; a shrunk program has none,
    // so model-vs-recording failures are shown unshrunk.
    if (want.where.rfind("model vs", 0) == 0) continue;
    const bool adapter = want.rule == kAdapterErrorRule;
    auto still_fails = [&](const spec::Program& p) {
      ProgramResult res = Check(p, "shrink");
      if (adapter) return res.verdict == Verdict::kAdapterError;
      for (const Finding& f : res.findings) {
        if (f.rule == want.rule && f.subject == want.subject) return true;
      }
      return false;
    };
    ShrinkStats st;
    g.shrunk = Shrink(g.original, still_fails, o_.shrink_budget, &st);
    g.shrink_attempts = st.attempts;
    ProgramResult res = Check(g.shrunk, "shrunk");
    g.expected = res.expected;
    g.observed = res.observed;
    g.shrunk_findings = res.findings;
    if (adapter) {
      g.first.message = res.note;
      g.shrunk_findings = {g.first};
    }
    for (const Finding& f : res.findings) {
      if (f.rule == want.rule && f.subject == want.subject) {
        g.first = f;
        break;
      }
    }
  }
}

absl::StatusOr<Report> Engine::RunAll() {
  Report r;
  r.options = o_;
  r.runtime_name = runtime_ ? runtime_->name() : "model";
  r.runtime_version = runtime_ ? runtime_->version() : "";
  r.profile = profile_.name;
  auto t0 = Clock::now();
  const bool tty = isatty(2);
  auto last = Clock::now();
  int done = 0;
  auto progress = [&](bool final) {
    if (o_.quiet) return;
    auto now = Clock::now();
    if (!final && now - last < std::chrono::milliseconds(tty ? 200 : 2000)) return;
    last = now;
    double s = Since(t0);
    std::fprintf(stderr, "%s[check] %d programs, %.0f/s, %d failed, %d timeouts, %d adapter errors%s",
                 tty ? "\r" : "", done, s > 0 ? done / s : 0.0, r.failed, r.timeouts,
                 r.adapter_errors, (tty && !final) ? "" : "\n");
    std::fflush(stderr);
  };
  auto account = [&](ProgramResult res) {
    Account(r, std::move(res));
    ++done;
    progress(false);
  };

  if (!o_.program_file.empty()) {
    auto text = ReadFile(o_.program_file);
    if (!text.ok()) return text.status();
    std::size_t b = text->find_first_not_of(" \t\r\n");
    auto program = (b != std::string::npos && (*text)[b] == '{') ? spec::ProgramFromJson(*text)
                                                                 : spec::ProgramFromText(*text);
    if (!program.ok()) return absl::InvalidArgumentError(o_.program_file + ": " + std::string(program.status().message()));
    if (auto s = spec::Validate(*program); !s.ok()) {
      return absl::InvalidArgumentError(o_.program_file + ": " + std::string(s.message()));
    }
    account(Check(*program, "file:" + o_.program_file));
  } else if (o_.replay) {
    ProgramResult res = Check(TreeProgram(*o_.replay, o_.ties), "tree:" + std::to_string(*o_.replay));
    res.seed = *o_.replay;
    account(std::move(res));
  } else {
    // Everything to check, in order: the selected golden cases, then the
    // random trees of this shard (generated where they are checked).
    struct Item {
      std::string id;
      std::optional<std::uint64_t> seed;          // a tree
      std::optional<spec::Program> program;       // a case
      std::optional<spec::Outcome> recorded;      // a case
      std::vector<std::string> rules;             // a case
    };
    std::vector<Item> items;
    if (o_.cases) {
      std::vector<std::string> files;
      std::error_code ec;
      for (const auto& e : std::filesystem::directory_iterator(o_.cases_dir, ec)) {
        if (e.path().extension() == ".json") files.push_back(e.path().string());
      }
      if (ec || files.empty()) {
        return absl::NotFoundError("no golden cases (*.json) in " + o_.cases_dir +
                                   (ec ? ": " + ec.message() : ""));
      }
      std::sort(files.begin(), files.end());
      int k = -1;
      for (const std::string& path : files) {
        if (++k % o_.shard_count != o_.shard_index) continue;
        auto text = ReadFile(path);
        if (!text.ok()) return text.status();
        nlohmann::json c = nlohmann::json::parse(*text, nullptr, false);
        if (c.is_discarded() || !c.contains("program") || !c.contains("expected")) {
          return absl::DataLossError(path + ": not a golden case");
        }
        std::vector<std::string> rules;
        if (c.contains("rules")) for (const auto& x : c["rules"]) rules.push_back(x.get<std::string>());
        auto program = spec::ProgramFromJson(c["program"].dump());
        if (!program.ok()) return absl::DataLossError(path + ": " + std::string(program.status().message()));
        if (!Selected(FamiliesOf(*program), rules)) continue;
        nlohmann::json exp = c["expected"];
        if (profile_.name != "3.13" && c.contains("versions") && c["versions"].contains(profile_.name) &&
            !c["versions"][profile_.name].is_string()) {
          exp = c["versions"][profile_.name];
        }
        auto recorded = spec::OutcomeFromJson(exp.dump());
        if (!recorded.ok()) return absl::DataLossError(path + ": " + std::string(recorded.status().message()));
        items.push_back(Item{"case:" + c.value("name", path), std::nullopt, *std::move(program),
                             *std::move(recorded), std::move(rules)});
      }
    }
    for (int i = 0; i < o_.trees; ++i) {
      if (i % o_.shard_count != o_.shard_index) continue;
      const std::uint64_t seed = TreeSeed(o_.seed, i);
      items.push_back(Item{"tree:" + std::to_string(seed), seed, std::nullopt, std::nullopt, {}});
    }
    // nullopt: a tree outside --rules (not counted at all).
    auto check_item = [&](const Item& it) -> std::optional<ProgramResult> {
      if (it.program) return Check(*it.program, it.id, it.recorded, it.rules);
      spec::Program program = TreeProgram(*it.seed, o_.ties);
      if (!Selected(FamiliesOf(program), {})) return std::nullopt;
      ProgramResult res = Check(program, it.id);
      res.seed = it.seed;
      return res;
    };
    if (o_.workers == 0) {
      for (const Item& it : items) {
        if (auto res = check_item(it)) account(*std::move(res));
      }
    } else {
      // Forked workers (conformance/workers.h): a crash or a hang of the
      // runtime costs the program it happened on, and --jobs uses the cores.
      absl::Status pool = RunInWorkers(
          static_cast<int>(items.size()), WorkerOptions{o_.workers, o_.timeout_ms},
          [&](int i) {
            // In the worker (a fork): swapping the runtime here changes only
            // the worker's copy of this engine.
            if (worker_runtime_) runtime_ = std::move(worker_runtime_);
            auto res = check_item(items[i]);
            return res ? ResultToWire(*res) : std::string();
          },
          [&](int i, absl::StatusOr<std::string> wire) {
            const Item& it = items[i];
            ProgramResult res;
            res.id = it.id;
            res.seed = it.seed;
            res.case_rules = it.rules;
            if (wire.ok() && wire->empty()) return;  // outside --rules
            if (wire.ok()) {
              auto back = ResultFromWire(*wire, res);
              if (back.ok()) return account(*std::move(back));
              wire = back.status();
            }
            // The worker crashed or hung on this program: report it with
            // the program, so it can be shrunk and replayed.
            res.program = it.program ? *it.program : TreeProgram(*it.seed, o_.ties);
            res.families = FamiliesOf(*res.program);
            res.verdict = absl::IsDeadlineExceeded(wire.status()) ? Verdict::kTimeout : Verdict::kAdapterError;
            const std::string why(wire.status().message());
            res.note = res.verdict == Verdict::kTimeout
                           ? "TIMEOUT: " + why
                           : "adapter error: the " + r.runtime_name + " runtime crashed: " + why;
            account(std::move(res));
          });
      if (!pool.ok()) return pool;
    }
  }
  progress(true);
  r.check_seconds = Since(t0);
  const int ran = r.checked + r.timeouts + r.adapter_errors + r.skipped;
  r.programs_per_second = r.check_seconds > 0 ? ran / r.check_seconds : 0;
  if (!o_.quiet && r.failed > 0) std::fprintf(stderr, "[check] shrinking %d failing programs...\n", r.failed);
  ShrinkFailures(r);
  r.seconds = Since(t0);
  return r;
}

}  // namespace asyncspec::conformance
