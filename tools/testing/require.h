// What a GoogleTest test does when an interpreter it needs is missing.
#ifndef ASYNCSPEC_TOOLS_TESTING_REQUIRE_H_
#define ASYNCSPEC_TOOLS_TESTING_REQUIRE_H_

#include <pwd.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

namespace asyncspec::testing {

// A missing interpreter may skip a test only outside CI (CI unset or not
// "true") and only when ASYNCSPEC_ALLOW_SKIP=1; otherwise it fails, so that
// `bazel test //...` never reports PASSED for a check that did not run.
inline bool SkipAllowed() {
  const char* ci = std::getenv("CI");
  if (ci != nullptr && std::strcmp(ci, "true") == 0) return false;
  const char* allow = std::getenv("ASYNCSPEC_ALLOW_SKIP");
  return allow != nullptr && std::strcmp(allow, "1") == 0;
}

// CPython `version` (X.Y.Z) under the pyenv root: PYENV_ROOT (what `pyenv
// root` prints; .bazelrc passes it to tests), else ~/.pyenv of the user from
// the password database (Bazel changes HOME). The first candidate when none
// is installed.
inline std::string PyenvPython(const std::string& version) {
  std::string root;
  if (const char* r = std::getenv("PYENV_ROOT"); r != nullptr && *r != '\0') root = r;
  const std::string rel = "/versions/" + version + "/bin/python3";
  if (!root.empty() && std::filesystem::exists(root + rel)) return root + rel;
  if (const passwd* pw = getpwuid(getuid()); pw != nullptr && pw->pw_dir != nullptr) {
    const std::string home = std::string(pw->pw_dir) + "/.pyenv";
    if (root.empty() || std::filesystem::exists(home + rel)) return home + rel;
  }
  return root + rel;
}

}  // namespace asyncspec::testing

// In a test body: fails (or, when SkipAllowed(), skips with a loud SKIP line)
// unless the file `path` exists.
#define ASYNCSPEC_REQUIRE_FILE(path)                                                                \
  do {                                                                                              \
    const std::string asyncspec_required_ = (path);                                                 \
    if (!std::filesystem::exists(asyncspec_required_)) {                                            \
      if (::asyncspec::testing::SkipAllowed()) {                                                    \
        GTEST_SKIP() << "SKIP (ASYNCSPEC_ALLOW_SKIP=1): " << asyncspec_required_ << " is not installed"; \
      }                                                                                             \
      FAIL() << asyncspec_required_ << " is not installed; install it (tools/setup.sh), or set "   \
             << "ASYNCSPEC_ALLOW_SKIP=1 outside CI to skip";                                       \
    }                                                                                               \
  } while (0)

#endif  // ASYNCSPEC_TOOLS_TESTING_REQUIRE_H_
