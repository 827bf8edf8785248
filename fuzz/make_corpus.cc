// Writes the seed corpora of the fuzz targets from the golden cases:
// `bazel run //fuzz:make_corpus -- $PWD/spec/cases $PWD/fuzz/corpus`.
// program_json/ and differential/ get each case's program, program_text/ its
// text form, outcome_json/ its recorded outcome.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "spec/json.h"
#include "spec/text.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: make_corpus CASES_DIR CORPUS_DIR\n";
    return 2;
  }
  namespace fs = std::filesystem;
  const fs::path out(argv[2]);
  for (const char* d : {"program_json", "program_text", "outcome_json", "differential"}) {
    fs::create_directories(out / d);
  }
  int n = 0;
  for (const auto& e : fs::directory_iterator(argv[1])) {
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
