// The resident set of this process, for tests that require memory to stay
// flat (memory_test, passed_trees_test): a test that can fail when memory
// grows, not a timing test.
#ifndef ASYNCSPEC_CONFORMANCE_RSS_TESTING_H_
#define ASYNCSPEC_CONFORMANCE_RSS_TESTING_H_

#include <fstream>
#include <string>

namespace asyncspec::conformance::testing {

// A "Vm...:" line of /proc/self/status in kB ("VmRSS:" now, "VmHWM:" the
// peak); -1 if it cannot be read.
inline long StatusKb(const std::string& key = "VmRSS:") {
  std::ifstream in("/proc/self/status");
  std::string k;
  long v = -1;
  while (in >> k) {
    if (k == key) {
      in >> v;
      break;
    }
  }
  return v;
}

}  // namespace asyncspec::conformance::testing

#endif  // ASYNCSPEC_CONFORMANCE_RSS_TESTING_H_
