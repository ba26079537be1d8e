#pragma once
// A small HTTP/1.1 server for the admin API, /metrics and the dashboard.
//
// Threading: the server runs ONE thread of its own; every handler runs on it, one at a
// time. Handlers must therefore only read thread-safe state (atomics, an immutable
// snapshot behind an atomically swapped shared_ptr, prometheus-cpp's registry) and never
// touch the processing thread's live state (docs/architecture.md). A slow handler delays every
// other request, so handlers should be quick.
//
// Boost.Beast/Asio stay inside the .cpp files: this header is cheap to include.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "streamlearn/core/status.hpp"

namespace streamlearn::http {

struct Request {
  std::string method;  // as sent, e.g. "GET", "HEAD", "POST"
  std::string path;    // the target before '?', not percent-decoded
  std::string query;   // the target after '?', without the '?'; empty when absent
  std::string body;
  std::string authorization;  // the Authorization header, as sent; empty when absent
};

// Every member has a default initializer so that `Response{.status = 204}` compiles
// without -Wmissing-field-initializers noise on GCC 12.
struct Response {
  unsigned status = 200;  // 200..599; anything else is answered with 500
  std::string content_type = "text/plain; charset=utf-8";  // empty: no Content-Type header
  std::string body{};
};

// May throw: the server turns an exception into a 500 and keeps serving.
using Handler = std::function<Response(const Request&)>;

// What the router knows about one (method, path) pair.
struct RouteMatch {
  const Handler* handler = nullptr;  // null when nothing fits
  bool path_known = false;           // the path has routes, maybe not for this method (405)
  std::string allow;                 // methods of the path for the Allow header: "GET, HEAD"
};

// Routes by exact path and exact (case-sensitive) method. A GET route also answers HEAD
// unless a HEAD route is registered for the same path; the server drops the body.
class Router {
 public:
  // Registering the same method and path twice keeps the later handler.
  void add(std::string method, std::string path, Handler handler);
  // Answers `method` (GET: and HEAD) on every path under `prefix` that has no route of its
  // own, e.g. a 404 that names what does exist there.
  void add_fallback(std::string method, std::string prefix, Handler handler);
  RouteMatch match(std::string_view method, std::string_view path) const;

 private:
  // path → method → handler; std::less<> allows lookups by string_view.
  std::map<std::string, std::map<std::string, Handler, std::less<>>, std::less<>> routes_;
  // prefix → method → handler
  std::map<std::string, std::map<std::string, Handler, std::less<>>, std::less<>> fallbacks_;
};

// What one client may take, so that HTTP never holds the file descriptors Kafka and
// RocksDB need.
struct ServerLimits {
  // Open connections at most; the server stops accepting at the cap (further clients wait
  // in the kernel's listen backlog) and accepts again when one closes.
  std::size_t max_connections = 64;
  // The request line and headers must arrive within this; the body and the response's
  // write, and an idle keep-alive connection, within io_timeout_ms.
  std::int64_t header_timeout_ms = 10'000;
  std::int64_t io_timeout_ms = 30'000;
};

class HttpServer {
 public:
  // Largest request body accepted; larger ones are answered with 413.
  static constexpr std::uint64_t kMaxBodyBytes = 1 << 20;

  // Binds bind_address:port (an IP address or a host name; port 0 picks a free port),
  // then serves on its own thread. Resolve and bind errors come back as a non-ok Result
  // whose message names the address and port.
  static Result<std::unique_ptr<HttpServer>> Start(const std::string& bind_address,
                                                   uint16_t port, Router routes,
                                                   ServerLimits limits = {});

  // Connections open now (for tests and the status page).
  std::size_t connections() const;

  // The bound port (the chosen one when Start was given 0).
  uint16_t port() const;

  // Stops accepting, closes open connections and joins the server thread. Idempotent.
  // Must not be called from a handler (it would wait for its own thread).
  void stop();

  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

 private:
  class Impl;
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace streamlearn::http
