// The whole pipeline through librdkafka's mock cluster (a real Kafka protocol endpoint in
// this process) and a real RocksDB: a known stream in, the output topics read back.
#include <catch2/catch.hpp>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "streamlearn/kafka/kafka.hpp"
#include "streamlearn/offline/synthetic.hpp"
#include "streamlearn/pipeline/probe.hpp"
#include "streamlearn/pipeline/runner.hpp"

using namespace streamlearn;
using namespace streamlearn::pipeline;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

struct TempDir {
  fs::path path = fs::temp_directory_path() / ("sl-e2e-" + std::to_string(std::random_device{}()));
  ~TempDir() { fs::remove_all(path); }
};

// Reads `topic` from the beginning until `expected` records arrived (or 60 s passed).
std::vector<std::string> ReadAll(const std::string& bootstrap, const std::string& topic, size_t expected,
                                 std::vector<std::string>* keys = nullptr) {
  auto consumer = kafka::Consumer::Create({{"bootstrap.servers", bootstrap},
                                           {"group.id", "reader-" + topic},
                                           {"auto.offset.reset", "earliest"},
                                           {"enable.auto.commit", "false"},
                                           {"session.timeout.ms", "6000"},
                                           {"fetch.wait.max.ms", "10"}},
                                          {});
  REQUIRE(consumer.ok());
  REQUIRE((*consumer)->subscribe({topic}).ok());
  std::vector<std::string> out;
  kafka::MessageBatch batch;
  const auto deadline = Clock::now() + std::chrono::seconds(60);
  auto quiet_until = Clock::time_point::max();
  while (Clock::now() < deadline && Clock::now() < quiet_until) {
    REQUIRE((*consumer)->poll(1000, 100, &batch).ok());
    for (const auto& m : batch.views()) {
      out.emplace_back(m.payload);
      if (keys) keys->emplace_back(m.key);
    }
    // Once the expected count is reached, keep reading briefly to catch any extra record.
    if (out.size() >= expected && quiet_until == Clock::time_point::max()) {
      quiet_until = Clock::now() + std::chrono::seconds(2);
    }
  }
  return out;
}

// The value of the first "name": in a JSON line: a string's characters between its quotes
// (escapes kept as written), else everything up to the next ',' or '}'. A scan, not a
// std::regex: this runs for each of the 30,000 events and their predictions, and a regex
// built per call took minutes under ASan on a loaded machine, past the test's limit.
std::string Field(const std::string& json, const std::string& name) {
  const std::string tag = "\"" + name + "\":";
  const size_t at = json.find(tag);
  if (at == std::string::npos) return {};
  const size_t begin = at + tag.size();
  if (begin < json.size() && json[begin] == '"') {
    size_t i = begin + 1;
    while (i < json.size() && json[i] != '"') i += json[i] == '\\' ? 2 : 1;
    if (i < json.size()) return json.substr(begin + 1, i - begin - 1);
  }
  const size_t end = json.find_first_of(",}", begin);
  std::string v = json.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
  if (!v.empty() && v.front() == '"') v = v.substr(1, v.size() - 2);  // an unterminated string
  return v;
}

}  // namespace

