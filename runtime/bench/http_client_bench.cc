// The runtime's side of http_bench.py: N concurrent GETs through one
// rt::http::Client (the appendix's shape, httpx's pool limits) against a
// running fixture, or an echo round-trip loop over loopback; prints one JSON
// line per repetition: {"impl","workload","n","wall_s","cpu_s"}. CPU is this
// process's user+system time around the timed part (getrusage).
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "runtime/http_client.h"
#include "runtime/io_loop.h"
#include "runtime/rt.h"

ABSL_FLAG(std::string, workload, "get", "get: N concurrent GETs to --url; echo: round trips");
ABSL_FLAG(std::string, url, "", "the fixture's resource prefix, for get");
ABSL_FLAG(int, n, 150, "GETs (get) or round trips (echo)");
ABSL_FLAG(int, size, 4096, "echo: bytes per round trip");
ABSL_FLAG(int, reps, 1, "repetitions");

namespace rt = asyncspec::rt;
namespace http = asyncspec::rt::http;

namespace {

double Cpu() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_utime.tv_usec / 1e6 + u.ru_stime.tv_sec + u.ru_stime.tv_usec / 1e6;
}

rt::Coro<> Get(http::Client& c, std::string url, int& ok) {
  http::Response r = co_await c.get(url);
  if (r.status_code == 200 && r.json().contains("name")) ++ok;
}

rt::Coro<int> Gets(std::string url, int n) {
  http::Client client;
  int ok = 0;
  co_await rt::task_group([&](rt::TaskGroup& tg) -> rt::Coro<> {
    for (int i = 1; i <= n; ++i) tg.create_task(Get(client, url + std::to_string(i % 150 + 1), ok));
    co_return;
  });
  co_return ok;
}

// One connection, `n` round trips of `size` bytes: the server task echoes.
rt::Coro<int> Echo(int n, int size) {
  rt::TcpListener l = rt::TcpListener::Bind("127.0.0.1", 0);
  int done = 0;
  co_await rt::task_group([&](rt::TaskGroup& tg) -> rt::Coro<> {
    tg.create_task([](rt::TcpListener& l) -> rt::Coro<> {
      rt::TcpStream s = co_await l.accept();
      std::string buf;
      for (;;) {
        buf = co_await s.read(65536);
        if (buf.empty()) co_return;
        co_await s.write(buf);
      }
    }(l));
    rt::TcpStream c = co_await rt::open_connection("127.0.0.1", l.port());
    const std::string msg(static_cast<std::size_t>(size), 'e');
    for (int i = 0; i < n; ++i) {
      co_await c.write(msg);
      std::size_t got = 0;
      while (got < msg.size()) {
        const std::string d = co_await c.read(65536);
        if (d.empty()) co_return;
        got += d.size();
      }
      ++done;
    }
    c.close();
  });
  co_return done;
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const std::string workload = absl::GetFlag(FLAGS_workload);
  const int n = absl::GetFlag(FLAGS_n);
  if ((workload != "get" && workload != "echo") || (workload == "get" && absl::GetFlag(FLAGS_url).empty())) {
    std::fprintf(stderr, "http_client_bench: --workload=get needs --url; --workload is get or echo\n");
    return 2;
  }
  for (int rep = 0; rep < absl::GetFlag(FLAGS_reps); ++rep) {
    rt::Runner runner;
    const double c0 = Cpu();
    const auto t0 = std::chrono::steady_clock::now();
    int ok;
    try {
      ok = workload == "get" ? runner.run(Gets(absl::GetFlag(FLAGS_url), n))
                             : runner.run(Echo(n, absl::GetFlag(FLAGS_size)));
    } catch (const rt::BaseException& e) {
      std::fprintf(stderr, "http_client_bench: %s\n", e.repr().c_str());
      return 1;
    }
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double cpu = Cpu() - c0;
    if (ok != n) {
      std::fprintf(stderr, "http_client_bench: %d of %d succeeded\n", ok, n);
      return 1;
    }
    std::printf("{\"impl\": \"runtime\", \"workload\": \"%s\", \"n\": %d, \"wall_s\": %.6f, \"cpu_s\": %.6f}\n",
                workload.c_str(), n, wall, cpu);
    std::fflush(stdout);
  }
  return 0;
}
