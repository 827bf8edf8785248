// The rule catalogue of spec/RULES.md as data, for failure reports.
//
// RULES.md is the one place where rule statements live; the checker reads it
// at run time (a data dependency) instead of copying statements, so reports
// always quote the current text. A rule is a "### <ID> <title>" heading; its
// statement is the prose up to the next heading or rule line.
#ifndef ASYNCSPEC_CONFORMANCE_RULES_H_
#define ASYNCSPEC_CONFORMANCE_RULES_H_

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace asyncspec::conformance {

struct RuleText {
  std::string id;         // "TG-3"
  std::string title;      // "Errors form an ExceptionGroup, in completion order"
  std::string statement;  // the paragraph(s) below the heading, lines joined by spaces
  std::string source;     // its "Source:" paragraph: the deciding upstream source
};

class RuleCatalogue {
 public:
  // Parses the text of RULES.md. Headings that do not look like "FAM-n" are
  // ignored. Never fails: an empty or foreign text gives an empty catalogue.
  static RuleCatalogue Parse(std::string_view markdown);

  // nullptr if unknown.
  const RuleText* Find(const std::string& id) const;
  // Every ID of a family ("TG" -> TG-1..TG-12), in document order.
  std::vector<std::string> IdsOfFamily(const std::string& family) const;
  std::size_t size() const { return rules_.size(); }
  // A rule profile of RULES.md "Rule profiles" ("asyncio", "structured"):
  // its rule-ID globs; nullptr if there is none of that name.
  const std::vector<std::string>* Profile(const std::string& name) const {
    auto it = profiles_.find(name);
    return it == profiles_.end() ? nullptr : &it->second;
  }

 private:
  std::map<std::string, RuleText> rules_;
  std::map<std::string, std::vector<std::string>> profiles_;
  std::vector<std::string> order_;
};

// Where spec/RULES.md is, given the runfiles root: there if spec/BUILD
// exports it, else next to the sources of the golden cases (runfiles are
// symlinks into the source tree), else in the workspace of `bazel run`.
std::string LocateRulesMd(const std::string& runfiles_root);

// The root of the data files (//conformance:check_data) of the binary
// `argv0`: its runfiles when run by `bazel run` / `bazel test`, else ".".
// A candidate counts if it has spec/cases (the golden cases).
std::string DataRoot(const char* argv0);

// "TG-3" -> "TG"; "INV-5" -> "INV"; anything without '-' is its own family.
std::string FamilyOf(const std::string& rule_id);

// Shell-style glob on rule IDs and program IDs, by fnmatch(3): '*' any run,
// '?' one character, '[...]' a set; a backslash is literal. A
// comma-separated list matches if any alternative does ("TG-*,GA-2").
bool GlobMatch(std::string_view pattern, std::string_view text);

}  // namespace asyncspec::conformance

#endif  // ASYNCSPEC_CONFORMANCE_RULES_H_
