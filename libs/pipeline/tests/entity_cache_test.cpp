// The entity cache: its size bound (evicting only checkpointed entries), the pointers a
// batch holds, and entities reloaded from a real RocksDB after eviction.
#include <catch2/catch.hpp>

#include <filesystem>
#include <map>
#include <random>
#include <set>

#include "streamlearn/pipeline/config.hpp"
#include "streamlearn/pipeline/entity_cache.hpp"
#include "streamlearn/pipeline/processor.hpp"
#include "streamlearn/offline/synthetic.hpp"
#include "streamlearn/state/store.hpp"

using namespace streamlearn;
using namespace streamlearn::pipeline;
namespace fs = std::filesystem;

namespace {

struct TempDir {
  fs::path path = fs::temp_directory_path() / ("sl-entity-cache-" + std::to_string(std::random_device{}()));
  ~TempDir() { fs::remove_all(path); }
};

std::vector<Event> Events(int from, int to) {
  std::vector<Event> events;
  for (int i = from; i < to; ++i) {
    Event e;
    e.entity = "entity-" + std::to_string(i);
    events.push_back(std::move(e));
  }
  return events;
}

// Gives each entity of the batch a state of its own and marks it dirty.
void Touch(EntityCache& cache, const std::vector<EntityCache::Entry*>& entries, int64_t ts) {
  for (auto* entry : entries) {
    entry->second.state.events++;
    entry->second.state.last_ts_ms = ts;
    entry->second.state.target_count++;
    entry->second.state.target_sum += static_cast<double>(entry->first.size());
    cache.mark_dirty(*entry);
  }
}

void Checkpoint(state::StateStore& store, EntityCache& cache) {
  auto batch = store.begin_checkpoint();
  cache.checkpoint(batch);
  REQUIRE(store.commit(batch).ok());
}

}  // namespace

TEST_CASE("the entity cache evicts only checkpointed entries, down to its bound", "[entity_cache]") {
  TempDir dir;
  auto store = state::StateStore::Open(dir.path.string());
  REQUIRE(store.ok());
  EntityCache cache(store->get(), 10);
  std::vector<EntityCache::Entry*> entries;
  for (int b = 0; b < 10; ++b) {
    const auto events = Events(b * 5, b * 5 + 5);
    REQUIRE(cache.resolve(events, &entries).ok());
    Touch(cache, entries, b);
  }
  // Fifty changed since the last checkpoint: none may go before it writes them.
  CHECK(cache.size() == 50);
  CHECK(cache.dirty_count() == 50);
  CHECK(cache.evictions() == 0);
  Checkpoint(**store, cache);
  CHECK(cache.dirty_count() == 0);
  CHECK(cache.size() <= 10);
  CHECK(cache.evictions() == 40);
  // A dirty entry survives a sweep that evicts around it.
  const auto one = Events(0, 1);
  REQUIRE(cache.resolve(one, &entries).ok());
  Touch(cache, entries, 100);
  const auto more = Events(100, 130);
  REQUIRE(cache.resolve(more, &entries).ok());
  REQUIRE(cache.resolve(Events(200, 201), &entries).ok());
  CHECK(cache.contains("entity-0"));
  CHECK(cache.dirty_count() == 1);
  Checkpoint(**store, cache);
  CHECK(cache.size() <= 10);
}

TEST_CASE("an evicted entity is reloaded from the store as it was", "[entity_cache]") {
  TempDir dir;
  auto store = state::StateStore::Open(dir.path.string());
  REQUIRE(store.ok());
  EntityCache cache(store->get(), 3);
  std::map<std::string, features::EntityState> expected;
  std::vector<EntityCache::Entry*> entries;
  for (int round = 0; round < 3; ++round) {
    for (int b = 0; b < 4; ++b) {
      const auto events = Events(b * 4, b * 4 + 4);
      REQUIRE(cache.resolve(events, &entries).ok());
      for (auto* entry : entries) REQUIRE(entry->second.state == expected[entry->first]);  // reloaded or kept
      Touch(cache, entries, round * 10 + b);
      for (auto* entry : entries) expected[entry->first] = entry->second.state;
      Checkpoint(**store, cache);
      CHECK(cache.size() <= 3);
    }
  }
  CHECK(cache.evictions() > 0);
  // find_or_load (a delayed label's target aggregate) reloads too.
  std::string gone;
  for (const auto& [name, state] : expected) {
    if (!cache.contains(name)) gone = name;
  }
  REQUIRE(!gone.empty());
  auto entry = cache.find_or_load(gone);
  REQUIRE(entry.ok());
  CHECK((*entry)->second.state == expected[gone]);
  CHECK((*entry)->second.state.events == 3);
}

