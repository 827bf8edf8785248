#include "runtime/tcp.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

namespace asyncspec::rt {
namespace {

// A descriptor owned by an operation in progress: closed if the operation
// is cancelled or fails before handing it on (IO-1).
struct OwnedFd {
  int fd = -1;
  ~OwnedFd() {
    if (fd >= 0) ::close(fd);
  }
  int release() { return std::exchange(fd, -1); }
};

// The operation's own handle, registered with the poller while it waits;
// removed before its descriptor is closed or handed on.
struct Registration {
  IoHandle h;
  bool added = false;
  void Add(int fd) {
    h.fd = fd;
    IoPoller::Current().Add(&h);
    added = true;
  }
  ~Registration() {
    if (added) IoPoller::Current().Remove(&h);
  }
};

sockaddr_in Address(const std::string& host, int port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  const std::string& h = host == "localhost" ? std::string("127.0.0.1") : host;
  if (port < 0 || port > 65535 || ::inet_pton(AF_INET, h.c_str(), &a.sin_addr) != 1) {
    throw ValueError("not a numeric IPv4 address and port: " + host + ":" + std::to_string(port));
  }
  return a;
}

void Unregister(std::unique_ptr<IoHandle>& h) {
  if (!h) return;
  Loop* loop = Loop::Current();
  // No loop: the Runner is gone, and with it the registration.
  if (loop && loop->io()) IoPoller::Current().Remove(h.get());
  ::close(h->fd);
  h.reset();
}

}  // namespace

TcpStream::TcpStream(int fd) : h_(std::make_unique<IoHandle>()) {
  h_->fd = fd;
  try {
    IoPoller::Current().Add(h_.get());
  } catch (...) {
    ::close(fd);
    h_.reset();
    throw;
  }
}

TcpStream& TcpStream::operator=(TcpStream&& o) noexcept {
  if (this != &o) {
    close();
    h_ = std::move(o.h_);
  }
  return *this;
}

void TcpStream::close() {
  assert(!h_ || (!h_->reader && !h_->writer));
  Unregister(h_);
}

Coro<std::size_t> TcpStream::read_into(char* buf, std::size_t max) {
  for (;;) {
    if (!h_) co_return 0;
    const ssize_t n = ::recv(h_->fd, buf, max, 0);
    if (n >= 0) co_return static_cast<std::size_t>(n);
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) std::rethrow_exception(MakeOSError(errno));
    co_await IoWait(h_.get(), IoWait::kRead);
  }
}

Coro<std::string> TcpStream::read(std::size_t max) {
  std::string out(max, '\0');
  const std::size_t n = co_await read_into(out.data(), max);
  out.resize(n);
  co_return out;
}

Coro<> TcpStream::write(std::string_view data) {
  while (!data.empty()) {
    if (!h_) throw ConnectionResetError(ECONNRESET, "Connection lost");
    const ssize_t n = ::send(h_->fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n >= 0) {
      data.remove_prefix(static_cast<std::size_t>(n));
      continue;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) std::rethrow_exception(MakeOSError(errno));
    co_await IoWait(h_.get(), IoWait::kWrite);
  }
}

Coro<TcpStream> open_connection(std::string host, int port) {
  const sockaddr_in a = Address(host, port);
  OwnedFd s{::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)};
  if (s.fd < 0) std::rethrow_exception(MakeOSError(errno));
  const int one = 1;
  ::setsockopt(s.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);  // asyncio's default too
  int err = 0;
  if (::connect(s.fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0) {
    err = errno;
    if (err == EINPROGRESS) {
      Registration r;
      r.Add(s.fd);
      co_await IoWait(&r.h, IoWait::kWrite);
      socklen_t len = sizeof err;
      if (::getsockopt(s.fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
    }
  }
  if (err != 0) {
    // selector_events.py's _sock_connect_cb: OSError(err, f'Connect call failed {address}').
    char ip[INET_ADDRSTRLEN];
    ::inet_ntop(AF_INET, &a.sin_addr, ip, sizeof ip);
    std::rethrow_exception(
        MakeOSError(err, "Connect call failed ('" + std::string(ip) + "', " + std::to_string(port) + ")"));
  }
  co_return TcpStream(s.release());
}

TcpListener TcpListener::Bind(const std::string& host, int port, int backlog) {
  const sockaddr_in a = Address(host, port);
  OwnedFd s{::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)};
  if (s.fd < 0) std::rethrow_exception(MakeOSError(errno));
  const int one = 1;
  ::setsockopt(s.fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(s.fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0 || ::listen(s.fd, backlog) != 0) {
    std::rethrow_exception(MakeOSError(errno));
  }
  sockaddr_in bound{};
  socklen_t len = sizeof bound;
  ::getsockname(s.fd, reinterpret_cast<sockaddr*>(&bound), &len);
  TcpListener l;
  l.h_ = std::make_unique<IoHandle>();
  l.h_->fd = s.fd;
  IoPoller::Current().Add(l.h_.get());
  s.release();
  l.port_ = ntohs(bound.sin_port);
  return l;
}

TcpListener& TcpListener::operator=(TcpListener&& o) noexcept {
  if (this != &o) {
    close();
    h_ = std::move(o.h_);
    port_ = o.port_;
  }
  return *this;
}

void TcpListener::close() {
  assert(!h_ || !h_->reader);
  Unregister(h_);
}

Coro<TcpStream> TcpListener::accept() {
  for (;;) {
    if (!h_) throw OSError(EBADF, "Bad file descriptor");
    const int fd = ::accept4(h_->fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) {
      OwnedFd owned{fd};
      const int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      co_return TcpStream(owned.release());
    }
    // A connection reset before it was accepted is skipped, as accept(2)
    // advises for these errors.
    if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) std::rethrow_exception(MakeOSError(errno));
    co_await IoWait(h_.get(), IoWait::kRead);
  }
}

}  // namespace asyncspec::rt
