#pragma once
// A plain HTTP/1.1 client over a real loopback socket, for the tests. Beast stays in
// http_client.cpp so the test files compile quickly. Failures throw: tests are an edge.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace streamlearn::http::testing {

struct HttpReply {
  unsigned status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // names lower-cased
  bool keep_alive = false;

  std::string header(const std::string& lower_case_name) const {
    auto it = headers.find(lower_case_name);
    return it == headers.end() ? std::string() : it->second;
  }
  bool has_header(const std::string& lower_case_name) const {
    return headers.count(lower_case_name) > 0;
  }
};

using HeaderList = std::vector<std::pair<std::string, std::string>>;

// One keep-alive connection to 127.0.0.1:port. Every operation times out after 10 s.
class HttpClient {
 public:
  explicit HttpClient(uint16_t port);
  ~HttpClient();

  // Sends one request and reads its response. A Content-Length in extra_headers is sent
  // as given (the body is not checked against it); with "Transfer-Encoding: chunked" the
  // body goes as chunks; otherwise Content-Length is computed.
  HttpReply send(const std::string& method, const std::string& target, std::string body = {},
                 const HeaderList& extra_headers = {});

  // Sends the header with "Expect: 100-continue", waits for the interim response, then
  // sends the body. Returns {interim, final}.
  std::pair<HttpReply, HttpReply> send_expecting_continue(const std::string& target,
                                                          std::string body);

  // Writes raw bytes (say, a malformed request) and reads one response.
  HttpReply send_raw(const std::string& bytes);

  // True when the server has closed the connection (a read sees end of stream).
  bool server_closed();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Connects to 127.0.0.1:port and disconnects. Returns "" or the connect error.
std::string TryConnect(uint16_t port);

}  // namespace streamlearn::http::testing
