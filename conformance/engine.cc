#include "spec/outcome_allowed.h"
#include "conformance/engine.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string_view>

#include <nlohmann/json.hpp>

#include "conformance/attribution.h"
#include "conformance/shrink.h"
#include "conformance/workers.h"
#include "spec/ties.h"
#include "spec/json.h"
#include "spec/program_gen.h"
#include "spec/text.h"
#include "spec/validate.h"

namespace asyncspec::conformance {
namespace {

using Clock = std::chrono::steady_clock;

double Since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Reads at most the readers' own limit (spec/json.h, spec/text.h: 64 MiB)
// and refuses a file past it while reading, so `--program=/dev/zero` or a
// huge case file costs 64 MiB, not all of it.
absl::StatusOr<std::string> ReadFile(const std::string& path) {
  constexpr std::size_t kLimit = std::max(spec::kMaxJsonBytes, spec::kMaxTextBytes);
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError("cannot read " + path);
  std::string out;
  char buf[1 << 16];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    if (out.size() + static_cast<std::size_t>(in.gcount()) > kLimit) {
      return absl::InvalidArgumentError(path + ": larger than the limit of " + std::to_string(kLimit) + " bytes");
    }
    out.append(buf, static_cast<std::size_t>(in.gcount()));
  }
  if (in.bad()) return absl::DataLossError("error reading " + path);
  return out;
}

bool SameFinding(const Finding& a, const Finding& b) {
  return a.rule == b.rule && a.where == b.where && a.subject == b.subject;
}

// A ProgramResult as it comes back from a forked worker (conformance/
// workers.h). Passing programs are a few bytes; failures carry their
// program and both outcomes in the spec's JSON forms.
//
// Most results (every pass) have scalar fields only: those go as one line
// of tab-separated fields after "P\t" (CompactWire), which the parent reads
// with a few string scans instead of building a JSON object (that was a
// tenth of a default run's instructions). Anything else is JSON.
bool Compactable(const ProgramResult& r) {
  auto plain = [](const std::string& x) { return x.find_first_of("\t\n,") == std::string::npos; };
  if (!r.findings.empty() || r.program || r.expected || r.observed || !r.note.empty() || !r.missing.empty() ||
      !r.departures_differing.empty() || !r.departures.empty() || !plain(r.id)) {
    return false;
  }
  for (const std::string& f : r.families) {
    if (f.empty() || !plain(f)) return false;
  }
  return true;
}

std::string CompactWire(const ProgramResult& r) {
  char num[160];
  std::snprintf(num, sizeof num, "P\t%d\t%d\t%d\t%d\t%d\t%d\t%.17g\t", static_cast<int>(r.verdict),
                (r.nondeterministic ? 1 : 0) | (r.confirmed_deterministic ? 2 : 0), r.ignored_findings,
                r.unclaimed_findings, r.tie_points, r.schedules_run, r.seconds);
  std::string out = num;
  out += r.seed ? std::to_string(*r.seed) : "-";
  out += '\t';
  out += r.id;
  out += '\t';
  bool first = true;
  for (const std::string& f : r.families) {
    if (!first) out += ',';
    out += f;
    first = false;
  }
  return out;
}

absl::StatusOr<ProgramResult> FromCompactWire(const std::string& wire, ProgramResult r) {
  std::vector<std::string_view> fields;
  std::string_view rest(wire);
  for (std::size_t tab; (tab = rest.find('\t')) != std::string_view::npos;) {
    fields.push_back(rest.substr(0, tab));
    rest.remove_prefix(tab + 1);
  }
  fields.push_back(rest);
  auto bad = [] { return absl::DataLossError("a worker's result is not a compact result line"); };
  if (fields.size() != 11 || fields[0] != "P") return bad();
  int v[6];
  for (int k = 0; k < 6; ++k) {
    auto [end, ec] = std::from_chars(fields[1 + k].data(), fields[1 + k].data() + fields[1 + k].size(), v[k]);
    if (ec != std::errc() || end != fields[1 + k].data() + fields[1 + k].size()) return bad();
  }
  const std::string seconds(fields[7]);
  char* end = nullptr;
  r.seconds = std::strtod(seconds.c_str(), &end);
  if (seconds.empty() || *end != '\0') return bad();
  if (fields[8] == "-") {
    r.seed.reset();
  } else {
    std::uint64_t seed = 0;
    auto [e, ec] = std::from_chars(fields[8].data(), fields[8].data() + fields[8].size(), seed);
    if (ec != std::errc() || e != fields[8].data() + fields[8].size()) return bad();
    r.seed = seed;
  }
  r.verdict = static_cast<Verdict>(v[0]);
  r.nondeterministic = (v[1] & 1) != 0;
  r.confirmed_deterministic = (v[1] & 2) != 0;
  r.ignored_findings = v[2];
  r.unclaimed_findings = v[3];
  r.tie_points = v[4];
  r.schedules_run = v[5];
  r.undecided = r.verdict == Verdict::kUndecided;
  r.id = std::string(fields[9]);
  r.families.clear();
  for (std::string_view fams = fields[10]; !fams.empty();) {
    const std::size_t comma = fams.find(',');
    r.families.emplace(fams.substr(0, comma));
    if (comma == std::string_view::npos) break;
    fams.remove_prefix(comma + 1);
  }
  return r;
}

std::string ResultToWire(const ProgramResult& r) {
  if (Compactable(r)) return CompactWire(r);
  nlohmann::json j;
  j["v"] = static_cast<int>(r.verdict);
  j["id"] = r.id;
  if (r.seed) j["seed"] = *r.seed;
  j["families"] = r.families;
  j["ignored"] = r.ignored_findings;
  if (r.unclaimed_findings) j["unclaimed"] = r.unclaimed_findings;
  if (!r.missing.empty()) j["missing"] = r.missing;
  if (r.nondeterministic) j["nondet"] = true;
  if (r.confirmed_deterministic) j["confirmed"] = true;
  if (!r.departures_differing.empty()) j["ddiff"] = r.departures_differing;
  if (!r.departures.empty()) j["dep"] = r.departures;
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
  if (wire.rfind("P\t", 0) == 0) return FromCompactWire(wire, std::move(r));
  nlohmann::json j = nlohmann::json::parse(wire, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return absl::DataLossError("a worker's result is not JSON");
  r.verdict = static_cast<Verdict>(j.at("v").get<int>());
  r.id = j.at("id").get<std::string>();
  if (j.contains("seed")) r.seed = j["seed"].get<std::uint64_t>();
  r.families = j.at("families").get<std::set<std::string>>();
  r.ignored_findings = j.at("ignored").get<int>();
  r.unclaimed_findings = j.value("unclaimed", 0);
  if (j.contains("missing")) r.missing = j["missing"].get<Capabilities>();
  r.nondeterministic = j.value("nondet", false);
  r.confirmed_deterministic = j.value("confirmed", false);
  if (j.contains("ddiff")) r.departures_differing = j["ddiff"].get<std::set<std::string>>();
  if (j.contains("dep")) r.departures = j["dep"].get<std::vector<std::string>>();
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
    case Verdict::kCrash: return "crash";
    case Verdict::kAdapterError: return "adapter_error";
    case Verdict::kSkipped: return "skipped";
    case Verdict::kNotApplicable: return "n/a";
    case Verdict::kUndecided: return "undecided";
  }
  return "?";
}

Engine::Engine(Options options, spec::Profile profile, std::unique_ptr<Runtime> runtime,
               RuleCatalogue rules, RuntimeFactory more, Expectations expectations)
    : o_(std::move(options)), profile_(std::move(profile)), runtime_(std::move(runtime)),
      rules_(std::move(rules)), more_(std::move(more)), expectations_(std::move(expectations)) {
  if (runtime_) capabilities_ = runtime_->info().capabilities;
  recording_profile_ = spec::ShippedProfile(profile_.version.empty() ? "3.13" : profile_.version);
  for (const spec::Departure& d : spec::Departures()) {
    for (const Expectation& e : expectations_.entries) {
      if (e.departure == d.id) {
        departures_.push_back(&d);
        break;
      }
    }
  }
}

bool Engine::Claimed(const std::string& rule) const {
  if (o_.claimed_rules.empty()) return true;
  for (const std::string& g : o_.claimed_rules) {
    if (GlobMatch(g, rule)) return true;
  }
  return false;
}

Finding Engine::Attributed(const spec::Program& program, const spec::Profile& profile, const spec::Outcome& expected,
                           const spec::Outcome& observed, const Comparison& c, bool departures) const {
  // The model's trace only for a difference: a passing program pays nothing.
  const std::vector<TraceEvent> trace = TraceOf(TracedModelRun(program, profile));
  AttributionInput in;
  in.program = &program;
  in.profile = &profile;
  in.expected = &expected;
  in.observed = &observed;
  in.comparison = &c;
  in.model_trace = &trace;
  in.departures = departures;
  return Attribute(in).finding;
}

bool Engine::JudgeUnderTies(const spec::Program& program, const spec::ModelRun& model,
                            const spec::Outcome& obs, const std::string& at, std::vector<Finding>& findings,
                            ProgramResult& res) const {
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
  Finding f = Attributed(program, profile_, model.outcome, obs, c, true);
  f.message = "no schedule the rules allow yields this outcome (" + std::to_string(t.runs) +
              " model schedules)" + at + ": " + f.message;
  findings.push_back(std::move(f));
  return false;
}

std::optional<spec::Outcome> Engine::CheckSchedules(Runtime* runtime, const spec::Program& program,
                                                    const spec::ModelRun& model, std::vector<Finding>& findings,
                                                    ProgramResult& res) const {
  std::optional<spec::Outcome> first_bad;
  for (int k = 1; k <= o_.schedules; ++k) {
    const std::uint64_t seed = ScheduleSeed(k);
    if (!runtime->SetScheduleSeed(seed)) break;  // check.cc refuses such runtimes
    absl::StatusOr<spec::Outcome> obs = runtime->Run(program);
    runtime->SetScheduleSeed(0);
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

// ---------------------------------------------------------------------------
// CheckOn's stages. Each reads the program's check so far (InFlight) and
// returns what it found; CheckOn runs them in order and folds their outputs
// into the Check, then the ProgramResult.

// Stage 1, expected: the model's run and, for a golden case, the model
// under the recording's profile against that recording. A golden case says
// what a CPython release did, bugs included, so it is compared with the
// model of that release; a disagreement is the model's, attributed like any
// other difference (the model's trace, no departures: the model *is* the
// subject).
Engine::Expected Engine::ExpectStage(const Subject& s) const {
  Expected out;
  out.model = spec::RunModelDetailed(s.program, profile_);
  if (!s.recorded) return out;
  const bool same = recording_profile_.name == profile_.name;
  const spec::Outcome recorded_model =
      same ? out.model.outcome : spec::RunModelDetailed(s.program, recording_profile_).outcome;
  if (recorded_model == *s.recorded) return out;
  Comparison c = Compare(s.program, recording_profile_, *s.recorded, recorded_model);
  Finding f = c.match == Match::kDiffer
                  ? Attributed(s.program, recording_profile_, *s.recorded, recorded_model, c, false)
                  : Finding{"RT-3", "outcome", "outcomes differ"};
  f.message = "the model (profile " + recording_profile_.name + ") differs from the outcome recorded from CPython " +
              recording_profile_.version + ": " + f.where + ": " + f.message;
  f.where = "model vs recorded CPython outcome";
  f.subject = "model";
  out.findings.push_back(std::move(f));
  return out;
}

// Stage 2, observed: the runtime's outcome, or why there is none (a
// verdict: n/a, timeout, crash, adapter error; a deadlock both agree on is
// skipped, one only one side has is RT-1).
Engine::Observed Engine::ObserveStage(const InFlight& k) const {
  Observed out;
  const spec::ModelRun& model = k.expected.model;
  if (k.subject.runtime) {
    out.outcome = k.subject.runtime->Run(k.subject.program);
  } else {
    out.outcome = model.outcome;  // --runtime=model: the engine's own cost
    if (model.deadlock) out.outcome = absl::FailedPreconditionError("deadlock (model)");
  }
  if (out.outcome.ok()) {
    if (model.deadlock) {
      out.findings.push_back(Finding{"RT-1", "run",
                                     "the model deadlocks (asyncio.run never returns) but the runtime "
                                     "finished at t=" + std::to_string(out.outcome->end_time)});
    }
    return out;
  }
  const absl::Status& s = out.outcome.status();
  std::string msg(s.message());
  if (absl::IsFailedPrecondition(s) && msg.find("deadlock") != std::string::npos) {
    if (model.deadlock) {
      out.verdict = Verdict::kSkipped;
      out.note = "deadlock in both the model and the runtime";
    } else {
      out.findings.push_back(Finding{"RT-1", "run", "the runtime reports a deadlock (" + msg +
                                                        ") but the model's asyncio.run returns at t=" +
                                                        std::to_string(model.outcome.end_time)});
    }
  } else if (absl::IsUnimplemented(s)) {
    out.verdict = Verdict::kNotApplicable;
    out.note = "unsupported by the runtime: " + msg;
  } else if (absl::IsDeadlineExceeded(s)) {
    out.verdict = Verdict::kTimeout;
    out.note = "TIMEOUT: " + msg + " (the adapter was killed and restarted)";
  } else if (absl::IsAborted(s)) {
    out.verdict = Verdict::kCrash;
    out.note = "CRASH: " + msg;
  } else {
    out.verdict = Verdict::kAdapterError;
    out.note = "adapter error: " + s.ToString();
  }
  return out;
}

// Whether the runtime's outcome is there to be judged (stages 3-6).
bool Engine::Comparable(const InFlight& k) { return k.observed.outcome.ok() && !k.expected.model.deadlock; }

// Stage 3, compare: the outcome against the model's, exactly on a tie-free
// program, else against every schedule (RULES.md "Freedom under ties" 3:
// the runtime's own fixed order is one schedule among those allowed; also
// in the default mode when the model met a tie, since the generator does not
// exclude equal deadlines; tree 8941744548510966045). A difference is
// attributed to its one rule (attribution.h).
Engine::Judgement Engine::CompareStage(const InFlight& k) const {
  Judgement out;
  const spec::ModelRun& model = k.expected.model;
  const spec::Outcome& obs = *k.observed.outcome;
  if (TieMode() || model.tie_points > 0) {
    ProgramResult res;
    JudgeUnderTies(k.subject.program, model, obs, "", out.findings, res);
    out.ties = res.verdict == Verdict::kPassTies;
    out.undecided = res.undecided;
    out.note = res.note;
    return out;
  }
  if (obs == model.outcome) return out;
  Comparison c = Compare(k.subject.program, profile_, model.outcome, obs);
  if (c.match == Match::kUpToTies) out.ties = true;
  if (c.match == Match::kDiffer) {
    out.findings.push_back(Attributed(k.subject.program, profile_, model.outcome, obs, c, true));
  }
  return out;
}

// Stage 4, invariants: the runtime's outcome's (those the comparison did not
// already report) and, as a self-check, the model's (a violation is a bug in
// the model or in the invariant, reported against the model).
std::vector<Finding> Engine::InvariantStage(const InFlight& k) {
  std::vector<Finding> out;
  if (Comparable(k)) {
    for (Finding& f : CheckInvariants(k.subject.program, *k.observed.outcome)) {
      bool dup = false;
      for (const Finding& g : k.findings) dup |= SameFinding(f, g);
      if (!dup) out.push_back(std::move(f));
    }
  }
  const Verdict v = k.observed.verdict;
  if (!k.expected.model.deadlock && (v == Verdict::kPass || v == Verdict::kPassTies || v == Verdict::kFail)) {
    for (Finding& f : CheckInvariants(k.subject.program, k.expected.model.outcome)) {
      f.subject = "model";
      out.push_back(std::move(f));
    }
  }
  return out;
}

// Stage 5, determinism (INV-9): the same program again gives the same
// outcome. Cheap in process, so always on the reference runtime; elsewhere
// only for failures, where a flaky runtime would otherwise mislead the
// reader. The second run is in a fresh adapter process: CPython's order of
// cancelling leftovers follows memory addresses (RULES.md "Freedom under
// ties" 4), which one process may well repeat.
Engine::Determinism Engine::DeterminismStage(const InFlight& k) const {
  Determinism out;
  Runtime* runtime = k.subject.runtime;
  const bool is_reference = o_.runtime == "reference";
  if (!Comparable(k) || !runtime || !(is_reference || (k.subject.rerun_failures && !k.findings.empty()))) {
    return out;
  }
  absl::Status restarted = is_reference ? absl::OkStatus() : runtime->Restart();
  auto again = restarted.ok() ? runtime->Run(k.subject.program) : absl::StatusOr<spec::Outcome>(restarted);
  const spec::Outcome& first = *k.observed.outcome;
  if (!again.ok()) {
    out.findings.push_back(
        Finding{"INV-9", "outcome", "a second run of the same program failed: " + again.status().ToString()});
  } else if (!(*again == first)) {
    Comparison d = Compare(k.subject.program, profile_, first, *again);
    out.findings.push_back(Finding{
        "INV-9", d.blame ? d.blame->where : "outcome",
        "the runtime is not deterministic: a second run of the same program differs" +
            (d.blame ? " (second run vs first, 'model' meaning the first run: " + d.blame->message + ")"
                     : std::string())});
    out.nondeterministic = true;
  } else if (!k.findings.empty()) {
    out.confirmed = true;
  }
  return out;
}

// Stage 6, schedules (--schedules): the perturbed schedules' outcomes, each
// one some model schedule's, each satisfying the invariants.
Engine::Schedules Engine::ScheduleStage(const InFlight& k) const {
  Schedules out;
  if (!Comparable(k) || o_.schedules <= 0 || !k.subject.runtime) return out;
  ProgramResult res;
  out.first_bad = CheckSchedules(k.subject.runtime, k.subject.program, k.expected.model, out.findings, res);
  out.runs = res.schedules_run;
  out.ties = res.verdict == Verdict::kPassTies;
  out.undecided = res.undecided;
  out.note = res.note;
  return out;
}

// Stage 7, filters: findings outside --rules are counted ignored, those
// under rules the runtime does not claim counted unclaimed; the rest count.
Engine::Filtered Engine::FilterStage(const std::vector<Finding>& findings) const {
  Filtered out;
  for (const Finding& f : findings) {
    if (!o_.rules.empty() && !GlobMatch(o_.rules, f.rule)) {
      ++out.ignored;
    } else if (f.subject != "model" && !Claimed(f.rule)) {
      ++out.unclaimed;
    } else {
      out.kept.push_back(f);
    }
  }
  return out;
}

namespace {

bool IsRunError(Verdict v) {
  return v == Verdict::kTimeout || v == Verdict::kCrash || v == Verdict::kAdapterError ||
         v == Verdict::kNotApplicable;
}

void Append(std::vector<Finding>& to, std::vector<Finding> from) {
  for (Finding& f : from) to.push_back(std::move(f));
}

}  // namespace

ProgramResult Engine::CheckOn(Runtime* runtime, const spec::Program& program, const std::string& id,
                              const std::optional<spec::Outcome>& recorded,
                              const std::vector<std::string>& case_rules, bool rerun_failures) const {
  auto t0 = Clock::now();
  InFlight k{Subject{runtime, program, recorded, rerun_failures}, Expected{}, Observed{}, {}};
  k.expected = ExpectStage(k.subject);
  Append(k.findings, k.expected.findings);
  k.observed = ObserveStage(k);
  Append(k.findings, k.observed.findings);
  Judgement judged;
  if (Comparable(k)) judged = CompareStage(k);
  Append(k.findings, judged.findings);
  Append(k.findings, InvariantStage(k));
  const Determinism det = DeterminismStage(k);
  Append(k.findings, det.findings);
  const Schedules sched = ScheduleStage(k);
  Append(k.findings, sched.findings);
  Filtered kept = FilterStage(k.findings);

  ProgramResult res;
  res.id = id;
  res.case_rules = case_rules;
  res.families = FamiliesOf(program);
  for (const std::string& r : case_rules) res.families.insert(FamilyOf(r));
  res.tie_points = k.expected.model.tie_points;
  res.verdict = k.observed.verdict;
  if (res.verdict == Verdict::kPass && (judged.ties || sched.ties)) res.verdict = Verdict::kPassTies;
  res.note = !sched.note.empty() ? sched.note : !judged.note.empty() ? judged.note : k.observed.note;
  res.undecided = judged.undecided || sched.undecided;
  res.nondeterministic = det.nondeterministic;
  res.confirmed_deterministic = det.confirmed;
  res.schedules_run = sched.runs;
  res.ignored_findings = kept.ignored;
  res.unclaimed_findings = kept.unclaimed;
  if (res.undecided && k.findings.empty() && !IsRunError(res.verdict) && res.verdict != Verdict::kSkipped) {
    res.verdict = Verdict::kUndecided;
  }
  for (Finding& f : kept.kept) {
    res.families.insert(FamilyOf(f.rule));
    res.findings.push_back(std::move(f));
  }
  if (!res.findings.empty() && !IsRunError(res.verdict)) res.verdict = Verdict::kFail;
  const spec::ModelRun& model = k.expected.model;
  if (!departures_.empty() && !model.deadlock) ExplainByDepartures(program, model, k.observed.outcome, res);
  if (res.verdict != Verdict::kPass && res.verdict != Verdict::kPassTies && res.verdict != Verdict::kSkipped &&
      res.verdict != Verdict::kNotApplicable && res.verdict != Verdict::kUndecided) {
    res.program = program;
    res.expected = model.outcome;
    if (k.observed.outcome.ok()) res.observed = *k.observed.outcome;
    if (sched.first_bad) res.observed = *sched.first_bad;
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
  if (o_.on_result) o_.on_result(res);
  r.ignored_findings += res.ignored_findings;
  r.unclaimed_findings += res.unclaimed_findings;
  r.tie_programs += res.tie_points > 0;
  r.schedule_runs += res.schedules_run;
  r.schedule_other_outcome += res.note.rfind("outcome of another model schedule", 0) == 0;
  switch (res.verdict) {
    case Verdict::kTimeout: ++r.timeouts; break;
    case Verdict::kCrash: ++r.crashes; break;
    case Verdict::kAdapterError: ++r.adapter_errors; break;
    case Verdict::kSkipped: ++r.skipped; break;
    case Verdict::kUndecided: ++r.undecided; break;
    case Verdict::kNotApplicable:
      ++r.not_applicable;
      for (const std::string& c : res.missing) ++r.missing_capabilities[c];
      if (res.missing.empty()) ++r.missing_capabilities["(unsupported reply)"];
      for (const std::string& fam : res.families) ++r.families[fam].not_applicable;
      break;
    default: {
      ++r.checked;
      if (res.verdict == Verdict::kPass) ++r.passed_exact;
      if (res.verdict == Verdict::kPassTies) ++r.passed_ties;
      if (res.verdict == Verdict::kFail) ++r.failed;
      if (res.nondeterministic) ++r.nondeterministic;
      std::set<std::string> failed_fams;
      for (const Finding& f : res.findings) failed_fams.insert(FamilyOf(f.rule));
      for (const std::string& fam : res.families) {
        FamilyRow& row = r.families[fam];
        ++row.checked;
        if (failed_fams.count(fam)) ++row.failed;  // Judge() moves expected ones
        else ++row.passed;
      }
    }
  }
  for (const Finding& f : res.findings) {
    if (f.subject == "model" && f.where.rfind("model vs", 0) == 0) ++r.cases_model_disagreements;
  }
  // Keep programs only for what the report needs.
  if (res.verdict == Verdict::kPass || res.verdict == Verdict::kPassTies) {
    // (Judge() reads passes against an expectations file: keep them then.)
    if (!o_.keep_passed_results && res.seed && expectations_.entries.empty()) {
      r.passed_trees.Add({*res.seed, static_cast<float>(res.seconds), res.verdict == Verdict::kPassTies});
      return;
    }
    res.program.reset();
    res.expected.reset();
    res.observed.reset();
  }
  r.results.push_back(std::move(res));
}

namespace {

const char* OutcomeKind(Verdict v) {
  switch (v) {
    case Verdict::kFail: return "FAIL";
    case Verdict::kCrash: return "CRASH";
    case Verdict::kTimeout: return "TIMEOUT";
    default: return nullptr;
  }
}

bool EntryCovers(const Expectation& e, const ProgramResult& res, const char* kind, const std::string& rule) {
  if (e.outcome != kind) return false;
  // A departure entry covers only the failures its departure explains.
  if (!e.departure.empty()) return false;
  if (!e.program.empty() && !GlobMatch(e.program, res.id)) return false;
  if (!e.rule.empty() && !GlobMatch(e.rule, rule)) return false;
  return true;
}

}  // namespace

std::vector<const Expectation*> Report::unexpected_passes() const {
  std::vector<const Expectation*> out;
  for (const Expectation& e : expectations.entries) {
    if (e.matched == 0 && e.exercised && e.departure.empty()) out.push_back(&e);
  }
  return out;
}

void Engine::Judge(Report& r) {
  r.expectations = expectations_;
  std::vector<Expectation>& entries = r.expectations.entries;
  for (ProgramResult& res : r.results) {
    if (res.verdict == Verdict::kNotApplicable) continue;
    // What each entry names, if this run checked it.
    for (Expectation& e : entries) {
      if (!e.departure.empty()) {
        // A program the departure changes (the model's outcome differs
        // with its flag at the shipped value) that passed.
        if ((res.verdict == Verdict::kPass || res.verdict == Verdict::kPassTies) &&
            res.departures_differing.count(e.departure) && (e.program.empty() || GlobMatch(e.program, res.id))) {
          r.unexpected_pass_programs.emplace_back(res.id, ExpectationLabel(e));
          for (const std::string& fam : res.families) ++r.families[fam].unexpected_passes;
        }
        continue;
      }
      // A rule entry says "may fail under this rule"; only a program entry
      // can be judged an unexpected pass (its program ran and passed).
      if (!e.program.empty() && GlobMatch(e.program, res.id)) e.exercised = true;
    }
    const char* kind = OutcomeKind(res.verdict);
    if (!kind) continue;
    // The rules this failure must have covered: INV-9 alone for a program
    // that is not deterministic; none (the program entry) for CRASH/TIMEOUT.
    std::vector<std::string> rules;
    if (res.verdict == Verdict::kFail) {
      if (res.nondeterministic) {
        rules.push_back("INV-9");
      } else {
        for (const Finding& f : res.findings) rules.push_back(f.rule);
      }
    } else {
      rules.push_back("");
    }
    std::vector<Expectation*> used;
    bool all = true;
    if (!res.departures.empty()) {
      // Explained exactly by listed departures (ExplainByDepartures): those
      // entries, and no other, make it expected.
      rules.clear();
      for (const std::string& id : res.departures) {
        for (Expectation& e : entries) {
          if (e.departure == id && (e.program.empty() || GlobMatch(e.program, res.id))) {
            used.push_back(&e);
            break;
          }
        }
      }
      all = used.size() == res.departures.size();
    }
    for (const std::string& rule : rules) {
      Expectation* hit = nullptr;
      for (Expectation& e : entries) {
        if (rule.empty() ? (e.outcome == kind && GlobMatch(e.program, res.id)) : EntryCovers(e, res, kind, rule)) {
          hit = &e;
          break;
        }
      }
      if (!hit) {
        all = false;
        break;
      }
      used.push_back(hit);
    }
    if (all && !used.empty()) {
      res.expected_failure = true;
      std::set<std::string> reasons, labels;
      for (Expectation* e : used) {
        ++e->matched;
        e->exercised = true;
        if (reasons.insert(e->reason).second) {
          res.expected_reason += (res.expected_reason.empty() ? "" : "; ") + e->reason;
        }
        if (labels.insert(ExpectationLabel(*e)).second) {
          res.expected_label += (res.expected_label.empty() ? "" : "; ") + ExpectationLabel(*e);
        }
      }
      ++r.expected_failures;
    } else {
      ++r.new_failures;
    }
    if (res.expected_failure && res.verdict == Verdict::kFail) {
      std::set<std::string> fams;
      for (const Finding& f : res.findings) fams.insert(FamilyOf(f.rule));
      for (const std::string& fam : fams) {
        FamilyRow& row = r.families[fam];
        --row.failed;
        ++row.expected_failures;
      }
    }
  }
  for (const Expectation* e : r.unexpected_passes()) {
    for (const ProgramResult& res : r.results) {
      if (!GlobMatch(e->program, res.id)) continue;
      for (const std::string& fam : res.families) ++r.families[fam].unexpected_passes;
    }
  }
  // A failure group is as expected when every program in it is.
  std::map<std::string, const ProgramResult*> by_id;
  for (const ProgramResult& res : r.results) by_id[res.id] = &res;
  for (FailureGroup& g : r.failures) {
    g.as_expected = g.rule != kAdapterErrorRule && !g.program_ids.empty();
    for (const std::string& id : g.program_ids) g.as_expected &= by_id.count(id) && by_id[id]->expected_failure;
    if (g.as_expected) g.expected_label = by_id[g.program_ids.front()]->expected_label;
  }
}

Expectations UpdatedExpectations(const Report& r) {
  Expectations out;
  out.runtime = r.expectations.runtime.empty() ? r.options.runtime : r.expectations.runtime;
  for (const Expectation& e : r.expectations.entries) {
    if (e.exercised && e.matched == 0 && e.departure.empty()) continue;  // fixed: drop it
    Expectation k = e;
    k.matched = 0;
    k.exercised = false;
    out.entries.push_back(std::move(k));
  }
  for (const ProgramResult& res : r.results) {
    const char* kind = OutcomeKind(res.verdict);
    if (!kind || res.expected_failure) continue;
    if (res.verdict == Verdict::kFail && !res.departures.empty()) {
      // Explained by departures the file misses: one entry per departure,
      // from the model's table, not pinned to the program.
      for (const std::string& id : res.departures) {
        const spec::Departure* d = spec::FindDeparture(id);
        bool listed = false;
        for (const Expectation& k : out.entries) listed |= k.departure == id;
        if (!d || listed) continue;
        Expectation e;
        e.rule = d->rule;
        e.departure = d->id;
        e.outcome = "FAIL";
        e.issue = d->issue ? d->issue : "";
        e.finding = d->finding ? d->finding : "";
        e.status = d->status;
        e.fixed_in = d->fixed_in;
        e.reason = std::string("added by --save: ") + d->description;
        out.entries.push_back(std::move(e));
      }
      continue;
    }
    Expectation e;
    e.program = res.id;
    e.outcome = kind;
    std::string what = res.note;
    if (res.verdict == Verdict::kFail) {
      const Finding& f = res.findings.front();
      e.rule = res.nondeterministic ? "INV-9" : f.rule;
      what = f.rule + " " + f.where + ": " + f.message;
    }
    if (what.size() > 200) what = what.substr(0, 200) + "...";
    e.reason = "added by --save, say why it is expected: " + what;
    out.entries.push_back(std::move(e));
  }
  return out;
}

void Engine::ExplainByDepartures(const spec::Program& program, const spec::ModelRun& model,
                                 const absl::StatusOr<spec::Outcome>& observed, ProgramResult& res) const {
  // The departures this program shows, for unexpected passes: with every
  // listed departure at its shipped value (the release as the file
  // describes it) the outcome differs, and setting back this one changes
  // it. (One flag alone is not enough: 3.12's TaskGroup departures change
  // many outcomes singly that together they leave as spec's.)
  const spec::Profile all = spec::WithDepartures(profile_, departures_);
  const spec::ModelRun as_listed = spec::RunModelDetailed(program, all);
  if (!as_listed.deadlock && !(as_listed.outcome == model.outcome)) {
    for (const spec::Departure* d : departures_) {
      spec::Profile back = all;
      back.*(d->flag) = profile_.*(d->flag);
      if (!(spec::RunModelDetailed(program, back).outcome == as_listed.outcome)) res.departures_differing.insert(d->id);
    }
  }
  // Only a deterministic runtime failure can be a departure; one the model
  // itself has (vs a recording, or an invariant) is the model's bug.
  if (res.verdict != Verdict::kFail || !observed.ok() || res.nondeterministic || res.findings.empty()) return;
  for (const Finding& f : res.findings) {
    if (f.subject == "model") return;
  }
  // The smallest set of departures that explains the outcome: every subset
  // of the model's table, by size, in table order (at most 2^n model runs,
  // n small, and only for failures). The whole table, not only the listed
  // rows, so that a departure the file misses is still named by its rule
  // (and is a new failure, Judge).
  std::vector<const spec::Departure*> table;
  for (const spec::Departure& d : spec::Departures()) table.push_back(&d);
  const int n = static_cast<int>(table.size());
  std::vector<const spec::Departure*> best;
  for (int size = 1; size <= n && best.empty(); ++size) {
    for (unsigned mask = 1; mask < (1u << n) && best.empty(); ++mask) {
      if (__builtin_popcount(mask) != size) continue;
      std::vector<const spec::Departure*> set;
      for (int i = 0; i < n; ++i) {
        if (mask & (1u << i)) set.push_back(table[static_cast<std::size_t>(i)]);
      }
      const spec::Profile p = spec::WithDepartures(profile_, set);
      const spec::ModelRun other = spec::RunModelDetailed(program, p);
      // Equal to spec's outcome on the default schedule, the departures may
      // still allow the observed one under the tie freedom spec's refused.
      if (other.deadlock || (other.outcome == model.outcome && other.tie_points == 0)) continue;
      const bool explained =
          spec::OutcomeAllowed(other.outcome, *observed, nullptr) ||
          (other.tie_points > 0 &&
           spec::OutcomeAllowedUnderTies(program, p, *observed, o_.tie_budget).verdict == spec::TieVerdict::kAllowed);
      if (explained) best = set;
    }
  }
  if (best.empty()) return;
  const Finding first = res.findings.front();
  std::vector<Finding> findings;
  for (const spec::Departure* d : best) {
    res.departures.push_back(d->id);
    res.families.insert(FamilyOf(d->rule));
    const bool listed = std::find(departures_.begin(), departures_.end(), d) != departures_.end();
    findings.push_back(Finding{d->rule, first.where,
                               std::string("the outcome is the model's with departure ") + d->id +
                                   " at its shipped value (" + d->description + "; " + (d->issue ? d->issue : d->finding) + ")" +
                                   (listed ? "" : ", which the expectations file does not list") + ": " +
                                   first.message});
  }
  res.findings = std::move(findings);
}

std::string Engine::ReplayCommand(const ProgramResult& res) const {
  std::string cmd = "bazel run //conformance:check -- ";
  if (o_.runtime == "adapter") cmd += "--adapter='" + o_.adapter_command + "'";
  else cmd += "--runtime=" + o_.runtime;
  cmd += " --profile=" + profile_.name;
  if (o_.runtime == "cpython") cmd += " --python=" + o_.python;
  if (!o_.ties.empty()) cmd += " --ties=" + o_.ties;
  if (o_.schedules > 0) cmd += " --schedules=" + std::to_string(o_.schedules);
  if (res.seed) return cmd + " --replay=" + std::to_string(*res.seed);
  // A case replays from its file, filtered by the failure's own rule (not
  // the rules the case cites: one rule per failure).
  if (res.id.rfind("case:", 0) == 0) {
    return cmd + " --program=" + o_.cases_dir + "/" + res.id.substr(5) + ".json" +
           (res.findings.empty() ? std::string() : " --rules='" + res.findings.front().rule + "'");
  }
  if (res.id.rfind("file:", 0) == 0) return cmd + " --program=" + res.id.substr(5);
  return cmd;
}

void Engine::ShrinkFailures(Report& r, const std::vector<Runtime*>& runtimes) {
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
  auto shrink = [&](FailureGroup& g, Runtime* rt) {
    const Finding want = g.first;
    // Golden cases compare with their recording; a shrunk program has none,
    // so model-vs-recording failures are shown unshrunk.
    if (want.where.rfind("model vs", 0) == 0) return;
    const bool adapter = want.rule == kAdapterErrorRule;
    // INV-9 needs the second run; any other rule is judged on one run (a
    // fresh adapter per candidate would cost a process start each).
    const bool rerun = want.rule == "INV-9";
    auto still_fails = [&](const spec::Program& p) {
      if (!Missing(p, capabilities_).empty()) return false;
      ProgramResult res = CheckOn(rt, p, "shrink", std::nullopt, {}, rerun);
      if (adapter) return res.verdict == Verdict::kAdapterError;
      for (const Finding& f : res.findings) {
        if (f.rule == want.rule && f.subject == want.subject) return true;
      }
      return false;
    };
    ShrinkStats st;
    g.shrunk = Shrink(g.original, still_fails, o_.shrink_budget, &st);
    g.shrink_attempts = st.attempts;
    ProgramResult res = CheckOn(rt, g.shrunk, "shrunk", std::nullopt, {}, true);
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
  };
  // One failure per runtime at a time; each group is shrunk on one runtime
  // from start to end, so the result does not depend on --jobs.
  std::atomic<std::size_t> next{0};
  auto work = [&](Runtime* rt) {
    for (std::size_t i; (i = next.fetch_add(1)) < r.failures.size();) shrink(r.failures[i], rt);
  };
  std::vector<std::thread> threads;
  for (std::size_t k = 1; k < runtimes.size(); ++k) threads.emplace_back(work, runtimes[k]);
  work(runtimes.empty() ? nullptr : runtimes[0]);
  for (std::thread& t : threads) t.join();
}

// One program to check, in program order.
struct Engine::Work {
  std::string id;
  std::optional<std::uint64_t> seed;
  spec::Program program;
  std::optional<spec::Outcome> recorded;
  std::vector<std::string> case_rules;
};

ProgramResult Engine::NotApplicable(const Work& w, const spec::Program& program, const Capabilities& missing) const {
  ProgramResult res;
  res.id = w.id;
  res.seed = w.seed;
  res.case_rules = w.case_rules;
  res.families = FamiliesOf(program);
  for (const std::string& cr : w.case_rules) res.families.insert(FamilyOf(cr));
  res.verdict = Verdict::kNotApplicable;
  res.missing = missing;
  std::string list;
  for (const std::string& c : missing) list += (list.empty() ? "" : ", ") + c;
  res.note = "not sent: the runtime does not declare " + list;
  return res;
}

absl::Status Engine::CheckInWorkers(Report& r, std::vector<Work> items, bool with_trees,
                                    const std::function<void(ProgramResult)>& account) {
  // The cases (and a --replay or --program), then this shard's trees, each
  // generated in the worker that checks it. A tree is only its index: its
  // seed, id and program are computed from it where they are needed, so the
  // memory of a run does not grow with --trees (a Work per tree was ~0.5 KB:
  // 2.5 GB at 5M trees).
  const std::size_t n_given = items.size();
  std::size_t n_trees = 0;
  if (with_trees && o_.trees > o_.shard_index) {
    n_trees = static_cast<std::size_t>((o_.trees - o_.shard_index - 1) / o_.shard_count + 1);
  }
  // Item i >= n_given is this shard's (i - n_given)-th tree.
  auto seed_of = [&](std::size_t i) -> std::optional<std::uint64_t> {
    if (i < n_given) return items[i].seed;
    const std::size_t tree = static_cast<std::size_t>(o_.shard_index) + (i - n_given) * static_cast<std::size_t>(o_.shard_count);
    return TreeSeed(o_.seed, static_cast<int>(tree));
  };
  auto id_of = [&](std::size_t i) { return i < n_given ? items[i].id : "tree:" + std::to_string(*seed_of(i)); };
  auto program_of = [&](std::size_t i) { return i < n_given ? items[i].program : TreeProgram(*seed_of(i), capabilities_, o_.ties); };
  static const std::vector<std::string> kNoRules;
  auto rules_of = [&](std::size_t i) -> const std::vector<std::string>& { return i < n_given ? items[i].case_rules : kNoRules; };
  // nullopt: a tree outside --rules (not counted at all).
  auto check_item = [&](std::size_t i) -> std::optional<ProgramResult> {
    const spec::Program program = program_of(i);
    if (i >= n_given && !o_.rules.empty() && !Selected(FamiliesOf(program), {})) return std::nullopt;
    const Work w{id_of(i), seed_of(i), {}, std::nullopt, rules_of(i)};
    if (Capabilities missing = Missing(program, capabilities_); !missing.empty()) {
      return NotApplicable(w, program, missing);
    }
    ProgramResult res = CheckOn(runtime_.get(), program, w.id, i < n_given ? items[i].recorded : std::nullopt,
                                w.case_rules, true);
    res.seed = w.seed;
    return res;
  };
  // Forked workers (conformance/workers.h): a crash or a hang of the
  // runtime costs the program it happened on, and --jobs uses the cores.
  return RunInWorkers(
      static_cast<int>(n_given + n_trees), WorkerOptions{o_.workers, o_.timeout_ms, o_.stop},
      [&](int i) {
        // In the worker (a fork): swapping the runtime here changes only
        // the worker's copy of this engine.
        if (worker_runtime_) runtime_ = std::move(worker_runtime_);
        auto res = check_item(static_cast<std::size_t>(i));
        if (res && (res->verdict == Verdict::kPass || res->verdict == Verdict::kPassTies)) {
          // Account() drops a pass's program and outcomes: not sending
          // them halves the worker's and the parent's JSON work.
          res->program.reset();
          res->expected.reset();
          res->observed.reset();
        }
        return res ? ResultToWire(*res) : std::string();
      },
      [&](int i, absl::StatusOr<std::string> wire) {
        const auto k = static_cast<std::size_t>(i);
        ProgramResult res;
        res.id = id_of(k);
        res.seed = seed_of(k);
        res.case_rules = rules_of(k);
        if (wire.ok() && wire->empty()) return;  // outside --rules
        if (wire.ok()) {
          auto back = ResultFromWire(*wire, res);
          if (back.ok()) return account(*std::move(back));
          wire = back.status();
        }
        // The worker crashed or hung on this program: report it with
        // the program, so it can be shrunk and replayed.
        res.program = program_of(static_cast<std::size_t>(i));
        res.families = FamiliesOf(*res.program);
        res.verdict = absl::IsDeadlineExceeded(wire.status()) ? Verdict::kTimeout : Verdict::kCrash;
        const std::string why(wire.status().message());
        res.note = res.verdict == Verdict::kTimeout ? "TIMEOUT: " + why
                                                    : "CRASH: the " + r.runtime_name + " runtime crashed: " + why;
        account(std::move(res));
      });
}

// A golden case file (spec/cases/*.json): its program, the recording of
// recording_profile_'s version and the rules it cites.
absl::StatusOr<Engine::Work> Engine::CaseWork(const std::string& path, const std::string& text) const {
  nlohmann::json c = nlohmann::json::parse(text, nullptr, false);
  if (c.is_discarded() || !c.contains("program") || !c.contains("expected")) {
    return absl::DataLossError(path + ": not a golden case");
  }
  // Located errors for fields of the wrong type (a "name": 42 would
  // otherwise throw out of nlohmann's accessors and end the run).
  if (!c.is_object() || !c["program"].is_object() || !c["expected"].is_object()) {
    return absl::DataLossError(path + ": \"program\" and \"expected\" must be objects");
  }
  if (c.contains("name") && !c["name"].is_string()) return absl::DataLossError(path + ": \"name\" must be a string");
  std::vector<std::string> rules;
  if (c.contains("rules")) {
    if (!c["rules"].is_array()) return absl::DataLossError(path + ": \"rules\" must be an array of rule IDs");
    for (std::size_t i = 0; i < c["rules"].size(); ++i) {
      if (!c["rules"][i].is_string()) {
        return absl::DataLossError(path + ": rules[" + std::to_string(i) + "] must be a string (a rule ID)");
      }
      rules.push_back(c["rules"][i].get<std::string>());
    }
  }
  auto program = spec::ProgramFromJson(c["program"].dump());
  if (!program.ok()) return absl::DataLossError(path + ": " + std::string(program.status().message()));
  if (auto v = spec::Validate(*program); !v.ok()) return absl::DataLossError(path + ": " + std::string(v.message()));
  nlohmann::json exp = c["expected"];
  // The recording of recording_profile_'s version ("expected" is 3.13.0's).
  const std::string& v = recording_profile_.version;
  if (v != "3.13" && c.contains("versions") && c["versions"].is_object() && c["versions"].contains(v) &&
      !c["versions"][v].is_string()) {
    exp = c["versions"][v];
  }
  auto recorded = spec::OutcomeFromJson(exp.dump());
  if (!recorded.ok()) return absl::DataLossError(path + ": " + std::string(recorded.status().message()));
  return Work{"case:" + c.value("name", path), std::nullopt, *program, *recorded, rules};
}

// --program: a program in its text or JSON form, or a golden case file
// (checked as the case, against its recording too: the replay line of a
// case's failure).
absl::StatusOr<Engine::Work> Engine::LoadProgramFile(const std::string& path) const {
  auto text = ReadFile(path);
  if (!text.ok()) return text.status();
  std::size_t b = text->find_first_not_of(" \t\r\n");
  const bool json = b != std::string::npos && (*text)[b] == '{';
  if (json) {
    nlohmann::json j = nlohmann::json::parse(*text, nullptr, false);
    if (j.is_object() && j.contains("program") && j.contains("expected")) return CaseWork(path, *text);
  }
  auto program = json ? spec::ProgramFromJson(*text) : spec::ProgramFromText(*text);
  if (!program.ok()) return absl::InvalidArgumentError(path + ": " + std::string(program.status().message()));
  if (auto s = spec::Validate(*program); !s.ok()) {
    return absl::InvalidArgumentError(path + ": " + std::string(s.message()));
  }
  return Work{"file:" + path, std::nullopt, *program, std::nullopt, {}};
}

absl::StatusOr<Report> Engine::RunAll() {
  Report r;
  r.options = o_;
  r.runtime_name = runtime_ ? runtime_->name() : "model";
  r.runtime_version = runtime_ ? runtime_->version() : "";
  r.info = runtime_ ? runtime_->info() : RuntimeInfo{};
  if (!runtime_) r.info.runtime = "model";
  r.profile = profile_.name;
  auto t0 = Clock::now();

  // The runtimes: this one, and jobs - 1 more.
  std::vector<std::unique_ptr<Runtime>> extra;
  std::vector<Runtime*> runtimes{runtime_.get()};
  const int jobs = std::max(1, o_.jobs);
  for (int k = 1; k < jobs; ++k) {
    if (!runtime_) {
      runtimes.push_back(nullptr);
      continue;
    }
    if (!more_) return absl::InvalidArgumentError("--jobs > 1 needs a way to start more runtimes");
    auto rt = more_();
    if (!rt.ok()) return absl::UnavailableError("starting runtime " + std::to_string(k + 1) + " of " +
                                                std::to_string(jobs) + ": " + std::string(rt.status().message()));
    runtimes.push_back(rt->get());
    extra.push_back(std::move(*rt));
  }

  // The programs, produced one at a time on this thread.
  std::vector<Work> cases;
  int total = 0;
  if (!o_.program_file.empty()) {
    auto work = LoadProgramFile(o_.program_file);
    if (!work.ok()) return work.status();
    cases.push_back(std::move(*work));
  } else if (o_.replay) {
    cases.push_back(Work{"tree:" + std::to_string(*o_.replay), *o_.replay, TreeProgram(*o_.replay, capabilities_, o_.ties),
                         std::nullopt, {}});
  } else if (o_.cases) {
    std::vector<std::string> files;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(o_.cases_dir, ec)) {
      if (e.path().extension() == ".json") files.push_back(e.path().string());
    }
    if (ec || files.empty()) {
      return absl::NotFoundError("no golden cases (*.json) in " + o_.cases_dir + (ec ? ": " + ec.message() : ""));
    }
    std::sort(files.begin(), files.end());
    int k = -1;
    for (const std::string& path : files) {
      if (++k % o_.shard_count != o_.shard_index) continue;
      auto text = ReadFile(path);
      if (!text.ok()) return text.status();
      auto work = CaseWork(path, *text);
      if (!work.ok()) return work.status();
      if (!Selected(FamiliesOf(work->program), work->case_rules)) continue;
      cases.push_back(std::move(*work));
    }
  }
  const bool with_trees = o_.program_file.empty() && !o_.replay;
  total = static_cast<int>(cases.size());
  if (with_trees) {
    for (int i = 0; i < o_.trees; ++i) total += i % o_.shard_count == o_.shard_index;
  }
  std::size_t next_case = 0;
  int next_tree = 0;
  // The next program to check, or nullopt at the end. Programs outside
  // --rules are passed over.
  auto produce = [&]() -> std::optional<Work> {
    if (o_.stop && !(r.stopped = o_.stop()).empty()) return std::nullopt;
    if (next_case < cases.size()) return std::move(cases[next_case++]);
    while (with_trees && next_tree < o_.trees) {
      const int i = next_tree++;
      if (i % o_.shard_count != o_.shard_index) continue;
      const std::uint64_t seed = TreeSeed(o_.seed, i);
      spec::Program program = TreeProgram(seed, capabilities_, o_.ties);
      if (!o_.rules.empty() && !Selected(FamiliesOf(program), {})) {  // (FamiliesOf only when it matters)
        --total;
        continue;
      }
      return Work{"tree:" + std::to_string(seed), seed, std::move(program), std::nullopt, {}};
    }
    return std::nullopt;
  };

  const bool tty = isatty(2);
  auto last = Clock::now();
  int done = 0;
  auto progress = [&](bool final) {
    if (o_.quiet) return;
    auto now = Clock::now();
    if (!final && now - last < std::chrono::milliseconds(tty ? 200 : 2000)) return;
    last = now;
    double s = Since(t0);
    std::fprintf(stderr,
                 "%s[check] %d/%d programs, %.0f/s, %d failed, %d crashes, %d timeouts, %d adapter errors, "
                 "%d n/a%s",
                 tty ? "\r" : "", done, total, s > 0 ? done / s : 0.0, r.failed, r.crashes, r.timeouts,
                 r.adapter_errors, r.not_applicable, (tty && !final) ? "" : "\n");
    std::fflush(stderr);
  };

  if (o_.workers > 0) {
    absl::Status pool = CheckInWorkers(r, std::move(cases), with_trees, [&](ProgramResult res) {
      Account(r, std::move(res));
      ++done;
      progress(false);
    });
    if (!pool.ok()) return pool;
    return Finish(r, runtimes, t0, progress);
  }

  // Workers take programs from `queue` and put results into `results`
  // under their index; this thread produces programs (at most `window`
  // ahead of the accounting) and accounts results in index order.
  std::mutex mu;
  std::condition_variable work_cv, done_cv;
  std::deque<std::pair<std::size_t, Work>> queue;
  std::map<std::size_t, ProgramResult> results;
  bool closed = false;
  auto worker = [&](Runtime* rt) {
    while (true) {
      std::pair<std::size_t, Work> item;
      {
        std::unique_lock<std::mutex> lock(mu);
        work_cv.wait(lock, [&] { return closed || !queue.empty(); });
        if (queue.empty()) return;
        item = std::move(queue.front());
        queue.pop_front();
      }
      Work& w = item.second;
      ProgramResult res = CheckOn(rt, w.program, w.id, w.recorded, w.case_rules, true);
      res.seed = w.seed;
      {
        std::lock_guard<std::mutex> lock(mu);
        results.emplace(item.first, std::move(res));
      }
      done_cv.notify_one();
    }
  };
  std::vector<std::thread> threads;
  for (Runtime* rt : runtimes) threads.emplace_back(worker, rt);
  const std::size_t window = 16 * static_cast<std::size_t>(jobs);
  std::size_t produced = 0, accounted = 0;
  bool exhausted = false;
  while (true) {
    // Produce up to the window.
    while (!exhausted && produced - accounted < window) {
      std::optional<Work> w = produce();
      if (!w) {
        exhausted = true;
        break;
      }
      const std::size_t idx = produced++;
      Capabilities missing = Missing(w->program, capabilities_);
      std::lock_guard<std::mutex> lock(mu);
      if (!missing.empty()) {
        results.emplace(idx, NotApplicable(*w, w->program, missing));
      } else {
        queue.emplace_back(idx, std::move(*w));
        work_cv.notify_one();
      }
    }
    if (exhausted) {
      std::lock_guard<std::mutex> lock(mu);
      closed = true;
      work_cv.notify_all();
    }
    if (exhausted && accounted == produced) break;
    if (r.stopped.empty() && o_.stop) r.stopped = o_.stop();
    if (!r.stopped.empty()) {
      // Stopped: what is in flight is dropped (an adapter killed by the
      // stop would show as a crash).
      std::lock_guard<std::mutex> lock(mu);
      queue.clear();
      closed = true;
      work_cv.notify_all();
      break;
    }
    // Account what is ready, in order.
    std::vector<ProgramResult> ready;
    {
      std::unique_lock<std::mutex> lock(mu);
      done_cv.wait_for(lock, std::chrono::milliseconds(200), [&] { return results.count(accounted) > 0; });
      for (auto it = results.find(accounted); it != results.end(); it = results.find(accounted)) {
        ready.push_back(std::move(it->second));
        results.erase(it);
        ++accounted;
      }
    }
    for (ProgramResult& res : ready) {
      // (A result that came after a stop may be of a program the stop killed.)
      if (o_.stop && !(r.stopped = o_.stop()).empty()) break;
      Account(r, std::move(res));
      ++done;
    }
    progress(false);
  }
  for (std::thread& t : threads) t.join();
  return Finish(r, runtimes, t0, progress);
}

absl::StatusOr<Report> Engine::Finish(Report& r, const std::vector<Runtime*>& runtimes,
                                      std::chrono::steady_clock::time_point t0,
                                      const std::function<void(bool)>& progress) {
  if (r.stopped.empty() && o_.stop) r.stopped = o_.stop();
  if (!r.stopped.empty()) o_.shrink_budget = 0;  // stopping: report what there is, now
  progress(true);
  r.check_seconds = Since(t0);
  const int ran = r.checked + r.timeouts + r.crashes + r.adapter_errors + r.skipped;
  r.programs_per_second = r.check_seconds > 0 ? ran / r.check_seconds : 0;
  if (!o_.quiet && r.failed + r.adapter_errors > 0) {
    std::fprintf(stderr, "[check] shrinking the failures of %d programs...\n", r.failed + r.adapter_errors);
  }
  ShrinkFailures(r, runtimes);
  Judge(r);
  r.seconds = Since(t0);
  return std::move(r);  // not a copy: the passed trees' file moves with it
}

}  // namespace asyncspec::conformance
