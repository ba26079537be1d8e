#include <catch2/catch.hpp>

#include <stdexcept>
#include <string>

#include "http_client.hpp"
#include "streamlearn/http/server.hpp"

using namespace streamlearn;
using namespace streamlearn::http;
using streamlearn::http::testing::HttpClient;
using streamlearn::http::testing::TryConnect;

namespace {

Router TestRoutes() {
  Router routes;
  routes.add("GET", "/hello", [](const Request&) { return Response{.body = "hello"}; });
  routes.add("POST", "/hello", [](const Request&) { return Response{.status = 201}; });
  routes.add("POST", "/echo", [](const Request& request) {
    return Response{.body = request.method + " " + request.path + " ?" + request.query + " " +
                            request.body};
  });
  routes.add("POST", "/size", [](const Request& request) {
    return Response{.body = std::to_string(request.body.size())};
  });
  routes.add("GET", "/throw",
             [](const Request&) -> Response { throw std::runtime_error("handler failed"); });
  routes.add("GET", "/bad-status", [](const Request&) { return Response{.status = 42}; });
  return routes;
}

std::unique_ptr<HttpServer> StartTestServer() {
  auto server = HttpServer::Start("127.0.0.1", 0, TestRoutes());
  REQUIRE(server.ok());
  REQUIRE((*server)->port() != 0);
  return std::move(server).value();
}

}  // namespace

TEST_CASE("a GET route answers with its handler's response", "[http]") {
  auto server = StartTestServer();
  HttpClient client(server->port());
  auto reply = client.send("GET", "/hello");
  CHECK(reply.status == 200);
  CHECK(reply.body == "hello");
  CHECK(reply.header("content-type") == "text/plain; charset=utf-8");
  CHECK(reply.header("content-length") == "5");
}

TEST_CASE("the handler sees method, path, query and body", "[http]") {
  auto server = StartTestServer();
  HttpClient client(server->port());
  auto reply = client.send("POST", "/echo?model=logreg&v=2", "payload");
  CHECK(reply.status == 200);
  CHECK(reply.body == "POST /echo ?model=logreg&v=2 payload");
}

TEST_CASE("an unknown path answers 404 with a short text body", "[http]") {
  auto server = StartTestServer();
  HttpClient client(server->port());
  auto reply = client.send("GET", "/nope");
  CHECK(reply.status == 404);
  CHECK(reply.body == "no route for /nope");
  CHECK(reply.header("content-type") == "text/plain; charset=utf-8");
  // The query is not part of the path: /hello?x still finds /hello.
  CHECK(client.send("GET", "/hello?x=1").status == 200);
  CHECK(client.send("GET", "/hello/").status == 404);  // exact match only
}

TEST_CASE("a known path with the wrong method answers 405 with an Allow header", "[http]") {
  auto server = StartTestServer();
  HttpClient client(server->port());
  auto reply = client.send("DELETE", "/hello");
  CHECK(reply.status == 405);
  CHECK(reply.header("allow") == "GET, HEAD, POST");
  CHECK(client.send("GET", "/echo").header("allow") == "POST");
  CHECK(client.send("POST", "/hello").status == 201);
}

TEST_CASE("HEAD of a GET route has the GET headers and no body", "[http]") {
  auto server = StartTestServer();
  HttpClient client(server->port());
  auto get = client.send("GET", "/hello");
  auto head = client.send("HEAD", "/hello");
  CHECK(head.status == 200);
  CHECK(head.body.empty());
  CHECK(head.header("content-length") == get.header("content-length"));
  CHECK(head.header("content-type") == get.header("content-type"));
  // The connection is still usable: the server really sent no body bytes.
  CHECK(client.send("GET", "/hello").body == "hello");
  CHECK(client.send("HEAD", "/echo").status == 405);  // HEAD follows GET, not POST
}

TEST_CASE("two requests share one keep-alive connection", "[http]") {
  auto server = StartTestServer();
  HttpClient client(server->port());
  auto first = client.send("GET", "/hello");
  CHECK(first.keep_alive);
  auto second = client.send("POST", "/echo", "again");
  CHECK(second.status == 200);
  CHECK(second.body == "POST /echo ? again");

  SECTION("Connection: close ends the connection after the response") {
    auto last = client.send("GET", "/hello", {}, {{"Connection", "close"}});
    CHECK(last.status == 200);
    CHECK_FALSE(last.keep_alive);
    CHECK(client.server_closed());
  }
}

TEST_CASE("a handler that throws answers 500 and the server keeps serving", "[http]") {
  auto server = StartTestServer();
  HttpClient client(server->port());
  auto reply = client.send("GET", "/throw");
  CHECK(reply.status == 500);
  CHECK(reply.body == "internal server error");  // no exception text leaks out
  CHECK(client.send("GET", "/hello").status == 200);  // same connection
  HttpClient other(server->port());
  CHECK(other.send("GET", "/hello").status == 200);
}

TEST_CASE("a handler returning an invalid status answers 500", "[http]") {
  auto server = StartTestServer();
  HttpClient client(server->port());
  auto reply = client.send("GET", "/bad-status");
  CHECK(reply.status == 500);
  CHECK(reply.body == "handler returned an invalid status");
}