TEST_CASE("the entities a batch holds are never evicted while it runs", "[entity_cache]") {
  TempDir dir;
  auto store = state::StateStore::Open(dir.path.string());
  REQUIRE(store.ok());
  EntityCache cache(store->get(), 4);
  std::vector<EntityCache::Entry*> entries;
  REQUIRE(cache.resolve(Events(0, 8), &entries).ok());  // clean, unpinned after the next batch
  const auto events = Events(100, 120);  // five times the bound, in one batch
  REQUIRE(cache.resolve(events, &entries).ok());
  // A delayed label's entity, looked up in the middle of the batch, adds without evicting.
  auto extra = cache.find_or_load("entity-0");
  REQUIRE(extra.ok());
  auto late = cache.find_or_load("entity-7");
  REQUIRE(late.ok());
  REQUIRE(entries.size() == events.size());
  std::set<const EntityCache::Entry*> distinct(entries.begin(), entries.end());
  CHECK(distinct.size() == events.size());
  for (size_t i = 0; i < events.size(); ++i) {
    CHECK(entries[i]->first == events[i].entity);
    CHECK(cache.contains(events[i].entity));
  }
  CHECK(cache.size() >= 20);  // the batch's twenty at least, beyond the bound
  CHECK((*extra)->first == "entity-0");
  // The same entity twice in a batch: one entry.
  std::vector<Event> twice = Events(5, 6);
  twice.push_back(twice[0]);
  REQUIRE(cache.resolve(twice, &entries).ok());
  CHECK(entries[0] == entries[1]);
  Checkpoint(**store, cache);
  CHECK(cache.size() <= 4);
}

TEST_CASE("while a checkpoint's batch waits to be written nothing is evicted, so no entity "
          "reloads a state older than the cache's",
          "[entity_cache]") {
  TempDir dir;
  auto store = state::StateStore::Open(dir.path.string());
  REQUIRE(store.ok());
  EntityCache cache(store->get(), 3);
  std::vector<EntityCache::Entry*> entries;
  REQUIRE(cache.resolve(Events(0, 10), &entries).ok());
  Touch(cache, entries, 1);
  Checkpoint(**store, cache);  // written: the store has each entity's first state
  REQUIRE(cache.resolve(Events(0, 10), &entries).ok());
  Touch(cache, entries, 2);
  std::map<std::string, features::EntityState> cut;
  for (auto* entry : entries) cut[entry->first] = entry->second.state;
  // The cut: changes handed over to a batch that is written later.
  cache.hold_evictions(true);
  const uint64_t evicted = cache.evictions();
  auto batch = (*store)->begin_checkpoint();
  cache.checkpoint(batch);
  CHECK(cache.dirty_count() == 0);
  REQUIRE(cache.resolve(Events(100, 120), &entries).ok());
  REQUIRE(cache.resolve(Events(200, 201), &entries).ok());
  CHECK(cache.evictions() == evicted);
  CHECK(cache.size() == 31);
  for (const auto& [name, state] : cut) {
    REQUIRE(cache.contains(name));
    auto entry = cache.find_or_load(name);
    REQUIRE(entry.ok());
    CHECK((*entry)->second.state == state);  // not the store's older one
  }
  REQUIRE((*store)->commit(batch).ok());
  cache.hold_evictions(false);
  Checkpoint(**store, cache);
  CHECK(cache.size() <= 3);
  for (const auto& [name, state] : cut) {
    auto entry = cache.find_or_load(name);
    REQUIRE(entry.ok());
    CHECK((*entry)->second.state == state);  // reloaded as the cut wrote it
  }
}

TEST_CASE("without a store the entity cache has no bound", "[entity_cache]") {
  EntityCache cache(nullptr, 10);
  CHECK(cache.max_entities() == EntityCache::kUnbounded);
  std::vector<EntityCache::Entry*> entries;
  REQUIRE(cache.resolve(Events(0, 50), &entries).ok());
  REQUIRE(cache.resolve(Events(50, 100), &entries).ok());
  CHECK(cache.size() == 100);
  CHECK(cache.evictions() == 0);
}

