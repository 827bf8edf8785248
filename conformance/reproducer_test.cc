// The reproducers (reproducer.h .py, cc_reproducer.h .cc) with hostile text
// in every field that reaches them: the program's name, labels, values and
// cancel messages, and the rule, profile, runtime name and replay command
// (which come from an adapter's hello and the command line). Each file must
// parse/compile (python3's ast, g++ -fsyntax-only, with the runtime's
// headers), run, pass (the elements required are the model's whole
// outcome, which Python's asyncio and the reference runtime both give for
// this program) and print the runtime's name back exactly.
#include <cstdlib>
#include <fstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "conformance/cc_reproducer.h"
#include "conformance/hostile_text_testing.h"
#include "conformance/reproducer.h"
#include "spec/json.h"
#include "spec/model/model.h"
#include "spec/validate.h"

namespace asyncspec::conformance {
namespace {

using namespace std::string_literals;

const std::string& kH = testing::kHostileLine;
using testing::Slurp;

std::string Tmp() { return testing::TmpDir(); }

ReproducerInput Hostile() {
  const nlohmann::json h = kH;
  const nlohmann::json j = {
      {"asyncspec", 1},
      {"name", h},
      {"main",
       {{{"op", "task"}, {"task", {{"name", "a"}, {"body", {{{"op", "sleep"}, {"d", 5}}}}}}},
        {{"op", "sleep"}, {"d", 1}},
        {{"op", "cancel"}, {"target", "a"}, {"msg", h}},
        {{"op", "try"},
         {"name", "t"},
         {"body",
          {{{"op", "task"}, {"task", {{"name", "b"}, {"body", {{{"op", "raise"}, {"label", h}}}}}}},
           {{"op", "sleep"}, {"d", 1}},
           {{"op", "await"}, {"target", "b"}}}},
         {"handlers", {{{"name", "th"}, {"catch", "error"}, {"label", h}, {"star", false}, {"body", nlohmann::json::array()}, {"then", "swallow"}}}}},
        {{"op", "return"}, {"value", h}}}}};
  auto program = spec::ProgramFromJson(j.dump());
  EXPECT_TRUE(program.ok()) << program.status();
  EXPECT_TRUE(spec::Validate(*program).ok());
  ReproducerInput in;
  in.program = *program;
  in.rule = "CX-5";
  in.rule_title = "title " + kH;
  in.rule_statement = "statement " + kH;
  in.profile = "spec";
  in.runtime = "runtime " + kH;
  in.replay = "bazel run //conformance:check -- --adapter='" + kH + "'";
  spec::Profile profile;
  profile = spec::SpecProfile();
  const spec::Outcome model = spec::RunModel(*program, profile);
  const std::string json = spec::OutcomeToJson(model);
  EXPECT_NE(json.find("\\u0000"), std::string::npos) << "the hostile text reaches the outcome: " << json;
  for (const auto& [key, el] : OutcomeElements(model)) in.differing[key] = {el, ""};
  return in;
}

TEST(PythonReproducer, HostileFieldsParseRunAndPrintBack) {
  const ReproducerInput in = Hostile();
  const std::string file = Tmp() + "/repro.py", out = Tmp() + "/repro.py.out";
  std::ofstream(file, std::ios::binary) << PythonReproducer(in);
  ASSERT_EQ(std::system(("/usr/bin/python3 -c \"import ast, sys; ast.parse(open(sys.argv[1], 'rb').read())\" " + file).c_str()), 0)
      << Slurp(file);
  const int rc = std::system(("/usr/bin/python3 " + file + " > " + out).c_str());
  const std::string printed = Slurp(out);
  EXPECT_EQ(rc, 0) << printed;
  // The text is printed back (it holds the word); an injected os.system
  // would print INJECTED on a line of its own.
  EXPECT_EQ(("\n" + printed).find("\nINJECTED\n"), std::string::npos) << printed;
  EXPECT_NE(printed.find("asyncspec reproducer: rule CX-5, " + in.rule_title + "\n"), std::string::npos) << printed;
  EXPECT_NE(printed.find("checked on: " + in.runtime + "; this run"), std::string::npos) << printed;
  EXPECT_NE(printed.find("PASS: "), std::string::npos) << printed;
}

TEST(CcReproducer, HostileFieldsCompileRunAndPrintBack) {
  const ReproducerInput in = Hostile();
  const std::string file = Tmp() + "/repro_cc.cc", out = Tmp() + "/repro_cc.out";
  std::ofstream(file, std::ios::binary) << CcReproducer(in, file);
  // From the runfiles root, where runtime/ is (the header's command).
  const char* srcdir = std::getenv("TEST_SRCDIR");
  const std::string root = std::string(srcdir ? srcdir : ".") + "/asyncspec";
  const std::string build = CcReproducerBuildCommand(file);
  const std::string compile = build.substr(0, build.find(" && "));
  ASSERT_EQ(std::system(("cd " + root + " && " + compile).c_str()), 0) << Slurp(file);
  const int rc = std::system((build.substr(build.find(" && ") + 4) + " > " + out).c_str());
  const std::string printed = Slurp(out);
  EXPECT_EQ(rc, 0) << printed;
  // The text is printed back (it holds the word); an injected os.system
  // would print INJECTED on a line of its own.
  EXPECT_EQ(("\n" + printed).find("\nINJECTED\n"), std::string::npos) << printed;
  // printf("%s") of a const char*: a NUL is written as the text \0 (quote.h CcCStr).
  std::string c_runtime;
  for (char c : in.runtime) c_runtime += c == '\0' ? "\\0"s : std::string(1, c);
  EXPECT_NE(printed.find("checked on: " + c_runtime + "; this run"), std::string::npos) << printed;
  EXPECT_NE(printed.find("PASS: "), std::string::npos) << printed;
}

}  // namespace
}  // namespace asyncspec::conformance
