#include "conformance/explain.h"

#include <algorithm>
#include <set>
#include <sstream>

#include "spec/text.h"

namespace asyncspec::conformance {
namespace {

std::string Fit(std::string s, std::size_t width) {
  if (s.size() > width) s = s.substr(0, width - 3) + "...";
  return s;
}

std::string Pad(const std::string& s, std::size_t width) {
  return s.size() >= width ? s : s + std::string(width - s.size(), ' ');
}

// The trace lines, side by side, ending at the divergence (or at the last
// event at the divergence's time when only the model's trace is there).
void Traces(const ExplainInput& in, const std::vector<TraceEvent>& model, const Attribution& a, spec::Time at,
            std::set<std::string>& rules_shown, std::ostringstream& out) {
  const std::vector<TraceEvent>* rt = in.runtime_trace;
  std::size_t end = 0;
  while (end < model.size() && model[end].time <= at) ++end;  // up to the first difference's instant
  if (a.model_event) end = std::min(model.size(), *a.model_event + 1);
  if (rt && a.runtime_event) end = std::max(end, std::min(rt->size(), *a.runtime_event + 1));
  const std::size_t shown = std::min<std::size_t>(end, static_cast<std::size_t>(std::max(1, in.max_events)));
  const std::size_t first = end - shown;
  constexpr std::size_t kCol = 58;
  out << "  #  " << Pad("model trace", kCol) << (rt ? " | runtime trace" : " | (the runtime reports no trace)") << "\n";
  if (first > 0) out << "     ... " << first << " earlier events, equal on both sides\n";
  for (std::size_t i = first; i < end; ++i) {
    const bool here = a.model_event && *a.model_event == i;
    std::string left = i < model.size() ? EventLine(model[i]) : "(ended)";
    std::string right = rt ? (i < rt->size() ? EventLine((*rt)[i]) : "(ended)") : "";
    if (i < model.size()) rules_shown.insert(model[i].rule);
    if (rt && i < rt->size()) rules_shown.insert((*rt)[i].rule);
    out << (here ? ">" : " ") << Pad(std::to_string(i), 3) << " " << Pad(Fit(left, kCol), kCol)
        << (rt ? " | " + Fit(right, kCol) : "") << (here ? "   <- divergence" : "") << "\n";
  }
}

}  // namespace

std::string RuleLine(const RuleCatalogue& rules, const std::string& id, std::size_t width) {
  const RuleText* r = rules.Find(id);
  if (!r) return id + " (not in RULES.md)";
  return Fit(id + " " + r->title + ": " + r->statement, width);
}

std::string Explain(const ExplainInput& in) {
  std::ostringstream out;
  const Comparison c = Compare(*in.program, *in.profile, *in.expected, *in.observed);
  if (c.match != Match::kDiffer) {
    out << "explain " << in.id << ": the runtime's outcome is the model's"
        << (c.match == Match::kUpToTies ? " up to tie freedom" : "") << "; nothing to explain\n";
    return out.str();
  }
  const std::vector<TraceEvent> model = TraceOf(TracedModelRun(*in.program, *in.profile));
  AttributionInput ai;
  ai.program = in.program;
  ai.profile = in.profile;
  ai.expected = in.expected;
  ai.observed = in.observed;
  ai.comparison = &c;
  ai.model_trace = &model;
  ai.runtime_trace = in.runtime_trace;
  const Attribution a = Attribute(ai);
  out << "explain " << in.id << " (profile " << in.profile->name << "): " << a.finding.rule << ", found by "
      << BasisName(a.basis) << (a.departure.empty() ? "" : " " + a.departure) << "\n";
  out << "  " << RuleLine(*in.rules, a.finding.rule) << "\n";
  out << "program:\n";
  std::istringstream text(spec::ProgramToText(*in.program));
  for (std::string line; std::getline(text, line);) out << "  " << line << "\n";
  std::set<std::string> rules_shown = {a.finding.rule};
  Traces(in, model, a, c.times.front(), rules_shown, out);
  out << "first differing element: " << a.finding.where << ": " << Fit(a.finding.message, 400) << "\n";
  out << "rules in the lines above:\n";
  for (const std::string& id : rules_shown) out << "  " << RuleLine(*in.rules, id) << "\n";
  return out.str();
}

}  // namespace asyncspec::conformance
