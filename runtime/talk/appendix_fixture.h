// The loopback server for the talk's appendix (pokeapi.co's shape): GET
// /api/v2/pokemon/<n> answers {"name": "<name of n>"} as JSON after a
// configurable latency, except for the resources told to fail (500 with a
// JSON body without "name"), to reset the connection, to close it without
// a response, or to hang. Keep-alive, Content-Length bodies; a query with
// `chunked` gets a chunked body. Runs as tasks on a Runner's loop; binds
// only what its caller bound (tests bind 127.0.0.1 on an ephemeral port).
// Bounded: it stops accepting after `max_requests` requests.
#ifndef ASYNCSPEC_RUNTIME_TALK_APPENDIX_FIXTURE_H_
#define ASYNCSPEC_RUNTIME_TALK_APPENDIX_FIXTURE_H_

#include <cstdint>
#include <set>
#include <string>

#include "runtime/rt.h"
#include "runtime/tcp.h"

namespace asyncspec::talk {

struct FixtureOptions {
  asyncspec::rt::Nanos latency = 0;       // before each answer
  std::set<int> fail, reset, close, hang;  // resource numbers
  asyncspec::rt::Nanos fail_latency = 0;  // before a failure (fail/reset/close)
  std::uint64_t max_requests = 100000;
};

// The name resource `n` answers with.
std::string ResourceName(int n);

// Serves connections from `l` until cancelled or `max_requests` were
// answered (then it returns once the open connections are done).
asyncspec::rt::Coro<> Serve(asyncspec::rt::TcpListener& l, const FixtureOptions& opts);

}  // namespace asyncspec::talk

#endif  // ASYNCSPEC_RUNTIME_TALK_APPENDIX_FIXTURE_H_
