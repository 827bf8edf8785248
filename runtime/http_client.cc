#include "runtime/http_client.h"

#include <http_parser.h>

#include <array>

#include <algorithm>

namespace asyncspec::rt::http {

// A get()'s place in the pool: taken at once when a slot is free and nobody
// queues, else queued until Release() hands one over. The object lives in
// the get()'s frame, so its destructor gives back whatever it holds when the
// get() ends, normally or by cancellation (a queued wait leaves the queue;
// a slot granted to a task cancelled before it ran is passed on).
class Client::SlotWait final : Waiter {
 public:
  explicit SlotWait(Client* c) : c_(c) {}
  SlotWait(const SlotWait&) = delete;
  SlotWait& operator=(const SlotWait&) = delete;
  ~SlotWait() {
    if (state_ == kQueued) {
      c_->waiters_.erase(std::find(c_->waiters_.begin(), c_->waiters_.end(), this));
    } else if (state_ == kGranted || state_ == kHeld) {
      c_->Release();
    }
  }
  bool await_ready() {
    if (c_->in_use_ < c_->limits_.max_connections && c_->waiters_.empty()) {
      ++c_->in_use_;
      state_ = kHeld;
      return true;
    }
    return false;
  }
  template <class P>
  void await_suspend(std::coroutine_handle<P> h) {
    PromiseBase* frame = &h.promise();
    task_ = frame->task;
    c_->waiters_.push_back(this);
    state_ = kQueued;
    detail::SuspendOn(task_, frame, this);
  }
  void await_resume() { state_ = kHeld; }
  void Grant() {
    state_ = kGranted;
    detail::Wake(task_, false, nullptr);
  }

 private:
  bool Cancel(const Msg& msg) override {
    if (state_ != kQueued) return false;  // granted: the slot goes back in the destructor
    c_->waiters_.erase(std::find(c_->waiters_.begin(), c_->waiters_.end(), this));
    state_ = kIdle;
    detail::Wake(task_, true, msg);
    return true;
  }
  Client* c_;
  enum State : std::uint8_t { kIdle, kQueued, kGranted, kHeld } state_ = kIdle;
  TaskState* task_ = nullptr;
};

void Client::Release() {
  if (!waiters_.empty()) {
    SlotWait* w = waiters_.front();
    waiters_.pop_front();
    w->Grant();  // the slot passes on; in_use_ is unchanged
    return;
  }
  --in_use_;
}

void Client::close() {
  idle_.clear();  // each TcpStream closes its socket
}

std::size_t Client::idle_connections() const {
  std::size_t n = 0;
  for (const auto& [key, v] : idle_) n += v.size();
  return n;
}

namespace {

struct Target {
  std::string host;
  int port = 80;
  std::string path;  // with the query
};

Target ParseUrl(const std::string& url) {
  http_parser_url u;
  http_parser_url_init(&u);
  if (http_parser_parse_url(url.data(), url.size(), 0, &u) != 0 || !(u.field_set & (1 << UF_HOST))) {
    throw InvalidURL("Invalid URL '" + url + "'");
  }
  auto field = [&](int f) { return url.substr(u.field_data[f].off, u.field_data[f].len); };
  if ((u.field_set & (1 << UF_SCHEMA)) && field(UF_SCHEMA) != "http") {
    throw InvalidURL("Only http:// URLs are supported: '" + url + "'");
  }
  Target t;
  t.host = field(UF_HOST);
  if (u.field_set & (1 << UF_PORT)) t.port = u.port;
  t.path = (u.field_set & (1 << UF_PATH)) ? field(UF_PATH) : "/";
  if (u.field_set & (1 << UF_QUERY)) t.path += "?" + field(UF_QUERY);
  return t;
}

// What the parser's callbacks fill in.
struct Parse {
  Response* r;
  bool in_value = false;
  bool complete = false;
};

int OnHeaderField(http_parser* p, const char* at, std::size_t n) {
  auto* st = static_cast<Parse*>(p->data);
  if (st->in_value || st->r->headers.empty()) st->r->headers.emplace_back();
  st->in_value = false;
  st->r->headers.back().first.append(at, n);
  return 0;
}
int OnHeaderValue(http_parser* p, const char* at, std::size_t n) {
  auto* st = static_cast<Parse*>(p->data);
  st->in_value = true;
  st->r->headers.back().second.append(at, n);
  return 0;
}
int OnBody(http_parser* p, const char* at, std::size_t n) {
  static_cast<Parse*>(p->data)->r->body.append(at, n);
  return 0;
}
int OnMessageComplete(http_parser* p) {
  static_cast<Parse*>(p->data)->complete = true;
  http_parser_pause(p, 1);  // nothing after the response is ours
  return 0;
}

const http_parser_settings kSettings = [] {
  http_parser_settings s;
  http_parser_settings_init(&s);
  s.on_header_field = &OnHeaderField;
  s.on_header_value = &OnHeaderValue;
  s.on_body = &OnBody;
  s.on_message_complete = &OnMessageComplete;
  return s;
}();

}  // namespace

Coro<Response> Client::Exchange(TcpStream& s, const std::string& request, bool& reusable) {
  try {
    co_await s.write(request);
  } catch (const OSError&) {
    throw WriteError("");  // as ReadError
  }
  Response r;
  Parse st{&r};
  http_parser p;
  http_parser_init(&p, HTTP_RESPONSE);
  p.data = &st;
  std::array<char, 16384> buf;
  std::size_t received = 0;
  for (;;) {
    std::size_t n;
    try {
      n = co_await s.read_into(buf.data(), buf.size());
    } catch (const OSError&) {
      // httpx 0.23 on asyncio (through anyio) says ReadError('') for a
      // reset: anyio's BrokenResourceError has no text.
      throw ReadError("");
    }
    received += n;
    const std::size_t used = http_parser_execute(&p, &kSettings, buf.data(), n);
    if (st.complete) {
      // Bytes after the response (none from a server that waits for the
      // next request) make the connection unusable.
      reusable = http_should_keep_alive(&p) && used == n;
      break;
    }
    if (HTTP_PARSER_ERRNO(&p) != HPE_OK) {
      throw RemoteProtocolError(http_errno_description(HTTP_PARSER_ERRNO(&p)));
    }
    if (n == 0) {  // end of stream before the response was complete
      if (received == 0) throw RemoteProtocolError("Server disconnected without sending a response.");
      throw RemoteProtocolError("peer closed connection without sending complete message body");
    }
  }
  r.status_code = p.status_code;
  co_return r;
}

Coro<Response> Client::get(std::string url) {
  const Target t = ParseUrl(url);
  SlotWait slot(this);
  co_await slot;
  const std::string key = t.host + ":" + std::to_string(t.port);
  TcpStream s;
  if (auto it = idle_.find(key); it != idle_.end() && !it->second.empty()) {
    s = std::move(it->second.back());
    it->second.pop_back();
  } else {
    try {
      s = co_await open_connection(t.host, t.port);
    } catch (const OSError&) {
      throw ConnectError("All connection attempts failed");  // httpx 0.23 on asyncio (anyio's text)
    }
    ++opened_;
  }
  const std::string request = "GET " + t.path + " HTTP/1.1\r\nHost: " + key +
                              "\r\nAccept: */*\r\nConnection: keep-alive\r\nUser-Agent: asyncspec-rt\r\n\r\n";
  bool reusable = false;
  Response r = co_await Exchange(s, request, reusable);
  if (reusable && idle_connections() < limits_.max_keepalive) idle_[key].push_back(std::move(s));
  co_return r;
}

}  // namespace asyncspec::rt::http
