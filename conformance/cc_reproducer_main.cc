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

#include <nlohmann/json.hpp>

#include "conformance/cc_reproducer.h"
#include "conformance/reproducer.h"
#include "conformance/rules.h"
#include "spec/json.h"
#include "spec/model/model.h"
#include "spec/text.h"
#include "spec/validate.h"

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
  std::string program_file, rule, rules_md, profile_name = "spec", name = "repro.cc";
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&](const char* flag, std::string* v) {
      const std::string p = std::string("--") + flag + "=";
      if (a.rfind(p, 0) != 0) return false;
      *v = a.substr(p.size());
      return true;
    };
    if (!value("program", &program_file) && !value("rule", &rule) && !value("rules_md", &rules_md) &&
        !value("profile", &profile_name) && !value("name", &name)) {
      return Fail("unknown argument '" + a + "'");
    }
  }
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
