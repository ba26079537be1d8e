// Standby replicas against librdkafka's embedded broker: what a warm copy holds (a
// changelog partition up to its last marker, never what follows it), that a held partition
// is no longer written, and that a released one catches up again.
#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <random>
#include <thread>

#include "partition_state.hpp"
#include "standby.hpp"
#include "streamlearn/kafka/kafka.hpp"
#include "streamlearn/pipeline/config.hpp"

using namespace streamlearn;
using namespace streamlearn::pipeline;
namespace fs = std::filesystem;

namespace {

struct TempDir {
  fs::path path = fs::temp_directory_path() / ("sl-standby-" + std::to_string(std::random_device{}()));
  ~TempDir() { fs::remove_all(path); }
};

std::string Marker(uint64_t sequence, int64_t next) {
  return EncodeOffsetMarker(OffsetMarker{"elsewhere:/state", sequence, {{"events", next}}});
}

// Until the copy of `partition` has its marker at `position` (10 s at most).
WarmCopy WaitForCopy(StandbyReplicas& standby, int32_t partition, int64_t position) {
  WarmCopy copy;
  for (int i = 0; i < 200; ++i) {
    auto got = standby.copy_of(partition);
    REQUIRE(got.ok());
    copy = std::move(got).value();
    if (copy.marker && copy.position == position) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return copy;
}

}  // namespace

TEST_CASE("scale.standby_replicas: 0 by default, a count, and a bad value names its key", "[standby][config]") {
  auto defaults = ParseConfig("kafka: {group_id: g}\n", "t.yaml", Environment{});
  REQUIRE(defaults.ok());
  CHECK(defaults->scale.standby_replicas == 0);
  auto one = ParseConfig("scale: {standby_replicas: 1}\n", "t.yaml", Environment{});
  REQUIRE(one.ok());
  CHECK(one->scale.standby_replicas == 1);
  auto bad = ParseConfig("scale: {standby_replicas: -1}\n", "t.yaml", Environment{});
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message().find("scale.standby_replicas") != std::string::npos);
}

TEST_CASE("a warm copy holds its changelog partition up to the last marker, and stops while held", "[standby]") {
  auto broker = kafka::EmbeddedBroker::Start();
  REQUIRE(broker.ok());
  const std::string bootstrap = (*broker)->bootstrap_servers();
  auto parsed = ParseConfig("kafka: {group_id: g, topics: {events: events}}\nscale: {standby_replicas: 1}\n", "t.yaml",
                            Environment{});
  REQUIRE(parsed.ok());
  PipelineConfig config = *parsed;
  TempDir dir;
  config.state.dir = dir.path.string();
  const std::string topic = ChangelogTopic(config);
  REQUIRE((*broker)->create_topic(topic, 2).ok());
  auto producer = kafka::Producer::Create({{"bootstrap.servers", bootstrap}, {"linger.ms", "1"}});
  REQUIRE(producer.ok());
  kafka::Producer& out = **producer;
  // Partition 0: two entities and a marker (offsets 0-2), then an entity of an unfinished checkpoint.
  REQUIRE(out.produce(topic, "u1", "one", {}, 0).ok());
  REQUIRE(out.produce(topic, "u2", "two", {}, 0).ok());
  REQUIRE(out.produce(topic, OffsetMarkerKey(), Marker(1, 40), {}, 0).ok());
  REQUIRE(out.produce(topic, "u3", "three", {}, 0).ok());
  REQUIRE(out.flush(10000).ok());

  auto standby = StandbyReplicas::Start(config, {{"bootstrap.servers", bootstrap}}, {{"bootstrap.servers", bootstrap}}, nullptr);
  REQUIRE(standby.ok());
  WarmCopy copy = WaitForCopy(**standby, 0, 3);
  REQUIRE(copy.marker);
  CHECK(copy.position == 3);
  CHECK(copy.marker->next_offsets.at("events") == 40);
  CHECK(copy.entities == std::map<std::string, std::string, std::less<>>{{"u1", "one"}, {"u2", "two"}});
  auto empty = (*standby)->copy_of(1);
  REQUIRE(empty.ok());
  CHECK_FALSE(empty->marker);
  CHECK(empty->position == 0);

  // Held: the next checkpoint of partition 0 is not applied; its restore reads it instead.
  (*standby)->hold(0);
  REQUIRE(out.produce(topic, OffsetMarkerKey(), Marker(2, 50), {}, 0).ok());
  REQUIRE(out.flush(10000).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));
  auto held = (*standby)->copy_of(0);
  REQUIRE(held.ok());
  CHECK(held->position == 3);
  CHECK(held->entities.size() == 2);

  // Released: it catches up from its position, u3's checkpoint now finished.
  (*standby)->release(0);
  WarmCopy after = WaitForCopy(**standby, 0, 5);
  REQUIRE(after.marker);
  CHECK(after.position == 5);
  CHECK(after.marker->next_offsets.at("events") == 50);
  CHECK(after.entities.size() == 3);
  CHECK(after.entities.at("u3") == "three");

  // The copy survives a restart of the instance (its own RocksDB).
  standby->reset();
  auto again = StandbyReplicas::Start(config, {{"bootstrap.servers", bootstrap}}, {{"bootstrap.servers", bootstrap}}, nullptr);
  REQUIRE(again.ok());
  auto kept = (*again)->copy_of(0);
  REQUIRE(kept.ok());
  CHECK(kept->position == 5);
  CHECK(kept->entities.size() == 3);
}
