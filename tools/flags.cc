#include "tools/flags.h"

#include <cstdio>
#include <cstdlib>
#include <map>

#include "absl/flags/commandlineflag.h"
#include "absl/flags/parse.h"
#include "absl/flags/reflection.h"
#include "absl/flags/usage.h"

namespace asyncspec {
namespace {

std::string& ProgramName() {
  static std::string* name = new std::string("command");
  return *name;
}

// --help: the usage message, then each of the program's flags (Abseil's
// own left out) with its default and help string. Printed here rather than
// by Abseil, whose --help exits 1 in the Debian release.
[[noreturn]] void Help() {
  std::string out = std::string(absl::ProgramUsageMessage()) + "\n\nFlags:\n";
  std::map<std::string, const absl::CommandLineFlag*> flags;
  for (const auto& [name, f] : absl::GetAllFlags()) {
    if (f->Filename().find("absl/") == std::string::npos) flags.emplace(std::string(name), f);
  }
  for (const auto& [name, f] : flags) {
    out += "  --" + name + (f->IsOfType<bool>() ? " / --no" + name : "") + " (default " +
           (f->DefaultValue().empty() ? "none" : f->DefaultValue()) + ")\n      " + f->Help() + "\n";
  }
  out += "  --help (this text)\n";
  std::fputs(out.c_str(), stdout);
  std::exit(0);
}

}  // namespace

void FlagError(std::string_view why) {
  std::fprintf(stderr, "%s: %.*s (--help)\n", ProgramName().c_str(), static_cast<int>(why.size()), why.data());
  std::exit(2);
}

std::vector<std::string> ParseFlagsOrExit(int argc, char** argv, std::string_view usage, int max_positional) {
  if (argc > 0) {
    const std::string_view self = argv[0];
    ProgramName() = std::string(self.substr(self.rfind('/') + 1));
  }
  // Abseil allows one usage message per process (a second call aborts);
  // a main parses once, a test may parse several argvs.
  static const bool usage_set = [usage] {
    absl::SetProgramUsageMessage(absl::string_view(usage.data(), usage.size()));
    return true;
  }();
  (void)usage_set;
  // Checked before Abseil parses, so that a bad flag is our exit 2. Each
  // value is parsed by its flag's own parser (ParseFrom); Abseil sets the
  // same value again below.
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a == "--") break;
    if (a == "--help" || a == "-help" || a == "-h" || a == "--helpfull") Help();
    if (a.size() < 2 || a[0] != '-') continue;
    std::string_view body = a.substr(a[1] == '-' ? 2 : 1);
    std::string name(body.substr(0, body.find('=')));
    const bool has_value = body.find('=') != std::string_view::npos;
    absl::CommandLineFlag* f = absl::FindCommandLineFlag(name);
    if (f == nullptr && name.rfind("no", 0) == 0) {
      absl::CommandLineFlag* positive = absl::FindCommandLineFlag(name.substr(2));
      if (positive != nullptr && positive->IsOfType<bool>()) {
        if (has_value) FlagError("--" + name + " takes no value");
        continue;
      }
    }
    if (f == nullptr) FlagError("unknown flag " + std::string(a));
    std::string value;
    if (has_value) {
      value = std::string(body.substr(body.find('=') + 1));
    } else if (f->IsOfType<bool>()) {
      continue;
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      FlagError("--" + name + " needs a value");
    }
    std::string error;
    if (!f->ParseFrom(value, &error)) FlagError("--" + name + "=" + value + ": " + error);
  }
  const std::vector<char*> rest = absl::ParseCommandLine(argc, argv);
  std::vector<std::string> positional(rest.begin() + (rest.empty() ? 0 : 1), rest.end());
  if (static_cast<int>(positional.size()) > max_positional) {
    FlagError("unexpected argument '" + positional[static_cast<std::size_t>(max_positional)] + "'");
  }
  return positional;
}

}  // namespace asyncspec
