// Report writers for the engine (conformance/engine.h): report.md for people,
// report.json for tools, report.xml (JUnit) for CI dashboards.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "conformance/engine.h"
#include "conformance/cc_reproducer.h"
#include "conformance/report_files.h"
#include "conformance/reproducer.h"
#include "conformance/safe_text.h"
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

// Adapter text (notes, stderr tails, messages) may hold any bytes.
std::string XmlEscape(const std::string& s) { return XmlText(s); }

std::string MdCell(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '|') o += "\\|";
    else if (c == '\n') o += " ";
    else o += c;
  }
  return o.empty() ? " " : "`" + o + "`";
}

std::map<std::string, std::string> Elements(const std::optional<spec::Outcome>& o) { return OutcomeElements(o); }

// The reproducer file of group k (1-based), "" when there is none: only for
// rule failures of the runtime that have an outcome to compare.
std::string ReproducerFile(const Report& r, const FailureGroup& g, int k) {
  const std::string& how = r.options.reproducer;
  if (how != "asyncio" && how != "command" && how != "cc") return "";
  if (g.rule == kAdapterErrorRule || g.first.subject == "model" || !g.observed || !g.expected) return "";
  return "repro-" + std::to_string(k) + "-" + g.first.rule + "." + (how == "asyncio" ? "py" : how == "cc" ? "cc" : r.options.reproducer_ext);
}

// What the reproducer of group g needs to know.
ReproducerInput ReproducerFor(const Report& r, const RuleCatalogue& rules, const FailureGroup& g) {
  ReproducerInput in;
  in.program = g.shrunk;
  in.rule = g.first.rule;
  if (const RuleText* rt = rules.Find(g.first.rule)) {
    in.rule_title = rt->title;
    in.rule_statement = rt->statement;
    for (char& c : in.rule_statement) if (c == '\n') c = ' ';
  }
  in.profile = r.profile;
  in.runtime = r.runtime_name + (r.runtime_version.empty() ? "" : " " + r.runtime_version);
  in.replay = g.replay;
  auto me = OutcomeElements(g.expected), mo = OutcomeElements(g.observed);
  for (const auto& [key, v] : me) {
    auto it = mo.find(key);
    if (it == mo.end() || it->second != v) in.differing[key] = {v, it == mo.end() ? "" : it->second};
  }
  for (const auto& [key, v] : mo) {
    if (!me.count(key)) in.differing[key] = {"", v};
  }
  return in;
}

// The command replaying program `id` of group g: the group's replay
// command (of its first program) with the program part swapped.
std::string ReplayOf(const FailureGroup& g, const std::string& id) {
  std::string prefix = g.replay;
  for (const char* part : {" --replay=", " --trees=0", " --program="}) {
    if (auto at = prefix.find(part); at != std::string::npos) {
      prefix.resize(at);
      break;
    }
  }
  if (id.rfind("tree:", 0) == 0) return prefix + " --replay=" + id.substr(5);
  if (id.rfind("file:", 0) == 0) return prefix + " --program=" + id.substr(5);
  if (id.rfind("case:", 0) == 0) return prefix + " --trees=0  # golden case " + id.substr(5);
  return g.replay;
}

// What the run checked, as the command line asked for it.
std::string WhatWasRun(const Options& o) {
  if (!o.program_file.empty()) return "the program in `" + o.program_file + "`";
  if (o.replay) return "random tree " + std::to_string(*o.replay) + " (--replay)";
  return std::string(o.cases ? "golden cases of spec/cases + " : "") + std::to_string(o.trees) +
         " random trees, seed " + std::to_string(o.seed);
}

std::string RunVerdict(const Report& r) {
  if (!r.stopped.empty()) return "INCOMPLETE (" + r.stopped + ")";
  if (r.new_failures > 0) return "FAIL";
  if (r.adapter_errors > 0) return "ADAPTER ERRORS";
  if (r.expected_failures > 0) return "PASS (failures as expected)";
  return "PASS";
}

