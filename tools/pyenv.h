// Where pyenv keeps a CPython: the default interpreter paths of the check,
// the benchmarks and the tests, instead of a hard-coded home directory.
#ifndef ASYNCSPEC_TOOLS_PYENV_H_
#define ASYNCSPEC_TOOLS_PYENV_H_

#include <pwd.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

namespace asyncspec {

// CPython `version` (X.Y.Z) under the pyenv root: PYENV_ROOT (what `pyenv
// root` prints when it is set), else ~/.pyenv of the user from the password
// database (Bazel changes HOME for tests). The PYENV_ROOT path when neither
// has it, so that an error message names where it was looked for.
inline std::string PyenvPython(const std::string& version) {
  const std::string rel = "/versions/" + version + "/bin/python3";
  std::string root;
  if (const char* r = std::getenv("PYENV_ROOT"); r != nullptr && *r != '\0') root = r;
  if (!root.empty() && std::filesystem::exists(root + rel)) return root + rel;
  if (const passwd* pw = getpwuid(getuid()); pw != nullptr && pw->pw_dir != nullptr) {
    const std::string home = std::string(pw->pw_dir) + "/.pyenv";
    if (root.empty() || std::filesystem::exists(home + rel)) return home + rel;
  }
  return root + rel;
}

}  // namespace asyncspec

#endif  // ASYNCSPEC_TOOLS_PYENV_H_
