#include <catch2/catch.hpp>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>

#include <prometheus/counter.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "http_client.hpp"
#include "streamlearn/http/admin.hpp"
#include "streamlearn/http/metrics.hpp"
#include "streamlearn/http/server.hpp"

using namespace streamlearn;
using namespace streamlearn::http;
using streamlearn::http::testing::HttpClient;

namespace {

constexpr const char* kPromtool = "/usr/bin/promtool";

// A registry with one labelled counter (incremented 3 times) and one histogram.
std::shared_ptr<prometheus::Registry> SampleRegistry() {
  auto registry = std::make_shared<prometheus::Registry>();
  auto& events = prometheus::BuildCounter()
                     .Name("streamlearn_events_total")
                     .Help("Events processed.")
                     .Register(*registry);
  auto& counter = events.Add({{"topic", "events"}});
  counter.Increment();
  counter.Increment(2);
  auto& latency = prometheus::BuildHistogram()
                      .Name("streamlearn_predict_latency_seconds")
                      .Help("Time to score one event.")
                      .Register(*registry);
  auto& histogram = latency.Add({}, prometheus::Histogram::BucketBoundaries{0.001, 0.01, 0.1});
  histogram.Observe(0.005);
  histogram.Observe(0.05);
  return registry;
}

std::unique_ptr<HttpServer> StartAdmin(AdminHooks hooks) {
  auto server = HttpServer::Start("127.0.0.1", 0, AdminRoutes(std::move(hooks)));
  REQUIRE(server.ok());
  return std::move(server).value();
}

// Runs `promtool check metrics` on the text; returns its exit status.
int PromtoolCheck(const std::string& exposition) {
  const auto path = std::filesystem::temp_directory_path() /
                    ("sl-metrics-" + std::to_string(std::random_device{}()) + ".prom");
  std::ofstream(path) << exposition;
  const std::string command = std::string(kPromtool) + " check metrics < " + path.string();
  const int status = std::system(command.c_str());
  std::filesystem::remove(path);
  return status;
}

}  // namespace

TEST_CASE("GET /healthz answers 200 ok", "[http][admin]") {
  auto server = StartAdmin({});
  HttpClient client(server->port());
  auto reply = client.send("GET", "/healthz");
  CHECK(reply.status == 200);
  CHECK(reply.body == "ok");
  CHECK(client.send("HEAD", "/healthz").status == 200);
  CHECK(client.send("POST", "/healthz").status == 405);
}

TEST_CASE("GET /metrics serves the registry in Prometheus text format", "[http][admin]") {
  auto server = StartAdmin({.registry = SampleRegistry()});
  HttpClient client(server->port());
  auto reply = client.send("GET", "/metrics");
  CHECK(reply.status == 200);
  CHECK(reply.header("content-type") == "text/plain; version=0.0.4; charset=utf-8");
  CHECK_THAT(reply.body, Catch::Contains("\n# TYPE streamlearn_events_total counter\n"));
  CHECK_THAT(reply.body, Catch::Contains("\nstreamlearn_events_total{topic=\"events\"} 3\n"));
  CHECK_THAT(reply.body,
             Catch::Contains("\n# TYPE streamlearn_predict_latency_seconds histogram\n"));
  CHECK_THAT(reply.body, Catch::Contains("\nstreamlearn_predict_latency_seconds_count 2\n"));
  CHECK_THAT(reply.body,
             Catch::Contains("\nstreamlearn_predict_latency_seconds_bucket{le=\"0.01\"} 1\n"));

  if (std::filesystem::exists(kPromtool)) {
    CHECK(PromtoolCheck(reply.body) == 0);
  } else {
    WARN("promtool not found at " << kPromtool
                                  << " (Debian package `prometheus`): skipped `promtool check "
                                     "metrics`");
  }
}

TEST_CASE("RenderPrometheus renders exact exposition lines", "[http][admin]") {
  auto registry = SampleRegistry();
  const std::string text = RenderPrometheus(*registry);
  CHECK_THAT(text, Catch::StartsWith("# HELP "));
  CHECK_THAT(text, Catch::Contains("# HELP streamlearn_events_total Events processed.\n"));
  CHECK_THAT(text, Catch::Contains("streamlearn_events_total{topic=\"events\"} 3\n"));
  CHECK_THAT(text, Catch::Contains("streamlearn_predict_latency_seconds_bucket{le=\"+Inf\"} 2\n"));
}

TEST_CASE("/metrics without a registry answers 503", "[http][admin]") {
  auto handler = MetricsHandler(nullptr);
  auto response = handler(Request{});
  CHECK(response.status == 503);
}

