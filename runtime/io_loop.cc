#include "runtime/io_loop.h"

#include <sys/epoll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "runtime/io_errors.h"

namespace asyncspec::rt {

std::string OSError::repr() const {
  // Exception(s).repr() is "Exception('s')": reuse its quoting of `s`.
  const std::string q = Exception(strerror_).repr();
  return std::string(type_name()) + "(" + std::to_string(errno_) + ", " + q.substr(10, q.size() - 11) + ")";
}

std::exception_ptr MakeOSError(int err, std::string text) {
  if (text.empty()) text = std::strerror(err);
  switch (err) {
    case ECONNREFUSED: return std::make_exception_ptr(ConnectionRefusedError(err, std::move(text)));
    case ECONNRESET: return std::make_exception_ptr(ConnectionResetError(err, std::move(text)));
    case EPIPE: return std::make_exception_ptr(BrokenPipeError(err, std::move(text)));
    case ECONNABORTED: return std::make_exception_ptr(ConnectionError(err, std::move(text)));
    default: return std::make_exception_ptr(OSError(err, std::move(text)));
  }
}

IoPoller::IoPoller() : epfd_(::epoll_create1(EPOLL_CLOEXEC)) {
  if (epfd_ < 0) std::rethrow_exception(MakeOSError(errno));
}

IoPoller::~IoPoller() { ::close(epfd_); }

IoPoller& IoPoller::Current() {
  Loop* loop = Loop::Current();
  assert(loop && loop->io() && "socket operations need a Runner's loop");
  return *static_cast<IoPoller*>(loop->io());
}

void IoPoller::Add(IoHandle* h) {
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
  ev.data.ptr = h;
  if (::epoll_ctl(epfd_, EPOLL_CTL_ADD, h->fd, &ev) != 0) std::rethrow_exception(MakeOSError(errno));
}

void IoPoller::Remove(IoHandle* h) {
  assert(!h->reader && !h->writer);
  ::epoll_ctl(epfd_, EPOLL_CTL_DEL, h->fd, nullptr);  // fails only if never added: nothing to undo
}

void IoPoller::Poll(Nanos timeout) {
  int ms = -1;
  if (timeout == 0) {
    ms = 0;
  } else if (timeout > 0) {
    // Round up, as selectors do: waking before the timer is due would only
    // poll again.
    const Nanos m = (timeout + 999'999) / 1'000'000;
    ms = m > 1'000'000'000 ? 1'000'000'000 : static_cast<int>(m);
  }
  epoll_event events[256];
  const int n = ::epoll_wait(epfd_, events, 256, ms);
  if (n < 0) return;  // EINTR: the loop polls again
  // Readers first, then writers, in the kernel's order of descriptors; each
  // handler joins the ready queue (IoWait::Fire).
  for (int i = 0; i < n; ++i) {
    auto* h = static_cast<IoHandle*>(events[i].data.ptr);
    const std::uint32_t e = events[i].events;
    if (h->reader && (e & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))) h->reader->Fire();
    if (h->writer && (e & (EPOLLOUT | EPOLLHUP | EPOLLERR))) h->writer->Fire();
  }
}

void IoWait::Register() {
  poller_ = &IoPoller::Current();
  assert(!slot() && "one task at a time may wait on a direction of a socket");
  slot() = this;
  state_ = kRegistered;
  ++poller_->waiting_;
}

void IoWait::Unregister() {
  if (state_ != kRegistered) return;
  slot() = nullptr;
  state_ = kIdle;
  --poller_->waiting_;
}

void IoWait::Fire() {
  Unregister();
  state_ = kQueued;
  Loop::Current()->CallSoon(&IoWait::Ready, this);
}

void IoWait::Ready(void* p) {
  auto* self = static_cast<IoWait*>(p);
  self->state_ = kIdle;
  detail::Wake(self->task_, false, nullptr);
}

// IO-1: a pending wait is unregistered at once and the task woken with
// CancelledError; nothing is closed. Once the descriptor was found ready
// the wait is a done future (cancel() returns False): the cancellation is
// delivered at the task's next step instead (CX-2), before it reads (IO-2).
bool IoWait::Cancel(const Msg& msg) {
  if (state_ != kRegistered) return false;
  Unregister();
  detail::Wake(task_, true, msg);
  return true;
}

Runner::Runner(RunOptions opts) : loop_(ClockKind::kReal) {
  loop_.set_io(&poller_);
  if (opts.exception_handler) loop_.set_exception_handler(std::move(opts.exception_handler));
}

}  // namespace asyncspec::rt
