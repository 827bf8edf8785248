#include "conformance/expectations.h"

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "spec/model/profiles.h"

namespace asyncspec::conformance {
namespace {

// "line L, column C" of byte offset `byte` (1-based, as nlohmann counts:
// the byte at which parsing stopped) in `text`.
std::string LineColumn(const std::string& text, std::size_t byte) {
  int line = 1, column = 1;
  for (std::size_t i = 0; i + 1 < byte && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return std::to_string(line) + ":" + std::to_string(column);
}

}  // namespace

absl::StatusOr<Expectations> ParseExpectations(const std::string& text, const std::string& path) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    // e.what() is "[json.exception.parse_error.101] parse error at line 3,
    // column 5: syntax error ..."; keep its explanation, locate it our way.
    std::string why = e.what();
    if (auto colon = why.find(": "); colon != std::string::npos) why = why.substr(colon + 2);
    return absl::InvalidArgumentError(path + ":" + LineColumn(text, e.byte) + ": not valid JSON: " + why);
  }
  auto bad = [&](const std::string& why) { return absl::InvalidArgumentError(path + ": " + why); };
  if (!j.is_object()) return bad("not a JSON object");
  Expectations e;
  e.path = path;
  if (j.contains("runtime")) {
    if (!j["runtime"].is_string()) return bad("runtime must be a string");
    e.runtime = j["runtime"].get<std::string>();
  }
  if (!j.contains("expected")) return e;
  if (!j["expected"].is_array()) return bad("expected must be a list");
  static const std::set<std::string> kStatus = {"fixed", "open", "candidate", "documented"};
  int k = 0;
  for (const auto& x : j["expected"]) {
    const std::string at = "expected[" + std::to_string(k++) + "]";
    if (!x.is_object()) return bad(at + " must be an object");
    if (x.contains("as_profile")) {
      return bad(at + ".as_profile is not supported: list each departure from spec as its own entry with "
                      "\"departure\" (a row of spec/model/profiles.h), its rule, issue, status and fixed_in");
    }
    Expectation t;
    // Strings; the last three may be null ("none yet").
    const std::pair<const char*, std::string*> kStrings[] = {
        {"program", &t.program}, {"rule", &t.rule},     {"outcome", &t.outcome}, {"reason", &t.reason},
        {"departure", &t.departure}, {"status", &t.status}, {"issue", &t.issue}, {"finding", &t.finding},
        {"fixed_in", &t.fixed_in}};
    for (const auto& [field, _] : x.items()) {
      bool known = false;
      for (const auto& [name, dest] : kStrings) known |= field == name;
      if (!known) return bad(at + ": unknown field '" + field + "'");
    }
    for (const auto& [field, dest] : kStrings) {
      if (!x.contains(field)) continue;
      const std::string f = field;
      const bool nullable = f == "issue" || f == "finding" || f == "fixed_in";
      if (nullable && x[field].is_null()) continue;
      if (!x[field].is_string()) return bad(at + "." + f + " must be a string" + (nullable ? " or null" : ""));
      *dest = x[field].get<std::string>();
      if (nullable && dest->empty()) return bad(at + "." + f + " is empty (use null for none)");
    }
    if (t.outcome != "FAIL" && t.outcome != "CRASH" && t.outcome != "TIMEOUT") {
      return bad(at + ".outcome must be FAIL, CRASH or TIMEOUT");
    }
    if (!t.status.empty() && !kStatus.count(t.status)) {
      return bad(at + ".status must be fixed, open, candidate or documented, got '" + t.status + "'");
    }
    if (t.status == "fixed" && t.fixed_in.empty()) return bad(at + ": a fixed entry needs fixed_in (the release)");
    if (x.contains("issue") && x["issue"].is_null() && t.finding.empty()) {
      return bad(at + ": \"issue\": null needs \"finding\" (the drafted report, conformance/findings/...)");
    }
    if (!t.departure.empty()) {
      const spec::Departure* d = spec::FindDeparture(t.departure);
      if (!d) {
        std::string names;
        for (const spec::Departure& r : spec::Departures()) names += (names.empty() ? "" : ", ") + std::string(r.id);
        return bad(at + ".departure '" + t.departure + "' is not a departure of the model (" + names + ")");
      }
      if (!t.rule.empty() && t.rule != d->rule) {
        return bad(at + ".rule is " + t.rule + " but departure " + t.departure + " breaks " + d->rule);
      }
      t.rule = d->rule;
      if (t.outcome != "FAIL") return bad(at + ": a departure entry is for FAIL");
      if (!x.contains("issue")) return bad(at + ": a departure entry needs issue (a URL, or null with finding)");
      if (t.status.empty()) return bad(at + ": a departure entry needs status");
    }
    if (t.program.empty() && t.rule.empty()) return bad(at + " needs a program or a rule");
    if (t.outcome != "FAIL" && t.program.empty()) return bad(at + ": a " + t.outcome + " entry needs a program");
    if (t.reason.empty()) return bad(at + ".reason is required (say why the failure is expected)");
    e.entries.push_back(std::move(t));
  }
  return e;
}

absl::StatusOr<Expectations> LoadExpectations(const std::string& path, bool must_exist) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    if (must_exist) return absl::NotFoundError("expectations file " + path + " does not exist");
    Expectations e;
    return e;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError("cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ParseExpectations(ss.str(), path);
}

std::string ExpectationsToJson(const Expectations& e) {
  // One entry per line, so that diffs of the file stay readable.
  std::string out = "{\n  \"runtime\": " + nlohmann::json(e.runtime).dump() + ",\n  \"expected\": [";
  for (std::size_t i = 0; i < e.entries.size(); ++i) {
    const Expectation& t = e.entries[i];
    nlohmann::ordered_json x;
    if (!t.program.empty()) x["program"] = t.program;
    if (!t.rule.empty()) x["rule"] = t.rule;
    if (!t.departure.empty()) x["departure"] = t.departure;
    x["outcome"] = t.outcome;
    if (!t.issue.empty()) x["issue"] = t.issue;
    else if (!t.finding.empty()) x["issue"] = nullptr;
    if (!t.finding.empty()) x["finding"] = t.finding;
    if (!t.status.empty()) x["status"] = t.status;
    if (!t.fixed_in.empty()) x["fixed_in"] = t.fixed_in;
    x["reason"] = t.reason;
    out += (i ? ",\n    " : "\n    ") + x.dump();
  }
  out += e.entries.empty() ? "]\n}\n" : "\n  ]\n}\n";
  return out;
}

std::string ExpectationLabel(const Expectation& e) {
  std::string label = e.rule.empty() ? e.program : e.rule;
  static const std::string kCPythonIssue = "https://github.com/python/cpython/issues/";
  if (e.issue.rfind(kCPythonIssue, 0) == 0) {
    label += ", gh-" + e.issue.substr(kCPythonIssue.size());
  } else if (!e.issue.empty()) {
    label += ", " + e.issue;
  } else if (!e.finding.empty()) {
    label += ", candidate bug, " + e.finding;
  }
  if (!e.fixed_in.empty()) {
    label += ", fixed in " + e.fixed_in;
  } else if (!e.status.empty() && e.status != "candidate") {
    label += ", " + e.status;
  }
  return label;
}

}  // namespace asyncspec::conformance
