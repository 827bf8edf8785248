// cc_reproducer: writes the reference-runtime reproducer (cc_reproducer.h)
// of one program, with every element of the model's outcome as required,
// so that the file passes (exits 0) exactly when the runtime it is built
// with agrees with the model on the whole outcome. The check writes its
// reproducers itself (report.cc, only the differing elements); this tool is
// for the tests (cc_reproducer_test.sh) and for writing one by hand.
//
//   cc_reproducer --program=FILE --rule=GA-2 --rules_md=spec/RULES.md [--profile=spec] [--name=repro.cc]
//
// FILE is a program in the text form (spec/LANGUAGE.md), the JSON form
// (spec/FORMAT.md), or a golden case (its "program"). The source goes to
// standard output; a bad program or flag is an error on stderr, exit 2.
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "conformance/cc_reproducer.h"
#include "conformance/reproducer.h"
#include "conformance/rules.h"
#include "spec/json.h"
#include "spec/model/model.h"
#include "spec/text.h"
#include "spec/validate.h"

ABSL_FLAG(std::string, program, "", "the program: text form, JSON form, or a golden case file (required)");
ABSL_FLAG(std::string, rule, "", "the rule ID the reproducer names, e.g. GA-2 (required)");
ABSL_FLAG(std::string, rules_md, "", "spec/RULES.md, for the rule's title and statement (required)");
ABSL_FLAG(std::string, profile, "spec", "the model's profile: spec, shipped-3.11, shipped-3.12 or shipped-3.13");
ABSL_FLAG(std::string, name, "repro.cc", "the file name the reproducer's build command uses");

namespace ac = asyncspec::conformance;
namespace spec = asyncspec::spec;

namespace {

int Fail(const std::string& msg) {
  std::cerr << "cc_reproducer: " << msg << "\n";
  return 2;
}

bool Slurp(const std::string& path, std::string* out) {
  std::ifstream f(path);
  if (!f) return false;
  std::ostringstream s;
  s << f.rdbuf();
  *out = s.str();
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "writes the reference-runtime C++ reproducer of one program to stdout:\n"
      "  cc_reproducer --program=FILE --rule=GA-2 --rules_md=spec/RULES.md [--profile=spec] [--name=repro.cc]");
  const std::vector<char*> rest = absl::ParseCommandLine(argc, argv);
  if (rest.size() > 1) return Fail(std::string("unexpected argument '") + rest[1] + "' (--help)");
  const std::string program_file = absl::GetFlag(FLAGS_program), rule = absl::GetFlag(FLAGS_rule),
                    rules_md = absl::GetFlag(FLAGS_rules_md), profile_name = absl::GetFlag(FLAGS_profile),
                    name = absl::GetFlag(FLAGS_name);
  if (program_file.empty() || rule.empty() || rules_md.empty()) return Fail("--program, --rule and --rules_md are required");
  std::string text, rules_text;
  if (!Slurp(program_file, &text)) return Fail("cannot read " + program_file);
  if (!Slurp(rules_md, &rules_text)) return Fail("cannot read " + rules_md);
  const std::size_t first = text.find_first_not_of(" \t\r\n");
  absl::StatusOr<spec::Program> program = absl::InvalidArgumentError("empty file");
  if (first != std::string::npos && text[first] == '{') {
    nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_discarded()) return Fail(program_file + ": not valid JSON");
    program = spec::ProgramFromJson(j.contains("program") ? j["program"].dump() : text);
  } else {
    program = spec::ProgramFromText(text);
  }
  if (!program.ok()) return Fail(program_file + ": " + std::string(program.status().message()));
  if (absl::Status v = spec::Validate(*program); !v.ok()) return Fail(program_file + ": " + std::string(v.message()));
  spec::Profile profile;
  std::string profile_error;
  if (!spec::ProfileNamed(profile_name, &profile, &profile_error)) return Fail("--profile: " + profile_error);
  const ac::RuleCatalogue rules = ac::RuleCatalogue::Parse(rules_text);
  const ac::RuleText* rt = rules.Find(rule);
  if (!rt) return Fail("rule " + rule + " is not in " + rules_md);

  ac::ReproducerInput in;
  in.program = *program;
  in.rule = rule;
  in.rule_title = rt->title;
  in.rule_statement = rt->statement;
  in.profile = profile.name;
  in.runtime = "the model (every element of its outcome required)";
  in.replay = "bazel run //conformance:check -- --program=" + program_file;
  for (const auto& [key, json] : ac::OutcomeElements(spec::RunModel(*program, profile))) in.differing[key] = {json, ""};
  std::cout << ac::CcReproducer(in, name);
  return 0;
}
