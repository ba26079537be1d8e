#include "http_client.hpp"

#include <cctype>
#include <chrono>
#include <optional>

#include <boost/asio/write.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

namespace streamlearn::http::testing {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;

constexpr auto kTimeout = std::chrono::seconds(10);

std::string Lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

HttpReply ToReply(const bhttp::response<bhttp::string_body>& response) {
  HttpReply reply;
  reply.status = response.result_int();
  reply.body = response.body();
  reply.keep_alive = response.keep_alive();
  for (const auto& field : response) {
    reply.headers[Lower(std::string(field.name_string()))] = std::string(field.value());
  }
  return reply;
}

void ThrowIf(beast::error_code ec, const char* what) {
  if (ec) throw beast::system_error(ec, what);
}

}  // namespace

// Async operations with a deadline, run to completion on a private io_context: a server
// bug then fails the test after kTimeout instead of hanging it.
struct HttpClient::Impl {
  net::io_context io;
  beast::tcp_stream stream{io};
  beast::flat_buffer buffer;

  void RunToCompletion() {
    io.restart();
    io.run();
  }

  beast::error_code Connect(uint16_t port) {
    beast::error_code result;
    stream.expires_after(kTimeout);
    stream.async_connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port),
                         [&](beast::error_code ec) { result = ec; });
    RunToCompletion();
    return result;
  }

  template <class Message>
  void Write(Message& message) {
    beast::error_code result;
    stream.expires_after(kTimeout);
    bhttp::async_write(stream, message, [&](beast::error_code ec, std::size_t) { result = ec; });
    RunToCompletion();
    ThrowIf(result, "write");
  }

  HttpReply Read(bool head_request) {
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(64 * 1024 * 1024);
    parser.skip(head_request);  // a HEAD response announces a length but has no body
    beast::error_code result;
    stream.expires_after(kTimeout);
    bhttp::async_read(stream, buffer, parser, [&](beast::error_code ec, std::size_t) { result = ec; });
    RunToCompletion();
    ThrowIf(result, "read");
    return ToReply(parser.get());
  }
};

HttpClient::HttpClient(uint16_t port) : impl_(std::make_unique<Impl>()) {
  ThrowIf(impl_->Connect(port), "connect");
}

HttpClient::~HttpClient() = default;

HttpReply HttpClient::send(const std::string& method, const std::string& target, std::string body,
                           const HeaderList& extra_headers) {
  bhttp::request<bhttp::string_body> request;
  request.method_string(method);
  request.target(target);
  request.version(11);
  request.set(bhttp::field::host, "127.0.0.1");
  request.body() = std::move(body);
  bool length_given = false;
  for (const auto& [name, value] : extra_headers) {
    request.set(name, value);
    const std::string lower_name = Lower(name);
    if (lower_name == "content-length" || lower_name == "transfer-encoding") length_given = true;
  }
  if (!length_given) request.prepare_payload();
  impl_->Write(request);
  return impl_->Read(method == "HEAD");
}

std::pair<HttpReply, HttpReply> HttpClient::send_expecting_continue(const std::string& target,
                                                                    std::string body) {
  bhttp::request<bhttp::string_body> request{bhttp::verb::post, target, 11};
  request.set(bhttp::field::host, "127.0.0.1");
  request.set(bhttp::field::expect, "100-continue");
  request.body() = std::move(body);
  request.prepare_payload();
  bhttp::request_serializer<bhttp::string_body> serializer(request);

  beast::error_code result;
  impl_->stream.expires_after(kTimeout);
  bhttp::async_write_header(impl_->stream, serializer,
                            [&](beast::error_code ec, std::size_t) { result = ec; });
  impl_->RunToCompletion();
  ThrowIf(result, "write header");

  HttpReply interim = impl_->Read(/*head_request=*/false);
  if (interim.status != 100) return {interim, HttpReply{}};

  impl_->stream.expires_after(kTimeout);
  bhttp::async_write(impl_->stream, serializer,
                     [&](beast::error_code ec, std::size_t) { result = ec; });
  impl_->RunToCompletion();
  ThrowIf(result, "write body");
  return {interim, impl_->Read(/*head_request=*/false)};
}

HttpReply HttpClient::send_raw(const std::string& bytes) {
  beast::error_code result;
  impl_->stream.expires_after(kTimeout);
  net::async_write(impl_->stream, net::buffer(bytes),
                   [&](beast::error_code ec, std::size_t) { result = ec; });
  impl_->RunToCompletion();
  ThrowIf(result, "write");
  return impl_->Read(/*head_request=*/false);
}

bool HttpClient::server_closed() {
  char byte = 0;
  beast::error_code result;
  impl_->stream.expires_after(kTimeout);
  impl_->stream.async_read_some(net::buffer(&byte, 1),
                                [&](beast::error_code ec, std::size_t) { result = ec; });
  impl_->RunToCompletion();
  return result == net::error::eof || result == net::error::connection_reset;
}

std::string TryConnect(uint16_t port) {
  net::io_context io;
  beast::tcp_stream stream(io);
  beast::error_code result;
  stream.expires_after(kTimeout);
  stream.async_connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port),
                       [&](beast::error_code ec) { result = ec; });
  io.run();
  return result ? result.message() : std::string();
}

}  // namespace streamlearn::http::testing
