#include "streamlearn/http/server.hpp"

#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <exception>
#include <functional>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include <pthread.h>

// Only the pieces we use: <boost/beast.hpp> would add websocket, ssl and more to the build.
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

namespace streamlearn::http {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;
using BeastResponse = bhttp::response<bhttp::string_body>;

// After an error response we read and discard what the client still sends, for at most
// this long: closing with unread data makes the kernel send RST, which can destroy the
// response before the client reads it.
constexpr auto kLingerTimeout = std::chrono::seconds(2);
// Accept fails for reasons that last a while (out of file descriptors): retry later,
// not in a tight loop.
constexpr auto kAcceptRetryDelay = std::chrono::milliseconds(100);
constexpr std::uint32_t kMaxHeaderBytes = 16 * 1024;

std::string FormatAddress(const std::string& host, uint16_t port) {
  const bool ipv6 = host.find(':') != std::string::npos;
  return (ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

BeastResponse PlainResponse(bhttp::status status, std::string body) {
  BeastResponse response{status, 11};
  response.set(bhttp::field::content_type, "text/plain; charset=utf-8");
  response.body() = std::move(body);
  return response;
}

// Runs the matched handler and turns what it returns (or throws) into a Beast response.
BeastResponse CallHandler(const Handler& handler, const Request& request) {
  Response response;
  try {
    response = handler(request);
  } catch (const std::exception&) {
    // The edge where handler exceptions stop. No details: they may leak internals.
    return PlainResponse(bhttp::status::internal_server_error, "internal server error");
  } catch (...) {
    return PlainResponse(bhttp::status::internal_server_error, "internal server error");
  }
  if (response.status < 200 || response.status > 599) {
    return PlainResponse(bhttp::status::internal_server_error, "handler returned an invalid status");
  }
  BeastResponse out;
  out.result(response.status);
  if (!response.content_type.empty()) out.set(bhttp::field::content_type, response.content_type);
  // 204 and 304 never carry a body (Beast refuses to send one).
  if (response.status != 204 && response.status != 304) out.body() = std::move(response.body);
  return out;
}

// Counts open connections for the cap: the acceptor pauses at ServerLimits::max_connections
// and `resume` restarts it when a connection ends. Server thread only.
struct ConnectionGate {
  std::atomic<std::size_t> open{0};  // read by HttpServer::connections() from any thread
  bool paused = false;
  std::function<void()> resume;
  void closed() {
    --open;
    if (paused && resume) {
      paused = false;
      resume();
    }
  }
};

// One client connection: read a request, answer it, repeat while keep-alive holds.
// Lives in shared_ptrs held by its pending operations; everything runs on the server thread.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, const Router& routes, const ServerLimits& limits, ConnectionGate& gate)
      : stream_(std::move(socket)),
        routes_(routes),
        header_timeout_(std::chrono::milliseconds(limits.header_timeout_ms)),
        io_timeout_(std::chrono::milliseconds(limits.io_timeout_ms)),
        gate_(gate) {
    ++gate_.open;
  }
  ~Session() { gate_.closed(); }
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  void Start() { ReadRequest(); }

  // Cancels pending operations; the session ends when their handlers have run.
  void Close() { stream_.close(); }

 private:
  void ReadRequest() {
    parser_.emplace();  // a parser reads exactly one message
    parser_->body_limit(HttpServer::kMaxBodyBytes);
    parser_->header_limit(kMaxHeaderBytes);
    // Covers an idle keep-alive connection and a client sending its header very slowly.
    stream_.expires_after(header_timeout_);
    // The header first: a body over the limit is refused before the client sends it, and a
    // client waiting for "100 Continue" (curl does, for bodies over 1 KiB) gets it.
    bhttp::async_read_header(stream_, buffer_, *parser_,
                             [self = shared_from_this()](beast::error_code ec, std::size_t) {
                               self->OnHeader(ec);
                             });
  }

  void OnHeader(beast::error_code ec) {
    if (ec || parser_->is_done()) return OnRead(ec);
    if (beast::iequals(parser_->get()[bhttp::field::expect], "100-continue")) {
      continue_ = std::make_unique<bhttp::response<bhttp::empty_body>>(bhttp::status::continue_, 11);
      stream_.expires_after(io_timeout_);
      bhttp::async_write(stream_, *continue_,
                         [self = shared_from_this()](beast::error_code write_ec, std::size_t) {
                           self->continue_.reset();
                           if (write_ec) return;
                           self->ReadBody();
                         });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    stream_.expires_after(io_timeout_);
    bhttp::async_read(stream_, buffer_, *parser_,
                      [self = shared_from_this()](beast::error_code ec, std::size_t) {
                        self->OnRead(ec);
                      });
  }

  void OnRead(beast::error_code ec) {
    if (ec == bhttp::error::end_of_stream) {  // the client closed between requests
      stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
      return;
    }
    if (ec == bhttp::error::body_limit) {
      return SendAndClose(PlainResponse(bhttp::status::payload_too_large,
                                        "request body larger than " +
                                            std::to_string(HttpServer::kMaxBodyBytes) + " bytes"));
    }
    if (ec == bhttp::error::header_limit) {
      return SendAndClose(PlainResponse(bhttp::status::request_header_fields_too_large,
                                        "request header too large"));
    }
    if (ec && ec.category() == bhttp::make_error_code(bhttp::error::bad_method).category() &&
        ec != bhttp::error::partial_message) {
      return SendAndClose(PlainResponse(bhttp::status::bad_request, "malformed request"));
    }
    if (ec) return;  // timeout, reset, cancelled by stop(): nothing to answer

    Respond(parser_->release());
  }

  void Respond(bhttp::request<bhttp::string_body> beast_request) {
    Request request;
    request.method = std::string(beast_request.method_string());
    const std::string_view target(beast_request.target().data(), beast_request.target().size());
    const auto question = target.find('?');
    request.path = std::string(target.substr(0, question));
    if (question != std::string_view::npos) request.query = std::string(target.substr(question + 1));
    request.body = std::move(beast_request.body());
    if (auto it = beast_request.find(bhttp::field::authorization); it != beast_request.end()) {
      request.authorization = std::string(it->value());
    }

    const RouteMatch match = routes_.match(request.method, request.path);
    if (match.handler != nullptr) {
      response_ = CallHandler(*match.handler, request);
    } else if (match.path_known) {
      response_ = PlainResponse(bhttp::status::method_not_allowed,
                                "method " + request.method + " not allowed on " + request.path);
      response_.set(bhttp::field::allow, match.allow);
    } else {
      response_ = PlainResponse(bhttp::status::not_found, "no route for " + request.path);
    }

    response_.version(beast_request.version());
    response_.set(bhttp::field::server, "streamlearn");
    response_.keep_alive(beast_request.keep_alive());
    response_.prepare_payload();  // Content-Length of the full body, HEAD included
    if (beast_request.method() == bhttp::verb::head) response_.body().clear();
    Write(/*linger=*/false);
  }

  // For requests we could not read completely: answer, then close the connection.
  void SendAndClose(BeastResponse response) {
    response_ = std::move(response);
    response_.set(bhttp::field::server, "streamlearn");
    response_.keep_alive(false);
    response_.prepare_payload();
    Write(/*linger=*/true);
  }

  void Write(bool linger) {
    stream_.expires_after(io_timeout_);
    bhttp::async_write(stream_, response_,
                       [self = shared_from_this(), linger](beast::error_code ec, std::size_t) {
                         self->OnWrite(ec, linger);
                       });
  }

  void OnWrite(beast::error_code ec, bool linger) {
    if (ec) return;
    if (linger) return LingerThenClose();
    if (response_.need_eof()) {
      stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
      return;
    }
    response_ = {};
    ReadRequest();
  }

  void LingerThenClose() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.expires_after(kLingerTimeout);
    Drain();
  }

  void Drain() {
    stream_.async_read_some(net::buffer(drain_buffer_),
                            [self = shared_from_this()](beast::error_code ec, std::size_t) {
                              if (!ec) self->Drain();  // until EOF, an error or the timeout
                            });
  }

  beast::tcp_stream stream_;
  const Router& routes_;
  std::chrono::steady_clock::duration header_timeout_, io_timeout_;
  ConnectionGate& gate_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  BeastResponse response_;  // kept alive here while async_write runs
  std::unique_ptr<bhttp::response<bhttp::empty_body>> continue_;  // the same, for "100 Continue"
  std::array<char, 4096> drain_buffer_{};
};

}  // namespace

class HttpServer::Impl {
 public:
  Impl(Router routes, ServerLimits limits) : routes_(std::move(routes)), limits_(limits) {
    gate_.resume = [this] {
      if (!stopping_) Accept();
    };
  }

