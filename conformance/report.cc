// Report writers for the engine (conformance/engine.h): report.md for people,
// report.json for tools, report.xml (JUnit) for CI dashboards.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "conformance/engine.h"
#include "conformance/shrink.h"
#include "spec/json.h"
#include "spec/text.h"

namespace asyncspec::conformance {
namespace {

const char* kFamilyOrder[] = {"SCHED", "CX", "TG", "GA", "TO", "WF", "SH", "EG", "RT", "INV"};

std::vector<std::string> FamilyNames(const Report& r) {
  std::vector<std::string> out;
  for (const char* f : kFamilyOrder) if (r.families.count(f)) out.push_back(f);
  for (const auto& [f, _] : r.families) {
    if (std::find(out.begin(), out.end(), f) == out.end()) out.push_back(f);
  }
  return out;
}

std::string XmlEscape(const std::string& s) {
  std::string o;
  for (unsigned char c : s) {
    switch (c) {
      case '&': o += "&amp;"; break;
      case '<': o += "&lt;"; break;
      case '>': o += "&gt;"; break;
      case '"': o += "&quot;"; break;
      case '\'': o += "&apos;"; break;
      default:
        if (c < 0x20 && c != '\n' && c != '\t') o += "?";  // not allowed in XML 1.0
        else o += static_cast<char>(c);
    }
  }
  return o;
}

std::string MdCell(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '|') o += "\\|";
    else if (c == '\n') o += " ";
    else o += c;
  }
  return o.empty() ? " " : "`" + o + "`";
}

// Top-level elements of an outcome, for the side-by-side table.
std::map<std::string, std::string> Elements(const std::optional<spec::Outcome>& o) {
  std::map<std::string, std::string> m;
  if (!o) return m;
  nlohmann::json j = nlohmann::json::parse(spec::OutcomeToJson(*o));
  for (const char* part : {"tasks", "blocks", "scopes"}) {
    if (j.contains(part)) for (auto& [k, v] : j[part].items()) m[std::string(part) + "." + k] = v.dump();
  }
  if (j.contains("run")) m["run"] = j["run"].dump();
  if (j.contains("unretrieved")) {
    for (const auto& u : j["unretrieved"]) m["unretrieved." + u.value("task", "?")] = u["error"].dump();
  }
  if (j.contains("end_time")) m["end_time"] = j["end_time"].dump();
  return m;
}

std::string RunVerdict(const Report& r) {
  if (r.adapter_errors > 0) return "ADAPTER ERRORS";
  if (r.failed > 0 || r.timeouts > 0) return "FAIL";
  return "PASS";
}

std::string FamilyTable(const Report& r, bool markdown) {
  std::ostringstream s;
  if (markdown) {
    s << "| family | checked | passed | failed |\n|---|---:|---:|---:|\n";
  } else {
    s << "family   checked   passed   failed\n";
  }
  for (const std::string& f : FamilyNames(r)) {
    const FamilyRow& row = r.families.at(f);
    char buf[160];
    if (markdown) {
      std::snprintf(buf, sizeof buf, "| %s | %d | %d | %d |\n", f.c_str(), row.checked, row.passed, row.failed);
    } else {
      std::snprintf(buf, sizeof buf, "%-8s %7d %8d %8d\n", f.c_str(), row.checked, row.passed, row.failed);
    }
    s << buf;
  }
  return s.str();
}

std::string Totals(const Report& r) {
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "%s: %d programs checked on %s%s (profile %s): %d passed (%d exactly, %d up to tie "
                "freedom), %d failed, %d timeouts, %d adapter errors, %d skipped (deadlock in both); "
                "%.1f programs/s over %.2f s of checking, %.2f s in all",
                RunVerdict(r).c_str(), r.checked, r.runtime_name.c_str(),
                r.runtime_version.empty() ? "" : (" " + r.runtime_version).c_str(), r.profile.c_str(),
                r.passed_exact + r.passed_ties, r.passed_exact, r.passed_ties, r.failed, r.timeouts,
                r.adapter_errors, r.skipped, r.programs_per_second, r.check_seconds, r.seconds);
  std::string out = buf;
  if (r.ignored_findings) out += "; " + std::to_string(r.ignored_findings) + " findings outside --rules ignored";
  if (r.options.schedules > 0 || !r.options.ties.empty()) {
    out += "; ties: " + std::to_string(r.tie_programs) + " programs with tie points, " +
           std::to_string(r.schedule_runs) + " perturbed runs, " + std::to_string(r.schedule_other_outcome) +
           " programs with an outcome of another model schedule, " + std::to_string(r.undecided) +
           " undecided (not passed)";
  }
  return out;
}

nlohmann::json FindingJson(const Finding& f) {
  return {{"rule", f.rule}, {"where", f.where}, {"message", f.message}, {"subject", f.subject}};
}

}  // namespace

