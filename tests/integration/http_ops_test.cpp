// The admin HTTP server beside a running pipeline (embedded broker, real RocksDB, real
// sockets): /v1/predict answers from the snapshots the runner publishes, and clients
// holding more connections than http.max_connections take neither the pipeline's
// descriptors nor its progress.
#include <catch2/catch.hpp>
#include <prometheus/registry.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <random>
#include <thread>
#include <vector>

#include "http_client.hpp"
#include "streamlearn/http/admin.hpp"
#include "streamlearn/http/server.hpp"
#include "streamlearn/kafka/kafka.hpp"
#include "streamlearn/offline/synthetic.hpp"
#include "streamlearn/pipeline/probe.hpp"
#include "streamlearn/pipeline/runner.hpp"

using namespace streamlearn;
using namespace streamlearn::pipeline;
using streamlearn::http::testing::HttpClient;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

struct TempDir {
  fs::path path = fs::temp_directory_path() / ("sl-http-ops-" + std::to_string(std::random_device{}()));
  ~TempDir() { fs::remove_all(path); }
};

}  // namespace

TEST_CASE("held connections beyond the cap: the pipeline keeps consuming, /healthz and /v1/predict answer after",
          "[integration][http]") {
  auto broker = kafka::EmbeddedBroker::Start();
  REQUIRE(broker.ok());
  const std::string bootstrap = (*broker)->bootstrap_servers();
  for (const char* t : {"events", "predictions", "drift", "dlq"}) REQUIRE((*broker)->create_topic(t, 2).ok());

  TempDir dir;
  PipelineConfig config;
  config.kafka.bootstrap_servers = bootstrap;
  config.kafka.group_id = "http-ops";
  config.kafka.poll_timeout_ms = 20;
  config.state.dir = dir.path.string();
  config.http.predict_refresh_ms = 50;
  config.state.commit_interval_ms = 100;
  config.challengers["fast"] = {{"learning_rate", "0.05"}};
  PipelineProbe probe(std::make_shared<prometheus::Registry>());
  auto runner = KafkaRunner::Create(config, &probe);
  REQUIRE(runner.ok());
  auto predictor = (*runner)->make_predictor();
  REQUIRE(predictor.ok());

  http::AdminHooks hooks;
  hooks.registry = probe.registry();
  hooks.predict = [p = predictor->get()](const http::Request& r) { return http::JsonResponse(p->predict(r.body)); };
  http::ServerLimits limits;
  limits.max_connections = 8;
  http::Router routes = http::AdminRoutes(std::move(hooks));
  // As `streamlearn run` wires them (services/streamlearn/service_support.cpp).
  KafkaRunner* r = runner->get();
  http::ModelRouteHooks models;
  models.names = {config.model.name, "fast"};
  models.models_json = [r] { return r->models_json(); };
  models.model_json = [r](const std::string& name) { return r->model_json(name); };
  models.change = [r](const std::string& name, const std::string& action, const std::string& body) -> Result<std::string> {
    auto command = ParseModelCommand(name, action, body);
    if (!command.ok()) return command.status();
    return r->submit(std::move(command).value(), std::chrono::seconds(10));
  };
  models.token = "t0ken";
  http::AddModelRoutes(routes, std::move(models));
  auto server = http::HttpServer::Start("127.0.0.1", 0, std::move(routes), limits);
  REQUIRE(server.ok());
  const uint16_t port = (*server)->port();

  std::atomic<bool> stop{false};
  Status run_status;
  std::thread thread([&] { run_status = (*runner)->run(stop); });

  SyntheticOptions synth;
  synth.events = 6000;
  synth.invalid_share = 0;
  synth.entities = 100;
  SyntheticSeaStream stream(synth);
  auto producer = kafka::Producer::Create({{"bootstrap.servers", bootstrap}, {"linger.ms", "2"}});
  REQUIRE(producer.ok());
  std::string key, payload, last_payload;
  bool valid = false;
  uint64_t produced = 0;
  auto produce = [&](uint64_t n) {
    for (uint64_t i = 0; i < n && stream.next(&key, &payload, &valid); ++i) {
      REQUIRE((*producer)->produce("events", key, payload, {}, -1, stream.timestamp_ms(stream.produced() - 1)).ok());
      last_payload = payload;
      produced++;
    }
    REQUIRE((*producer)->flush(10000).ok());
  };
  auto consumed_all = [&] {
    const auto deadline = Clock::now() + std::chrono::seconds(60);
    while ((*runner)->status().processor.messages < produced && Clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return (*runner)->status().processor.messages == produced;
  };

  produce(2000);
  REQUIRE(consumed_all());
  {
    // Three times the cap, held open while the stream goes on.
    std::vector<std::unique_ptr<HttpClient>> held;
    for (int i = 0; i < 24; ++i) held.push_back(std::make_unique<HttpClient>(port));
    const auto deadline = Clock::now() + std::chrono::seconds(5);
    while ((*server)->connections() < 8 && Clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    CHECK((*server)->connections() == 8);
    produce(2000);
    CHECK(consumed_all());  // the pipeline does not wait for HTTP
    CHECK((*server)->connections() == 8);
    CHECK(held[0]->send("GET", "/healthz").status == 200);
  }
  HttpClient client(port);
  auto health = client.send("GET", "/healthz");
  CHECK(health.status == 200);
  CHECK(health.body == "ok");
  produce(2000);
  REQUIRE(consumed_all());
  // The snapshot follows the stream: within a few refreshes it is at the stream's version
  // and answers for the last event.
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  auto predicted = client.send("POST", "/v1/predict", last_payload);
  CHECK(predicted.status == 200);
  CHECK(predicted.body.find("\"score\":") != std::string::npos);
  CHECK(client.send("POST", "/v1/predict", "not json").status == 400);

  // The registry: reads need no token, changes do, and are applied by the processing thread.
  auto listed = client.send("GET", "/v1/models");
  CHECK(listed.status == 200);
  CHECK(listed.body.find(R"("name":"fast","role":"challenger")") != std::string::npos);
  CHECK(client.send("GET", "/v1/models/fast").status == 200);
  CHECK(client.send("GET", "/v1/models/" + config.model.name).body.find(R"("learner":)") != std::string::npos);
  CHECK(client.send("GET", "/v1/models/nope").status == 404);
  const http::testing::HeaderList auth = {{"Authorization", "Bearer t0ken"}};
  CHECK(client.send("POST", "/v1/models/fast/promote", "{}").status == 401);
  CHECK(client.send("POST", "/v1/models/fast/promote", "{}", {{"Authorization", "Bearer t0keN"}}).status == 401);
  CHECK(client.send("POST", "/v1/models/fast/promote", R"({"version":3})", auth).status == 400);
  auto promoted = client.send("POST", "/v1/models/fast/promote", "", auth);
  CHECK(promoted.status == 200);
  CHECK(promoted.body.find(R"("action":"promote","version":2,"previous_version":1)") != std::string::npos);
  // The answer comes after the change: predictions already come from version 2.
  CHECK(client.send("POST", "/v1/predict", last_payload).body.find(R"("version":2,)") != std::string::npos);
  CHECK((*runner)->status().processor.model_version == 2);
  auto rolled = client.send("POST", "/v1/models/" + config.model.name + "/rollback", "", auth);
  CHECK(rolled.status == 200);
  CHECK(rolled.body.find(R"("version":3,"previous_version":2,"restored_version":1)") != std::string::npos);

  // Both changes are on the drift topic.
  auto reader = kafka::Consumer::Create({{"bootstrap.servers", bootstrap},
                                         {"group.id", "drift-reader"},
                                         {"auto.offset.reset", "earliest"},
                                         {"enable.auto.commit", "false"}},
                                        {});
  REQUIRE(reader.ok());
  REQUIRE((*reader)->subscribe({"drift"}).ok());
  std::vector<std::string> changes;
  kafka::MessageBatch batch;
  const auto deadline = Clock::now() + std::chrono::seconds(20);
  while (changes.size() < 2 && Clock::now() < deadline) {
    REQUIRE((*reader)->poll(100, 100, &batch).ok());
    for (const auto& m : batch.views()) {
      if (m.payload.find(R"("type":"model_change")") != std::string_view::npos) changes.emplace_back(m.payload);
    }
    batch.clear();
  }
  REQUIRE(changes.size() == 2);
  CHECK(changes[0].find(R"("action":"promote")") != std::string::npos);
  CHECK(changes[1].find(R"("action":"rollback")") != std::string::npos);

  stop = true;
  thread.join();
  REQUIRE(run_status.ok());
  // Not running: a change is refused, not left waiting.
  CHECK(client.send("POST", "/v1/models/fast/promote", "", auth).status == 503);
  server->reset();
  predictor->reset();
}
