// What keeps HTTP from taking what the pipeline needs (a connection cap, header timeout)
// and what guards the endpoints that change state (a bearer token).
#include <catch2/catch.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "http_client.hpp"
#include "streamlearn/http/admin.hpp"
#include "streamlearn/http/server.hpp"

using namespace streamlearn;
using namespace streamlearn::http;
using streamlearn::http::testing::HttpClient;

namespace {

using Clock = std::chrono::steady_clock;

// Waits up to 5 s for `done`.
template <class F>
bool Eventually(F done) {
  const auto deadline = Clock::now() + std::chrono::seconds(5);
  while (!done()) {
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

Router GuardedRoutes(std::string token) {
  Router routes = AdminRoutes({});
  routes.add("POST", "/v1/change",
             RequireToken(std::move(token), [](const Request&) { return Response{.body = "changed"}; }));
  return routes;
}

}  // namespace

TEST_CASE("ConstantTimeEquals compares whole strings", "[http][auth]") {
  CHECK(ConstantTimeEquals("secret", "secret"));
  CHECK(ConstantTimeEquals("", ""));
  CHECK_FALSE(ConstantTimeEquals("secret", "secreT"));
  CHECK_FALSE(ConstantTimeEquals("secret", "secret2"));
  CHECK_FALSE(ConstantTimeEquals("secret", "secre"));
  CHECK_FALSE(ConstantTimeEquals("", "x"));
  CHECK_FALSE(ConstantTimeEquals(std::string_view("a\0b", 3), std::string_view("a\0c", 3)));
}

TEST_CASE("a state-changing endpoint needs the bearer token", "[http][auth]") {
  SECTION("without a configured token it is disabled: 403") {
    auto server = HttpServer::Start("127.0.0.1", 0, GuardedRoutes(""));
    REQUIRE(server.ok());
    HttpClient client((*server)->port());
    auto reply = client.send("POST", "/v1/change", "{}", {{"Authorization", "Bearer "}});
    CHECK(reply.status == 403);
    CHECK(reply.body.find("disabled: set http.token") != std::string::npos);
    CHECK(client.send("POST", "/v1/change", "{}").status == 403);
  }
  SECTION("with one: 401 when missing or wrong, the handler when right") {
    auto server = HttpServer::Start("127.0.0.1", 0, GuardedRoutes("s3cret-token"));
    REQUIRE(server.ok());
    HttpClient client((*server)->port());
    auto reply = client.send("POST", "/v1/change", "{}");
    CHECK(reply.status == 401);
    CHECK(reply.header("content-type") == "application/json");
    CHECK(client.send("POST", "/v1/change", "{}", {{"Authorization", "Bearer s3cret-tokeN"}}).status == 401);
    CHECK(client.send("POST", "/v1/change", "{}", {{"Authorization", "Bearer s3cret-token2"}}).status == 401);
    CHECK(client.send("POST", "/v1/change", "{}", {{"Authorization", "Basic s3cret-token"}}).status == 401);
    CHECK(client.send("POST", "/v1/change", "{}", {{"Authorization", "s3cret-token"}}).status == 401);
    reply = client.send("POST", "/v1/change", "{}", {{"Authorization", "Bearer s3cret-token"}});
    CHECK(reply.status == 200);
    CHECK(reply.body == "changed");
    // Reads stay open.
    CHECK(client.send("GET", "/healthz").status == 200);
  }
}

TEST_CASE("connections beyond http.max_connections wait, the server answers once they close", "[http][limits]") {
  ServerLimits limits;
  limits.max_connections = 4;
  auto server = HttpServer::Start("127.0.0.1", 0, AdminRoutes({}), limits);
  REQUIRE(server.ok());
  const uint16_t port = (*server)->port();
  {
    std::vector<std::unique_ptr<HttpClient>> held;
    for (int i = 0; i < 12; ++i) held.push_back(std::make_unique<HttpClient>(port));
    // The first four are accepted; the rest wait in the listen backlog, holding no descriptor
    // of ours.
    REQUIRE(Eventually([&] { return (*server)->connections() == 4; }));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    CHECK((*server)->connections() == 4);
    // An accepted connection is served meanwhile.
    CHECK(held[0]->send("GET", "/healthz").status == 200);
    CHECK((*server)->connections() <= 4);
  }
  // All closed: the server accepts again and answers.
  HttpClient fresh(port);
  auto reply = fresh.send("GET", "/healthz");
  CHECK(reply.status == 200);
  CHECK(reply.body == "ok");
  CHECK(Eventually([&] { return (*server)->connections() == 1; }));
}

TEST_CASE("a connection that sends no request is closed after the header timeout", "[http][limits]") {
  ServerLimits limits;
  limits.max_connections = 1;
  limits.header_timeout_ms = 200;
  auto server = HttpServer::Start("127.0.0.1", 0, AdminRoutes({}), limits);
  REQUIRE(server.ok());
  HttpClient silent((*server)->port());
  REQUIRE(Eventually([&] { return (*server)->connections() == 1; }));
  // It held the only slot; the timeout frees it for the next client.
  CHECK(Eventually([&] { return (*server)->connections() == 0; }));
  CHECK(silent.server_closed());
  HttpClient next((*server)->port());
  CHECK(next.send("GET", "/healthz").status == 200);
}

TEST_CASE("max_connections 0 is refused", "[http][limits]") {
  ServerLimits limits;
  limits.max_connections = 0;
  CHECK_FALSE(HttpServer::Start("127.0.0.1", 0, AdminRoutes({}), limits).ok());
}

TEST_CASE("the dashboard is served from the binary, its table rendered and escaped", "[http][dashboard]") {
  AdminHooks hooks;
  hooks.dashboard = [] {
    return DashboardView{"m <v2>", {{"events in", "1234"}, {"model", "<script>alert(1)</script>"}}};
  };
  hooks.series_json = [] { return std::string(R"({"models":["m"],"points":[]})"); };
  auto server = HttpServer::Start("127.0.0.1", 0, AdminRoutes(std::move(hooks)));
  REQUIRE(server.ok());
  HttpClient client((*server)->port());
  auto page = client.send("GET", "/");
  REQUIRE(page.status == 200);
  CHECK(page.header("content-type") == "text/html; charset=utf-8");
  CHECK(page.body.find("<tr><td>events in</td><td>1234</td></tr>") != std::string::npos);
  CHECK(page.body.find("&lt;script&gt;alert(1)&lt;/script&gt;") != std::string::npos);
  CHECK(page.body.find("<script>alert(1)") == std::string::npos);
  CHECK(page.body.find("m &lt;v2&gt;") != std::string::npos);
  CHECK(page.body.find("@@") == std::string::npos);
  // Everything it needs is in the page: no script, style or font from elsewhere.
  CHECK(page.body.find("src=\"http") == std::string::npos);
  CHECK(page.body.find("href=\"http") == std::string::npos);
  auto series = client.send("GET", "/v1/series");
  CHECK(series.status == 200);
  CHECK(series.header("content-type") == "application/json");
  // Without the hooks there is no page.
  auto bare = HttpServer::Start("127.0.0.1", 0, AdminRoutes({}));
  REQUIRE(bare.ok());
  HttpClient other((*bare)->port());
  CHECK(other.send("GET", "/").status == 404);
}
