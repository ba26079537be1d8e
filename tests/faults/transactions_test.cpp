// kafka.guarantee exactly_once against the embedded broker (docs/architecture.md, "Exactly
// once"): what librdkafka 2.0.2's mock cluster does with transactions (recorded, so that a
// librdkafka that changes it fails here and the documentation is revisited), the runner's
// silent catch-up when the group's offsets are ahead of RocksDB's, and its answers to an
// abortable and to a fatal (fenced) transaction error.
#include <catch2/catch.hpp>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "streamlearn/kafka/kafka.hpp"
#include "streamlearn/kafka/transactions.hpp"
#include "streamlearn/pipeline/config.hpp"
#include "streamlearn/pipeline/probe.hpp"
#include "streamlearn/pipeline/runner.hpp"

using namespace streamlearn;
using Clock = std::chrono::steady_clock;

namespace {

template <typename Pred>
bool WaitFor(Pred pred, int seconds) {
  const auto deadline = Clock::now() + std::chrono::seconds(seconds);
  while (Clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return pred();
}

// Every payload of `topic` partition 0, read uncommitted or committed.
std::vector<std::string> ReadAll(const std::string& bootstrap, const std::string& topic, const char* isolation) {
  std::vector<std::string> out;
  Status st = kafka::ReadPartition({{"bootstrap.servers", bootstrap}, {"isolation.level", isolation}}, topic, 0, 10000,
                                   [&](const kafka::MessageView& m, int64_t) { out.emplace_back(m.payload); });
  REQUIRE(st.ok());
  return out;
}

kafka::Properties GroupMember(const std::string& bootstrap, const std::string& group) {
  return {{"bootstrap.servers", bootstrap}, {"group.id", group}, {"enable.auto.commit", "false"},
          {"session.timeout.ms", "6000"},   {"fetch.wait.max.ms", "10"}};
}

int64_t Committed(const std::string& bootstrap, const std::string& group, const std::string& topic) {
  auto consumer = kafka::Consumer::Create(GroupMember(bootstrap, group), {});
  REQUIRE(consumer.ok());
  std::vector<kafka::PartitionOffset> parts = {{topic, 0, -1}};
  REQUIRE((*consumer)->committed(parts, 10000).ok());
  return parts[0].offset;
}

struct Dir {
  std::filesystem::path path;
  explicit Dir(const std::string& name)
      : path(std::filesystem::temp_directory_path() / (name + "_" + std::to_string(::getpid()))) {
    std::filesystem::remove_all(path);
  }
  ~Dir() { std::filesystem::remove_all(path); }
};

// A broker with the pipeline's topics, one partition each.
std::unique_ptr<kafka::EmbeddedBroker> PipelineBroker() {
  auto broker = kafka::EmbeddedBroker::Start();
  REQUIRE(broker.ok());
  for (const char* t : {"events", "predictions", "drift", "dlq"}) REQUIRE((*broker)->create_topic(t, 1).ok());
  return std::move(broker).value();
}

pipeline::PipelineConfig ExactlyOnceConfig(const std::string& bootstrap, const std::string& dir) {
  auto config = pipeline::DefaultConfig([](const char*) -> const char* { return nullptr; });
  REQUIRE(config.ok());
  config->kafka.bootstrap_servers = bootstrap;
  config->kafka.group_id = "eos";
  config->kafka.guarantee = pipeline::KafkaGuarantee::kExactlyOnce;
  config->kafka.properties["fetch.wait.max.ms"] = "10";
  config->state.dir = dir;
  config->state.commit_interval_ms = 100;
  config->http.enabled = false;
  config->model.type = "logistic";
  return *config;
}

void ProduceEvents(const std::string& bootstrap, int from, int to) {
  auto producer = kafka::Producer::Create({{"bootstrap.servers", bootstrap}});
  REQUIRE(producer.ok());
  for (int i = from; i < to; ++i) {
    const std::string event = R"({"id":"e-)" + std::to_string(i) + R"(","entity":"u)" + std::to_string(i % 7) +
                              R"(","features":{"a":)" + std::to_string(i % 5) + R"(},"label":)" +
                              std::to_string(i % 2) + "}";
    REQUIRE((*producer)->produce("events", "u" + std::to_string(i % 7), event, {}, 0).ok());
  }
  REQUIRE((*producer)->flush(10000).ok());
}

