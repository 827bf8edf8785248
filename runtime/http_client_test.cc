// The HTTP client against the appendix fixture on 127.0.0.1: bodies of
// both framings, the keep-alive pool shared by tasks, httpx's errors, and
// cancellation (a timeout around a hanging GET, TO-3) with no descriptor
// left open.
#include "runtime/http_client.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "runtime/fd_count_testing.h"
#include "runtime/rt.h"
#include "runtime/talk/appendix_fixture.h"

namespace rt = asyncspec::rt;
namespace http = asyncspec::rt::http;
using asyncspec::talk::FixtureOptions;

namespace {

// Runs `client(url_prefix)` against a fixture started and stopped inside
// this call; checks no descriptor outlives it.
template <class F>
std::string WithFixture(FixtureOptions opts, F client) {
  rt::testing::ExpectNoFdLeft no_fd_left;
  std::string out;
  {
    rt::Runner runner;
    out = runner.run([](FixtureOptions& opts, F& client) -> rt::Coro<std::string> {
      rt::TcpListener l = rt::TcpListener::Bind("127.0.0.1", 0);
      auto server = rt::create_task(asyncspec::talk::Serve(l, opts));
      const std::string prefix = "http://127.0.0.1:" + std::to_string(l.port()) + "/api/v2/pokemon/";
      std::string r;
      try {
        r = co_await client(prefix);
      } catch (const rt::BaseException& e) {
        r = "raised " + e.repr();
      }
      server.cancel();
      co_await rt::try_await(server);
      co_return r;
    }(opts, client));
  }
  return out;
}

TEST(HttpClient, ContentLengthAndChunkedBodies) {
  const std::string got = WithFixture({}, [](std::string prefix) -> rt::Coro<std::string> {
    http::Client c;
    http::Response a = co_await c.get(prefix + "7");
    http::Response b = co_await c.get(prefix + "8?chunked=1");
    co_return std::to_string(a.status_code) + " " + a.json()["name"].get<std::string>() + " " +
        std::to_string(b.status_code) + " " + b.json()["name"].get<std::string>() + " opened " +
        std::to_string(c.connections_opened());
  });
  EXPECT_EQ(got, "200 pokemon-7 200 pokemon-8 opened 1") << "two GETs in a row share one kept-alive connection";
}

TEST(HttpClient, PoolSharedByConcurrentTasksRespectsItsLimit) {
  FixtureOptions o;
  o.latency = rt::Seconds(0.002);
  const std::string got = WithFixture(o, [](std::string prefix) -> rt::Coro<std::string> {
    http::Client c(http::Client::Limits{.max_connections = 10, .max_keepalive = 10});
    std::vector<rt::TaskRef<std::string>> tasks;
    co_await rt::task_group([&](rt::TaskGroup& tg) -> rt::Coro<> {
      for (int i = 1; i <= 60; ++i) {
        tasks.push_back(tg.create_task([](http::Client& c, std::string url) -> rt::Coro<std::string> {
          http::Response r = co_await c.get(url);
          co_return r.json()["name"].get<std::string>();
        }(c, prefix + std::to_string(i))));
      }
      co_return;
    });
    std::string names;
    for (int i = 0; i < 60; ++i) {
      if (tasks[i].result() != asyncspec::talk::ResourceName(i + 1)) names += "wrong " + std::to_string(i) + ";";
    }
    co_return names + "opened<=10:" + std::to_string(c.connections_opened() <= 10) +
        " idle=" + std::to_string(c.idle_connections());
  });
  EXPECT_EQ(got, "opened<=10:1 idle=10") << "60 GETs through a pool of 10 connections";
}

TEST(HttpClient, ServerErrorIsAResponse) {
  FixtureOptions o;
  o.fail = {3};
  const std::string got = WithFixture(o, [](std::string prefix) -> rt::Coro<std::string> {
    http::Client c;
    http::Response r = co_await c.get(prefix + "3");
    co_return std::to_string(r.status_code) + " " + r.body;
  });
  EXPECT_EQ(got, "500 {\"detail\":\"Internal Server Error\"}");
}

TEST(HttpClient, ResetIsReadError) {
  FixtureOptions o;
  o.reset = {4};
  const std::string got = WithFixture(o, [](std::string prefix) -> rt::Coro<std::string> {
    http::Client c;
    co_await c.get(prefix + "4");
    co_return "no error";
  });
  EXPECT_EQ(got, "raised ReadError('')") << "httpx's text for a reset";
}

TEST(HttpClient, CloseWithoutResponseIsRemoteProtocolError) {
  FixtureOptions o;
  o.close = {5};
  const std::string got = WithFixture(o, [](std::string prefix) -> rt::Coro<std::string> {
    http::Client c;
    co_await c.get(prefix + "5");
    co_return "no error";
  });
  EXPECT_EQ(got, "raised RemoteProtocolError('Server disconnected without sending a response.')");
}

TEST(HttpClient, RefusedIsConnectError) {
  const std::string got = WithFixture({}, [](std::string) -> rt::Coro<std::string> {
    int port;
    {
      rt::TcpListener l = rt::TcpListener::Bind("127.0.0.1", 0);
      port = l.port();
    }
    http::Client c;
    co_await c.get("http://127.0.0.1:" + std::to_string(port) + "/");
    co_return "no error";
  });
  EXPECT_EQ(got, "raised ConnectError('All connection attempts failed')") << "httpx's text";
}

TEST(HttpClient, TimeoutAroundHangingGetClosesItsConnection) {
  FixtureOptions o;
  o.hang = {6};
  const std::string got = WithFixture(o, [](std::string prefix) -> rt::Coro<std::string> {
    http::Client c;
    std::string out;
    try {
      co_await rt::timeout(rt::Seconds(0.02), [&]() -> rt::Coro<> { co_await c.get(prefix + "6"); });
    } catch (const rt::TimeoutError&) {
      out = "TimeoutError;";
    }
    // The pool slot came back and the hung connection was not kept.
    http::Response r = co_await c.get(prefix + "1");
    co_return out + r.json()["name"].get<std::string>() + " opened " + std::to_string(c.connections_opened());
  });
  EXPECT_EQ(got, "TimeoutError;pokemon-1 opened 2") << "TO-3 around a GET; IO-1: the cancelled GET closed its connection";
}

}  // namespace