TEST_CASE("request bodies over 1 MiB are refused with 413", "[http]") {
  auto server = StartTestServer();
  const std::size_t limit = HttpServer::kMaxBodyBytes;
  REQUIRE(limit == 1024 * 1024);

  SECTION("a body of exactly 1 MiB is accepted") {
    HttpClient client(server->port());
    auto reply = client.send("POST", "/size", std::string(limit, 'x'));
    CHECK(reply.status == 200);
    CHECK(reply.body == std::to_string(limit));
  }
  SECTION("a declared length over the limit is refused before the body is sent") {
    HttpClient client(server->port());
    auto reply = client.send("POST", "/size", {}, {{"Content-Length", std::to_string(limit + 1)}});
    CHECK(reply.status == 413);
    CHECK_FALSE(reply.keep_alive);
    CHECK(client.server_closed());
  }
  SECTION("a client that sends the whole oversized body still reads the 413") {
    HttpClient client(server->port());
    auto reply = client.send("POST", "/size", std::string(limit + 1, 'x'));
    CHECK(reply.status == 413);
  }
  SECTION("a chunked body that grows over the limit is refused") {
    HttpClient client(server->port());
    auto reply = client.send("POST", "/size", std::string(limit + 1, 'x'),
                             {{"Transfer-Encoding", "chunked"}});
    CHECK(reply.status == 413);
  }
  // Still serving after all of that.
  HttpClient client(server->port());
  CHECK(client.send("GET", "/hello").status == 200);
}

TEST_CASE("a malformed request answers 400 and closes the connection", "[http]") {
  auto server = StartTestServer();
  HttpClient client(server->port());
  auto reply = client.send_raw("NOT HTTP AT ALL\r\n\r\n");
  CHECK(reply.status == 400);
  CHECK(reply.body == "malformed request");
  CHECK(client.server_closed());
  HttpClient other(server->port());
  CHECK(other.send("GET", "/hello").status == 200);
}

TEST_CASE("Expect: 100-continue gets an interim response before the body", "[http]") {
  auto server = StartTestServer();
  HttpClient client(server->port());
  auto [interim, final_reply] = client.send_expecting_continue("/size", std::string(5000, 'y'));
  CHECK(interim.status == 100);
  CHECK(final_reply.status == 200);
  CHECK(final_reply.body == "5000");
}

TEST_CASE("stop() closes the port and open connections, and is idempotent", "[http]") {
  auto server = StartTestServer();
  const uint16_t port = server->port();
  HttpClient client(port);
  REQUIRE(client.send("GET", "/hello").status == 200);
  REQUIRE(TryConnect(port).empty());

  server->stop();
  CHECK(client.server_closed());
  CHECK_FALSE(TryConnect(port).empty());
  server->stop();  // a second stop is harmless, and so is the destructor's
}

TEST_CASE("starting twice on the same fixed port fails and names the port", "[http]") {
  // Learn a free port, then use it as a fixed one.
  uint16_t port = 0;
  {
    auto probe = HttpServer::Start("127.0.0.1", 0, Router{});
    REQUIRE(probe.ok());
    port = (*probe)->port();
  }
  auto first = HttpServer::Start("127.0.0.1", port, TestRoutes());
  REQUIRE(first.ok());
  CHECK((*first)->port() == port);

  auto second = HttpServer::Start("127.0.0.1", port, TestRoutes());
  REQUIRE_FALSE(second.ok());
  CHECK(second.status().code() == ErrorCode::kIoError);
  CHECK_THAT(second.status().message(), Catch::Contains("127.0.0.1:" + std::to_string(port)));

  // The first server is unaffected.
  HttpClient client(port);
  CHECK(client.send("GET", "/hello").status == 200);
}

TEST_CASE("binding an address this host does not have fails and names it", "[http]") {
  // 192.0.2.0/24 is TEST-NET-1 (RFC 5737): never assigned to a real interface.
  auto server = HttpServer::Start("192.0.2.1", 8080, Router{});
  REQUIRE_FALSE(server.ok());
  CHECK_THAT(server.status().message(), Catch::Contains("192.0.2.1:8080"));
}

TEST_CASE("the router matches exact paths and methods", "[http]") {
  Router routes = TestRoutes();
  CHECK(routes.match("GET", "/hello").handler != nullptr);
  CHECK(routes.match("HEAD", "/hello").handler != nullptr);
  CHECK(routes.match("get", "/hello").handler == nullptr);  // methods are case-sensitive
  auto wrong_method = routes.match("PUT", "/hello");
  CHECK(wrong_method.handler == nullptr);
  CHECK(wrong_method.path_known);
  CHECK(wrong_method.allow == "GET, HEAD, POST");
  auto unknown = routes.match("GET", "/missing");
  CHECK_FALSE(unknown.path_known);

  routes.add("GET", "/hello", [](const Request&) { return Response{.body = "replaced"}; });
  CHECK((*routes.match("GET", "/hello").handler)(Request{}).body == "replaced");
}