TEST_CASE("/readyz follows the ready hook", "[http][admin]") {
  auto ready = std::make_shared<std::atomic<bool>>(false);
  auto server = StartAdmin({.ready = [ready] { return ready->load(); }});
  HttpClient client(server->port());

  auto before = client.send("GET", "/readyz");
  CHECK(before.status == 503);
  CHECK(before.body == "not ready");

  ready->store(true);
  auto after = client.send("GET", "/readyz");
  CHECK(after.status == 200);
  CHECK(after.body == "ready");
}

TEST_CASE("/readyz answers JSON with the reason from the readiness hook", "[http][admin]") {
  auto state = std::make_shared<std::atomic<int>>(0);
  auto server = StartAdmin({.readiness = [state] {
    if (state->load() == 0) return ReadyState{false, "state directory refuses writes: \"no space\""};
    return ReadyState{true, ""};
  }});
  HttpClient client(server->port());
  auto before = client.send("GET", "/readyz");
  CHECK(before.status == 503);
  CHECK(before.body == R"({"ready":false,"reason":"state directory refuses writes: \"no space\""})");
  state->store(1);
  auto after = client.send("GET", "/readyz");
  CHECK(after.status == 200);
  CHECK(after.body == R"({"ready":true})");
}

TEST_CASE("/readyz without a hook is ready", "[http][admin]") {
  auto server = StartAdmin({});
  HttpClient client(server->port());
  CHECK(client.send("GET", "/readyz").status == 200);
}

TEST_CASE("/v1/status serves the hook's JSON, and 404 without it", "[http][admin]") {
  SECTION("with a hook") {
    auto server = StartAdmin({.status_json = [] { return std::string(R"({"events":42})"); }});
    HttpClient client(server->port());
    auto reply = client.send("GET", "/v1/status");
    CHECK(reply.status == 200);
    CHECK(reply.header("content-type") == "application/json");
    CHECK(reply.body == R"({"events":42})");
  }
  SECTION("without a hook") {
    auto server = StartAdmin({});
    HttpClient client(server->port());
    CHECK(client.send("GET", "/v1/status").status == 404);
  }
  SECTION("with a hook that has nothing to say") {
    auto server = StartAdmin({.status_json = [] { return std::string(); }});
    HttpClient client(server->port());
    CHECK(client.send("GET", "/v1/status").status == 404);
  }
}

TEST_CASE("routes added to the admin router are served beside it", "[http][admin]") {
  Router routes = AdminRoutes({});
  routes.add("GET", "/", [](const Request&) {
    return Response{.content_type = "text/html; charset=utf-8", .body = "<h1>streamlearn</h1>"};
  });
  auto server = HttpServer::Start("127.0.0.1", 0, std::move(routes));
  REQUIRE(server.ok());
  HttpClient client((*server)->port());
  CHECK(client.send("GET", "/").body == "<h1>streamlearn</h1>");
  CHECK(client.send("GET", "/healthz").body == "ok");
}

TEST_CASE("a path under /v1/models/ that names no model answers a JSON 404 naming the models", "[http][admin]") {
  Router routes = AdminRoutes({});
  AddModelRoutes(routes, {.names = {"logreg", "fast"},
                          .models_json = [] { return std::string("{}"); },
                          .model_json = [](const std::string&) -> Result<std::string> { return std::string("{}"); },
                          .change = [](const std::string&, const std::string&, const std::string&)
                              -> Result<std::string> { return std::string("{}"); },
                          .token = "t"});
  auto server = HttpServer::Start("127.0.0.1", 0, std::move(routes));
  REQUIRE(server.ok());
  HttpClient client((*server)->port());
  CHECK(client.send("GET", "/v1/models/logreg").status == 200);
  auto get = client.send("GET", "/v1/models/sea-logreg");
  CHECK(get.status == 404);
  CHECK(get.header("content-type") == "application/json");
  CHECK(get.body == R"j({"error":"no model named 'sea-logreg' (models: 'logreg', 'fast')"})j");
  auto post = client.send("POST", "/v1/models/sea-logreg/rollback", "{}", {{"Authorization", "Bearer t"}});
  CHECK(post.status == 404);
  CHECK(post.body == get.body);
  auto action = client.send("POST", "/v1/models/logreg/undo", "{}");
  CHECK(action.status == 404);
  CHECK(action.body.find("POST .../rollback, .../promote") != std::string::npos);
  // Outside the prefix, the router's own 404.
  CHECK(client.send("GET", "/v1/model").status == 404);
}
