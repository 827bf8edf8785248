// A minimal HTTP/1.1 client on the runtime's sockets, in httpx.AsyncClient's
// role for the talk's appendix: GET, Content-Length and chunked bodies
// (parsed by Debian's libhttp-parser), and a keep-alive connection pool
// shared by the tasks that use one client, with httpx's default limits
// (at most 100 connections, 20 kept idle). JSON bodies through nlohmann.
//
// Errors are httpx's names and texts (httpx 0.23 with httpcore 0.16 on
// asyncio, Debian 12's python3-httpx), so an ExceptionGroup of them prints
// what the Python original prints: ConnectError('All connection attempts
// failed') when a connection cannot be made, ReadError('') when one is
// reset, RemoteProtocolError('Server disconnected without sending a
// response.') when the server closes without a response. Cancellation of a get()
// (a TaskGroup aborting, a timeout) closes the connection it was using,
// which is then in an unknown state, and gives its pool slot back.
#ifndef ASYNCSPEC_RUNTIME_HTTP_CLIENT_H_
#define ASYNCSPEC_RUNTIME_HTTP_CLIENT_H_

#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/core.h"
#include "runtime/tcp.h"

namespace asyncspec::rt::http {

// httpx's exception classes (httpx/_exceptions.py), by name and text.
#define ASYNCSPEC_HTTP_ERROR(Name)                                  \
  class Name : public virtual Exception {                           \
   public:                                                          \
    explicit Name(std::string m) : BaseException(std::move(m)) {}   \
    const char* type_name() const override { return #Name; }        \
    /* httpx always passes a message: ReadError('') has its quotes */ \
    std::string repr() const override {                             \
      return message().empty() ? std::string(#Name "('')") : BaseException::repr(); \
    }                                                               \
  }
ASYNCSPEC_HTTP_ERROR(ConnectError);
ASYNCSPEC_HTTP_ERROR(ReadError);
ASYNCSPEC_HTTP_ERROR(WriteError);
ASYNCSPEC_HTTP_ERROR(RemoteProtocolError);
ASYNCSPEC_HTTP_ERROR(InvalidURL);
#undef ASYNCSPEC_HTTP_ERROR

struct Response {
  int status_code = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // Response.json(): throws nlohmann::json::parse_error on a body that is
  // not JSON.
  nlohmann::json json() const { return nlohmann::json::parse(body); }
};

class Client {
 public:
  struct Limits {
    std::size_t max_connections = 100;  // httpx.Limits' defaults
    std::size_t max_keepalive = 20;
  };
  Client() : Client(Limits{}) {}
  explicit Client(Limits limits) : limits_(limits) {}
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;
  // aclose(): closes the idle connections. Precondition: no get() running.
  ~Client() { close(); }
  void close();

  // GET `url` ("http://host:port/path"; numeric IPv4 or localhost).
  Coro<Response> get(std::string url);

  std::size_t idle_connections() const;
  std::uint64_t connections_opened() const { return opened_; }

 private:
  // A slot of the pool, or a wait for one (FIFO, as httpcore's pool).
  class SlotWait;
  void Release();
  Coro<Response> Exchange(TcpStream& s, const std::string& request, bool& reusable);

  Limits limits_;
  std::size_t in_use_ = 0;
  std::deque<SlotWait*> waiters_;
  std::map<std::string, std::vector<TcpStream>> idle_;  // by "host:port"
  std::uint64_t opened_ = 0;
};

}  // namespace asyncspec::rt::http

#endif  // ASYNCSPEC_RUNTIME_HTTP_CLIENT_H_
