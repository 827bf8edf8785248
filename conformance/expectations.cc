#include "conformance/expectations.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"

namespace asyncspec::conformance {

absl::StatusOr<Expectations> ParseExpectations(const std::string& text, const std::string& path) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  auto bad = [&](const std::string& why) { return absl::InvalidArgumentError(path + ": " + why); };
  if (j.is_discarded() || !j.is_object()) return bad("not a JSON object");
  Expectations e;
  e.path = path;
  if (j.contains("runtime")) {
    if (!j["runtime"].is_string()) return bad("runtime must be a string");
    e.runtime = j["runtime"].get<std::string>();
  }
  if (!j.contains("expected")) return e;
  if (!j["expected"].is_array()) return bad("expected must be a list");
  int k = 0;
  for (const auto& x : j["expected"]) {
    const std::string at = "expected[" + std::to_string(k++) + "]";
    if (!x.is_object()) return bad(at + " must be an object");
    Expectation t;
    for (auto [field, dest] : {std::pair{"program", &t.program}, {"rule", &t.rule}, {"outcome", &t.outcome},
                               {"reason", &t.reason}, {"as_profile", &t.as_profile}}) {
      if (!x.contains(field)) continue;
      if (!x[field].is_string()) return bad(at + "." + field + " must be a string");
      *dest = x[field].get<std::string>();
    }
    for (const auto& [field, _] : x.items()) {
      if (field != "program" && field != "rule" && field != "outcome" && field != "reason" && field != "as_profile") {
        return bad(at + ": unknown field '" + field + "'");
      }
    }
    if (t.outcome != "FAIL" && t.outcome != "CRASH" && t.outcome != "TIMEOUT") {
      return bad(at + ".outcome must be FAIL, CRASH or TIMEOUT");
    }
    if (t.program.empty() && t.rule.empty()) return bad(at + " needs a program or a rule");
    if (t.outcome != "FAIL" && t.program.empty()) return bad(at + ": a " + t.outcome + " entry needs a program");
    if (t.reason.empty()) return bad(at + ".reason is required (say why the failure is expected)");
    if (!t.as_profile.empty() && t.as_profile != "3.11" && t.as_profile != "3.12" && t.as_profile != "3.13") {
      return bad(at + ".as_profile must be 3.11, 3.12 or 3.13");
    }
    if (!t.as_profile.empty() && t.outcome != "FAIL") return bad(at + ": as_profile is for FAIL entries");
    e.entries.push_back(std::move(t));
  }
  return e;
}

absl::StatusOr<Expectations> LoadExpectations(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
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
    x["outcome"] = t.outcome;
    if (!t.as_profile.empty()) x["as_profile"] = t.as_profile;
    x["reason"] = t.reason;
    out += (i ? ",\n    " : "\n    ") + x.dump();
  }
  out += e.entries.empty() ? "]\n}\n" : "\n  ]\n}\n";
  return out;
}

}  // namespace asyncspec::conformance
