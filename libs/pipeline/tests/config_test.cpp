#include <catch2/catch.hpp>

#include <map>

#include "data_drift_settings.hpp"
#include "streamlearn/drift/data_drift.hpp"
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

TEST_CASE("config/regression.yaml is the default regression pipeline, written out for run", "[config][defaults]") {
  // `run` cannot guess the task from the labels; this file must give exactly what evaluate
  // picks for a numeric target (ApplyDefaultModels), or its comment lies.
  auto file = LoadConfigFile(STREAMLEARN_SOURCE_DIR "/config/regression.yaml", EnvFrom({}));
  REQUIRE(file.ok());
  auto defaults = DefaultConfig(EnvFrom({}));
  REQUIRE(defaults.ok());
  PipelineConfig automatic = *defaults;
  automatic.model.type = "linear";  // as evaluate guesses it from numeric labels
  REQUIRE(UsesDefaultModels(automatic));
  ApplyDefaultModels(automatic);
  CHECK(file->model.type == automatic.model.type);
  CHECK(file->challengers == automatic.challengers);
  CHECK(file->selection.enabled == automatic.selection.enabled);
  CHECK(file->selection.window == automatic.selection.window);
  CHECK(file->selection.min_events == automatic.selection.min_events);
  CHECK(file->selection.margin == automatic.selection.margin);
  CHECK(file->selection.metric == automatic.selection.metric);
  CHECK(file->selection.include_baselines == automatic.selection.include_baselines);
  CHECK(file->drift.action == automatic.drift.action);
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

TEST_CASE("an unknown key one or two edits from a known one names the known one", "[config]") {
  CHECK(ParseConfig("kafka:\n  batch_sise: 10\n", "p.yaml", EnvFrom({})).status().message() ==
        "p.yaml:2: unknown key 'kafka.batch_sise' (did you mean 'kafka.batch_size'?)");
  CHECK(ParseConfig("drift:\n  data:\n    enable: false\n", "p.yaml", EnvFrom({})).status().message() ==
        "p.yaml:3: unknown key 'drift.data.enable' (did you mean 'drift.data.enabled'?)");
  // Under model, an unknown key is a learner's to judge; the learner lists its own keys, and
  // the pipeline's model.type is named when the key is a typo of it.
  const std::string model = ParseConfig("model:\n  typ: linear\n", "p.yaml", EnvFrom({})).status().message();
  CHECK(model.rfind("p.yaml:2: model.typ: unknown key (known: ", 0) == 0);
  CHECK(model.ends_with(" (did you mean 'model.type'?)"));
  // Nothing close: no suggestion.
  CHECK(ParseConfig("http:\n  color: red\n", "p.yaml", EnvFrom({})).status().message() ==
        "p.yaml:2: unknown key 'http.color'");
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

TEST_CASE("an environment variable in a settings section that sets nothing is named, with the likely key",
          "[config]") {
  const auto warnings = UnknownSettingVariables({"STREAMLEARN_KAFKA_BATCH_SISE", "STREAMLEARN_KAFKA_BATCH_SIZE",
                                                 "STREAMLEARN_MODEL_TYPO_OF_NOTHING_AT_ALL", "STREAMLEARN_BIN",
                                                 "STREAMLEARN_UPDATE_GOLDEN"});
  REQUIRE(warnings.size() == 2);
  CHECK(warnings[0] ==
        "environment STREAMLEARN_KAFKA_BATCH_SISE is not a setting and is ignored (did you mean "
        "STREAMLEARN_KAFKA_BATCH_SIZE, kafka.batch_size?)");
  CHECK(warnings[1] == "environment STREAMLEARN_MODEL_TYPO_OF_NOTHING_AT_ALL is not a setting and is ignored");
}

TEST_CASE("a key given twice is an error naming both lines, at every level", "[config]") {
  // A second section would silently switch (say) the consumer group.
  CHECK(ParseConfig("kafka:\n  group_id: a\nstate:\n  dir: /s\nkafka:\n  group_id: b\n", "config.yaml", EnvFrom({}))
            .status()
            .message() == "config.yaml:5: duplicate key 'kafka' (first at line 1)");
  CHECK(ParseConfig("kafka:\n  group_id: a\n  batch_size: 5\n  group_id: b\n", "config.yaml", EnvFrom({}))
            .status()
            .message() == "config.yaml:4: duplicate key 'kafka.group_id' (first at line 2)");
  CHECK(ParseConfig("kafka:\n  topics:\n    events: a\n    events: b\n", "c.yaml", EnvFrom({})).status().message() ==
        "c.yaml:4: duplicate key 'kafka.topics.events' (first at line 3)");
  CHECK(ParseConfig("kafka:\n  properties:\n    acks: all\n    acks: 1\n", "c.yaml", EnvFrom({})).status().message() ==
        "c.yaml:4: duplicate key 'kafka.properties.acks' (first at line 3)");
  CHECK(ParseConfig("challengers:\n  fast: {learning_rate: 0.5, learning_rate: 0.1}\n", "c.yaml", EnvFrom({}))
            .status()
            .message() == "c.yaml:2: duplicate key 'challengers.fast.learning_rate' (first at line 2)");
  CHECK(ParseConfig("features:\n  fields:\n    amount: {clip_std: 4}\n    amount: {clip_std: 5}\n", "c.yaml", EnvFrom({}))
            .status()
            .message() == "c.yaml:4: duplicate key 'features.fields.amount' (first at line 3)");
  // The same key spelled two ways.
  CHECK(ParseConfig("kafka.group_id: a\nkafka:\n  group_id: b\n", "c.yaml", EnvFrom({})).status().message() ==
        "c.yaml:3: duplicate key 'kafka.group_id' (first at line 1)");
  CHECK(ParseConfig("features:\n  fields.amount.clip_std: 4\n  fields:\n    amount: {clip_std: 5}\n", "c.yaml",
                    EnvFrom({}))
            .status()
            .message() == "c.yaml:4: duplicate key 'features.fields.amount.clip_std' (first at line 2)");
  // The environment overrides the file: not a duplicate.
  auto env = ParseConfig("kafka:\n  group_id: a\n", "c.yaml", EnvFrom({{"STREAMLEARN_KAFKA_GROUP_ID", "b"}}));
  REQUIRE(env.ok());
  CHECK(env->kafka.group_id == "b");
}

TEST_CASE("a config without settings is an error, no file at all is the defaults", "[config]") {
  CHECK(ParseConfig("", "empty.yaml", EnvFrom({})).status().message() ==
        "empty.yaml:1: the config has no settings (the file is empty or only comments)");
  CHECK(ParseConfig("# kafka:\n#   group_id: g\n\n", "comments.yaml", EnvFrom({})).status().message() ==
        "comments.yaml:1: the config has no settings (the file is empty or only comments)");
  CHECK(ParseConfig("---\n", "doc.yaml", EnvFrom({})).status().code() == ErrorCode::kInvalidArgument);
  auto defaults = DefaultConfig(EnvFrom({}));
  REQUIRE(defaults.ok());
  CHECK(defaults->kafka.group_id == "streamlearn");
}

TEST_CASE("strings have length limits that name the key", "[config]") {
  const std::string huge(5 << 20, 'g');
  CHECK(ParseConfig("kafka:\n  group_id: " + huge + "\n", "c.yaml", EnvFrom({})).status().message() ==
        "c.yaml:2: kafka.group_id: must be at most 65536 characters, got 5242880");
  CHECK(ParseConfig("kafka:\n  group_id: " + std::string(257, 'g') + "\n", "c.yaml", EnvFrom({})).status().message() ==
        "c.yaml:2: kafka.group_id: must be at most 256 characters, got 257");
  CHECK(ParseConfig("kafka:\n  group_id: " + std::string(256, 'g') + "\n", "c.yaml", EnvFrom({})).ok());
  CHECK(ParseConfig("kafka:\n  topics:\n    events: " + std::string(250, 't') + "\n", "c.yaml", EnvFrom({}))
            .status()
            .message() == "c.yaml:3: kafka.topics.events: must be at most 249 characters, got 250");
  CHECK(ParseConfig("state:\n  dir: /" + std::string(4096, 'd') + "\n", "c.yaml", EnvFrom({})).status().message() ==
        "c.yaml:2: state.dir: must be at most 4096 characters, got 4097");
  CHECK(ParseConfig("kafka:\n  group_id: \"\"\n", "c.yaml", EnvFrom({})).status().message() ==
        "c.yaml:2: kafka.group_id: must not be empty");
  CHECK(DefaultConfig(EnvFrom({{"STREAMLEARN_KAFKA_GROUP_ID", huge}})).status().message() ==
        "environment STREAMLEARN_KAFKA_GROUP_ID (kafka.group_id): must be at most 256 characters, got 5242880");
  CHECK(ParseConfig("kafka:\n  properties:\n    ssl.ca.pem: " + std::string(70000, 'p') + "\n", "c.yaml", EnvFrom({}))
            .status()
            .message() == "c.yaml:3: kafka.properties.ssl.ca.pem: must be at most 65536 characters, got 70000");
  CHECK(ParseConfig(std::string(300, 'k') + ": 1\n", "c.yaml", EnvFrom({})).status().message() ==
        "c.yaml:1: a key under '(top)' is 300 characters long (at most 256)");
}

TEST_CASE("enums are typed at load and the task follows model.type", "[config]") {
  auto config = ParseConfig("kafka: {order: arrival}\ndrift: {action: background}\nmodel: {type: huber}\n", "c.yaml",
                            EnvFrom({}));
  REQUIRE(config.ok());
  CHECK(config->kafka.order == KafkaOrder::kArrival);
  CHECK(config->drift.action == DriftAction::kBackground);
  CHECK(ToString(config->drift.action) == "background");
  CHECK(ToString(config->kafka.order) == "arrival");
  CHECK(TaskOf(config->model) == Task::kRegression);
  ModelSettings model;
  CHECK(TaskOf(model) == Task::kBinary);  // logistic
  model.type = "softmax";
  CHECK(TaskOf(model) == Task::kMulticlass);
  model.type = "linear";
  CHECK(TaskOf(model) == Task::kRegression);
  model.type = "hinge";
  CHECK(TaskOf(model) == Task::kBinary);
  CHECK(*ParseDriftAction("none") == DriftAction::kNone);
  CHECK(ParseDriftAction("panic").status().message() == "must be one of none, reset, background, got 'panic'");
  CHECK(*ParseKafkaOrder("timestamp") == KafkaOrder::kTimestamp);
}

TEST_CASE("values follow the one grammar in every section", "[config]") {
  auto config = ParseConfig(R"(
kafka: {batch_size: +20}
http: {enabled: off}
features: {entity_aggregates: no, target_agg: yes, windows: [30, 1.5m]}
labels: {ttl: 90, early_ttl: 0.5s}
model: {standardize: on}
drift: {detector: hddm_a, params: {two_sided_test: "True"}}
)", "c.yaml", EnvFrom({}));
  REQUIRE(config.ok());
  CHECK(config->kafka.batch_size == 20);
  CHECK_FALSE(config->http.enabled);
  CHECK_FALSE(config->features.entity_aggregates);
  CHECK(config->labels.ttl_ms == 90'000);  // a bare number is seconds, as in features.windows
  CHECK(config->labels.early_ttl_ms == 500);
  CHECK(ParseConfig("labels: {ttl: 0.5ms}\n", "c.yaml", EnvFrom({})).status().message() ==
        "c.yaml:1: labels.ttl: expected a duration such as 500ms, 30s, 15m, 2h or 7d, got '0.5ms'");
  CHECK(ParseConfig("http: {enabled: maybe}\n", "c.yaml", EnvFrom({})).status().message() ==
        "c.yaml:1: http.enabled: expected true or false, got 'maybe'");
  CHECK(ParseConfig("model: {l2: -1}\n", "c.yaml", EnvFrom({})).status().message() ==
        "c.yaml:1: model.l2: out of range, got -1");
  CHECK(ParseConfig("model: {l2: 0.0}\n", "c.yaml", EnvFrom({}))->model.l2 == 0);
  CHECK(ParseConfig("kafka: {batch_size: 1e3}\n", "c.yaml", EnvFrom({})).status().message() ==
        "c.yaml:1: kafka.batch_size: expected an integer, got '1e3'");
}

TEST_CASE("an error about a key that holds ': ' itself still names its line", "[config]") {
  // Found by fuzz_config: the key was cut at its own ": " and the line was lost.
  auto config = ParseConfig("features:\n  \"odd: key\": 1\n", "c.yaml", EnvFrom({}));
  REQUIRE_FALSE(config.ok());
  CHECK(config.status().message().rfind("c.yaml:2: features.odd: key: ", 0) == 0);
}

TEST_CASE("a challenger of another type takes only the champion's settings its type knows", "[config]") {
  auto config = ParseConfig(R"(
model: {type: mlp, hidden_dims: [8], optimizer: adam, learning_rate: 0.01}
challengers:
  plain: {type: logistic}
  tree: {type: hoeffding_tree, grace_period: 50}
  wider: {hidden_dims: [16]}
)", "c.yaml", EnvFrom({}));
  REQUIRE(config.ok());
  CHECK(ValidateLearnerSettings(*config).ok());
  const auto plain = ChallengerKeys(*config, "plain");
  CHECK(plain.count("hidden_dims") == 0);
  CHECK(plain.at("optimizer") == "adam");  // the linear family has an adam too
  CHECK(plain.at("learning_rate") == "0.01");
  const auto tree = ChallengerKeys(*config, "tree");
  CHECK(tree.count("hidden_dims") == 0);
  CHECK(tree.count("optimizer") == 0);
  CHECK(tree.at("grace_period") == "50");
  // Of the champion's own type, it takes everything and overrides some.
  const auto wider = ChallengerKeys(*config, "wider");
  CHECK(wider.at("hidden_dims") == "[16]");
  CHECK(wider.at("optimizer") == "adam");
}

TEST_CASE("drift.data's calibration keys are read, bounded and reach the monitor's config", "[config]") {
  PipelineConfig defaults;
  CHECK(defaults.drift.data_false_alarm_rate == 1e-5);
  CHECK(defaults.drift.data_block == 32);
  auto config = ParseConfig("drift:\n  data:\n    false_alarm_rate: 0.0001\n    block: 8\n    warmup: 50\n    cooldown: 0\n",
                            "p.yaml", EnvFrom({}));
  REQUIRE(config.ok());
  const drift::DataDriftConfig dc = DataDriftConfigOf(config->drift);
  CHECK(dc.false_alarm_rate == 1e-4);
  CHECK(dc.numeric_block == 8);
  CHECK(dc.warmup == 50);
  CHECK(dc.cooldown == 0);
  CHECK(drift::DataDriftMonitor::Create(dc).ok());
  auto bad = ParseConfig("drift:\n  data:\n    false_alarm_rate: 0.5\n", "p.yaml", EnvFrom({}));
  REQUIRE_FALSE(bad.ok());
  CHECK_THAT(bad.status().message(), Catch::Contains("drift.data.false_alarm_rate"));
  CHECK(ParseConfig("drift:\n  data:\n    false_alarm_rate: 0\n", "p.yaml", EnvFrom({})).ok());  // 0: off
  bad = ParseConfig("drift:\n  data:\n    block: 0\n", "p.yaml", EnvFrom({}));
  REQUIRE_FALSE(bad.ok());
  CHECK_THAT(bad.status().message(), Catch::Contains("drift.data.block"));
}

TEST_CASE("drift.data.sample: one event in 8 by default, read and bounded", "[config]") {
  CHECK(PipelineConfig{}.drift.data_sample == 8);
  auto config = ParseConfig("drift:\n  data:\n    sample: 1\n", "p.yaml", EnvFrom({}));
  REQUIRE(config.ok());
  CHECK(config->drift.data_sample == 1);
  auto bad = ParseConfig("drift:\n  data:\n    sample: 0\n", "p.yaml", EnvFrom({}));
  REQUIRE_FALSE(bad.ok());
  CHECK_THAT(bad.status().message(), Catch::Contains("drift.data.sample"));
}

TEST_CASE("kafka.guarantee: at_least_once by default, exactly_once on request, a bad value named", "[config]") {
  auto defaults = DefaultConfig(EnvFrom({}));
  REQUIRE(defaults.ok());
  CHECK(defaults->kafka.guarantee == KafkaGuarantee::kAtLeastOnce);
  auto exact = ParseConfig("kafka:\n  guarantee: exactly_once\n", "p.yaml", EnvFrom({}));
  REQUIRE(exact.ok());
  CHECK(exact->kafka.guarantee == KafkaGuarantee::kExactlyOnce);
  auto from_env = DefaultConfig(EnvFrom({{"STREAMLEARN_KAFKA_GUARANTEE", "exactly_once"}}));
  REQUIRE(from_env.ok());
  CHECK(from_env->kafka.guarantee == KafkaGuarantee::kExactlyOnce);
  CHECK(ParseConfig("kafka:\n  guarantee: exactly-once\n", "p.yaml", EnvFrom({})).status().message() ==
        "p.yaml:2: kafka.guarantee: must be one of at_least_once, exactly_once, got 'exactly-once'");
}
