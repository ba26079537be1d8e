// Through librdkafka's mock cluster: a real Kafka protocol endpoint in this process.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <thread>
#include <tuple>

#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>

#include "streamlearn/kafka/kafka.hpp"
#include "streamlearn/kafka/range_reader.hpp"

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
  CHECK_FALSE((*consumer)->known_lag().has_value());  // nothing assigned yet: unknown, not 0

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
  CHECK((*consumer)->known_lag() == std::optional<int64_t>(0));
  REQUIRE((*consumer)->commit_async({{"t", 0, 10}, {"t", 1, 10}}).ok());
}

TEST_CASE("an unknown librdkafka property is an error that names it", "[kafka]") {
  auto producer = Producer::Create({{"bootstrap.servers", "localhost:1"}, {"linger.mss", "5"}});
  REQUIRE_FALSE(producer.ok());
  CHECK_THAT(producer.status().message(), Catch::Contains("linger.mss"));
}

TEST_CASE("a consumer's property given to a producer is logged at debug (the service gives every client "
          "kafka.properties), other configuration warnings stay warnings",
          "[kafka]") {
  auto sink = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(64);
  sink->set_pattern("%l %v");
  auto previous = spdlog::default_logger();
  spdlog::set_default_logger(std::make_shared<spdlog::logger>("capture", sink));
  spdlog::set_level(spdlog::level::debug);
  auto lines_with = [&](std::string_view text) {
    std::vector<std::string> found;
    for (const auto& line : sink->last_formatted()) {
      if (line.find(text) != std::string::npos) found.push_back(line);
    }
    return found;
  };
  {
    auto producer = Producer::Create({{"bootstrap.servers", "localhost:1"}, {"fetch.wait.max.ms", "1"}});
    REQUIRE(producer.ok());
    auto deprecated = Producer::Create({{"bootstrap.servers", "localhost:1"}, {"produce.offset.report", "true"}});
    REQUIRE(deprecated.ok());
  }
  const auto other_client = lines_with("fetch.wait.max.ms is a consumer property");
  const auto deprecated = lines_with("produce.offset.report");
  spdlog::set_default_logger(previous);
  REQUIRE(other_client.size() == 1);
  CHECK(other_client[0].starts_with("debug "));
  REQUIRE(deprecated.size() == 1);
  CHECK(deprecated[0].starts_with("warning "));
}

TEST_CASE("topic metadata reports partition counts from the embedded broker", "[kafka]") {
  auto broker = EmbeddedBroker::Start();
  REQUIRE(broker.ok());
  REQUIRE((*broker)->create_topic("four", 4).ok());
  auto n = PartitionCount({{"bootstrap.servers", (*broker)->bootstrap_servers()}}, "four", 5000);
  REQUIRE(n.ok());
  CHECK(*n == 4);
}

TEST_CASE("a producer warms up its topics' metadata, an unreachable cluster is kUnavailable", "[kafka]") {
  auto broker = EmbeddedBroker::Start();
  REQUIRE(broker.ok());
  REQUIRE((*broker)->create_topic("out-a", 2).ok());
  REQUIRE((*broker)->create_topic("out-b", 3).ok());
  auto producer = Producer::Create({{"bootstrap.servers", (*broker)->bootstrap_servers()}});
  REQUIRE(producer.ok());
  REQUIRE((*producer)->warm_up({"out-a", "out-b"}, 10000).ok());
  REQUIRE((*producer)->produce("out-b", "k", "v").ok());
  REQUIRE((*producer)->flush(10000).ok());
  CHECK((*producer)->delivered() == 1);

  auto unreachable = Producer::Create({{"bootstrap.servers", "127.0.0.1:1"}});
  REQUIRE(unreachable.ok());
  const Status warm = (*unreachable)->warm_up({"out-a"}, 200);
  CHECK(warm.code() == ErrorCode::kUnavailable);
  CHECK_THAT(warm.message(), Catch::Contains("out-a"));
}