struct Running {
  std::unique_ptr<pipeline::KafkaRunner> runner;
  std::atomic<bool> stop{false};
  std::atomic<bool> returned{false};
  Status result;
  std::thread thread;
  Running(const pipeline::PipelineConfig& config, pipeline::PipelineProbe* probe) {
    auto created = pipeline::KafkaRunner::Create(config, probe);
    REQUIRE(created.ok());
    runner = std::move(created).value();
    thread = std::thread([this] {
      result = runner->run(stop);
      returned = true;
    });
  }
  // Whether run() returned by itself within `seconds` (stopped otherwise, so a failing test ends).
  bool returns_within(int seconds) {
    const bool by_itself = WaitFor([&] { return returned.load(); }, seconds);
    stop = true;
    thread.join();
    return by_itself;
  }
  Status finish() {
    stop = true;
    thread.join();
    return result;
  }
  ~Running() {
    stop = true;
    if (thread.joinable()) thread.join();
  }
};

std::string Metrics(const pipeline::PipelineProbe& probe) {
  return prometheus::TextSerializer().Serialize(probe.registry()->Collect());
}

}  // namespace

TEST_CASE("the embedded broker commits transactions but shows aborted messages and drops a transaction's offsets",
          "[faults][transactions]") {
  auto broker = kafka::EmbeddedBroker::Start();
  REQUIRE(broker.ok());
  REQUIRE((*broker)->create_topic("t", 1).ok());
  const std::string bootstrap = (*broker)->bootstrap_servers();
  auto producer = kafka::Producer::Create({{"bootstrap.servers", bootstrap}, {"transactional.id", "probe"}});
  REQUIRE(producer.ok());
  auto txn = kafka::Transactions::Init(**producer, 10000);
  REQUIRE(txn.ok());
  auto member = kafka::Consumer::Create(GroupMember(bootstrap, "g"), {});
  REQUIRE(member.ok());

  REQUIRE((*txn)->begin().ok());
  REQUIRE((*producer)->produce("t", "k", "committed").ok());
  REQUIRE((*txn)->commit(**member, {{"t", 0, 1}}, 10000).ok());
  REQUIRE((*txn)->begin().ok());
  REQUIRE((*producer)->produce("t", "k", "aborted").ok());
  REQUIRE((*producer)->flush(10000).ok());
  REQUIRE((*txn)->abort(10000).ok());

  // A real broker shows read_committed consumers only "committed" and stores offset 1.
  CHECK(ReadAll(bootstrap, "t", "read_uncommitted") == std::vector<std::string>{"committed", "aborted"});
  CHECK(ReadAll(bootstrap, "t", "read_committed") == std::vector<std::string>{"committed", "aborted"});
  CHECK(Committed(bootstrap, "g", "t") == -1);  // nothing stored

  // Nor does it fence: a second producer with the same transactional.id leaves the first able to commit.
  auto newer = kafka::Producer::Create({{"bootstrap.servers", bootstrap}, {"transactional.id", "probe"}});
  REQUIRE(newer.ok());
  REQUIRE(kafka::Transactions::Init(**newer, 10000).ok());
  REQUIRE((*txn)->begin().ok());
  REQUIRE((*producer)->produce("t", "k", "zombie").ok());
  CHECK((*txn)->commit(**member, {}, 10000).ok());
}

