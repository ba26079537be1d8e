// State that follows its partition: the changelog's offset marker, the scale keys, and the
// entity cache's partition bookkeeping that a restore relies on. The moves themselves run
// between processes in tests/scale.
#include <catch2/catch.hpp>

#include <filesystem>
#include <algorithm>
#include <random>

#include "partition_state.hpp"
#include "streamlearn/core/event_decoder.hpp"
#include "streamlearn/pipeline/config.hpp"
#include "streamlearn/pipeline/entity_cache.hpp"
#include "streamlearn/state/store.hpp"

using namespace streamlearn;
using namespace streamlearn::pipeline;
namespace fs = std::filesystem;

namespace {

struct TempDir {
  fs::path path = fs::temp_directory_path() / ("sl-partition-state-" + std::to_string(std::random_device{}()));
  ~TempDir() { fs::remove_all(path); }
};

}  // namespace

TEST_CASE("an offset marker reads back as written, and a foreign one is refused", "[partition_state]") {
  OffsetMarker marker{"host:/var/lib/streamlearn", 17, {{"events", 7642}, {"labels", 12}}};
  const std::string text = EncodeOffsetMarker(marker);
  auto back = DecodeOffsetMarker(text);
  REQUIRE(back.ok());
  CHECK(back->instance == marker.instance);
  CHECK(back->sequence == 17);
  CHECK(back->next_offsets == marker.next_offsets);
  CHECK_FALSE(DecodeOffsetMarker("").ok());
  CHECK_FALSE(DecodeOffsetMarker("{\"amount\": 1}").ok());
  CHECK_FALSE(DecodeOffsetMarker("streamlearn-offsets 1\noffset events x\n").ok());
  // The marker's key starts with a NUL byte: an entity never does (the decoder refuses it).
  REQUIRE(!OffsetMarkerKey().empty());
  CHECK(OffsetMarkerKey().front() == '\0');
}

TEST_CASE("an entity that starts with a NUL byte is refused: it could be taken for an offset marker",
          "[partition_state]") {
  EventDecoder decoder;
  Event event;
  const std::string key(OffsetMarkerKey());
  CHECK_FALSE(decoder.decode(R"({"features": {"x": 1}})", key, {"events", 0, 0, 0}, &event).ok());
  CHECK(decoder.decode(R"({"features": {"x": 1}})", "user-1", {"events", 0, 0, 0}, &event).ok());
}

TEST_CASE("scale keys: the changelog is on by default, its topic named after the group and the events",
          "[partition_state][config]") {
  auto config = ParseConfig("kafka: {group_id: fraud, topics: {events: payments}}\n", "t.yaml", Environment{});
  REQUIRE(config.ok());
  CHECK(config->scale.changelog);
  CHECK_FALSE(config->scale.changelog_given);
  CHECK(ChangelogTopic(*config) == "fraud-payments-changelog");
  auto off = ParseConfig("scale: {changelog: false, changelog_topic: state-log}\n", "t.yaml", Environment{});
  REQUIRE(off.ok());
  CHECK_FALSE(off->scale.changelog);
  CHECK(off->scale.changelog_given);
  CHECK(ChangelogTopic(*off) == "state-log");
  auto bad = ParseConfig("scale: {changelog: maybe}\n", "t.yaml", Environment{});
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message().find("scale.changelog") != std::string::npos);
}

TEST_CASE("the entity cache names a partition's clean entries and forgets them", "[partition_state][entity_cache]") {
  TempDir dir;
  auto store = state::StateStore::Open(dir.path.string());
  REQUIRE(store.ok());
  EntityCache cache(store->get(), EntityCache::kUnbounded);
  std::vector<Event> events(4);
  for (int i = 0; i < 4; ++i) events[i].entity = "e" + std::to_string(i);
  std::vector<EntityCache::Entry*> entries;
  REQUIRE(cache.resolve(events, &entries).ok());
  for (int i = 0; i < 4; ++i) {
    entries[i]->second.partition = i % 2;  // e0, e2 from partition 0; e1, e3 from 1
    entries[i]->second.state.events = 10 + i;
    cache.mark_dirty(*entries[i]);
  }
  CHECK(cache.keys_of_partition(0).empty());  // dirty: not yet checkpointed, never handed over
  auto batch = (*store)->begin_checkpoint();
  cache.checkpoint(batch);
  REQUIRE((*store)->commit(batch).ok());
  auto zero = cache.keys_of_partition(0);
  std::sort(zero.begin(), zero.end());
  CHECK(zero == std::vector<std::string>{"e0", "e2"});
  // A restore replaced partition 0's states in the store: the cache forgets its copies and
  // the next event reads the store's.
  auto replace = (*store)->begin_checkpoint();
  features::EntityState restored;
  restored.events = 99;
  std::string bytes;
  restored.encode(&bytes);
  replace.put_entity("e0", bytes);
  replace.delete_entity("e2");
  REQUIRE((*store)->commit(replace).ok());
  cache.forget([](std::string_view, const CachedEntity& cached) { return cached.partition == 0; });
  CHECK(cache.size() == 2);
  CHECK_FALSE(cache.contains("e0"));
  CHECK(cache.contains("e1"));
  REQUIRE(cache.resolve(std::vector<Event>(events.begin(), events.begin() + 3), &entries).ok());
  CHECK(entries[0]->second.state.events == 99);  // e0: the restored state
  CHECK(entries[1]->second.state.events == 11);  // e1: kept
  CHECK(entries[2]->second.state.events == 0);   // e2: deleted, starts over
}
