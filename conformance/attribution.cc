#include "spec/outcome_allowed.h"
#include "conformance/attribution.h"

#include <algorithm>
#include <string>

#include "conformance/program_index.h"
#include "conformance/rules.h"

namespace asyncspec::conformance {
namespace {

// The model's transition that confirms the element's own rule: an event of
// that rule at `time`, whoever took it (a cancel() with a message is the
// caller's step; the message shows in the target). A transition of another
// rule of the family at that instant is not taken instead: a group's scope
// that lacks a leaf exits at the instant its last child ends cancelled
// (TG-6), but the leaf was lost when it was collected (TG-3).
std::optional<std::size_t> DecidingEvent(const std::vector<TraceEvent>& trace, spec::Time time,
                                         const std::string& rule) {
  for (std::size_t i = 0; i < trace.size(); ++i) {
    if (trace[i].time == time && trace[i].rule == rule) return i;
  }
  return std::nullopt;
}

// Basis 2: the one departure whose transition gives the observed outcome.
std::optional<const spec::Departure*> SingleDeparture(const AttributionInput& in) {
  for (const spec::Departure& d : spec::Departures()) {
    const spec::Profile p = spec::WithDepartures(*in.profile, {&d});
    if (p.*(d.flag) == in.profile->*(d.flag)) continue;  // already the profile's transition
    const spec::ModelRun other = spec::RunModelDetailed(*in.program, p);
    if (other.deadlock || other.outcome == *in.expected) continue;
    if (spec::OutcomeAllowed(other.outcome, *in.observed, nullptr)) return &d;
  }
  return std::nullopt;
}

Attribution FromTraces(const AttributionInput& in, std::size_t at) {
  const auto& m = *in.model_trace;
  const auto& r = *in.runtime_trace;
  Attribution a;
  a.basis = Attribution::Basis::kTraces;
  a.model_event = at;
  a.runtime_event = at;
  const Finding& first = in.comparison->differences.front();
  a.finding = first;
  // The model's transition names the rule the runtime should have
  // followed; past the model's end, the runtime's extra transition does.
  a.finding.rule = at < m.size() ? m[at].rule : r[at].rule;
  a.finding.message = "first divergence of the traces, event " + std::to_string(at) + ": model " +
                      (at < m.size() ? EventLine(m[at]) : std::string("(ended)")) + "; runtime " +
                      (at < r.size() ? EventLine(r[at]) : std::string("(ended)")) + "; first differing element " +
                      first.where + ": " + first.message;
  return a;
}

Attribution FromModelTrace(const AttributionInput& in) {
  const Comparison& c = *in.comparison;
  Attribution a;
  a.finding = c.differences.front();
  std::optional<std::size_t> best;
  std::size_t best_diff = 0;
  for (std::size_t k = 0; k < c.differences.size() && k < c.times.size() && c.times[k] == c.times.front(); ++k) {
    const Finding& f = c.differences[k];
    auto ev = DecidingEvent(*in.model_trace, c.times[k], f.rule);
    if (ev && (!best || *ev < *best)) {
      best = ev;
      best_diff = k;
    }
  }
  if (!best) return a;  // basis kOutcome: no model transition to point at
  const TraceEvent& e = (*in.model_trace)[*best];
  a.basis = Attribution::Basis::kModelTrace;
  a.model_event = best;
  a.finding = c.differences[best_diff];
  a.finding.rule = e.rule;
  a.finding.message += " (the model's transition: " + EventLine(e) + ")";
  return a;
}

}  // namespace

const char* BasisName(Attribution::Basis b) {
  switch (b) {
    case Attribution::Basis::kTraces: return "traces";
    case Attribution::Basis::kDeparture: return "departure";
    case Attribution::Basis::kModelTrace: return "model trace";
    case Attribution::Basis::kOutcome: return "outcome";
  }
  return "?";
}

std::string EventLine(const TraceEvent& e) {
  return "t=" + std::to_string(e.time) + " " + (e.task.empty() ? std::string("(callback)") : e.task) + " " + e.rule +
         " " + e.what;
}

spec::ModelRun TracedModelRun(const spec::Program& program, const spec::Profile& profile) {
  return spec::RunModelRecorded(program, profile, spec::RuleRecording::kTrace);
}

std::vector<TraceEvent> TraceOf(const spec::ModelRun& run) {
  std::vector<TraceEvent> out;
  out.reserve(run.trace.size());
  for (const auto& e : run.trace) {
    out.push_back(TraceEvent{std::string(spec::RuleName(e.rule)), e.time, e.task, e.what ? e.what : ""});
  }
  return out;
}

std::optional<std::size_t> FirstDivergence(const std::vector<TraceEvent>& model,
                                           const std::vector<TraceEvent>& runtime) {
  const std::size_t n = std::min(model.size(), runtime.size());
  for (std::size_t i = 0; i < n; ++i) {
    const TraceEvent& a = model[i];
    const TraceEvent& b = runtime[i];
    if (a.rule != b.rule || a.time != b.time || a.task != b.task) return i;
  }
  if (model.size() != runtime.size()) return n;
  return std::nullopt;
}

Attribution Attribute(const AttributionInput& in) {
  if (in.runtime_trace) {
    if (auto at = FirstDivergence(*in.model_trace, *in.runtime_trace)) return FromTraces(in, *at);
  }
  if (in.departures) {
    if (auto d = SingleDeparture(in)) {
      Attribution a;
      a.basis = Attribution::Basis::kDeparture;
      a.departure = (*d)->id;
      a.finding = in.comparison->differences.front();
      a.finding.rule = (*d)->rule;
      a.finding.message += std::string(" (the outcome is the model's with the transition of departure ") +
                           (*d)->id + ": " + (*d)->description + ")";
      return a;
    }
  }
  return FromModelTrace(in);
}

std::optional<Attribution> AttributeDifference(const spec::Program& program, const spec::Profile& profile,
                                               const spec::Outcome& expected, const spec::Outcome& observed,
                                               const std::vector<TraceEvent>* runtime_trace) {
  const Comparison c = Compare(program, profile, expected, observed);
  if (c.match != Match::kDiffer) return std::nullopt;
  const std::vector<TraceEvent> model_trace = TraceOf(TracedModelRun(program, profile));
  AttributionInput in;
  in.program = &program;
  in.profile = &profile;
  in.expected = &expected;
  in.observed = &observed;
  in.comparison = &c;
  in.model_trace = &model_trace;
  in.runtime_trace = runtime_trace;
  return Attribute(in);
}

}  // namespace asyncspec::conformance
