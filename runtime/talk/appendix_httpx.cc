// The talk's appendix ("HTTPX with TaskGroup", appendix_httpx.py) on the
// reference runtime: 150 GETs in one TaskGroup through one shared client,
// `except* BaseException as e: print(f"{e=}")`, then every task's result.
// Usage: appendix_httpx URL [TIMEOUT]; with TIMEOUT it is
// appendix_httpx_timeout.py (a timeout around the group, inside the try).
// Prints what the Python original prints; an error leaving main ends the
// program as Python's traceback does: its last line on stderr, exit 1.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "runtime/http_client.h"
#include "runtime/io_loop.h"
#include "runtime/rt.h"

namespace rt = asyncspec::rt;
namespace http = asyncspec::rt::http;

namespace {

// Python's KeyError: str() is the key's repr.
class KeyError : public virtual rt::Exception {
 public:
  explicit KeyError(std::string key) : rt::BaseException(std::move(key)) {}
  const char* type_name() const override { return "KeyError"; }
};

rt::Coro<std::string> access_url_poke(http::Client& client, std::string url, int num) {
  http::Response r = co_await client.get(url + std::to_string(num));
  const nlohmann::json pokemon = r.json();  // parse the JSON
  auto it = pokemon.find("name");           // take out the name
  if (it == pokemon.end()) throw KeyError("name");
  co_return it->get<std::string>();
}

double Now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

rt::Coro<> main_poke(std::string url, std::optional<double> timeout) {
  const double start = Now();
  {
    http::Client client;
    std::vector<rt::TaskRef<std::string>> tasks;
    auto group = [&]() -> rt::Coro<> {
      co_await rt::task_group([&](rt::TaskGroup& tg) -> rt::Coro<> {
        for (int number = 1; number < 151; ++number) {
          tasks.push_back(tg.create_task(access_url_poke(client, url, number)));
        }
        co_return;
      });
    };
    // try: ... except* BaseException as e: print(f"{e=}")
    // (Not `timeout ? co_await a : co_await b`: g++ 12 miscompiles a
    // co_await in each arm of a conditional.)
    rt::Outcome<> r;
    if (timeout) {
      r = co_await rt::try_await(rt::timeout(rt::Seconds(*timeout), group));
    } else {
      r = co_await rt::try_await(group());
    }
    if (!r.ok()) {
      std::exception_ptr rest = rt::ExceptStar(r.as_exception(), rt::Match<rt::BaseException>(),
                                               [](const rt::BaseExceptionGroup& e) {
                                                 std::printf("e=%s\n", e.repr().c_str());
                                               });
      if (rest) std::rethrow_exception(rest);
    }
    std::string results = "[";
    for (auto& task : tasks) {
      const std::string& name = task.result();  // raises what the task raised
      results += (results.size() > 1 ? ", '" : "'") + name + "'";
    }
    std::printf("%s]\n", results.c_str());
  }
  std::printf("time:  %.17g\n", Now() - start);
}

// The last line of the traceback Python prints for `e`.
std::string PythonLastLine(const std::exception_ptr& e) {
  if (const auto* c = rt::ExceptionAs<rt::CancelledError>(e)) {
    return "asyncio.exceptions.CancelledError" + (c->has_message() ? ": " + c->message() : "");
  }
  if (rt::ExceptionAs<KeyError>(e)) return "KeyError: '" + std::string(rt::ExceptionAs<KeyError>(e)->what()) + "'";
  if (const auto* b = rt::ExceptionAs<rt::BaseException>(e)) {
    const bool httpx = rt::ExceptionAs<http::ReadError>(e) || rt::ExceptionAs<http::ConnectError>(e) ||
                       rt::ExceptionAs<http::RemoteProtocolError>(e) || rt::ExceptionAs<http::WriteError>(e);
    return std::string(httpx ? "httpx." : "") + b->type_name() + (b->message().empty() ? "" : ": " + b->message());
  }
  return rt::Repr(e);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || argc > 3) {
    std::fprintf(stderr, "usage: %s URL [TIMEOUT_SECONDS]\n", argv[0]);
    return 2;
  }
  std::optional<double> timeout;
  if (argc == 3) {
    char* end;
    timeout = std::strtod(argv[2], &end);
    if (*end != '\0') {
      std::fprintf(stderr, "appendix_httpx: TIMEOUT_SECONDS: '%s' is not a number\n", argv[2]);
      return 2;
    }
  }
  try {
    rt::Runner runner;  // asyncio.run(main_poke())
    runner.run(main_poke(argv[1], timeout));
  } catch (...) {
    std::fflush(stdout);
    std::fprintf(stderr, "Traceback (most recent call last):\n%s\n", PythonLastLine(std::current_exception()).c_str());
    return 1;
  }
  return 0;
}
