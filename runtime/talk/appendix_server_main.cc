// The appendix's loopback server as a program, for the Python original and
// the benchmark (runtime/talk/appendix_test.sh, runtime/bench/http_bench.sh):
// binds 127.0.0.1 on an ephemeral port, writes the port to --port_file,
// serves until --max_requests were answered or --max_seconds passed.
#include <cstdio>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "runtime/io_loop.h"
#include "runtime/talk/appendix_fixture.h"

ABSL_FLAG(std::string, port_file, "", "write the bound port here (required)");
ABSL_FLAG(double, latency, 0, "seconds before each answer");
ABSL_FLAG(double, fail_latency, 0, "seconds before a failure (fail, reset, close)");
ABSL_FLAG(std::string, fail, "", "resources answering 500, e.g. 3,7");
ABSL_FLAG(std::string, reset, "", "resources whose connection is reset");
ABSL_FLAG(std::string, close, "", "resources whose connection is closed without an answer");
ABSL_FLAG(std::string, hang, "", "resources never answered");
ABSL_FLAG(uint64_t, max_requests, 1000000, "stop after this many requests");
ABSL_FLAG(double, max_seconds, 300, "stop after this long whatever happens");

namespace rt = asyncspec::rt;

namespace {

std::set<int> Numbers(const std::string& flag, const std::string& text) {
  std::set<int> out;
  for (absl::string_view part : absl::StrSplit(text, ',', absl::SkipEmpty())) {
    int n;
    if (!absl::SimpleAtoi(part, &n)) {
      std::fprintf(stderr, "appendix_server: --%s: '%s' is not a number\n", flag.c_str(), std::string(part).c_str());
      std::exit(2);
    }
    out.insert(n);
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const std::string port_file = absl::GetFlag(FLAGS_port_file);
  if (port_file.empty()) {
    std::fprintf(stderr, "appendix_server: --port_file is required\n");
    return 2;
  }
  asyncspec::talk::FixtureOptions o;
  o.latency = rt::Seconds(absl::GetFlag(FLAGS_latency));
  o.fail_latency = rt::Seconds(absl::GetFlag(FLAGS_fail_latency));
  o.fail = Numbers("fail", absl::GetFlag(FLAGS_fail));
  o.reset = Numbers("reset", absl::GetFlag(FLAGS_reset));
  o.close = Numbers("close", absl::GetFlag(FLAGS_close));
  o.hang = Numbers("hang", absl::GetFlag(FLAGS_hang));
  o.max_requests = absl::GetFlag(FLAGS_max_requests);
  rt::Runner runner;
  try {
    runner.run([](const asyncspec::talk::FixtureOptions& o, const std::string& port_file) -> rt::Coro<> {
      rt::TcpListener l = rt::TcpListener::Bind("127.0.0.1", 0);
      {
        // Written whole, then renamed: a reader never sees half a number.
        std::ofstream(port_file + ".tmp") << l.port() << "\n";
        std::rename((port_file + ".tmp").c_str(), port_file.c_str());
      }
      try {
        co_await rt::timeout(rt::Seconds(absl::GetFlag(FLAGS_max_seconds)),
                             [&]() -> rt::Coro<> { co_await asyncspec::talk::Serve(l, o); });
      } catch (const rt::TimeoutError&) {
        std::fprintf(stderr, "appendix_server: --max_seconds reached\n");
      }
    }(o, port_file));
  } catch (const rt::BaseException& e) {
    std::fprintf(stderr, "appendix_server: %s\n", e.repr().c_str());
    return 1;
  }
  return 0;
}