  ~Impl() { Stop(); }

  Status Listen(const std::string& bind_address, uint16_t port) {
    const std::string where = FormatAddress(bind_address, port);
    beast::error_code ec;
    tcp::resolver resolver(io_);
    const auto endpoints = resolver.resolve(
        bind_address, std::to_string(port),
        tcp::resolver::passive | tcp::resolver::numeric_service, ec);
    if (ec) return Status::Invalid("cannot resolve HTTP bind address " + where + ": " + ec.message());

    // A host name may resolve to several addresses: serve on the first that binds.
    for (const auto& entry : endpoints) {
      ec = {};
      acceptor_.open(entry.endpoint().protocol(), ec);
      // Lets a restarted process bind while old connections sit in TIME_WAIT; on Linux it
      // does not allow two listeners on one port.
      if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
      if (!ec) acceptor_.bind(entry.endpoint(), ec);
      if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
      if (!ec) {
        port_ = acceptor_.local_endpoint().port();
        return Status::Ok();
      }
      beast::error_code ignored;
      acceptor_.close(ignored);
    }
    return Status::IoError("cannot listen for HTTP on " + where + ": " + ec.message());
  }

  void Run() {
    Accept();
    thread_ = std::thread([this] {
      pthread_setname_np(pthread_self(), "sl-http");
      for (;;) {
        // Handler exceptions are caught per request; this is the last edge for anything
        // else (say, bad_alloc) so that one failure does not end the server.
        try {
          io_.run();
          return;
        } catch (const std::exception& e) {
          std::fprintf(stderr, "streamlearn http: server thread caught: %s\n", e.what());
        }
      }
    });
  }

