#pragma once
// The Processor's cache of entity states (the aggregates features are built from), in
// front of the state store's `entities` column family.
//
// - Batch lookup: resolve() finds or adds every event's entity of a poll's batch in one
//   pass (their cache misses overlap) and loads those the cache lacks from the store in
//   one MultiGet.
// - Dirty tracking: an entity changed since the last checkpoint is dirty; checkpoint()
//   writes exactly those and makes them clean.
// - A size bound (state.max_cached_entities), with a store only: when the cache holds
//   more, clean entries are evicted (CLOCK: a reference bit per entry, a hand sweeping a
//   ring of entries). An evicted entity is reloaded from the store on its next event, so
//   nothing is lost. Dirty entries are never evicted (their state is only in memory until
//   the next checkpoint), nor entries the current batch holds pointers to. So between
//   checkpoints the cache may exceed the bound by what was changed since; after one it
//   is within it. Without a store there is nowhere to reload from: the bound is ignored.
//
// CLOCK rather than LRU: a hit costs one store into the entry the event touches anyway,
// where LRU would splice a list node per event (two more cache misses with many
// entities); eviction needs only an approximation of recency.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "streamlearn/core/event.hpp"
#include "streamlearn/core/status.hpp"
#include "streamlearn/features/features.hpp"

namespace streamlearn::state {
class StateStore;
class CheckpointBatch;
}  // namespace streamlearn::state

namespace streamlearn::pipeline {

// The cache's key hash. Entity keys are mostly short (user ids, account numbers): up to 16
// bytes are read as two words at most (overlapping, so every byte counts) and mixed by two
// 64x64->128 multiplications (rapidhash's small-input path), inline, where std::hash calls
// out for about 60 instructions; longer keys go to std::hash. Nothing depends on the map's
// order. Not noexcept on purpose: libstdc++ then keeps each node's hash, so a bucket's
// walk compares hashes, not keys.
struct EntityKeyHash {
  using is_transparent = void;
  __extension__ typedef unsigned __int128 Wide;  // GCC's and Clang's, on 64-bit targets
  size_t operator()(std::string_view key) const {
    const size_t n = key.size();
    if (n > 16) return std::hash<std::string_view>{}(key);
    const char* p = key.data();
    uint64_t a = 0;
    uint64_t b = 0;
    if (n >= 8) {
      std::memcpy(&a, p, 8);
      std::memcpy(&b, p + n - 8, 8);
    } else if (n >= 4) {
      uint32_t lo;
      uint32_t hi;
      std::memcpy(&lo, p, 4);
      std::memcpy(&hi, p + n - 4, 4);
      a = lo;
      b = hi;
    } else if (n > 0) {
      a = (uint64_t{static_cast<unsigned char>(p[0])} << 16) | (uint64_t{static_cast<unsigned char>(p[n >> 1])} << 8) |
          static_cast<unsigned char>(p[n - 1]);
    }
    constexpr uint64_t kSecret0 = 0x2d358dccaa6c78a5ULL;
    constexpr uint64_t kSecret1 = 0x8bb84b93962eacc9ULL;
    constexpr uint64_t kSeed = 0x4b33a62ed433d4a3ULL;
    const Wide m = static_cast<Wide>(a ^ kSecret1) * (b ^ kSeed ^ n);
    const auto lo = static_cast<uint64_t>(m) ^ kSecret0 ^ n;
    const auto hi = static_cast<uint64_t>(m >> 64) ^ kSecret1;
    const Wide mixed = static_cast<Wide>(lo) * hi;
    return static_cast<size_t>(static_cast<uint64_t>(mixed) ^ static_cast<uint64_t>(mixed >> 64));
  }
};

struct CachedEntity {
  features::EntityState state;
  bool dirty = false;
  bool referenced = false;  // CLOCK's bit: used since the hand last passed
  uint64_t pinned = 0;      // the batch (EntityCache's count) that holds a pointer to it
  int32_t partition = -1;   // the input partition of the event that last touched it (-1: unknown)
};

class EntityCache {
 public:
  // Node-based: pointers stay valid.
  using Map = std::unordered_map<std::string, CachedEntity, EntityKeyHash, std::equal_to<>>;
  using Entry = Map::value_type;

  static constexpr size_t kUnbounded = std::numeric_limits<size_t>::max();

  // `store` may be null (offline): entities then live only here and are never evicted.
  EntityCache(state::StateStore* store, size_t max_entities);

  // Finds (or adds) the entity of each of `events`, in order, into *out ((*out)[i] for
  // events[i]; null for an event without an entity, which has no state); loads what the
  // cache lacks from the store in one MultiGet. The pointers
  // stay valid until the next resolve() or checkpoint(): nothing they point to is evicted
  // before. Then evicts clean entries beyond the bound.
  Status resolve(std::span<const Event> events, std::vector<Entry*>* out);
  // One entity outside a batch's lookup (a delayed label's target aggregate): found, or
  // added and loaded from the store. Never evicts (the current batch's pointers stay
  // valid); the entry is pinned to the current batch like the batch's own.
  Result<Entry*> find_or_load(std::string_view key);
  // The entry changed: the next checkpoint writes it.
  void mark_dirty(Entry& entry) {
    if (entry.second.dirty) return;
    entry.second.dirty = true;
    dirty_.push_back(&entry);
  }

  // Writes the dirty entries' states into `batch`, marks them clean, and evicts clean
  // entries down to the bound (no batch is in progress).
  void checkpoint(state::CheckpointBatch& batch);

  // While a checkpoint's batch waits to be written the store is behind the cache: an
  // entry evicted then would reload its state from before the batch. Nothing is evicted
  // while held; released, the next batch or checkpoint evicts down to the bound.
  void hold_evictions(bool held) { evictions_held_ = held; }

  // The entries changed since the last checkpoint (a predict snapshot copies them).
  const std::vector<Entry*>& dirty() const { return dirty_; }
  size_t size() const { return map_.size(); }
  // What the cached entities hold: map nodes, keys, states (EntityState::memory_bytes) and
  // the bucket array; the allocator's own overhead aside. A walk over every entry.
  size_t memory_bytes() const;
  size_t dirty_count() const { return dirty_.size(); }
  size_t max_entities() const { return max_; }
  uint64_t evictions() const { return evictions_; }
  bool contains(std::string_view key) const { return map_.find(key) != map_.end(); }

  // Partitions moving between members (partition_state.cpp). The keys of the clean
  // entries last touched from `partition`.
  std::vector<std::string> keys_of_partition(int32_t partition) const;
  // Forgets the clean entries whose key `drop` selects (their state was replaced in the
  // store): the next event reloads them. Dirty entries stay. Between batches only.
  void forget(const std::function<bool(std::string_view key, const CachedEntity&)>& drop);

 private:
  Entry* add(std::string_view key);
  Status load(std::vector<std::string_view>& keys);
  void evict_to_bound();

  state::StateStore* store_;
  size_t max_;  // kUnbounded without a store
  Map map_;
  std::vector<Entry*> dirty_;
  std::vector<Entry*> ring_;  // every entry, in CLOCK order
  size_t hand_ = 0;
  uint64_t batch_ = 1;        // pins of earlier batches are stale
  uint64_t evictions_ = 0;
  bool evictions_held_ = false;
  std::vector<Map::node_type> spare_;  // evicted nodes, reused for new keys
  std::vector<std::string_view> missing_;
  std::vector<std::optional<std::string>> loaded_;
  std::string bytes_;
};

}  // namespace streamlearn::pipeline