TEST_CASE("a processor whose cache evicts predicts exactly as one whose cache does not", "[entity_cache]") {
  // Delayed labels with target aggregates too: a joined label's entity may have been evicted.
  SyntheticOptions o;
  o.events = 6000;
  o.seed = 5;
  o.invalid_share = 0;
  o.entities = 300;
  SyntheticSeaStream stream(o);
  std::vector<std::string> keys, payloads;
  std::vector<std::string> topics;
  std::string key, payload;
  bool valid;
  uint64_t n = 0;
  while (stream.next(&key, &payload, &valid)) {
    const std::string id = "e-" + std::to_string(n);
    const int64_t ts = 1700000000000 + 10 * static_cast<int64_t>(n);
    if (n % 2 == 0) {  // half labelled inline, half by a label 20 events later
      keys.push_back(key);
      payloads.push_back(payload);
      topics.push_back("events");
    } else {
      const size_t at = payload.rfind(",\"label\":");
      const char label = payload[at + 9];
      keys.push_back(key);
      payloads.push_back(payload.substr(0, at) + "}");
      topics.push_back("events");
      keys.push_back(key);
      payloads.push_back(R"({"id":")" + id + R"(","label":)" + std::string(1, label) + R"(,"ts":)" +
                         std::to_string(ts + 200) + "}");
      topics.push_back("labels");
    }
    ++n;
  }
  std::vector<RawMessage> raw;
  int64_t offset = 0;
  for (size_t i = 0; i < payloads.size(); ++i) raw.push_back({{topics[i], 0, offset++, -1}, keys[i], payloads[i]});

  struct Sink : JsonOutputSink {
    std::vector<std::string> predictions;
    Status prediction(std::string_view, std::string_view json) override {
      std::string p(json);
      p.erase(p.find(",\"latency_us\""));
      predictions.push_back(std::move(p));
      return Status::Ok();
    }
    Status dead_letter(const RawMessage&, std::string_view) override { return Status::Ok(); }
    Status drift(std::string_view, std::string_view) override { return Status::Ok(); }
  };
  auto run = [&](int max_cached, size_t* cached_after) {
    TempDir dir;
    auto store = state::StateStore::Open(dir.path.string());
    REQUIRE(store.ok());
    PipelineConfig c;
    c.state.dir = dir.path.string();
    c.state.max_cached_entities = max_cached;
    c.labels.enabled = true;
    c.features.params["target_agg"] = "true";
    auto p = Processor::Create(c, store->get(), nullptr);
    REQUIRE(p.ok());
    Sink sink;
    const std::span<const RawMessage> all(raw);
    for (size_t i = 0; i < all.size(); i += 50) {
      REQUIRE((*p)->process(all.subspan(i, std::min<size_t>(50, all.size() - i)), sink).ok());
      auto batch = (*store)->begin_checkpoint();
      (*p)->checkpoint(batch);
      REQUIRE((*store)->commit(batch).ok());
      *cached_after = std::max(*cached_after, (*p)->stats().entities_cached);
    }
    return sink.predictions;
  };
  size_t bounded_max = 0, unbounded_max = 0;
  const auto bounded = run(20, &bounded_max);
  const auto unbounded = run(1000000, &unbounded_max);
  CHECK(unbounded_max == 300);
  CHECK(bounded_max <= 20);
  REQUIRE(bounded.size() == unbounded.size());
  REQUIRE(bounded.size() == n);
  for (size_t i = 0; i < bounded.size(); ++i) REQUIRE(bounded[i] == unbounded[i]);
}

TEST_CASE("state.max_cached_entities is read from the config, 1,000,000 unless set", "[entity_cache][config]") {
  const Environment no_env = [](const char*) -> const char* { return nullptr; };
  auto defaults = ParseConfig("state:\n  dir: /tmp/x\n", "p.yaml", no_env);
  REQUIRE(defaults.ok());
  CHECK(defaults->state.max_cached_entities == 1000000);
  auto set = ParseConfig("state:\n  max_cached_entities: 5000\n", "p.yaml", no_env);
  REQUIRE(set.ok());
  CHECK(set->state.max_cached_entities == 5000);
  auto bad = ParseConfig("state:\n  max_cached_entities: 0\n", "p.yaml", no_env);
  REQUIRE_FALSE(bad.ok());
  CHECK_THAT(bad.status().message(), Catch::Contains("state.max_cached_entities"));
}

