#include <catch2/catch.hpp>

#include <map>

#include "streamlearn/pipeline/config.hpp"

using namespace streamlearn;
using namespace streamlearn::pipeline;

namespace {

Environment EnvFrom(std::map<std::string, std::string> vars) {
  auto shared = std::make_shared<std::map<std::string, std::string>>(std::move(vars));
  return [shared](const char* name) -> const char* {
    auto it = shared->find(name);
    return it == shared->end() ? nullptr : it->second.c_str();
  };
}

}  // namespace

TEST_CASE("the example config in config/pipeline.yaml loads", "[config]") {
  auto config = LoadConfigFile(STREAMLEARN_SOURCE_DIR "/config/pipeline.yaml", EnvFrom({}));
  REQUIRE(config.ok());
  CHECK(config->kafka.events_topic == "events");
  CHECK(config->drift.detector == "adwin");
}

TEST_CASE("every section and key is read", "[config]") {
  auto config = ParseConfig(R"(
kafka:
  bootstrap_servers: broker:9092
  group_id: g
  topics: {events: ev, predictions: pr, drift: dr, dlq: dl, labels: lb}
  batch_size: 500
  order: arrival
  max_idle_ms: 200
  properties:
    security.protocol: plaintext
state: {dir: /tmp/s, commit_interval_ms: 250}
features:
  entity_aggregates: false
  ewma_half_life_s: 30
  hash_bits: 12
  target_agg: true
  aggregates: [count, mean, std]
  fields:
    amount: {impute: mean, clip_std: 4}
model: {name: m, type: logistic, learning_rate: 0.1, l2: 0.001, optimizer: adam, l1: 0.01}
challengers:
  ftrl: {optimizer: ftrl, l1: 1}
  fast: {learning_rate: 0.5}
drift: {detector: adwin, delta: 0.01, action: none}
metrics: {rolling_window: 50}
labels: {enabled: true, ttl: 36h, max_pending: 10, early_ttl: 1500ms, max_early: 0}
http: {bind: 127.0.0.1, port: 9000}
)", "test.yaml", EnvFrom({}));
  REQUIRE(config.ok());
  CHECK(config->kafka.bootstrap_servers == "broker:9092");
  CHECK(config->kafka.dlq_topic == "dl");
  CHECK(config->kafka.batch_size == 500);
  CHECK(config->kafka.properties.at("security.protocol") == "plaintext");
  CHECK(config->state.commit_interval_ms == 250);
  CHECK_FALSE(config->features.entity_aggregates);
  CHECK(config->features.hash_bits == 12);
  CHECK(config->features.params.at("target_agg") == "true");
  CHECK(config->features.params.at("aggregates") == "count,mean,std");
  CHECK(config->features.params.at("fields.amount.clip_std") == "4");
  CHECK(config->model.l2 == 0.001);
  CHECK(config->drift.action == "none");
  CHECK(config->metrics.rolling_window == 50);
  CHECK(config->http.port == 9000);
  CHECK(config->kafka.labels_topic == "lb");
  CHECK(config->kafka.order == "arrival");
  CHECK(config->kafka.max_idle_ms == 200);
  CHECK(config->labels.enabled);
  CHECK(config->labels.ttl_ms == 36LL * 3600 * 1000);
  CHECK(config->labels.max_pending == 10);
  CHECK(config->labels.early_ttl_ms == 1500);
  CHECK(config->labels.max_early == 0);
  CHECK(config->model.params.at("optimizer") == "adam");
  CHECK(config->model.params.at("l1") == "0.01");
  CHECK(config->challengers.at("ftrl").at("l1") == "1");
  CHECK(config->challengers.at("fast").at("learning_rate") == "0.5");
}

TEST_CASE("an unknown key is an error naming the key and its line", "[config]") {
  auto config = ParseConfig("kafka:\n  group_id: g\n  bootstrap: x\n", "p.yaml", EnvFrom({}));
  REQUIRE_FALSE(config.ok());
  CHECK(config.status().message() == "p.yaml:3: unknown key 'kafka.bootstrap'");
  auto section = ParseConfig("modle:\n  name: x\n", "p.yaml", EnvFrom({}));
  CHECK(section.status().message() == "p.yaml:1: unknown key 'modle'");
}

TEST_CASE("a bad value is an error naming the key, its line and the problem", "[config]") {
  CHECK(ParseConfig("state:\n  commit_interval_ms: 5\n", "p.yaml", EnvFrom({})).status().message() ==
        "p.yaml:2: state.commit_interval_ms: must be between 10 and 600000, got 5");
  CHECK(ParseConfig("drift:\n  action: panic\n", "p.yaml", EnvFrom({})).status().message() ==
        "p.yaml:2: drift.action: must be one of none, reset, background, got 'panic'");
  CHECK(ParseConfig("model:\n  learning_rate: fast\n", "p.yaml", EnvFrom({})).status().message() ==
        "p.yaml:2: model.learning_rate: expected a number, got 'fast'");
  CHECK(ParseConfig("labels:\n  ttl: 7 days\n", "p.yaml", EnvFrom({})).status().message() ==
        "p.yaml:2: labels.ttl: expected a duration such as 500ms, 30s, 15m, 2h or 7d, got '7 days'");
  CHECK_THAT(ParseConfig("model:\n  optimizer: warp\n", "p.yaml", EnvFrom({})).status().message(),
             Catch::StartsWith("p.yaml:2: model.optimizer: ") && Catch::Contains("got 'warp'"));
  CHECK(ParseConfig("challengers:\n  a: 3\n", "p.yaml", EnvFrom({})).status().message() ==
        "p.yaml:2: challengers.a: must be a map of settings");
  CHECK(ParseConfig("kafka:\n  order: random\n", "p.yaml", EnvFrom({})).status().message() ==
        "p.yaml:2: kafka.order: must be one of timestamp, arrival, got 'random'");
  CHECK(ParseConfig("kafka: [1, 2]\n", "p.yaml", EnvFrom({})).status().message() ==
        "p.yaml:1: kafka: must be a section (a map)");
  CHECK_THAT(ParseConfig("kafka: {group_id: [\n", "p.yaml", EnvFrom({})).status().message(),
             Catch::StartsWith("p.yaml:") && Catch::Contains("YAML syntax error"));
}

TEST_CASE("environment variables override the file, and bad ones are named", "[config]") {
  auto config = ParseConfig("kafka:\n  bootstrap_servers: from-file:9092\n", "p.yaml",
                            EnvFrom({{"STREAMLEARN_KAFKA_BOOTSTRAP_SERVERS", "from-env:9092"},
                                     {"STREAMLEARN_HTTP_PORT", "0"},
                                     {"STREAMLEARN_KAFKA_TOPICS_EVENTS", "clicks"}}));
  REQUIRE(config.ok());
  CHECK(config->kafka.bootstrap_servers == "from-env:9092");
  CHECK(config->http.port == 0);
  CHECK(config->kafka.events_topic == "clicks");
  auto bad = DefaultConfig(EnvFrom({{"STREAMLEARN_DRIFT_DELTA", "2"}}));
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message() == "environment STREAMLEARN_DRIFT_DELTA (drift.delta): out of range, got 2");
}