TEST_CASE("a producer numbers its messages and passes a number once its delivery report, "
          "success or failure, was served",
          "[kafka]") {
  auto broker = EmbeddedBroker::Start();
  REQUIRE(broker.ok());
  REQUIRE((*broker)->create_topic("numbered", 3).ok());
  auto producer = Producer::Create({{"bootstrap.servers", (*broker)->bootstrap_servers()}, {"linger.ms", "50"}});
  REQUIRE(producer.ok());
  CHECK((*producer)->produced() == 0);
  CHECK((*producer)->reported_below() == 0);
  for (int i = 0; i < 10; ++i) REQUIRE((*producer)->produce("numbered", "k" + std::to_string(i), "v").ok());
  CHECK((*producer)->produced() == 10);
  CHECK((*producer)->reported_below() == 0);  // lingering: nothing sent, nothing reported
  REQUIRE((*producer)->flush(10000).ok());
  CHECK((*producer)->reported_below() == 10);
  CHECK((*producer)->delivered() == 10);

  // Failed deliveries are reported too: a cut waiting on them is not stuck forever.
  auto unreachable = Producer::Create({{"bootstrap.servers", "127.0.0.1:1"}, {"message.timeout.ms", "200"}});
  REQUIRE(unreachable.ok());
  for (int i = 0; i < 3; ++i) REQUIRE((*unreachable)->produce("numbered", "k", "v").ok());
  CHECK((*unreachable)->produced() == 3);
  CHECK((*unreachable)->reported_below() == 0);
  (void)(*unreachable)->flush(5000);  // the reports (timed out) are served within
  CHECK((*unreachable)->reported_below() == 3);
  CHECK((*unreachable)->failed() == 3);
}

TEST_CASE("consumer queue defaults keep a lagging subscription fetching, and are valid librdkafka settings",
          "[kafka]") {
  const Properties& defaults = ConsumerQueueDefaults();
  CHECK(defaults.at("queued.min.messages") == "1000000");
  Properties props = defaults;
  props.insert({{"bootstrap.servers", "localhost:1"}, {"group.id", "g"}});
  CHECK(Consumer::Create(props, {}).ok());  // librdkafka accepts both names and values
}

