// Through librdkafka's mock cluster: a real Kafka protocol endpoint in this process.
#include <catch2/catch.hpp>

#include <chrono>
#include <set>

#include "streamlearn/kafka/kafka.hpp"

using namespace streamlearn;
using namespace streamlearn::kafka;

namespace {

Properties ConsumerProps(const std::string& bootstrap, const std::string& group) {
  return {{"bootstrap.servers", bootstrap},
          {"group.id", group},
          {"auto.offset.reset", "earliest"},
          {"enable.auto.commit", "false"},
          {"session.timeout.ms", "6000"},
          {"fetch.wait.max.ms", "10"}};
}

}  // namespace

TEST_CASE("produce with headers, flush is acknowledged, and a group consumer resumes from the "
          "offsets the assign hook gives",
          "[kafka]") {
  auto broker = EmbeddedBroker::Start();
  REQUIRE(broker.ok());
  REQUIRE((*broker)->create_topic("t", 2).ok());
  const std::string bootstrap = (*broker)->bootstrap_servers();

  auto producer = Producer::Create({{"bootstrap.servers", bootstrap}, {"linger.ms", "1"}});
  REQUIRE(producer.ok());
  for (int i = 0; i < 20; ++i) {
    std::string value = "v" + std::to_string(i);
    REQUIRE((*producer)->produce("t", "k", value, {{"error", "why"}}, i % 2).ok());
  }
  REQUIRE((*producer)->flush(10000).ok());
  CHECK((*producer)->delivered() == 20);
  CHECK((*producer)->failed() == 0);

  std::vector<PartitionOffset> assigned_seen;
  RebalanceHooks hooks;
  hooks.on_assign = [&](std::vector<PartitionOffset>& parts) {
    for (auto& p : parts) {
      if (p.partition == 0) p.offset = 5;  // as if RocksDB said partition 0 is done up to 5
    }
    assigned_seen = parts;
  };
  auto consumer = Consumer::Create(ConsumerProps(bootstrap, "g1"), hooks);
  REQUIRE(consumer.ok());
  REQUIRE((*consumer)->subscribe({"t"}).ok());

  std::set<std::pair<int, int64_t>> seen;
  MessageBatch batch;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (seen.size() < 15 && std::chrono::steady_clock::now() < deadline) {
    REQUIRE((*consumer)->poll(100, 200, &batch).ok());
    for (const auto& m : batch.views()) {
      CHECK(m.topic == "t");
      CHECK(m.key == "k");
      seen.insert({m.partition, m.offset});
    }
  }
  CHECK(assigned_seen.size() == 2);
  CHECK(seen.size() == 15);                    // 10 from partition 1, 5 from partition 0
  CHECK(seen.count({0, 4}) == 0);              // before the assigned offset: not read
  CHECK(seen.count({0, 5}) == 1);
  CHECK((*consumer)->lag() == 0);
  REQUIRE((*consumer)->commit_async({{"t", 0, 10}, {"t", 1, 10}}).ok());
}

TEST_CASE("an unknown librdkafka property is an error that names it", "[kafka]") {
  auto producer = Producer::Create({{"bootstrap.servers", "localhost:1"}, {"linger.mss", "5"}});
  REQUIRE_FALSE(producer.ok());
  CHECK_THAT(producer.status().message(), Catch::Contains("linger.mss"));
}

TEST_CASE("topic metadata reports partition counts from the embedded broker", "[kafka]") {
  auto broker = EmbeddedBroker::Start();
  REQUIRE(broker.ok());
  REQUIRE((*broker)->create_topic("four", 4).ok());
  auto n = PartitionCount({{"bootstrap.servers", (*broker)->bootstrap_servers()}}, "four", 5000);
  REQUIRE(n.ok());
  CHECK(*n == 4);
}

TEST_CASE("lag counts from the assigned offset before the first message arrives", "[kafka]") {
  // A restart resumes at the end of what it processed: nothing is behind, so lag is 0
  // even though librdkafka reports no position until a message is consumed.
  auto broker = EmbeddedBroker::Start();
  REQUIRE(broker.ok());
  REQUIRE((*broker)->create_topic("done", 1).ok());
  const std::string bootstrap = (*broker)->bootstrap_servers();
  auto producer = Producer::Create({{"bootstrap.servers", bootstrap}});
  REQUIRE(producer.ok());
  for (int i = 0; i < 10; ++i) REQUIRE((*producer)->produce("done", "k", "v").ok());
  REQUIRE((*producer)->flush(10000).ok());

  RebalanceHooks hooks;
  hooks.on_assign = [](std::vector<PartitionOffset>& parts) {
    for (auto& p : parts) p.offset = 10;
  };
  auto consumer = Consumer::Create(ConsumerProps(bootstrap, "g-lag"), hooks);
  REQUIRE(consumer.ok());
  REQUIRE((*consumer)->subscribe({"done"}).ok());
  MessageBatch batch;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while ((*consumer)->assignment().empty() && std::chrono::steady_clock::now() < deadline) {
    REQUIRE((*consumer)->poll(10, 100, &batch).ok());
  }
  REQUIRE((*consumer)->assignment().size() == 1);
  for (int i = 0; i < 10; ++i) REQUIRE((*consumer)->poll(10, 100, &batch).ok());  // fetches fill the watermarks
  CHECK(batch.empty());
  CHECK((*consumer)->lag() == 0);
  REQUIRE((*producer)->produce("done", "k", "v").ok());
  REQUIRE((*producer)->flush(10000).ok());
}