  void Stop() {
    if (stopping_.exchange(true)) return;
    // Sessions and the acceptor belong to the server thread: close them there. With all
    // operations cancelled, io_.run() runs out of work and the thread ends.
    net::post(io_, [this] {
      beast::error_code ignored;
      acceptor_.close(ignored);
      accept_retry_.cancel();
      for (auto& weak : sessions_) {
        if (auto session = weak.lock()) session->Close();
      }
      sessions_.clear();
    });
    if (thread_.joinable()) thread_.join();
    gate_.resume = nullptr;  // sessions left to die with io_ must not restart accepting
    beast::error_code ignored;
    acceptor_.close(ignored);  // in case the thread never ran
  }

  uint16_t port() const { return port_; }
  std::size_t connections() const { return gate_.open.load(); }

 private:
  void Accept() {
    if (gate_.open >= limits_.max_connections) {
      gate_.paused = true;  // the next connection to end accepts again
      return;
    }
    acceptor_.async_accept([this](beast::error_code ec, tcp::socket socket) {
      if (stopping_ || ec == net::error::operation_aborted) return;
      if (ec) {
        accept_retry_.expires_after(kAcceptRetryDelay);
        accept_retry_.async_wait([this](beast::error_code wait_ec) {
          if (!wait_ec && !stopping_) Accept();
        });
        return;
      }
      auto session = std::make_shared<Session>(std::move(socket), routes_, limits_, gate_);
      std::erase_if(sessions_, [](const auto& weak) { return weak.expired(); });
      sessions_.push_back(session);
      session->Start();
      Accept();
    });
  }

  // Declaration order matters: io_ is destroyed after the objects that use it, and any
  // session still referenced by a pending handler dies with io_, before routes_.
  Router routes_;
  ServerLimits limits_;
  ConnectionGate gate_;  // outlives the sessions, which die with io_
  net::io_context io_{1};  // one thread: lets Asio skip locking
  tcp::acceptor acceptor_{io_};
  net::steady_timer accept_retry_{io_};
  std::vector<std::weak_ptr<Session>> sessions_;  // for stop(); touched on the server thread only
  std::atomic<bool> stopping_{false};
  uint16_t port_ = 0;
  std::thread thread_;
};

Result<std::unique_ptr<HttpServer>> HttpServer::Start(const std::string& bind_address,
                                                      uint16_t port, Router routes, ServerLimits limits) {
  if (limits.max_connections == 0) return Status::Invalid("HTTP max_connections must be at least 1");
  auto impl = std::make_unique<Impl>(std::move(routes), limits);
  SL_RETURN_IF_ERROR(impl->Listen(bind_address, port));
  impl->Run();
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() { stop(); }

uint16_t HttpServer::port() const { return impl_->port(); }

std::size_t HttpServer::connections() const { return impl_->connections(); }

void HttpServer::stop() { impl_->Stop(); }

}  // namespace streamlearn::http