std::string SummaryTable(const Report& r) { return FamilyTable(r, false) + Totals(r) + "\n"; }

absl::Status WriteReports(const Report& r, const RuleCatalogue& rules, const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return absl::InternalError("cannot create " + dir + ": " + ec.message());
  const Options& o = r.options;

  // --- report.md
  std::ostringstream md;
  md << "# asyncspec conformance report\n\n";
  md << "- runtime: **" << r.runtime_name << "**" << (r.runtime_version.empty() ? "" : " " + r.runtime_version)
     << ", model profile **" << r.profile << "**\n";
  md << "- programs: " << (o.cases ? "golden cases of spec/cases + " : "") << o.trees
     << " random trees, seed " << o.seed << (o.rules.empty() ? "" : ", rules filter `" + o.rules + "`") << "\n";
  md << "- comparison: exact equality with the model's outcome; an outcome equal only up to the "
        "tie freedom of RULES.md (order of ExceptionGroup leaves, spec::OutcomeAllowed) passes and is "
        "counted as such; invariants INV-1/3/5/6/7/8 (and INV-9 on the reference runtime) checked on "
        "every outcome\n\n";
  md << "**" << Totals(r) << "**\n\n";
  md << FamilyTable(r, true) << "\n";
  md << "A program counts under every rule family it exercises (its constructs, a golden case's "
        "rules); it fails a family when a failure is attributed to a rule of that family.\n\n";

  if (r.timeouts || r.adapter_errors) {
    md << "## Timeouts and adapter errors\n\n";
    for (const ProgramResult& res : r.results) {
      if (res.verdict != Verdict::kTimeout && res.verdict != Verdict::kAdapterError) continue;
      md << "- `" << res.id << "`: " << res.note << "\n";
    }
    md << "\n";
  }
  if (!r.failures.empty()) {
    md << "## Failures (" << r.failures.size() << " distinct rules)\n\n";
    int k = 0;
    for (const FailureGroup& g : r.failures) {
      const RuleText* rt = rules.Find(g.first.rule);
      md << "### " << ++k << ". " << g.rule << (rt ? " — " + rt->title : "") << "\n\n";
      if (rt) {
        std::string st = rt->statement;
        if (st.size() > 900) st = st.substr(0, 900) + " ...";
        for (char& c : st) if (c == '\n') c = ' ';
        md << "> " << st << "\n\n";
      } else if (g.rule == kAdapterErrorRule) {
        md << "> Not a rule violation: the runtime or its adapter failed to produce an outcome.\n\n";
      } else {
        md << "> (rule " << g.first.rule << " not found in spec/RULES.md)\n\n";
      }
      md << "- failing programs: " << g.program_ids.size() << " (first: `" << g.program_ids.front() << "`)\n";
      md << "- " << (g.first.subject == "model" ? "**the model**" : "the runtime") << " at `" << g.first.where
         << "`: " << g.first.message << "\n";
      md << "- replay: `" << g.replay << "`\n";
      md << "- shrunk from " << CountSteps(g.original) << " to " << CountSteps(g.shrunk) << " steps ("
         << g.shrink_attempts << " candidates tried); every finding on the shrunk program:\n";
      for (const Finding& f : g.shrunk_findings) {
        md << "  - " << f.rule << " (" << f.subject << ") `" << f.where << "`: " << f.message << "\n";
      }
      md << "\n```text\n" << spec::ProgramToText(g.shrunk) << "```\n\n";
      auto me = Elements(g.expected), mo = Elements(g.observed);
      std::set<std::string> keys;
      for (auto& [k2, _] : me) keys.insert(k2);
      for (auto& [k2, _] : mo) keys.insert(k2);
      md << "| element | expected (model " << r.profile << ") | observed (" << r.runtime_name << ") |\n|---|---|---|\n";
      for (const std::string& key : keys) {
        auto a = me.count(key) ? me[key] : std::string("(absent)");
        auto b = mo.count(key) ? mo[key] : (g.observed ? std::string("(absent)") : std::string("(no outcome)"));
        md << "| " << (a == b ? key : "**" + key + "**") << " | " << MdCell(a) << " | " << MdCell(b) << " |\n";
      }
      md << "\n";
    }
  }
  {
    std::ofstream f(dir + "/report.md");
    f << md.str();
    if (!f) return absl::InternalError("cannot write " + dir + "/report.md");
  }

  // --- report.json
  nlohmann::json j;
  j["runtime"] = r.runtime_name;
  j["runtime_version"] = r.runtime_version;
  j["profile"] = r.profile;
  j["seed"] = o.seed;
  j["trees"] = o.trees;
  j["cases"] = o.cases;
  j["rules_filter"] = o.rules;
  j["verdict"] = RunVerdict(r);
  j["totals"] = {{"checked", r.checked},          {"passed_exact", r.passed_exact},
                 {"passed_up_to_ties", r.passed_ties}, {"failed", r.failed},
                 {"timeouts", r.timeouts},        {"adapter_errors", r.adapter_errors},
                 {"skipped", r.skipped},          {"ignored_findings", r.ignored_findings},
                 {"undecided", r.undecided},      {"tie_programs", r.tie_programs},
                 {"schedule_runs", r.schedule_runs}};
  j["seconds"] = r.seconds;
  j["check_seconds"] = r.check_seconds;
  j["programs_per_second"] = r.programs_per_second;
  for (const auto& [fam, row] : r.families) {
    j["families"][fam] = {{"checked", row.checked}, {"passed", row.passed}, {"failed", row.failed}};
  }
  j["failures"] = nlohmann::json::array();
  for (const FailureGroup& g : r.failures) {
    const RuleText* rt = rules.Find(g.first.rule);
    nlohmann::json fj = {{"rule", g.first.rule},
                         {"subject", g.first.subject},
                         {"title", rt ? rt->title : ""},
                         {"statement", rt ? rt->statement : ""},
                         {"programs", g.program_ids},
                         {"finding", FindingJson(g.first)},
                         {"replay", g.replay},
                         {"shrunk_text", spec::ProgramToText(g.shrunk)},
                         {"shrunk", nlohmann::json::parse(spec::ProgramToJson(g.shrunk))},
                         {"original", nlohmann::json::parse(spec::ProgramToJson(g.original))}};
    fj["expected"] = g.expected ? nlohmann::json::parse(spec::OutcomeToJson(*g.expected)) : nlohmann::json();
    fj["observed"] = g.observed ? nlohmann::json::parse(spec::OutcomeToJson(*g.observed)) : nlohmann::json();
    fj["shrunk_findings"] = nlohmann::json::array();
    for (const Finding& f : g.shrunk_findings) fj["shrunk_findings"].push_back(FindingJson(f));
    j["failures"].push_back(fj);
  }
  j["problems"] = nlohmann::json::array();
  for (const ProgramResult& res : r.results) {
    if (res.verdict == Verdict::kPass || res.verdict == Verdict::kPassTies) continue;
    nlohmann::json pj = {{"id", res.id}, {"verdict", VerdictName(res.verdict)}, {"note", res.note}};
    pj["findings"] = nlohmann::json::array();
    for (const Finding& f : res.findings) pj["findings"].push_back(FindingJson(f));
    j["problems"].push_back(pj);
  }
  {
    std::ofstream f(dir + "/report.json");
    f << j.dump(2) << "\n";
    if (!f) return absl::InternalError("cannot write " + dir + "/report.json");
  }

  // --- report.xml (JUnit): one testcase per program.
  std::ostringstream x;
  x << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  x << "<testsuites>\n<testsuite name=\"asyncspec." << XmlEscape(r.runtime_name) << "\" tests=\""
    << r.results.size() << "\" failures=\"" << (r.failed + r.timeouts) << "\" errors=\"" << r.adapter_errors
    << "\" skipped=\"" << (r.skipped + r.undecided) << "\" time=\"" << r.check_seconds << "\">\n";
  for (const ProgramResult& res : r.results) {
    std::string cls = res.id.rfind("case:", 0) == 0 ? "cases" : "trees";
    x << "  <testcase classname=\"asyncspec." << cls << "\" name=\"" << XmlEscape(res.id) << "\" time=\""
      << res.seconds << "\"";
    switch (res.verdict) {
      case Verdict::kPass:
      case Verdict::kPassTies:
        x << "/>\n";
        break;
      case Verdict::kSkipped:
      case Verdict::kUndecided:  // tie mode: neither passed nor failed
        x << "><skipped message=\"" << XmlEscape(res.note) << "\"/></testcase>\n";
        break;
      case Verdict::kTimeout:
        x << "><failure type=\"TIMEOUT\" message=\"" << XmlEscape(res.note) << "\"/></testcase>\n";
        break;
      case Verdict::kAdapterError:
        x << "><error type=\"adapter\" message=\"" << XmlEscape(res.note) << "\"/></testcase>\n";
        break;
      case Verdict::kFail: {
        const Finding& f = res.findings.front();
        x << "><failure type=\"" << XmlEscape(f.rule) << "\" message=\""
          << XmlEscape(f.rule + " " + f.where + ": " + f.message) << "\">";
        for (const Finding& g : res.findings) {
          x << XmlEscape(g.rule + " (" + g.subject + ") " + g.where + ": " + g.message) << "\n";
        }
        x << "</failure></testcase>\n";
        break;
      }
    }
  }
  x << "</testsuite>\n</testsuites>\n";
  {
    std::ofstream f(dir + "/report.xml");
    f << x.str();
    if (!f) return absl::InternalError("cannot write " + dir + "/report.xml");
  }
  return absl::OkStatus();
}

}  // namespace asyncspec::conformance