TEST_CASE("the entity cache's key hash: every byte of a short key counts, each length finds its keys", "[entity_cache]") {
  const EntityKeyHash hash;
  // Keys of every length to 24 (the short paths read overlapping words, the long ones go to
  // std::hash), each differing from the next in one byte at every place: all distinct.
  std::set<size_t> seen;
  size_t keys = 0;
  for (size_t n = 0; n <= 24; ++n) {
    const std::string base(n, 'k');
    seen.insert(hash(base));
    ++keys;
    for (size_t at = 0; at < n; ++at) {
      for (const char c : {'a', 'z', '\0', '\xff'}) {
        std::string key = base;
        key[at] = c;
        seen.insert(hash(key));
        ++keys;
      }
    }
  }
  CHECK(seen.size() == keys);
  for (int i = 0; i < 100000; ++i) seen.insert(hash("u" + std::to_string(i)));
  CHECK(seen.size() == keys + 100000);
  // The same key as a string or a view: the same hash.
  const std::string key = "account-0042";
  CHECK(hash(key) == hash(std::string_view(key)));

  // Found again, at every length, among many (the map's buckets hold several).
  EntityCache cache(nullptr, EntityCache::kUnbounded);
  std::vector<Event> events;
  for (size_t n = 0; n <= 24; ++n) {
    for (int i = 0; i < 200; ++i) {
      Event e;
      e.entity = (std::to_string(i) + std::string(24, '-')).substr(0, n);
      if (!e.entity.empty()) events.push_back(std::move(e));
    }
  }
  std::vector<EntityCache::Entry*> first;
  REQUIRE(cache.resolve(events, &first).ok());
  std::vector<EntityCache::Entry*> again;
  REQUIRE(cache.resolve(events, &again).ok());
  CHECK(first == again);
  for (size_t i = 0; i < events.size(); ++i) CHECK(first[i]->first == events[i].entity);
  std::set<std::string> distinct;
  for (const Event& e : events) distinct.insert(e.entity);
  CHECK(cache.size() == distinct.size());
}

TEST_CASE("the entity cache finds every key's own entry through evictions, reloads and forgets", "[entity_cache]") {
  // Batches of random keys (repeats within a batch, keys of every length up to 40, empty
  // ones) against a cache bounded far below the keys' count: each event must get the entry
  // of its own key, one entry per key, holding what was counted for that key (from the
  // cache or reloaded from the store), whatever was evicted or forgotten in between.
  TempDir dir;
  auto store = state::StateStore::Open(dir.path.string());
  REQUIRE(store.ok());
  EntityCache cache(store->get(), 40);
  std::mt19937_64 rng(11);
  std::vector<std::string> keys;
  for (int k = 0; k < 300; ++k) keys.push_back(std::string(static_cast<size_t>(k % 41), 'k') + std::to_string(k));
  std::map<std::string, uint64_t> counted;  // what each key's state must hold
  std::vector<EntityCache::Entry*> entries;
  for (int b = 0; b < 400; ++b) {
    std::vector<Event> events(1 + rng() % 64);
    for (Event& e : events) {
      if (rng() % 16 != 0) e.entity = keys[rng() % (b < 200 ? 60 : keys.size())];
    }
    REQUIRE(cache.resolve(events, &entries).ok());
    std::map<std::string, EntityCache::Entry*> seen;
    for (size_t i = 0; i < events.size(); ++i) {
      if (events[i].entity.empty()) {
        CHECK(entries[i] == nullptr);
        continue;
      }
      REQUIRE(entries[i] != nullptr);
      REQUIRE(entries[i]->first == events[i].entity);
      auto [at, first] = seen.emplace(events[i].entity, entries[i]);
      CHECK(at->second == entries[i]);  // the same entry for a key within the batch
      if (first) CHECK(entries[i]->second.state.events == counted[events[i].entity]);
    }
    for (auto& [key, entry] : seen) {
      entry->second.state.events++;
      counted[key]++;
      cache.mark_dirty(*entry);
    }
    if (b % 3 == 0) Checkpoint(**store, cache);
    if (b % 50 == 49) {
      Checkpoint(**store, cache);
      cache.forget([&](std::string_view key, const CachedEntity&) { return key.size() % 2 == 0; });
    }
  }
  CHECK(cache.evictions() > 0);
}
