#include "conformance/rules.h"

#include <fnmatch.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <sstream>
#include <cstdlib>

namespace asyncspec::conformance {
namespace {

bool LooksLikeId(const std::string& s) {
  auto dash = s.find('-');
  if (dash == std::string::npos || dash == 0 || dash + 1 >= s.size()) return false;
  for (std::size_t i = 0; i < dash; ++i) {
    if (!std::isupper(static_cast<unsigned char>(s[i]))) return false;
  }
  for (std::size_t i = dash + 1; i < s.size(); ++i) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
  }
  return true;
}

// One alternative, by fnmatch(3) (no escapes: a backslash is literal).
bool GlobOne(std::string_view p, std::string_view t) {
  return fnmatch(std::string(p).c_str(), std::string(t).c_str(), FNM_NOESCAPE) == 0;
}

}  // namespace

RuleCatalogue RuleCatalogue::Parse(std::string_view markdown) {
  RuleCatalogue c;
  std::istringstream in{std::string(markdown)};
  std::string line;
  RuleText* cur = nullptr;
  bool in_profiles = false;
  bool in_source = false;  // inside a rule's Source: paragraph
  while (std::getline(in, line)) {
    if (line.rfind("## ", 0) == 0) in_profiles = line == "## Rule profiles";
    if (in_profiles && line.rfind("| `", 0) == 0) {
      // | `name` | glob, glob, ... | what it is for |
      auto close = line.find('`', 3);
      auto bar = close == std::string::npos ? std::string::npos : line.find('|', close);
      auto end = bar == std::string::npos ? std::string::npos : line.find('|', bar + 1);
      if (end != std::string::npos) {
        std::vector<std::string>& globs = c.profiles_[line.substr(3, close - 3)];
        std::string cell = line.substr(bar + 1, end - bar - 1), g;
        std::istringstream cells(cell);
        while (std::getline(cells, g, ',')) {
          g.erase(std::remove_if(g.begin(), g.end(), [](char ch) { return ch == ' ' || ch == '`'; }), g.end());
          if (!g.empty()) globs.push_back(g);
        }
      }
      continue;
    }
    if (line.rfind("### ", 0) == 0) {
      std::string rest = line.substr(4);
      auto sp = rest.find(' ');
      std::string id = rest.substr(0, sp);
      if (LooksLikeId(id)) {
        RuleText r;
        r.id = id;
        r.title = sp == std::string::npos ? "" : rest.substr(sp + 1);
        c.order_.push_back(id);
        cur = &(c.rules_[id] = r);
        in_source = false;
      } else {
        cur = nullptr;
      }
      continue;
    }
    if (line.rfind("#", 0) == 0 || line.rfind("---", 0) == 0) {
      cur = nullptr;
      continue;
    }
    if (!cur) continue;
    std::size_t b = line.find_first_not_of(' ');
    // A rule's "Source:" paragraph (RULES.md) says where the rule comes
    // from; reports quote the statement, so it is kept apart.
    if (b != std::string::npos && line.compare(b, 7, "Source:") == 0) in_source = true;
    std::string& text = in_source ? cur->source : cur->statement;
    if (b == std::string::npos) {
      if (!text.empty() && text.back() != '\n') text += "\n";
      in_source = false;
      continue;
    }
    if (!text.empty() && text.back() != '\n') text += ' ';
    text += line.substr(b);
  }
  for (auto& [id, r] : c.rules_) {
    while (!r.statement.empty() && r.statement.back() == '\n') r.statement.pop_back();
    while (!r.source.empty() && r.source.back() == '\n') r.source.pop_back();
  }
  return c;
}

const RuleText* RuleCatalogue::Find(const std::string& id) const {
  auto it = rules_.find(id);
  return it == rules_.end() ? nullptr : &it->second;
}

std::vector<std::string> RuleCatalogue::IdsOfFamily(const std::string& family) const {
  std::vector<std::string> out;
  for (const std::string& id : order_) {
    if (FamilyOf(id) == family) out.push_back(id);
  }
  return out;
}

std::string DataRoot(const char* argv0) {
  std::vector<std::string> roots;
  if (const char* r = std::getenv("RUNFILES_DIR")) roots.push_back(std::string(r) + "/asyncspec");
  if (const char* r = std::getenv("TEST_SRCDIR")) roots.push_back(std::string(r) + "/asyncspec");
  roots.push_back(std::string(argv0) + ".runfiles/asyncspec");
  for (const std::string& r : roots) {
    if (std::filesystem::exists(r + "/spec/cases")) return r;
  }
  return ".";
}

std::string LocateRulesMd(const std::string& root) {
  namespace fs = std::filesystem;
  if (fs::exists(root + "/spec/RULES.md")) return root + "/spec/RULES.md";
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(root + "/spec/cases", ec)) {
    if (e.path().extension() != ".json") continue;
    fs::path real = fs::canonical(e.path(), ec);
    if (!ec && fs::exists(real.parent_path().parent_path() / "RULES.md")) {
      return (real.parent_path().parent_path() / "RULES.md").string();
    }
    break;
  }
  if (const char* ws = std::getenv("BUILD_WORKSPACE_DIRECTORY")) return std::string(ws) + "/spec/RULES.md";
  return root + "/spec/RULES.md";
}

std::string FamilyOf(const std::string& rule_id) {
  auto dash = rule_id.find('-');
  return dash == std::string::npos ? rule_id : rule_id.substr(0, dash);
}

bool GlobMatch(std::string_view pattern, std::string_view text) {
  std::size_t start = 0;
  while (true) {
    std::size_t comma = pattern.find(',', start);
    std::string_view alt = pattern.substr(start, comma == std::string_view::npos ? pattern.npos
                                                                                 : comma - start);
    if (!alt.empty() && GlobOne(alt, text)) return true;
    if (comma == std::string_view::npos) return false;
    start = comma + 1;
  }
}

}  // namespace asyncspec::conformance
