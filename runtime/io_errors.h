// Python's OSError family for the runtime's sockets (tcp.h): the errno and
// strerror pair, str() "[Errno 111] Connect call failed ...", repr()
// "ConnectionRefusedError(111, \"Connect call failed ...\")", and the
// subclasses asyncio's socket calls raise (ConnectionRefusedError,
// ConnectionResetError, BrokenPipeError), so `catch (const rt::OSError&)`
// and `except* OSError` (rt::Match<rt::OSError>) select what Python selects.
#ifndef ASYNCSPEC_RUNTIME_IO_ERRORS_H_
#define ASYNCSPEC_RUNTIME_IO_ERRORS_H_

#include <string>

#include "runtime/errors.h"

namespace asyncspec::rt {

class OSError : public virtual Exception {
 public:
  OSError(int err, std::string strerror)
      : BaseException("[Errno " + std::to_string(err) + "] " + strerror), errno_(err), strerror_(std::move(strerror)) {}
  const char* type_name() const override { return "OSError"; }
  int error_number() const { return errno_; }
  const std::string& strerror() const { return strerror_; }
  // OSError's repr: Name(errno, 'strerror').
  std::string repr() const override;

 private:
  int errno_;
  std::string strerror_;
};

// Subclasses, each constructed as OSError is (BaseException is a virtual
// base: the most derived class gives it the message).
#define ASYNCSPEC_RT_OSERROR(Name, Base)                                                 \
  class Name : public Base {                                                             \
   public:                                                                               \
    Name(int err, std::string strerror)                                                  \
        : BaseException("[Errno " + std::to_string(err) + "] " + strerror), Base(err, strerror) {} \
    const char* type_name() const override { return #Name; }                             \
  }

ASYNCSPEC_RT_OSERROR(ConnectionError, OSError);
ASYNCSPEC_RT_OSERROR(ConnectionRefusedError, ConnectionError);
ASYNCSPEC_RT_OSERROR(ConnectionResetError, ConnectionError);
ASYNCSPEC_RT_OSERROR(BrokenPipeError, ConnectionError);
#undef ASYNCSPEC_RT_OSERROR

// The OSError subclass Python's PyErr_SetFromErrno picks for `err`
// (ECONNREFUSED -> ConnectionRefusedError, ...), with `strerror` as its text
// (strerror(err) when empty).
std::exception_ptr MakeOSError(int err, std::string strerror = {});

}  // namespace asyncspec::rt

#endif  // ASYNCSPEC_RUNTIME_IO_ERRORS_H_
