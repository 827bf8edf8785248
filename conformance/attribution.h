// Attribution: the one rule a failing outcome broke.
//
// Compare() (compare.h) lists every element in which two outcomes differ and
// names, from the element alone, a first guess at the rule (a group scope's
// ExceptionGroup lacking a leaf: TG-3). One wrong decision of a runtime
// shows in many elements, and an element alone cannot say which transition
// went wrong, so a failure is attributed to the *first divergence* instead,
// with the best evidence available, in this order:
//
//  1. Two traces. A runtime that reports the rule-tagged transitions it took
//     (hello capability "trace", ADAPTERS.md) is compared event by event
//     with the model's trace (spec::RunModelRecorded, kTrace): the first
//     event where the two differ (rule, virtual time, task) names the rule.
//  2. A departure. The model's departure table (spec/model/profiles.h) holds
//     the alternative transitions that shipped runtimes took, each with the
//     one rule it breaks. If the model with exactly one of them switched
//     gives the observed outcome (up to tie freedom), that transition is the
//     divergence and its rule is the attribution.
//  3. The model's trace alone. Among the differing elements that differ
//     first in virtual time, the one whose own rule the model's trace shows
//     taken at that instant, earliest in the trace, is the divergence: its
//     rule, with that transition cited.
//  4. Otherwise (the model took no transition of that rule then: a runtime
//     doing something the model never does, e.g. starting a task it was not
//     asked to) the first differing element's own rule.
//
// One failure, one rule: the engine reports what Attribute returns, in the
// console, every report file, the replay line and the reproducers.
#ifndef ASYNCSPEC_CONFORMANCE_ATTRIBUTION_H_
#define ASYNCSPEC_CONFORMANCE_ATTRIBUTION_H_

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "conformance/compare.h"
#include "spec/model/model.h"
#include "spec/model/profiles.h"
#include "spec/outcome.h"
#include "spec/program.h"

namespace asyncspec::conformance {

// One rule-tagged transition, as the model records it and as a runtime
// reports it in an outcome's "trace" (ADAPTERS.md).
struct TraceEvent {
  std::string rule;  // "TG-2"
  spec::Time time = 0;
  std::string task;  // the running task; "" between steps (callbacks)
  std::string what;  // free text, e.g. "first failure: abort, cancel the parent"
};

// The model's run of `program` under `profile` with its trace.
spec::ModelRun TracedModelRun(const spec::Program& program, const spec::Profile& profile);
std::vector<TraceEvent> TraceOf(const spec::ModelRun& run);

// The first index at which two traces differ. Events are equal when rule,
// time and task are ("what" is prose; runtimes phrase it their own way).
// nullopt when they are equal; an index equal to one trace's length means
// that trace ended first.
std::optional<std::size_t> FirstDivergence(const std::vector<TraceEvent>& model,
                                           const std::vector<TraceEvent>& runtime);

struct Attribution {
  enum class Basis { kTraces, kDeparture, kModelTrace, kOutcome };
  Basis basis = Basis::kOutcome;
  Finding finding;  // the one rule; where and message from the first differing element
  // The divergent events: indexes into the model's and the runtime's trace
  // (kTraces: both, either may equal its trace's length; kModelTrace: the
  // model's).
  std::optional<std::size_t> model_event, runtime_event;
  std::string departure;  // kDeparture: the departure's id
};

const char* BasisName(Attribution::Basis b);

struct AttributionInput {
  const spec::Program* program = nullptr;
  const spec::Profile* profile = nullptr;  // the profile `expected` is the model's outcome under
  const spec::Outcome* expected = nullptr;
  const spec::Outcome* observed = nullptr;
  const Comparison* comparison = nullptr;        // Compare(expected, observed), match kDiffer
  const std::vector<TraceEvent>* model_trace = nullptr;  // of the run that gave `expected`
  const std::vector<TraceEvent>* runtime_trace = nullptr;  // null: the runtime reports none
  // Try the departure table (basis 2). Off when `expected` is not the
  // model's spec-side outcome (a golden case compared with its recording).
  bool departures = true;
};

// Precondition: comparison->match == kDiffer, model_trace non-null.
Attribution Attribute(const AttributionInput& in);

// The usual call: compares, traces the model and attributes. nullopt when
// the outcomes agree (exactly or up to tie freedom).
std::optional<Attribution> AttributeDifference(const spec::Program& program, const spec::Profile& profile,
                                               const spec::Outcome& expected, const spec::Outcome& observed,
                                               const std::vector<TraceEvent>* runtime_trace = nullptr);

// One line for a trace event: "t=3 t1 TG-2 first failure: abort, cancel the parent".
std::string EventLine(const TraceEvent& e);

}  // namespace asyncspec::conformance

#endif  // ASYNCSPEC_CONFORMANCE_ATTRIBUTION_H_
