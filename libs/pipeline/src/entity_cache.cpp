#include "streamlearn/pipeline/entity_cache.hpp"

#include <tuple>

#include "streamlearn/state/store.hpp"

namespace streamlearn::pipeline {
namespace {
// Evicted nodes kept for reuse: a cache at its bound then adds an entity without
// allocating its node or its key (a batch's worth covers the usual churn).
constexpr size_t kMaxSpareNodes = 1024;
}  // namespace

EntityCache::EntityCache(state::StateStore* store, size_t max_entities)
    : store_(store), max_(store ? max_entities : kUnbounded) {}

EntityCache::Entry* EntityCache::add(std::string_view key) {
  Entry* entry;
  if (!spare_.empty()) {
    Map::node_type node = std::move(spare_.back());
    spare_.pop_back();
    node.key().assign(key);  // keeps the string's capacity
    entry = &*map_.insert(std::move(node)).position;
  } else {
    entry = &*map_.emplace(std::piecewise_construct, std::forward_as_tuple(key), std::forward_as_tuple()).first;
  }
  ring_.push_back(entry);
  return entry;
}

size_t EntityCache::memory_bytes() const {
  // A node of the map: the next pointer, the entry, the cached hash.
  constexpr size_t kNode = sizeof(void*) + sizeof(Entry) + sizeof(size_t);
  size_t bytes = map_.bucket_count() * sizeof(void*);
  for (const Entry& e : map_) {
    bytes += kNode - sizeof(features::EntityState) + e.second.state.memory_bytes();
    if (e.first.capacity() > 15) bytes += e.first.capacity() + 1;  // beyond the small-string buffer
  }
  return bytes;
}

Status EntityCache::resolve(std::span<const Event> events, std::vector<Entry*>* out) {
  ++batch_;
  out->resize(events.size());
  missing_.clear();
  for (size_t i = 0; i < events.size(); ++i) {
    if (events[i].entity.empty()) {  // no entity: no state to find, add or load
      (*out)[i] = nullptr;
      continue;
    }
    auto it = map_.find(events[i].entity);
    Entry* entry;
    if (it != map_.end()) {
      entry = &*it;
    } else {
      // A new entity starts empty; with a store, that is a placeholder until the MultiGet
      // below fills it (and it dedups the keys of this batch).
      entry = add(events[i].entity);
      if (store_) missing_.push_back(entry->first);
    }
    entry->second.referenced = true;
    entry->second.pinned = batch_;
    (*out)[i] = entry;
  }
  if (!missing_.empty()) SL_RETURN_IF_ERROR(load(missing_));
  evict_to_bound();
  return Status::Ok();
}

Result<EntityCache::Entry*> EntityCache::find_or_load(std::string_view key) {
  auto it = map_.find(key);
  Entry* entry;
  if (it != map_.end()) {
    entry = &*it;
  } else {
    entry = add(key);
    if (store_) {
      missing_.clear();
      missing_.push_back(entry->first);
      SL_RETURN_IF_ERROR(load(missing_));
    }
  }
  entry->second.referenced = true;
  entry->second.pinned = batch_;
  return entry;
}

Status EntityCache::load(std::vector<std::string_view>& keys) {
  SL_RETURN_IF_ERROR(store_->get_entities(keys, &loaded_));
  for (size_t i = 0; i < keys.size(); ++i) {
    if (!loaded_[i]) continue;
    CachedEntity& cached = map_.find(keys[i])->second;
    Status st = features::EntityState::decode(*loaded_[i], &cached.state);
    if (!st.ok()) {
      return Status::Corruption("entity '" + std::string(keys[i]) + "' in " + store_->dir() + ": " + st.message());
    }
  }
  return Status::Ok();
}

void EntityCache::checkpoint(state::CheckpointBatch& batch) {
  for (Entry* entry : dirty_) {
    entry->second.state.encode(&bytes_);
    batch.put_entity(entry->first, bytes_);
    entry->second.dirty = false;
  }
  dirty_.clear();
  ++batch_;  // between batches: no pointers held
  evict_to_bound();
}

std::vector<std::string> EntityCache::keys_of_partition(int32_t partition) const {
  std::vector<std::string> keys;
  for (const auto& [key, cached] : map_) {
    if (cached.partition == partition && !cached.dirty) keys.push_back(key);
  }
  return keys;
}

void EntityCache::forget(const std::function<bool(std::string_view key, const CachedEntity&)>& drop) {
  size_t kept = 0;
  for (Entry* entry : ring_) {
    if (entry->second.dirty || !drop(entry->first, entry->second)) {
      ring_[kept++] = entry;
      continue;
    }
    map_.erase(map_.find(entry->first));
  }
  ring_.resize(kept);
  hand_ = 0;
  ++batch_;
}

void EntityCache::evict_to_bound() {
  // Two sweeps at most: the first clears reference bits, the second evicts; entries that
  // are dirty or pinned stay, so it may end above the bound.
  if (evictions_held_) return;
  size_t steps = 2 * ring_.size() + 1;
  while (map_.size() > max_ && !ring_.empty() && steps-- > 0) {
    if (hand_ >= ring_.size()) hand_ = 0;
    Entry* entry = ring_[hand_];
    CachedEntity& cached = entry->second;
    if (cached.dirty || cached.pinned == batch_) {
      ++hand_;
      continue;
    }
    if (cached.referenced) {
      cached.referenced = false;
      ++hand_;
      continue;
    }
    ring_[hand_] = ring_.back();  // the hand then looks at the moved one
    ring_.pop_back();
    Map::node_type node = map_.extract(map_.find(entry->first));
    if (spare_.size() < kMaxSpareNodes) {
      node.mapped() = CachedEntity{};  // frees the aggregates now
      spare_.push_back(std::move(node));
    }
    ++evictions_;
  }
}

}  // namespace streamlearn::pipeline
