// Sockets on the I/O loop: round trips, Python's errors, cancellation of
// pending connect/accept/read (IO-1), a timeout that fires as a read becomes
// ready (IO-2), and no descriptor left open on any of these paths.
// Every server binds 127.0.0.1 on an ephemeral port inside its test.
#include "runtime/tcp.h"

#include <sys/socket.h>

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "runtime/fd_count_testing.h"
#include "runtime/rt.h"

namespace rt = asyncspec::rt;

namespace {

// Runs `main` on a fresh Runner and checks that it left no descriptor open
// (the Runner's own epoll descriptor included).
template <class T>
T RunCountingFds(rt::Coro<T> main) {
  rt::testing::ExpectNoFdLeft no_fd_left;
  rt::Runner runner;
  return runner.run(std::move(main));
}

// A pair of connected streams through a listener.
struct Pair {
  rt::TcpStream client, server;
};
rt::Coro<Pair> Connect(rt::TcpListener& l) {
  Pair p;
  p.client = co_await rt::open_connection("127.0.0.1", l.port());
  p.server = co_await l.accept();
  co_return p;
}

TEST(Tcp, EchoRoundTrip) {
  const std::string got = RunCountingFds([]() -> rt::Coro<std::string> {
    rt::TcpListener l = rt::TcpListener::Bind("127.0.0.1", 0);
    std::string out;
    co_await rt::task_group([&](rt::TaskGroup& tg) -> rt::Coro<> {
      tg.create_task([](rt::TcpListener& l) -> rt::Coro<> {  // echo server: one connection
        rt::TcpStream s = co_await l.accept();
        for (;;) {
          std::string d = co_await s.read(4096);
          if (d.empty()) break;
          co_await s.write(d);
        }
      }(l));
      rt::TcpStream c = co_await rt::open_connection("127.0.0.1", l.port());
      const std::string big(1 << 20, 'z');  // more than a socket buffer: write waits for room
      co_await rt::task_group([&](rt::TaskGroup& inner) -> rt::Coro<> {
        inner.create_task([](rt::TcpStream& c, const std::string& big) -> rt::Coro<> {
          co_await c.write(big);
          ::shutdown(c.fd(), SHUT_WR);
        }(c, big));
        while (out.size() < big.size() + 1) {
          std::string d = co_await c.read(65536);
          if (d.empty()) break;
          out += d;
        }
        co_return;
      });
    });
    co_return out;
  }());
  EXPECT_EQ(got.size(), std::size_t{1} << 20);
  EXPECT_EQ(got.find_first_not_of('z'), std::string::npos);
}

TEST(Tcp, ConnectionRefusedIsPythons) {
  const std::string repr = RunCountingFds([]() -> rt::Coro<std::string> {
    int port;
    {
      rt::TcpListener l = rt::TcpListener::Bind("127.0.0.1", 0);
      port = l.port();
    }  // closed: nothing listens there now
    try {
      co_await rt::open_connection("127.0.0.1", port);
    } catch (const rt::ConnectionRefusedError& e) {
      co_return e.repr() + " | " + e.what() + " | " + std::to_string(port);
    }
    co_return "no error";
  }());
  const std::string port = repr.substr(repr.rfind(' ') + 1);
  EXPECT_EQ(repr, "ConnectionRefusedError(111, \"Connect call failed ('127.0.0.1', " + port +
                      ")\") | [Errno 111] Connect call failed ('127.0.0.1', " + port + ") | " + port)
      << "IO-3: a refused connection raises asyncio's ConnectionRefusedError";
}

TEST(Tcp, ResetIsConnectionResetError) {
  const std::string what = RunCountingFds([]() -> rt::Coro<std::string> {
    rt::TcpListener l = rt::TcpListener::Bind("127.0.0.1", 0);
    Pair p = co_await Connect(l);
    linger lg{1, 0};  // close with RST
    ::setsockopt(p.server.fd(), SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    p.server.close();
    try {
      co_await p.client.read(10);
    } catch (const rt::ConnectionError& e) {
      co_return e.repr();
    }
    co_return "no error";
  }());
  EXPECT_EQ(what, "ConnectionResetError(104, 'Connection reset by peer')")
      << "IO-3: a reset connection raises ConnectionResetError";
}

TEST(Tcp, CancelledPendingReadKeepsTheStream) {
  const std::string got = RunCountingFds([]() -> rt::Coro<std::string> {
    rt::TcpListener l = rt::TcpListener::Bind("127.0.0.1", 0);
    Pair p = co_await Connect(l);
    std::string out;
    try {
      co_await rt::wait_for(p.client.read(10), rt::Seconds(0.01));
      out += "read;";
    } catch (const rt::TimeoutError&) {
      out += "TimeoutError;";
    }
    co_await p.server.write("y");
    out += co_await p.client.read(10);
    co_return out;
  }());
  EXPECT_EQ(got, "TimeoutError;y") << "IO-1: a cancelled read must unregister and leave the stream open";
}

TEST(Tcp, CancelledPendingAcceptKeepsTheListener) {
  const std::string got = RunCountingFds([]() -> rt::Coro<std::string> {
    rt::TcpListener l = rt::TcpListener::Bind("127.0.0.1", 0);
    std::string out;
    try {
      co_await rt::timeout(rt::Seconds(0.01), [&]() -> rt::Coro<> { co_await l.accept(); });
    } catch (const rt::TimeoutError&) {
      out += "TimeoutError;";
    }
    Pair p = co_await Connect(l);
    co_await p.client.write("ok");
    out += co_await p.server.read(10);
    co_return out;
  }());
  EXPECT_EQ(got, "TimeoutError;ok") << "IO-1: a cancelled accept must leave the listener open";
}

TEST(Tcp, CancelledPendingConnectClosesItsSocket) {
  // A listener whose accept queue is full drops further SYNs, so a connect
  // to it stays pending until cancelled.
  const int outcome = RunCountingFds([]() -> rt::Coro<int> {
    rt::TcpListener l = rt::TcpListener::Bind("127.0.0.1", 0, /*backlog=*/0);
    std::vector<rt::TcpStream> filled;
    for (int i = 0; i < 8; ++i) {
      try {
        // rt::timeout, not wait_for: wait_for's result is a copy, a stream moves.
        filled.push_back(co_await rt::timeout(rt::Seconds(0.05), [&]() -> rt::Coro<rt::TcpStream> {
          co_return co_await rt::open_connection("127.0.0.1", l.port());
        }));
      } catch (const rt::TimeoutError&) {
        co_return 1;  // the pending connect was cancelled; its socket must be closed
      }
    }
    co_return 0;
  }());
  EXPECT_EQ(outcome, 1) << "IO-1: no connect stayed pending (the kernel accepted 8 connections on backlog 0)";
}

TEST(Tcp, CancelledTaskGroupOfReads) {
  // A TaskGroup of pending reads is cancelled like a TaskGroup of sleeps
  // (TG-2): one child fails, the readers are cancelled, their streams closed
  // by their owners.
  const std::string got = RunCountingFds([]() -> rt::Coro<std::string> {
    rt::TcpListener l = rt::TcpListener::Bind("127.0.0.1", 0);
    std::vector<Pair> pairs;
    for (int i = 0; i < 5; ++i) pairs.push_back(co_await Connect(l));
    try {
      co_await rt::task_group([&](rt::TaskGroup& tg) -> rt::Coro<> {
        for (Pair& p : pairs) {
          tg.create_task([](rt::TcpStream& s) -> rt::Coro<> { co_await s.read(10); }(p.client));
        }
        tg.create_task([]() -> rt::Coro<> {
          co_await rt::sleep(0);
          throw rt::ValueError("stop");
        }());
        co_return;
      });
    } catch (const rt::ExceptionGroup& eg) {
      co_return eg.repr();
    }
    co_return "no error";
  }());
  EXPECT_EQ(got, "ExceptionGroup('unhandled errors in a TaskGroup', [ValueError('stop')])")
      << "TG-2: the pending reads were not cancelled";
}

TEST(Tcp, TimeoutFiringAsReadBecomesReadyKeepsTheData) {
  // IO-2: readiness and the deadline in one iteration. The reader waits with
  // a 1 ms deadline; the writer writes and then blocks the thread for 50 ms,
  // so the next iteration finds the descriptor ready and the timer due: the
  // read's handler runs first, then the timer cancels the task, which gets
  // TimeoutError; the byte stays readable.
  const std::string got = RunCountingFds([]() -> rt::Coro<std::string> {
    rt::TcpListener l = rt::TcpListener::Bind("127.0.0.1", 0);
    Pair p = co_await Connect(l);
    std::string out;
    auto reader = rt::create_task([](rt::TcpStream& c, std::string& out) -> rt::Coro<> {
      try {
        out += co_await rt::wait_for(c.read(10), rt::Seconds(0.001));
      } catch (const rt::TimeoutError&) {
        out += "TimeoutError;";
      }
      out += co_await c.read(10);
    }(p.client, out));
    co_await rt::sleep(0);  // the reader is waiting now
    co_await p.server.write("x");
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    co_await reader;
    co_return out;
  }());
  EXPECT_EQ(got, "TimeoutError;x") << "IO-2: the timeout wins and the data stays in the stream";
}

TEST(Tcp, FailedAndCancelledPathsLeakNothingOverManyRounds) {
  RunCountingFds([]() -> rt::Coro<> {
    rt::TcpListener l = rt::TcpListener::Bind("127.0.0.1", 0);
    for (int i = 0; i < 50; ++i) {
      Pair p = co_await Connect(l);
      try {
        co_await rt::wait_for(p.client.read(1), 0);  // cancelled before it waits
      } catch (const rt::TimeoutError&) {
      }
      if (i % 2) p.client.close();
    }
    co_return;
  }());
}

}  // namespace