TEST_CASE("events flow through the embedded broker: every valid event predicted once, every invalid one "
          "dead-lettered, drift found after each change and not before",
          "[integration][e2e]") {
  auto broker = kafka::EmbeddedBroker::Start();
  REQUIRE(broker.ok());
  const std::string bootstrap = (*broker)->bootstrap_servers();
  for (const char* t : {"events", "predictions", "drift", "dlq"}) REQUIRE((*broker)->create_topic(t, 4).ok());

  // A known stream: SEA with theta 9.5 -> 7 -> 9.5 (each change flips ~21% of labels) at valid
  // events 10,000 and 20,000, and 1% invalid messages.
  SyntheticOptions synth;
  synth.events = 30000;
  synth.seed = 2024;
  synth.invalid_share = 0.01;
  synth.entities = 200;
  synth.change_at = {10000, 20000};
  synth.thetas = {9.5, 7, 9.5};
  SyntheticSeaStream stream(synth);

  TempDir dir;
  PipelineConfig config;
  config.kafka.bootstrap_servers = bootstrap;
  config.kafka.group_id = "e2e";
  config.kafka.poll_timeout_ms = 20;
  // With each message stamped with its event time (below), the merge replays the stream's
  // order unless it passes a dry partition whose next message is still in flight; waiting up
  // to 2 s for it keeps "no drift before the first change" from hanging on the interleaving.
  config.kafka.max_idle_ms = 2000;
  config.state.dir = dir.path.string();
  config.http.enabled = false;
  config.challengers["tree"] = {{"type", "hoeffding_tree"}};
  auto registry = std::make_shared<prometheus::Registry>();
  PipelineProbe probe(registry);
  auto runner = KafkaRunner::Create(config, &probe);
  REQUIRE(runner.ok());
  std::atomic<bool> stop{false};
  Status run_status;
  std::thread thread([&] { run_status = (*runner)->run(stop); });

  // Produce with the learner close behind, as the demo does, each message with its event time.
  auto producer = kafka::Producer::Create({{"bootstrap.servers", bootstrap}, {"linger.ms", "2"}});
  REQUIRE(producer.ok());
  std::set<std::string> valid_ids;
  std::vector<std::string> invalid_payloads;
  std::string key, payload;
  bool valid = false;
  uint64_t produced = 0;
  while (stream.next(&key, &payload, &valid)) {
    REQUIRE((*producer)->produce("events", key, payload, {}, -1, stream.timestamp_ms(stream.produced() - 1)).ok());
    if (valid) {
      valid_ids.insert(Field(payload, "id"));
    } else {
      invalid_payloads.push_back(payload);
    }
    if (++produced % 250 == 0) {
      REQUIRE((*producer)->flush(10000).ok());
      const auto deadline = Clock::now() + std::chrono::seconds(30);
      while ((*runner)->status().processor.messages + 500 < produced && Clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
    }
  }
  REQUIRE((*producer)->flush(10000).ok());
  const auto deadline = Clock::now() + std::chrono::seconds(60);
  while ((*runner)->status().processor.messages < produced && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  stop = true;
  thread.join();
  REQUIRE(run_status.ok());
  const auto status = (*runner)->status();
  CHECK(status.processor.messages == produced);

  // Every valid event id exactly once on `predictions`.
  const auto predictions = ReadAll(bootstrap, "predictions", valid_ids.size());
  std::map<std::string, int> times;
  for (const auto& p : predictions) times[Field(p, "id")]++;
  CHECK(predictions.size() == valid_ids.size());
  size_t exactly_once = 0;
  for (const auto& id : valid_ids) exactly_once += times[id] == 1;
  CHECK(exactly_once == valid_ids.size());

  // Every invalid message on `dlq`, bytes untouched (its reason is checked by the kcat test
  // and the decoder's unit tests; here, the payload multiset must match).
  const auto dead = ReadAll(bootstrap, "dlq", invalid_payloads.size());
  std::multiset<std::string> want(invalid_payloads.begin(), invalid_payloads.end());
  std::multiset<std::string> got(dead.begin(), dead.end());
  CHECK(got == want);
  CHECK(status.processor.invalid == invalid_payloads.size());

  // Each model's memory, in the status and as streamlearn_model_bytes{model}: the tree
  // challenger, grown over 30,000 events, holds more than the logistic champion's weights.
  REQUIRE(status.processor.challengers.size() == 1);
  CHECK(status.processor.model_bytes > 0);
  CHECK(status.processor.challengers[0].type == "hoeffding_tree");
  CHECK(status.processor.challengers[0].memory_bytes > status.processor.model_bytes);
  const std::string metrics = prometheus::TextSerializer().Serialize(registry->Collect());
  auto gauge = [&](const std::string& model) {
    const std::string series = "streamlearn_model_bytes{model=\"" + model + "\"} ";
    const size_t at = metrics.find(series);
    return at == std::string::npos ? -1.0 : std::stod(metrics.substr(at + series.size()));
  };
  CHECK(gauge(config.model.name) == static_cast<double>(status.processor.model_bytes));
  CHECK(gauge("tree") == static_cast<double>(status.processor.challengers[0].memory_bytes));
  // Each model's accuracy by name, as the dashboards compare them:
  // streamlearn_model_accuracy{model, window}.
  auto accuracy = [&](const std::string& model, const std::string& window) {
    const std::string series = "streamlearn_model_accuracy{model=\"" + model + "\",window=\"" + window + "\"} ";
    const size_t at = metrics.find(series);
    return at == std::string::npos ? -1.0 : std::stod(metrics.substr(at + series.size()));
  };
  CHECK(accuracy(config.model.name, "prequential") == Approx(status.processor.accuracy));
  CHECK(accuracy(config.model.name, "rolling") == Approx(status.processor.rolling_accuracy));
  CHECK(accuracy("tree", "prequential") == Approx(status.processor.challengers[0].accuracy));
  CHECK(accuracy("tree", "rolling") == Approx(status.processor.challengers[0].rolling_accuracy));
  CHECK(status.processor.challengers[0].accuracy > 0.5);

  // Drift: after each change within 2,000 events, and none before the first change.
  const auto drifts = ReadAll(bootstrap, "drift", status.processor.drifts.size());
  REQUIRE(drifts.size() == status.processor.drifts.size());
  std::vector<uint64_t> at;
  for (const auto& d : drifts) at.push_back(std::stoull(Field(d, "events")));
  std::sort(at.begin(), at.end());

  // The real output matches the published schemas.
  TempDir out;
  fs::create_directories(out.path);
  auto validate = [&](const std::string& schema, const std::vector<std::string>& lines) {
    const fs::path file = out.path / (schema + ".jsonl");
    std::ofstream f(file);
    for (const auto& l : lines) f << l << "\n";
    f.close();
    const std::string cmd = std::string("/usr/bin/python3 " STREAMLEARN_SOURCE_DIR "/tests/contracts/validate_json.py ") +
                            STREAMLEARN_SOURCE_DIR "/schemas/" + schema + ".schema.json " + file.string();
    return std::system(cmd.c_str());
  };
  CHECK(validate("drift", drifts) == 0);
  CHECK(validate("prediction", predictions) == 0);
  INFO("drifts at " << Catch::Detail::stringify(at));
  REQUIRE_FALSE(at.empty());
  CHECK(at.front() > 10000);
  for (uint64_t change : synth.change_at) {
    bool found = false;
    for (uint64_t a : at) found |= (a > change && a <= change + 2000);
    CHECK(found);
  }
}