TEST_CASE("the timestamp merge's queue defaults leave room in a Fetch response for every partition's share, "
          "and are valid librdkafka settings",
          "[kafka]") {
  const Properties& defaults = ConsumerQueueDefaults(MergeOptions::Order::kTimestamp);
  // Unset, librdkafka lowers fetch.max.bytes to queued.max.messages.kbytes (8 MB here): 32
  // partitions at fetch.message.max.bytes (1 MB) each would not fit in one response.
  REQUIRE(defaults.count("fetch.max.bytes") == 1);
  CHECK(std::stoll(defaults.at("fetch.max.bytes")) >= 32LL * 1048576);
  Properties props = defaults;
  props.insert({{"bootstrap.servers", "localhost:1"}, {"group.id", "g"}});
  CHECK(Consumer::Create(props, {}).ok());
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

namespace {

struct Received {
  int32_t partition;
  int64_t offset;
  int64_t ts;
};

// Consumes `expected` messages of `topic` in a fresh group, starting at `start` (per
// partition; empty = from the beginning).
std::vector<Received> ConsumeMerged(const std::string& bootstrap, const std::string& group, const std::string& topic,
                                    size_t expected, std::map<int32_t, int64_t> start, MergeOptions merge) {
  RebalanceHooks hooks;
  hooks.on_assign = [start](std::vector<PartitionOffset>& parts) {
    for (auto& p : parts) {
      auto it = start.find(p.partition);
      p.offset = it == start.end() ? -1 : it->second;
    }
  };
  auto consumer = Consumer::Create(ConsumerProps(bootstrap, group), hooks);
  REQUIRE(consumer.ok());
  (*consumer)->set_merge(merge);
  REQUIRE((*consumer)->subscribe({topic}).ok());
  std::vector<Received> got;
  MessageBatch batch;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (got.size() < expected && std::chrono::steady_clock::now() < deadline) {
    REQUIRE((*consumer)->poll(97, 50, &batch).ok());
    for (const auto& m : batch.views()) got.push_back({m.partition, m.offset, m.timestamp_ms});
  }
  return got;
}

}  // namespace

TEST_CASE("the timestamp merge orders partitions by (timestamp, partition, offset), pauses a full "
          "partition without losing a message, passes an empty one, and a resumed consumer "
          "continues the same order", "[kafka][merge]") {
  auto broker = EmbeddedBroker::Start();
  REQUIRE(broker.ok());
  // Partition 3 stays empty: at its end, it must not hold the others back.
  REQUIRE((*broker)->create_topic("merge", 4).ok());
  const std::string bootstrap = (*broker)->bootstrap_servers();
  auto producer = Producer::Create({{"bootstrap.servers", bootstrap}, {"linger.ms", "20"}});
  REQUIRE(producer.ok());
  // Partition p holds timestamps 1e12 + 3i + p (so the merge interleaves 0,1,2,0,1,2,...),
  // except that partition 1's messages 100..199 all carry the same timestamp as partition 0's
  // message 100 (ties go to the lower partition, then the lower offset). Partition 2 is
  // written first, so arrival order differs from timestamp order.
  constexpr int kPerPartition = 3000;
  const int64_t base = 1000000000000;
  auto ts_of = [&](int32_t p, int i) { return p == 1 && i >= 100 && i < 200 ? base + 300 : base + 3 * i + p; };
  for (int32_t p : {2, 0, 1}) {
    for (int i = 0; i < kPerPartition; ++i) {
      REQUIRE((*producer)->produce("merge", "k", std::to_string(i), {}, p, ts_of(p, i)).ok());
    }
  }
  REQUIRE((*producer)->flush(10000).ok());
  std::vector<Received> expected;
  for (int32_t p : {0, 1, 2}) {
    for (int i = 0; i < kPerPartition; ++i) expected.push_back({p, i, ts_of(p, i)});
  }
  std::stable_sort(expected.begin(), expected.end(), [](const Received& a, const Received& b) {
    return std::tie(a.ts, a.partition, a.offset) < std::tie(b.ts, b.partition, b.offset);
  });
  auto same = [](const std::vector<Received>& a, const std::vector<Received>& b, size_t from) {
    size_t mismatches = 0;
    for (size_t i = 0; i < b.size(); ++i) {
      if (from + i >= a.size() || a[from + i].partition != b[i].partition || a[from + i].offset != b[i].offset) {
        mismatches++;
      }
    }
    return mismatches;
  };

  MergeOptions merge;
  merge.max_buffered = 100;  // far below the 3000 per partition: pause/resume must work
  const auto merged = ConsumeMerged(bootstrap, "g-merge", "merge", expected.size(), {}, merge);
  REQUIRE(merged.size() == expected.size());
  CHECK(same(expected, merged, 0) == 0);

  // The replay property: a consumer resuming at the offsets reached after the first 4000
  // messages continues exactly the order of the uninterrupted one.
  std::map<int32_t, int64_t> resume = {{0, 0}, {1, 0}, {2, 0}, {3, 0}};
  for (size_t i = 0; i < 4000; ++i) resume[merged[i].partition] = merged[i].offset + 1;
  const auto resumed = ConsumeMerged(bootstrap, "g-merge-2", "merge", expected.size() - 4000, resume, merge);
  REQUIRE(resumed.size() == expected.size() - 4000);
  CHECK(same(expected, resumed, 4000) == 0);

  // Negative control: arrival order is not timestamp order here (partition 2 came first).
  MergeOptions arrival;
  arrival.order = MergeOptions::Order::kArrival;
  const auto unordered = ConsumeMerged(bootstrap, "g-arrival", "merge", expected.size(), {}, arrival);
  REQUIRE(unordered.size() == expected.size());
  CHECK(same(expected, unordered, 0) > 0);
}

TEST_CASE("a partition paused by the merge when it is revoked fetches again once it is assigned back",
          "[kafka][merge]") {
  auto broker = EmbeddedBroker::Start();
  REQUIRE(broker.ok());
  REQUIRE((*broker)->create_topic("paused", 2).ok());
  REQUIRE((*broker)->create_topic("other", 1).ok());
  const std::string bootstrap = (*broker)->bootstrap_servers();
  auto producer = Producer::Create({{"bootstrap.servers", bootstrap}, {"linger.ms", "20"}});
  REQUIRE(producer.ok());
  // Partition 0's messages are all later than partition 1's: they wait in the merge (and
  // partition 0 is paused) until partition 1 is done.
  const int64_t base = 1000000000000;
  constexpr int kEarly = 5000, kLate = 100;
  for (int i = 0; i < kEarly; ++i) REQUIRE((*producer)->produce("paused", "k", "v", {}, 1, base + i).ok());
  for (int i = 0; i < kLate; ++i) REQUIRE((*producer)->produce("paused", "k", "v", {}, 0, base + kEarly + i).ok());
  REQUIRE((*producer)->flush(10000).ok());

  int assignments = 0, revocations = 0;
  std::set<int64_t> late_seen;  // since the last assignment
  RebalanceHooks hooks;
  hooks.on_assign = [&](std::vector<PartitionOffset>&) {
    ++assignments;
    late_seen.clear();
  };
  hooks.on_revoke = [&](const std::vector<PartitionOffset>&) { ++revocations; };
  Properties props = ConsumerProps(bootstrap, "g-paused");
  props["heartbeat.interval.ms"] = "100";
  auto a = Consumer::Create(props, hooks);
  REQUIRE(a.ok());
  MergeOptions merge;
  merge.max_buffered = 10;
  (*a)->set_merge(merge);
  REQUIRE((*a)->subscribe({"paused"}).ok());
  MessageBatch batch;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while ((*a)->buffered() <= merge.max_buffered && std::chrono::steady_clock::now() < deadline) {
    REQUIRE((*a)->poll(1, 10, &batch).ok());
  }
  REQUIRE((*a)->buffered() > merge.max_buffered);

  // A second member of the group, on another topic: the rebalance takes "paused" from the
  // first member and gives it back.
  auto b = Consumer::Create(props, {});
  REQUIRE(b.ok());
  REQUIRE((*b)->subscribe({"other"}).ok());
  MessageBatch other;
  deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while ((revocations == 0 || late_seen.size() < kLate) && std::chrono::steady_clock::now() < deadline) {
    // One at a time, so that partition 1 is never above max_buffered; slowly until the
    // revocation, so that partition 0 is still held and paused then.
    REQUIRE((*a)->poll(1, 10, &batch).ok());
    for (const auto& m : batch.views()) {
      if (m.partition == 0) late_seen.insert(m.offset);
    }
    REQUIRE((*b)->poll(10, 0, &other).ok());
    if (revocations == 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  CHECK(revocations >= 1);
  CHECK(assignments >= 2);
  CHECK(late_seen.size() == kLate);
}

TEST_CASE("a member closed in the middle of a rebalance runs its revoke hook and finishes closing", "[kafka]") {
  auto broker = EmbeddedBroker::Start();
  REQUIRE(broker.ok());
  REQUIRE((*broker)->create_topic("mid", 2).ok());
  const std::string bootstrap = (*broker)->bootstrap_servers();
  auto producer = Producer::Create({{"bootstrap.servers", bootstrap}, {"linger.ms", "1"}});
  REQUIRE(producer.ok());
  for (int i = 0; i < 100; ++i) REQUIRE((*producer)->produce("mid", "k", "v", {}, i % 2).ok());
  REQUIRE((*producer)->flush(10000).ok());

  for (const char* assignor : {"range", "cooperative-sticky"}) {
    INFO(assignor);
    const std::string group = std::string("g-mid-") + assignor;
    int assigned = 0, revoked = 0;
    RebalanceHooks hooks;
    hooks.on_assign = [&](std::vector<PartitionOffset>& parts) { assigned += static_cast<int>(parts.size()); };
    hooks.on_revoke = [&](const std::vector<PartitionOffset>& parts) { revoked += static_cast<int>(parts.size()); };
    Properties props = ConsumerProps(bootstrap, group);
    props["partition.assignment.strategy"] = assignor;
    auto a = Consumer::Create(props, hooks);
    REQUIRE(a.ok());
    REQUIRE((*a)->subscribe({"mid"}).ok());
    MessageBatch batch;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (assigned == 0 && std::chrono::steady_clock::now() < deadline) REQUIRE((*a)->poll(10, 50, &batch).ok());
    REQUIRE(assigned == 2);
    batch.clear();

    // A second member joins: the coordinator starts a rebalance that the first member has not
    // rejoined yet when it closes (it is not polled meanwhile).
    auto b = Consumer::Create(props, {});
    REQUIRE(b.ok());
    REQUIRE((*b)->subscribe({"mid"}).ok());
    MessageBatch other;
    for (int i = 0; i < 10; ++i) REQUIRE((*b)->poll(10, 30, &other).ok());
    other.clear();

    // The close must give the partitions up through the hook (the pipeline checkpoints there)
    // and come back: a close that never returns is a shutdown that hangs.
    (void)(*a)->close();
    CHECK(revoked == 2);
    a->reset();
    b->reset();
  }
}

TEST_CASE("a range reader reads partitions from given offsets to their ends, or their last messages, or "
          "only their ends",
          "[kafka]") {
  auto broker = EmbeddedBroker::Start();
  REQUIRE(broker.ok());
  REQUIRE((*broker)->create_topic("preds", 4).ok());
  const std::string bootstrap = (*broker)->bootstrap_servers();
  auto producer = Producer::Create({{"bootstrap.servers", bootstrap}, {"linger.ms", "1"}});
  REQUIRE(producer.ok());
  for (int i = 0; i < 10; ++i) REQUIRE((*producer)->produce("preds", "k", "p0-" + std::to_string(i), {}, 0).ok());
  for (int i = 0; i < 6; ++i) REQUIRE((*producer)->produce("preds", "k", "p1-" + std::to_string(i), {}, 1).ok());
  for (int i = 0; i < 3; ++i) REQUIRE((*producer)->produce("preds", "k", "p2-" + std::to_string(i), {}, 2).ok());
  REQUIRE((*producer)->flush(10000).ok());

  // 0 from offset 7, 1 its last two, 2 only its end, 3 (never written) from 0: nothing.
  std::vector<ReadRange> ranges = {{0, 7, -1}, {1, -1, -1, 2}, {2, -1, -1}, {3, 0, -1}};
  std::map<int32_t, std::vector<std::pair<int64_t, std::string>>> seen;
  Status st = ReadRanges({{"bootstrap.servers", bootstrap}}, "preds", ranges, 10000, [&](const MessageView& m) {
    seen[m.partition].emplace_back(m.offset, std::string(m.payload));
  });
  REQUIRE(st.ok());
  CHECK(ranges[0].end == 10);
  CHECK(ranges[1].end == 6);
  CHECK(ranges[2].end == 3);
  CHECK(ranges[3].end == 0);
  using Read = std::vector<std::pair<int64_t, std::string>>;
  CHECK(seen[0] == Read{{7, "p0-7"}, {8, "p0-8"}, {9, "p0-9"}});
  CHECK(seen[1] == Read{{4, "p1-4"}, {5, "p1-5"}});
  CHECK(seen.count(2) == 0);
  CHECK(seen.count(3) == 0);

  // A whole partition (ReadPartition, the changelog's restore), with its end.
  Read whole;
  REQUIRE(ReadPartition({{"bootstrap.servers", bootstrap}}, "preds", 2, 10000, [&](const MessageView& m, int64_t end) {
            CHECK(end == 3);
            whole.emplace_back(m.offset, std::string(m.payload));
          }).ok());
  CHECK(whole == Read{{0, "p2-0"}, {1, "p2-1"}, {2, "p2-2"}});
}
