#pragma once
// The instance's durable state in one RocksDB (docs/architecture.md): column families `entities`,
// `models`, `offsets`, `pending`, `meta`. A checkpoint is one atomic WriteBatch, so after a
// crash the DB holds either all of a checkpoint or none of it.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "streamlearn/core/status.hpp"

namespace streamlearn::state {

// Bump when the meaning of stored bytes changes; older directories are refused, not reset.
inline constexpr uint32_t kFormatVersion = 1;

struct TopicPartition {
  std::string topic;
  int32_t partition = 0;
  auto operator<=>(const TopicPartition&) const = default;
};

// Collects one checkpoint; nothing is visible until StateStore::commit writes it whole.
// Made by StateStore::begin_checkpoint (it binds the store's column families).
class CheckpointBatch {
 public:
  ~CheckpointBatch();
  CheckpointBatch(CheckpointBatch&&) noexcept;
  void put_entity(std::string_view entity, std::string_view state);
  // A copy of a partition another member now holds (restored from the changelog instead).
  void delete_entity(std::string_view entity);
  void put_model(std::string_view name, std::string_view snapshot);
  // The label join's records (delayed labels), keyed by event id.
  void put_pending(std::string_view id, std::string_view record);
  void delete_pending(std::string_view id);
  void put_offset(const TopicPartition& tp, int64_t next_offset);
  // The model registry: a learner's bytes kept per (model, version), for rollback.
  void put_model_version(std::string_view name, uint64_t version, std::string_view learner);
  void delete_model_version(std::string_view name, uint64_t version);
  size_t count() const;
  size_t byte_size() const;

 private:
  friend class StateStore;
  struct Impl;
  explicit CheckpointBatch(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

struct StoreOptions {
  bool sync = true;        // fsync the WAL on commit: a checkpoint survives power loss, once per interval
  bool read_only = false;  // inspect a directory, even one a running instance holds
};

class StateStore {
 public:
  // Opens or creates `dir`. A directory of another format version, or one RocksDB finds
  // corrupt, is refused with a message naming the directory and the problem.
  static Result<std::unique_ptr<StateStore>> Open(const std::string& dir, StoreOptions options = {});
  ~StateStore();

  // MultiGet of entity states; (*values)[i] is empty when keys[i] has no state yet.
  Status get_entities(const std::vector<std::string_view>& keys,
                      std::vector<std::optional<std::string>>* values);
  Result<std::optional<std::string>> get_model(std::string_view name);
  Result<std::map<TopicPartition, int64_t>> offsets();
  Result<std::vector<std::string>> model_names();
  // The kept versions of model `name` (put_model_version), oldest first.
  Result<std::vector<std::pair<uint64_t, std::string>>> model_versions(std::string_view name);
  // RocksDB's estimate (exact for a DB without overwrites-in-flight); cheap.
  uint64_t approximate_entity_count();
  // Visits every entity state in key order; stops early when `visit` returns false.
  Status for_each_entity(const std::function<bool(std::string_view key, std::string_view value)>& visit);
  // Visits every record of the label join (`pending`), in key order.
  Status for_each_pending(const std::function<bool(std::string_view id, std::string_view record)>& visit);

  CheckpointBatch begin_checkpoint();
  // Writes the batch whole or not at all. A write the disk refused (no space, I/O error,
  // read-only) is kIoError, its message naming the cause first; the batch is kept, so the
  // same batch can be committed again once resume() succeeds.
  Status commit(CheckpointBatch& batch);
  // After a refused write RocksDB stops taking writes until told to recover (DB::Resume:
  // it flushes the memtables to a new write-ahead log). Ok when there is nothing to
  // recover from; kIoError while the disk still refuses.
  Status resume();

  const std::string& dir() const { return dir_; }

 private:
  struct Impl;
  StateStore(std::string dir, std::unique_ptr<Impl> impl);
  std::string dir_;
  bool read_only_ = false;
  std::unique_ptr<Impl> impl_;
};

}  // namespace streamlearn::state
