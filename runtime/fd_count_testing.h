// IO-1 in tests: no file descriptor outlives the code that opened it. The
// process's open descriptors are counted in /proc/self/fd before and after.
#ifndef ASYNCSPEC_RUNTIME_FD_COUNT_TESTING_H_
#define ASYNCSPEC_RUNTIME_FD_COUNT_TESTING_H_

#include <dirent.h>

#include <gtest/gtest.h>

namespace asyncspec::rt::testing {

// The descriptors open in this process now (the one that reads the
// directory counts too, the same each time); -1 if /proc cannot be read.
inline int OpenFds() {
  DIR* d = opendir("/proc/self/fd");
  if (d == nullptr) return -1;
  int n = 0;
  while (dirent* e = readdir(d)) n += e->d_name[0] != '.';
  closedir(d);
  return n;
}

// Expects, when it goes out of scope, as many open descriptors as when it
// was made: declare it before whatever opens descriptors (a Runner, its
// epoll descriptor, sockets), so that it checks after they are destroyed.
class ExpectNoFdLeft {
 public:
  ExpectNoFdLeft() : before_(OpenFds()) { EXPECT_GE(before_, 0) << "cannot read /proc/self/fd"; }
  ExpectNoFdLeft(const ExpectNoFdLeft&) = delete;
  ExpectNoFdLeft& operator=(const ExpectNoFdLeft&) = delete;
  ~ExpectNoFdLeft() { EXPECT_EQ(OpenFds(), before_) << "IO-1: a descriptor was left open"; }

 private:
  int before_;
};

}  // namespace asyncspec::rt::testing

#endif  // ASYNCSPEC_RUNTIME_FD_COUNT_TESTING_H_
