// The golden cases of spec/cases (recorded from CPython by
// spec/cases/record.py), read as the model's tests need them.
#ifndef ASYNCSPEC_SPEC_MODEL_GOLDEN_CASES_TESTING_H_
#define ASYNCSPEC_SPEC_MODEL_GOLDEN_CASES_TESTING_H_

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace asyncspec::spec::testing {

// spec/cases in the test's runfiles (a test with data = ["//spec/cases:all"]),
// else relative to the working directory.
inline std::string GoldenCasesDir() {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  const char* ws = std::getenv("TEST_WORKSPACE");
  if (srcdir && ws) return std::string(srcdir) + "/" + ws + "/spec/cases";
  return "spec/cases";
}

struct GoldenCase {
  std::string path;
  std::string name;     // its "name", else its path
  nlohmann::json json;  // the whole file
};

// Every spec/cases/*.json, sorted by path. A file that is not a JSON object
// fails the calling test, naming it, and is left out.
inline std::vector<GoldenCase> GoldenCases() {
  std::vector<std::string> paths;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(GoldenCasesDir(), ec)) {
    if (e.path().extension() == ".json") paths.push_back(e.path().string());
  }
  std::sort(paths.begin(), paths.end());
  std::vector<GoldenCase> out;
  for (const std::string& path : paths) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    nlohmann::json j = nlohmann::json::parse(ss.str(), nullptr, false);
    if (!j.is_object()) {
      ADD_FAILURE() << path << ": not a golden case (a JSON object)";
      continue;
    }
    const std::string name = j.contains("name") && j["name"].is_string() ? j["name"].get<std::string>() : path;
    out.push_back(GoldenCase{path, name, std::move(j)});
  }
  return out;
}

}  // namespace asyncspec::spec::testing

#endif  // ASYNCSPEC_SPEC_MODEL_GOLDEN_CASES_TESTING_H_
