// What a GoogleTest test does when an interpreter it needs is missing.
#ifndef ASYNCSPEC_TOOLS_TESTING_REQUIRE_H_
#define ASYNCSPEC_TOOLS_TESTING_REQUIRE_H_

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "tools/pyenv.h"

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

using ::asyncspec::PyenvPython;

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
