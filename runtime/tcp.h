// Non-blocking TCP on a Runner's loop (io_loop.h): open_connection, a
// listener's accept, a stream's read and write, close; each a coroutine
// whose waits are cancellation points like a sleep's (CX-2).
//
// Ownership: a TcpStream or TcpListener owns its descriptor and closes it
// in close() or its destructor; an operation in progress owns only what it
// made (open_connection's socket until it is connected, accept's new socket
// until it is returned), so a cancelled or failed operation closes exactly
// that and nothing else (IO-1). Errors are Python's (io_errors.h):
// ConnectionRefusedError from open_connection, ConnectionResetError and
// BrokenPipeError from reads and writes; a timeout is rt::timeout or
// rt::wait_for around the call (IO-2, TO-3).
//
// Semantics follow asyncio's streams (StreamReader/StreamWriter):
// read(n) returns what is there, up to n bytes, waiting only when nothing
// is; it returns "" at end of stream. write(data) is write + drain: it
// returns when every byte was handed to the kernel.
#ifndef ASYNCSPEC_RUNTIME_TCP_H_
#define ASYNCSPEC_RUNTIME_TCP_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "runtime/core.h"
#include "runtime/io_errors.h"
#include "runtime/io_loop.h"

namespace asyncspec::rt {

class TcpStream {
 public:
  TcpStream() = default;
  // Takes `fd`, a connected non-blocking socket, and registers it with the
  // running loop's poller.
  explicit TcpStream(int fd);
  TcpStream(TcpStream&&) noexcept = default;
  TcpStream& operator=(TcpStream&& o) noexcept;
  ~TcpStream() { close(); }

  explicit operator bool() const { return h_ != nullptr; }
  int fd() const { return h_ ? h_->fd : -1; }

  // StreamReader.read(n): up to `max` bytes; "" at end of stream or once
  // closed. Throws ConnectionResetError (and other OSErrors).
  Coro<std::string> read(std::size_t max);
  // The same into a caller's buffer; returns the count (0: end of stream).
  Coro<std::size_t> read_into(char* buf, std::size_t max);
  // StreamWriter.write(data) + drain(). `data` must stay alive until the
  // returned coroutine finishes (await it in the same expression). Throws
  // BrokenPipeError / ConnectionResetError, or ConnectionResetError
  // ("Connection lost") once closed, as drain() does.
  Coro<> write(std::string_view data);
  // Closes the socket. Precondition: no task is waiting in read or write on
  // this stream (asyncio would wake it with end of stream).
  void close();

 private:
  std::unique_ptr<IoHandle> h_;  // stable address for the poller
};

// asyncio.open_connection(host, port), for a numeric IPv4 host or
// "localhost". Throws ConnectionRefusedError(111, "Connect call failed
// ('127.0.0.1', port)") as asyncio's sock_connect does, or another OSError.
Coro<TcpStream> open_connection(std::string host, int port);

class TcpListener {
 public:
  TcpListener() = default;
  // Listens on host:port (port 0: an ephemeral port, see port()). Not a
  // coroutine: bind and listen do not wait. Throws OSError.
  static TcpListener Bind(const std::string& host, int port, int backlog = 1024);
  TcpListener(TcpListener&&) noexcept = default;
  TcpListener& operator=(TcpListener&& o) noexcept;
  ~TcpListener() { close(); }

  int port() const { return port_; }
  int fd() const { return h_ ? h_->fd : -1; }
  // The next connection. Precondition: one task at a time accepts.
  Coro<TcpStream> accept();
  void close();

 private:
  std::unique_ptr<IoHandle> h_;
  int port_ = 0;
};

}  // namespace asyncspec::rt

#endif  // ASYNCSPEC_RUNTIME_TCP_H_