bool GroupExpected(const Report&, const FailureGroup& g) { return g.as_expected; }

std::string FamilyTable(const Report& r, bool markdown) {
  std::ostringstream s;
  if (markdown) {
    s << "| family | checked | passed | failed | expected failures | unexpected passes | n/a |\n"
         "|---|---:|---:|---:|---:|---:|---:|\n";
  } else {
    s << "family   checked   passed   failed  expected  unexp.pass      n/a\n";
  }
  for (const std::string& f : FamilyNames(r)) {
    const FamilyRow& row = r.families.at(f);
    char buf[200];
    if (markdown) {
      std::snprintf(buf, sizeof buf, "| %s | %d | %d | %d | %d | %d | %d |\n", f.c_str(), row.checked, row.passed,
                    row.failed, row.expected_failures, row.unexpected_passes, row.not_applicable);
    } else {
      std::snprintf(buf, sizeof buf, "%-8s %7d %8d %8d %9d %11d %8d\n", f.c_str(), row.checked, row.passed,
                    row.failed, row.expected_failures, row.unexpected_passes, row.not_applicable);
    }
    s << buf;
  }
  return s.str();
}

std::string Totals(const Report& r) {
  char buf[1024];
  std::snprintf(buf, sizeof buf,
                "%s: %d programs checked on %s%s (profile %s): %d passed (%d exactly, %d up to tie "
                "freedom), %d failed, %d crashes, %d timeouts (of these %d as expected, %d new), "
                "%d unexpected passes, %d adapter errors, %d skipped (deadlock in both), %d n/a; "
                "%.1f programs/s over %.2f s of checking (%d %s%s), %.2f s in all",
                RunVerdict(r).c_str(), r.checked, r.runtime_name.c_str(),
                r.runtime_version.empty() ? "" : (" " + r.runtime_version).c_str(), r.profile.c_str(),
                r.passed_exact + r.passed_ties, r.passed_exact, r.passed_ties, r.failed, r.crashes, r.timeouts,
                r.expected_failures, r.new_failures, r.unexpected_pass_count(),
                r.adapter_errors, r.skipped, r.not_applicable, r.programs_per_second, r.check_seconds,
                r.options.workers > 0 ? r.options.workers : r.options.jobs,
                r.options.workers > 0 ? "forked worker" : "job",
                (r.options.workers > 0 ? r.options.workers : r.options.jobs) == 1 ? "" : "s", r.seconds);
  std::string out = buf;
  if (r.nondeterministic) out += "; " + std::to_string(r.nondeterministic) + " programs not deterministic (INV-9)";
  if (r.ignored_findings) out += "; " + std::to_string(r.ignored_findings) + " findings outside --rules ignored";
  if (r.unclaimed_findings) {
    out += "; " + std::to_string(r.unclaimed_findings) + " findings under rules the runtime does not claim";
  }
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

namespace {

using Reproducers = std::map<std::string, absl::StatusOr<std::string>>;

// A reproducer per distinct failure: file name -> source, or why there is
// none; the sources are written into dir.
absl::StatusOr<Reproducers> WriteReproducers(const Report& r, const RuleCatalogue& rules, const std::string& dir) {
  const Options& o = r.options;
  Reproducers repro;
  for (std::size_t k = 0; k < r.failures.size(); ++k) {
    const FailureGroup& g = r.failures[k];
    const std::string file = ReproducerFile(r, g, static_cast<int>(k) + 1);
    if (file.empty()) continue;
    ReproducerInput in = ReproducerFor(r, rules, g);
    in.file = file;
    if (o.reproducer == "asyncio") {
      repro.emplace(file, PythonReproducer(in));
    } else if (o.reproducer == "cc") {
      repro.emplace(file, CcReproducer(in, dir + "/" + file));
    } else {
      repro.emplace(file, RunReproducerCommand(o.reproducer_command, ReproducerInputJson(in), 20000));
    }
  }
  for (const auto& [file, source] : repro) {
    if (!source.ok()) continue;
    if (absl::Status s = WriteReportFile(dir, file, *source, o.reproducer == "asyncio" ? 0755 : 0644); !s.ok()) {
      return s;
    }
  }
  return repro;
}

// report.md up to the failures: what ran, the totals, the family table,
// unexpected passes, n/a, timeouts, crashes and adapter errors.
void MarkdownSummary(const Report& r, std::ostringstream& md) {
  const Options& o = r.options;
  md << "# asyncspec conformance report\n\n";
  if (!r.stopped.empty()) {
    md << "**Incomplete run: " << r.stopped << ".** Every count below is of the programs checked before "
          "it stopped; nothing was shrunk.\n\n";
  }
  md << "- runtime: **" << r.runtime_name << "**" << (r.runtime_version.empty() ? "" : " " + r.runtime_version)
     << ", model profile **" << r.profile << "**\n";
  if (o.runtime == "adapter") md << "- adapter: `" << o.adapter_command << "`\n";
  if (r.info.capabilities) {
    std::string caps;
    for (const std::string& c : *r.info.capabilities) caps += (caps.empty() ? "" : " ") + c;
    md << "- capabilities: " << caps << "\n";
  }
  md << "- rules claimed: " << (o.claimed_rules_name.empty() ? "all" : "`" + o.claimed_rules_name + "`") << "\n";
  if (r.info.clock == "real") {
    md << "- clock: **real**, " << r.info.tick_ms << " ms per time unit: events one tick apart can swap "
          "under load, so judge failures about order or time with that in mind\n";
  }
  md << "- expectations: " << (o.expectations_file.empty() ? "none" : "`" + o.expectations_file + "`") << " ("
     << r.expectations.entries.size() << " entries)\n";
  md << "- programs: " << WhatWasRun(o) << (o.rules.empty() ? "" : ", rules filter `" + o.rules + "`") << "\n";
  md << "- comparison: exact equality with the model's outcome; an outcome equal only up to the "
        "tie freedom of RULES.md (order of ExceptionGroup leaves, spec::OutcomeAllowed) passes and is "
        "counted as such; invariants INV-1/3/5/6/7/8 (and INV-9 on the reference runtime) checked on "
        "every outcome\n\n";
  md << "**" << Totals(r) << "**\n\n";
  md << FamilyTable(r, true) << "\n";
  md << "A program counts under every rule family it exercises (its constructs, a golden case's "
        "rules); it fails a family when a failure is attributed to a rule of that family.\n\n";

  if (r.unexpected_pass_count() > 0) {
    md << "## Unexpected passes\n\nListed in the expectations file, but did not fail in this run "
          "(remove them, or run with --save):\n\n";
    for (const Expectation* e : r.unexpected_passes()) {
      md << "- " << e->outcome << " " << (e->program.empty() ? "" : "program `" + e->program + "` ")
         << (e->rule.empty() ? "" : "rule " + e->rule) << ": " << e->reason << "\n";
    }
    for (const auto& [id, reason] : r.unexpected_pass_programs) {
      md << "- `" << id << "`: the departure " << reason << " changes its model outcome, but it passed\n";
    }
    md << "\n";
  }
  {
    std::string unseen;
    for (const Expectation& e : r.expectations.entries) {
      if (e.matched == 0 && e.program.empty()) {
        unseen += "- " + e.outcome + " " + ExpectationLabel(e) + ": " + e.reason + "\n";
      }
    }
    if (!unseen.empty()) {
      md << "## Expected failures not seen in this run\n\nRule entries of the expectations file that matched "
            "no failure here (not an unexpected pass: the run may just not have met them):\n\n"
         << unseen << "\n";
    }
  }
  if (r.not_applicable) {
    md << "## Not applicable\n\n" << r.not_applicable
       << " programs use constructs the runtime does not declare and were not sent (or it answered "
          "`unsupported`); programs per missing capability:";
    for (const auto& [cap, n] : r.missing_capabilities) md << " " << cap << " " << n << ";";
    md << "\n\n";
  }
  if (r.timeouts || r.crashes || r.adapter_errors) {
    md << "## Crashes, timeouts and adapter errors\n\n";
    for (const ProgramResult& res : r.results) {
      if (res.verdict != Verdict::kTimeout && res.verdict != Verdict::kCrash &&
          res.verdict != Verdict::kAdapterError) {
        continue;
      }
      md << "- `" << res.id << "` (" << VerdictName(res.verdict)
         << (res.expected_failure ? ", as expected: " + res.expected_reason : "") << "):\n\n```text\n"
         << res.note << "\n```\n";
      if (res.program) md << "\n  program:\n\n```text\n" << spec::ProgramToText(*res.program) << "```\n";
    }
    md << "\n";
  }
}

// report.md's failures: one section per distinct rule.
void MarkdownFailures(const Report& r, const RuleCatalogue& rules, const Reproducers& repro,
                      const std::string& dir, std::ostringstream& md) {
  const Options& o = r.options;
  if (!r.failures.empty()) {
    md << "## Failures (" << r.failures.size() << " distinct rules)\n\n";
    int k = 0;
    for (const FailureGroup& g : r.failures) {
      const RuleText* rt = rules.Find(g.first.rule);
      md << "### " << ++k << ". " << g.rule << (rt ? " — " + rt->title : "")
         << (g.rule == kAdapterErrorRule ? "" : GroupExpected(r, g) ? " (expected: " + g.expected_label + ")" : " (new failure)")
         << "\n\n";
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
      md << "- failing programs: " << g.program_ids.size() << " (the first, `" << g.program_ids.front()
         << "`, is shrunk below); each with its replay:\n";
      constexpr std::size_t kListed = 1000;  // report.json lists them all
      for (std::size_t i = 0; i < g.program_ids.size() && i < kListed; ++i) {
        md << "  - `" << g.program_ids[i] << "`: `" << ReplayOf(g, g.program_ids[i]) << "`\n";
      }
      if (g.program_ids.size() > kListed) {
        md << "  - ... and " << g.program_ids.size() - kListed << " more (report.json, `failures[].programs`)\n";
      }
      md << "- " << (g.first.subject == "model" ? "**the model**" : "the runtime") << " at `" << g.first.where
         << "`: " << g.first.message << "\n";
      md << "- replay: `" << g.replay << "`\n";
      for (const ProgramResult& res : r.results) {
        if (res.id != g.program_ids.front()) continue;
        if (res.expected_failure) md << "- as expected: " << res.expected_reason << "\n";
        if (res.nondeterministic) {
          md << "- **not deterministic**: a second run of this program (in a fresh runtime) gave another outcome (INV-9)\n";
        } else if (res.confirmed_deterministic) {
          md << "- deterministic: a second run of this program (in a fresh runtime) gave the same outcome\n";
        }
        break;
      }
      if (std::string file = ReproducerFile(r, g, k); !file.empty()) {
        const auto& source = repro.at(file);
        if (!source.ok()) {
          md << "- reproducer: none, " << source.status().message() << "\n";
        } else if (o.reproducer == "asyncio") {
          md << "- reproducer: `" << file << "` (standalone asyncio; `python3 " << file
             << "` prints observed vs required)\n";
        } else if (o.reproducer == "cc") {
          md << "- reproducer: `" << file << "` (standalone C++ on the reference runtime's API; from the top of the clone, `"
             << CcReproducerBuildCommand(dir + "/" + file) << "` prints observed vs required)\n";
        } else {
          md << "- reproducer: `" << file << "` (written by the adapter's reproducer command)\n";
        }
      }
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
}

nlohmann::json JsonReport(const Report& r, const RuleCatalogue& rules, const Reproducers& repro) {
  const Options& o = r.options;
  nlohmann::json j;
  j["runtime"] = r.runtime_name;
  j["runtime_version"] = r.runtime_version;
  j["profile"] = r.profile;
  j["seed"] = o.seed;
  j["trees"] = o.trees;
  j["cases"] = o.cases;
  j["rules_filter"] = o.rules;
  j["verdict"] = RunVerdict(r);
  j["complete"] = r.stopped.empty();
  if (!r.stopped.empty()) j["stopped"] = r.stopped;
  j["totals"] = {{"checked", r.checked},          {"passed_exact", r.passed_exact},
                 {"passed_up_to_ties", r.passed_ties}, {"failed", r.failed},
                 {"timeouts", r.timeouts},        {"crashes", r.crashes},
                 {"adapter_errors", r.adapter_errors}, {"skipped", r.skipped},
                 {"not_applicable", r.not_applicable}, {"ignored_findings", r.ignored_findings},
                 {"unclaimed_findings", r.unclaimed_findings}, {"nondeterministic", r.nondeterministic},
                 {"expected_failures", r.expected_failures}, {"new_failures", r.new_failures},
                 {"unexpected_passes", r.unexpected_pass_count()}, {"undecided", r.undecided},
                 {"tie_programs", r.tie_programs}, {"schedule_runs", r.schedule_runs}};
  j["jobs"] = o.jobs;
  j["workers"] = o.workers;
  j["clock"] = r.info.clock;
  if (r.info.clock == "real") j["tick_ms"] = r.info.tick_ms;
  j["rules_claimed"] = o.claimed_rules;
  j["missing_capabilities"] = r.missing_capabilities;
  j["expectations_file"] = o.expectations_file;
  j["unexpected_passes"] = nlohmann::json::array();
  for (const Expectation* e : r.unexpected_passes()) {
    j["unexpected_passes"].push_back(
        {{"program", e->program}, {"rule", e->rule}, {"outcome", e->outcome}, {"reason", e->reason}});
  }
  for (const auto& [id, reason] : r.unexpected_pass_programs) {
    j["unexpected_passes"].push_back({{"program", id}, {"outcome", "FAIL"}, {"reason", reason}});
  }
  j["seconds"] = r.seconds;
  j["check_seconds"] = r.check_seconds;
  j["programs_per_second"] = r.programs_per_second;
  for (const auto& [fam, row] : r.families) {
    j["families"][fam] = {{"checked", row.checked},
                          {"passed", row.passed},
                          {"failed", row.failed},
                          {"expected_failures", row.expected_failures},
                          {"unexpected_passes", row.unexpected_passes},
                          {"not_applicable", row.not_applicable}};
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
                         {"as_expected", GroupExpected(r, g)},
                         {"expected_label", g.expected_label},
                         {"reproducer", [&] {
                            std::string f = ReproducerFile(r, g, static_cast<int>(j["failures"].size()) + 1);
                            return f.empty() || !repro.at(f).ok() ? std::string() : f;
                          }()},
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
    if (res.verdict == Verdict::kNotApplicable) pj["missing"] = res.missing;
    if (res.nondeterministic) pj["nondeterministic"] = true;
    if (res.confirmed_deterministic) pj["confirmed_deterministic"] = true;
    if (!res.departures.empty()) pj["departures"] = res.departures;
    if (res.verdict == Verdict::kFail || res.verdict == Verdict::kCrash || res.verdict == Verdict::kTimeout) {
      pj["as_expected"] = res.expected_failure;
      if (res.expected_failure) {
        pj["expected_because"] = res.expected_reason;
        pj["expected_label"] = res.expected_label;
      }
    }
    pj["findings"] = nlohmann::json::array();
    for (const Finding& f : res.findings) pj["findings"].push_back(FindingJson(f));
    j["problems"].push_back(pj);
  }
  return j;
}

// report.xml (JUnit): one testcase per program, streamed to the file
// (~93 bytes per passed tree: built in memory it was the largest thing a
// long run held, ~28 MB at 100,000 trees counting the string's growth).
absl::Status WriteXmlReport(const Report& r, const std::string& dir) {
  bool passed_read = true;
  absl::Status xml = WriteReportFileWith(dir, "report.xml", [&](std::ostream& x) {
    x << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
    x << "<testsuites>\n<testsuite name=\"asyncspec." << XmlEscape(r.runtime_name) << "\" tests=\""
      << r.results.size() + r.passed_trees.size() + r.unexpected_passes().size() << "\" failures=\""
      << r.new_failures << "\" errors=\"" << r.adapter_errors << "\" skipped=\""
      << (r.skipped + r.not_applicable + r.expected_failures + r.undecided) << "\" time=\"" << r.check_seconds
      << "\">\n";
    if (!r.stopped.empty()) {
      x << "  <properties><property name=\"incomplete\" value=\"" << XmlEscape(r.stopped) << "\"/></properties>\n";
    }
    passed_read = r.passed_trees.ForEach([&](const PassedTree& t) {
      x << "  <testcase classname=\"asyncspec.trees\" name=\"tree:" << t.seed << "\" time=\"" << t.seconds
        << "\"/>\n";
    });
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
        case Verdict::kNotApplicable:
        case Verdict::kUndecided:  // tie mode: neither passed nor failed
          x << "><skipped message=\"" << XmlEscape(res.note) << "\"/></testcase>\n";
          break;
        case Verdict::kTimeout:
        case Verdict::kCrash:
          if (res.expected_failure) {
            x << "><skipped message=\"" << XmlEscape("expected " + std::string(res.verdict == Verdict::kCrash ? "CRASH" : "TIMEOUT") + ": " + res.expected_reason) << "\"/></testcase>\n";
          } else {
            x << "><failure type=\"" << (res.verdict == Verdict::kCrash ? "CRASH" : "TIMEOUT") << "\" message=\""
              << XmlEscape(res.note) << "\"/></testcase>\n";
          }
          break;
        case Verdict::kAdapterError:
          x << "><error type=\"adapter\" message=\"" << XmlEscape(res.note) << "\"/></testcase>\n";
          break;
        case Verdict::kFail: {
          const Finding& f = res.findings.front();
          if (res.expected_failure) {
            x << "><skipped message=\"" << XmlEscape("expected failure " + f.rule + " (" + res.expected_label + "): " + res.expected_reason)
              << "\"/></testcase>\n";
            break;
          }
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
    for (const Expectation* e : r.unexpected_passes()) {
      x << "  <testcase classname=\"asyncspec.expectations\" name=\""
        << XmlEscape(e->outcome + " " + (e->program.empty() ? e->rule : e->program)) << "\"><system-out>"
        << XmlEscape("UNEXPECTED PASS: listed as expected (" + e->reason + ") but did not fail") << "</system-out></testcase>\n";
    }
    x << "</testsuite>\n</testsuites>\n";
  });
  if (xml.ok() && !passed_read) {
    return absl::DataLossError(dir + "/report.xml lacks passed trees: their temporary file could not be read back");
  }
  return xml;
}

}  // namespace

absl::Status WriteReports(const Report& r, const RuleCatalogue& rules, const std::string& dir) {
  if (absl::Status s = PrepareReportDir(dir); !s.ok()) return s;
  RemoveOldReproducers(dir);  // this run's are written below
  absl::StatusOr<Reproducers> repro = WriteReproducers(r, rules, dir);
  if (!repro.ok()) return repro.status();
  std::ostringstream md;
  MarkdownSummary(r, md);
  MarkdownFailures(r, rules, *repro, dir, md);
  if (absl::Status s = WriteReportFile(dir, "report.md", ValidUtf8(md.str())); !s.ok()) return s;
  const nlohmann::json j = JsonReport(r, rules, *repro);
  // `replace`: a byte from an adapter that is not UTF-8 becomes U+FFFD
  // instead of throwing (which would lose the whole report).
  if (absl::Status s = WriteReportFile(dir, "report.json",
                                       j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
      !s.ok()) {
    return s;
  }
  return WriteXmlReport(r, dir);
}

}  // namespace asyncspec::conformance
