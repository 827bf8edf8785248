#include "runtime/talk/appendix_fixture.h"

#include <http_parser.h>

#include <array>
#include <sys/socket.h>

#include <cstdlib>

#include <nlohmann/json.hpp>

namespace asyncspec::talk {
namespace rt = asyncspec::rt;

std::string ResourceName(int n) { return "pokemon-" + std::to_string(n); }

namespace {

struct Request {
  std::string url;
  bool complete = false;
};

int OnUrl(http_parser* p, const char* at, std::size_t n) {
  static_cast<Request*>(p->data)->url.append(at, n);
  return 0;
}
int OnComplete(http_parser* p) {
  static_cast<Request*>(p->data)->complete = true;
  http_parser_pause(p, 1);
  return 0;
}
const http_parser_settings kSettings = [] {
  http_parser_settings s;
  http_parser_settings_init(&s);
  s.on_url = &OnUrl;
  s.on_message_complete = &OnComplete;
  return s;
}();

struct Shared {
  const FixtureOptions& opts;
  std::uint64_t answered = 0;
};

std::string Answer(int status, const std::string& body, bool chunked) {
  std::string head = "HTTP/1.1 " + std::to_string(status) + (status == 200 ? " OK" : " Internal Server Error") +
                     "\r\nContent-Type: application/json\r\nConnection: keep-alive\r\n";
  if (!chunked) return head + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  // Two chunks, so a client must join them.
  const std::size_t half = body.size() / 2;
  auto chunk = [](const std::string& c) {
    char len[32];
    std::snprintf(len, sizeof len, "%zx\r\n", c.size());
    return std::string(len) + c + "\r\n";
  };
  return head + "Transfer-Encoding: chunked\r\n\r\n" + chunk(body.substr(0, half)) + chunk(body.substr(half)) +
         "0\r\n\r\n";
}

std::string ErrorBody() { return nlohmann::json{{"detail", "Internal Server Error"}}.dump(); }
std::string NameBody(int n) { return nlohmann::json{{"name", ResourceName(n)}}.dump(); }

// One connection: requests one after another (keep-alive), until the
// client closes it or the fixture decides to reset, close or hang.
rt::Coro<> Connection(rt::TcpStream s, Shared& sh) {
  std::array<char, 8192> buf;
  for (;;) {
    Request req;
    http_parser p;
    http_parser_init(&p, HTTP_REQUEST);
    p.data = &req;
    while (!req.complete) {
      const std::size_t n = co_await s.read_into(buf.data(), buf.size());
      if (n == 0) co_return;  // the client closed the connection
      http_parser_execute(&p, &kSettings, buf.data(), n);
      if (!req.complete && HTTP_PARSER_ERRNO(&p) != HPE_OK) co_return;  // not HTTP: drop it
    }
    ++sh.answered;
    const std::size_t slash = req.url.rfind('/');
    const int n = std::atoi(req.url.c_str() + (slash == std::string::npos ? 0 : slash + 1));
    const bool chunked = req.url.find("chunked") != std::string::npos;
    const FixtureOptions& o = sh.opts;
    if (o.hang.count(n)) {
      co_await rt::sleep_for(24 * 3600.0);  // until the server is cancelled
      co_return;
    }
    if (o.fail.count(n) || o.reset.count(n) || o.close.count(n)) {
      if (o.fail_latency > 0) co_await rt::sleep(o.fail_latency);
      if (o.reset.count(n)) {
        linger lg{1, 0};  // close with RST
        ::setsockopt(s.fd(), SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        co_return;
      }
      if (o.close.count(n)) co_return;
      // Built outside the co_await: g++ 12 cannot keep the initializer
      // list's string literals (arrays) in the coroutine frame.
      const std::string answer = Answer(500, ErrorBody(), chunked);
      co_await s.write(answer);
      continue;
    }
    if (o.latency > 0) co_await rt::sleep(o.latency);
    const std::string answer = Answer(200, NameBody(n), chunked);
    co_await s.write(answer);
  }
}

}  // namespace

rt::Coro<> Serve(rt::TcpListener& l, const FixtureOptions& opts) {
  Shared sh{opts};
  co_await rt::task_group([&](rt::TaskGroup& tg) -> rt::Coro<> {
    while (sh.answered < opts.max_requests) {
      rt::TcpStream s = co_await l.accept();
      // A connection that fails (a client resetting it) ends alone: its
      // error must not take the server down.
      tg.create_task([](rt::TcpStream s, Shared& sh) -> rt::Coro<> {
        try {
          co_await Connection(std::move(s), sh);
        } catch (const rt::OSError&) {
        }
      }(std::move(s), sh));
    }
  });
}

}  // namespace asyncspec::talk
