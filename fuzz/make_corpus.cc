// Writes the seed corpora of the fuzz targets from the golden cases, as the
// build does for //fuzz:case_corpus (bazel-bin/fuzz/case_corpus/):
// `make_corpus CASES_DIR CORPUS_DIR`.
// program_json/ and differential/ get each case's program, program_text/ its
// text form, outcome_json/ its recorded outcome.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/flags/parse.h"
#include "absl/flags/usage.h"

#include "spec/json.h"
#include "spec/text.h"

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("writes the fuzz seed corpora of the golden cases: make_corpus CASES_DIR CORPUS_DIR");
  const std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  if (args.size() != 3) {
    std::cerr << "usage: make_corpus CASES_DIR CORPUS_DIR (--help)\n";
    return 2;
  }
  namespace fs = std::filesystem;
  const fs::path out(args[2]);
  for (const char* d : {"program_json", "program_text", "outcome_json", "differential"}) {
    fs::create_directories(out / d);
  }
  int n = 0;
  for (const auto& e : fs::directory_iterator(args[1])) {
    if (e.path().extension() != ".json") continue;
    std::ifstream in(e.path());
    std::stringstream ss;
    ss << in.rdbuf();
    auto c = nlohmann::json::parse(ss.str(), nullptr, false);
    if (c.is_discarded()) continue;
    auto p = asyncspec::spec::ProgramFromJson(c["program"].dump());
    if (!p.ok()) {
      std::cerr << e.path() << ": " << p.status() << "\n";
      return 1;
    }
    const std::string name = e.path().stem().string();
    std::ofstream(out / "program_json" / (name + ".json")) << asyncspec::spec::ProgramToJson(*p);
    std::ofstream(out / "differential" / (name + ".json")) << asyncspec::spec::ProgramToJson(*p);
    std::ofstream(out / "program_text" / (name + ".txt")) << asyncspec::spec::ProgramToText(*p);
    std::ofstream(out / "outcome_json" / (name + ".json")) << c["expected"].dump();
    ++n;
  }
  std::cout << "make_corpus: " << n << " cases\n";
  return 0;
}