TEST_CASE("exactly_once: partitions whose group offset is ahead of RocksDB's are processed again silently",
          "[faults][transactions][runner]") {
  // The state a crash between a transaction's commit and the RocksDB write leaves behind
  // (which the embedded broker cannot produce, since it drops a transaction's offsets): the
  // group's offset is set ahead by hand.
  auto broker = PipelineBroker();
  const std::string bootstrap = broker->bootstrap_servers();
  Dir dir("eos_silent");
  const auto config = ExactlyOnceConfig(bootstrap, dir.path.string());
  ProduceEvents(bootstrap, 0, 100);
  {
    pipeline::PipelineProbe probe(std::make_shared<prometheus::Registry>());
    Running run(config, &probe);
    REQUIRE(WaitFor([&] { return run.runner->status().processor.messages >= 100; }, 30));
    REQUIRE(run.finish().ok());
    CHECK(Metrics(probe).find("streamlearn_transactions_total{result=\"committed\"} 0") == std::string::npos);
  }
  ProduceEvents(bootstrap, 100, 200);
  {  // as a member of the group (the embedded broker refuses a commit from outside it)
    auto member = kafka::Consumer::Create(GroupMember(bootstrap, config.kafka.group_id), {});
    REQUIRE(member.ok());
    REQUIRE((*member)->subscribe({"events"}).ok());
    kafka::MessageBatch batch;
    REQUIRE(WaitFor([&] {
      REQUIRE((*member)->poll(1, 100, &batch).ok());
      batch.clear();
      return !(*member)->assignment().empty();
    }, 30));
    REQUIRE((*member)->commit_sync({{"events", 0, 150}}).ok());
    REQUIRE((*member)->close().ok());
  }
  REQUIRE(Committed(bootstrap, config.kafka.group_id, "events") == 150);
  pipeline::PipelineProbe probe(std::make_shared<prometheus::Registry>());
  Running run(config, &probe);
  REQUIRE(WaitFor([&] { return run.runner->status().processor.messages >= 200; }, 30));
  REQUIRE(run.finish().ok());
  const auto stats = run.runner->status().processor;
  CHECK(stats.messages == 200);
  CHECK(stats.model_trained == 200);  // the silent events trained the model too
  CHECK(Metrics(probe).find("streamlearn_transaction_replayed_total 50") != std::string::npos);
  // Published: events 0..99 by the first run, 150..199 by the second; 100..149 were not.
  const auto predictions = ReadAll(bootstrap, "predictions", "read_committed");
  CHECK(predictions.size() == 150);
  for (const auto& p : predictions) {
    for (int i = 100; i < 150; ++i) CHECK(p.find("\"e-" + std::to_string(i) + "\"") == std::string::npos);
  }
}

TEST_CASE("exactly_once: a message refused inside the transaction aborts it and run() stops with the reason",
          "[faults][transactions][runner]") {
  auto broker = PipelineBroker();
  const std::string bootstrap = broker->bootstrap_servers();
  Dir dir("eos_abort");
  ProduceEvents(bootstrap, 0, 50);
  // The runner's first Produce request (its first predictions) is refused for good.
  REQUIRE(broker->push_produce_errors({10 /* MSG_SIZE_TOO_LARGE: permanent */}).ok());
  pipeline::PipelineProbe probe(std::make_shared<prometheus::Registry>());
  Running run(ExactlyOnceConfig(bootstrap, dir.path.string()), &probe);
  REQUIRE(run.returns_within(60));
  CHECK(run.result.code() == ErrorCode::kUnavailable);
  CHECK_THAT(run.result.message(), Catch::Contains("transaction aborted") && Catch::Contains("restart resumes"));
  CHECK(Metrics(probe).find("streamlearn_transactions_total{result=\"aborted\"} 1") != std::string::npos);
}

TEST_CASE("exactly_once: a fenced producer stops run() with a message naming the transactional.id",
          "[faults][transactions][runner]") {
  // The embedded broker does not fence a second producer with the same id (see above): its
  // PRODUCER_FENCED answer is injected, as a real broker's transaction coordinator gives it
  // to the older instance when the transaction adds its first partition.
  auto broker = PipelineBroker();
  const std::string bootstrap = broker->bootstrap_servers();
  Dir dir("eos_fenced");
  ProduceEvents(bootstrap, 0, 50);
  pipeline::PipelineProbe probe(std::make_shared<prometheus::Registry>());
  REQUIRE(broker->push_request_errors(24 /* AddPartitionsToTxn */, {90 /* PRODUCER_FENCED */}).ok());
  Running run(ExactlyOnceConfig(bootstrap, dir.path.string()), &probe);
  REQUIRE(run.returns_within(60));
  CHECK(run.result.code() == ErrorCode::kFailedPrecondition);
  CHECK_THAT(run.result.message(), Catch::Contains("eos.") && Catch::Contains("fenced"));
  CHECK(Metrics(probe).find("streamlearn_transactions_total{result=\"fenced\"} 1") != std::string::npos);
}
