// Faults in-process: the probe's fault metrics, librdkafka's outage reports reaching
// BrokerHealth, a refused dead letter reaching the failure handler, and a dead letter
// larger than message.max.bytes truncated by the runner instead of stopping it.
#include <catch2/catch.hpp>
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "streamlearn/kafka/kafka.hpp"
#include "streamlearn/pipeline/config.hpp"
#include "streamlearn/pipeline/probe.hpp"
#include "streamlearn/pipeline/runner.hpp"

using namespace streamlearn;
using Clock = std::chrono::steady_clock;

namespace {

template <typename Pred>
bool WaitFor(Pred pred, int seconds, const std::function<void()>& tick = {}) {
  const auto deadline = Clock::now() + std::chrono::seconds(seconds);
  while (Clock::now() < deadline) {
    if (pred()) return true;
    if (tick) tick();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return pred();
}

}  // namespace

TEST_CASE("the probe exposes the fault metrics, broker_up starting at 1", "[faults][probe]") {
  pipeline::PipelineProbe probe(std::make_shared<prometheus::Registry>());
  CHECK(probe.broker_up.Value() == 1);
  probe.broker_up.Set(0);
  probe.broker_outages.Increment();
  probe.broker_outage_seconds.Increment(2.5);
  probe.dlq_truncated.Increment();
  probe.guarded_updates.Increment(3);
  const std::string text = prometheus::TextSerializer().Serialize(probe.registry()->Collect());
  for (const char* line : {"streamlearn_broker_up 0", "streamlearn_broker_outages_total 1",
                           "streamlearn_broker_outage_seconds_total 2.5", "streamlearn_dlq_truncated_total 1",
                           "streamlearn_dlq_delivery_failures_total 0", "streamlearn_model_guarded_updates_total 3",
                           "# TYPE streamlearn_broker_up gauge", "# TYPE streamlearn_broker_outages_total counter"}) {
    INFO(line);
    CHECK(text.find(std::string(line) + "\n") != std::string::npos);
  }
}

TEST_CASE("brokers going down reach BrokerHealth as ALL_BROKERS_DOWN and held messages are delivered after",
          "[faults][kafka]") {
  auto broker = kafka::EmbeddedBroker::Start();
  REQUIRE(broker.ok());
  REQUIRE((*broker)->create_topic("t", 1).ok());
  auto health = std::make_shared<kafka::BrokerHealth>();
  auto producer = kafka::Producer::Create({{"bootstrap.servers", (*broker)->bootstrap_servers()},
                                           {"enable.idempotence", "true"},
                                           {"message.timeout.ms", "0"},
                                           {"reconnect.backoff.max.ms", "500"},
                                           {"linger.ms", "1"}},
                                          health);
  REQUIRE(producer.ok());
  kafka::Producer& p = **producer;
  REQUIRE(p.produce("t", "k", "before").ok());
  REQUIRE(p.flush(10000).ok());
  CHECK(health->all_down_reports() == 0);
  CHECK(p.cluster_reachable(2000));

  REQUIRE((*broker)->set_brokers_up(false).ok());
  CHECK_FALSE((*broker)->brokers_up());
  REQUIRE(p.produce("t", "k", "during").ok());
  CHECK(WaitFor([&] { return health->all_down_reports() > 0; }, 10, [&] { p.poll(); }));
  // (Not the text of last_reason(): librdkafka's later "connection refused" errors overwrite it.)
  CHECK_FALSE(p.flush(500).ok());  // held, not failed: message.timeout.ms=0
  CHECK_FALSE(p.cluster_reachable(300));
  CHECK(p.failed() == 0);

  REQUIRE((*broker)->set_brokers_up(true).ok());
  const auto up = Clock::now();
  REQUIRE(p.flush(15000).ok());
  INFO("delivered " << std::chrono::duration<double>(Clock::now() - up).count() << " s after the brokers came back");
  CHECK(p.delivered() == 2);
  CHECK(p.failed() == 0);
  CHECK(p.cluster_reachable(2000));
}

TEST_CASE("a message the broker refuses reaches the failure handler with its key, payload and headers, "
          "and a resend from the handler is delivered",
          "[faults][kafka]") {
  auto broker = kafka::EmbeddedBroker::Start();
  REQUIRE(broker.ok());
  REQUIRE((*broker)->create_topic("dlq", 1).ok());
  std::vector<kafka::FailedDelivery> seen;
  std::vector<std::string> payloads;
  kafka::Producer* self = nullptr;
  auto producer = kafka::Producer::Create(
      {{"bootstrap.servers", (*broker)->bootstrap_servers()}, {"message.timeout.ms", "0"}, {"linger.ms", "1"}},
      nullptr, [&](const kafka::FailedDelivery& f) {
        seen.push_back(f);
        payloads.emplace_back(f.payload);
        std::vector<kafka::Header> headers;
        for (const auto& [n, v] : f.headers) headers.push_back({n, v});
        headers.push_back({"dlq.error", f.error_name});
        return self->try_produce(f.topic, f.key, {}, headers).ok();
      });
  REQUIRE(producer.ok());
  self = producer->get();
  REQUIRE((*broker)->push_produce_errors({10 /* RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE */}).ok());
  REQUIRE(self->produce("dlq", "key", "the payload", {{"error", "why"}}).ok());
  REQUIRE(self->flush(10000).ok());
  REQUIRE(seen.size() == 1);
  CHECK(seen[0].error_name == "MSG_SIZE_TOO_LARGE");
  CHECK(payloads[0] == "the payload");
  REQUIRE(seen[0].headers.size() == 1);
  CHECK(seen[0].headers[0] == std::pair<std::string, std::string>("error", "why"));
  CHECK(self->failed() == 0);     // handled
  CHECK(self->delivered() == 1);  // the resend
}

TEST_CASE("a dead letter larger than message.max.bytes is truncated with a 'truncated' header and the runner "
          "keeps going",
          "[faults][runner]") {
  auto broker = kafka::EmbeddedBroker::Start();
  REQUIRE(broker.ok());
  for (const char* t : {"events", "predictions", "drift", "dlq"}) REQUIRE((*broker)->create_topic(t, 1).ok());
  const std::string bootstrap = (*broker)->bootstrap_servers();
  auto dir = std::filesystem::temp_directory_path() / ("faults_test_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);

  auto config = pipeline::DefaultConfig([](const char*) -> const char* { return nullptr; });
  REQUIRE(config.ok());
  config->kafka.bootstrap_servers = bootstrap;
  config->kafka.group_id = "faults";
  config->kafka.properties["message.max.bytes"] = "20000";  // the DLQ limit follows it
  config->kafka.properties["fetch.wait.max.ms"] = "10";
  config->state.dir = dir.string();
  config->state.commit_interval_ms = 100;
  config->http.enabled = false;

  auto producer = kafka::Producer::Create({{"bootstrap.servers", bootstrap}, {"message.max.bytes", "1000000"}});
  REQUIRE(producer.ok());
  const std::string garbage(60000, '{');  // invalid JSON, under the decoder's 1 MiB
  REQUIRE((*producer)->produce("events", "k", garbage).ok());
  REQUIRE((*producer)->produce("events", "k", R"({"id":"ok-1","features":{"a":1},"label":1})").ok());
  REQUIRE((*producer)->flush(10000).ok());

  pipeline::PipelineProbe probe(std::make_shared<prometheus::Registry>());
  auto runner = pipeline::KafkaRunner::Create(*config, &probe);
  REQUIRE(runner.ok());
  std::atomic<bool> stop{false};
  Status result;
  std::thread t([&] { result = (*runner)->run(stop); });
  const bool done = WaitFor([&] { return (*runner)->status().processor.messages >= 2; }, 30);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  stop = true;
  t.join();
  REQUIRE(done);
  REQUIRE(result.ok());
  CHECK((*runner)->status().processor.invalid == 1);
  CHECK((*runner)->status().processor.predictions == 1);
  CHECK(probe.dlq_truncated.Value() == 1);
  CHECK(probe.dlq_delivery_failures.Value() == 0);
  CHECK(probe.broker_up.Value() == 1);

  // Read the dead letter back: cut to fit, original size in the header, reason kept.
  kafka::RebalanceHooks hooks;
  auto consumer = kafka::Consumer::Create({{"bootstrap.servers", bootstrap},
                                           {"group.id", "faults-reader"},
                                           {"auto.offset.reset", "earliest"},
                                           {"session.timeout.ms", "6000"},
                                           {"fetch.wait.max.ms", "10"}},
                                          hooks);
  REQUIRE(consumer.ok());
  REQUIRE((*consumer)->subscribe({"dlq"}).ok());
  kafka::MessageBatch batch;
  size_t size = 0;
  REQUIRE(WaitFor([&] {
    REQUIRE((*consumer)->poll(10, 200, &batch).ok());
    if (batch.empty()) return false;
    size = batch[0].payload.size();
    return true;
  }, 30));
  CHECK(size > 10000);
  CHECK(size <= 20000 - 4096);
  CHECK(garbage.compare(0, size, batch[0].payload) == 0);
  std::filesystem::remove_all(dir);
}
