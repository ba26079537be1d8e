#pragma once
// The delayed-label join, with no I/O: predictions served without a label wait
// here with the exact feature vector they were scored on, until their label arrives, they
// expire (labels.ttl in event time) or the size bound evicts them (oldest first). Labels
// that come before their event wait too (labels.early_ttl, labels.max_early), unless they
// are older than labels.ttl already (then they are unknown at once). Ids already
// joined, expired or evicted are remembered (bounded) so that a second label is told apart
// from one for an unknown id.
//
// Everything is ordered by event time and a sequence number given by the caller, never by
// the wall clock or by hashing, so a replay from a checkpoint makes the same decisions.
// The state goes into the checkpoint incrementally (records of the ids touched since the
// last one) in RocksDB's `pending` column family; the counters and stream time go into the
// model snapshot through save()/load().
//
// Every record belongs to an input partition (a prediction and its tombstone to its event's,
// an early label to its own labels partition, the same number when the topics are
// co-partitioned), so that with scale.changelog it moves with that partition: the same
// records go to the changelog (for_each_change), a new holder takes a partition's from there
// (replace_partition) and the old one drops them (drop_partitions_except).
//
// An unlabelled event's prediction, its join and its tombstone allocate nothing in steady
// state: the nodes of the maps are recycled (extracted when an entry goes, re-keyed when
// one comes; their strings and vectors keep their capacity). The spares never outnumber
// the entries there were at the peak.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "streamlearn/core/bytes.hpp"
#include "streamlearn/core/feature_vector.hpp"
#include "streamlearn/core/status.hpp"
#include "streamlearn/pipeline/config.hpp"

namespace streamlearn::state {
class StateStore;
class CheckpointBatch;
}  // namespace streamlearn::state

namespace streamlearn::pipeline {

// A prediction that was served and waits for its label.
struct PendingPrediction {
  std::string entity;
  int64_t ts_ms = 0;  // the event's time
  uint64_t seq = 0;   // the caller's processing sequence number: breaks ties in age
  double score = 0;
  int predicted = 0;
  uint64_t model_version = 0;
  FeatureVector x;
  std::vector<double> probabilities;  // softmax: what was served, for the log loss
  int32_t partition = -1;             // the event's input partition: the unit it moves with
};

// A label that arrived before its event, with what a dead letter needs if it never joins.
struct EarlyLabel {
  std::string id;
  double value = 0;   // as the model learns it: 0/1, a class index, or a regression target
  int64_t ts_ms = 0;  // the label's time
  uint64_t seq = 0;
  std::string topic;
  int32_t partition = -1;
  int64_t offset = -1;
  std::string key;
  std::string payload;
};

struct LabelJoinCounts {
  uint64_t joined = 0;            // labels that trained the model (with their event's vector)
  uint64_t early = 0;             // labels that arrived before their event (joined later, or unknown)
  uint64_t unknown = 0;           // early labels whose event never came, and labels older than labels.ttl
                                  // with no record of their id: dead-lettered
  uint64_t late = 0;              // labels for an expired or evicted prediction: dead-lettered
  uint64_t duplicate = 0;         // a second label for an id: counted, ignored
  uint64_t expired = 0;           // pending predictions whose label never came within labels.ttl
  uint64_t evicted = 0;           // pending predictions dropped by labels.max_pending
  uint64_t early_evicted = 0;     // early labels dropped by labels.max_early (counted in unknown too)
};

class LabelJoin {
 public:
  explicit LabelJoin(const LabelSettings& settings);
  ~LabelJoin();

  // A prediction served without a label. If its label already waits, returns it (the
  // caller trains now) and nothing is stored; else a copy of the prediction becomes
  // pending (into a recycled entry: the caller keeps its own buffers too).
  std::optional<EarlyLabel> add_prediction(std::string_view id, const PendingPrediction& prediction);

  enum class LabelOutcome { kJoined, kEarly, kDuplicate, kLate, kUnknown };
  // A label from the labels topic. kJoined: *joined holds the pending prediction (removed
  // from the store; *joined's former buffers are kept for reuse); kEarly: a copy waits for
  // its event; kDuplicate: ignore; kLate: its prediction expired or was evicted,
  // dead-letter it; kUnknown: no record of its id and its time is more than labels.ttl
  // behind the stream time (its event never came, or it expired and its tombstone went),
  // dead-letter it.
  LabelOutcome add_label(const EarlyLabel& label, PendingPrediction* joined);

  // Moves stream time to max(stream time, ts_ms) and expires what is older than the TTLs;
  // early labels that expire (or are evicted) are appended to *unknown for the DLQ.
  void advance(int64_t ts_ms, std::vector<EarlyLabel>* unknown);

  size_t pending_size() const { return pending_.size(); }
  size_t early_size() const { return early_.size(); }
  int64_t stream_time_ms() const { return stream_time_ms_; }
  const LabelJoinCounts& counts() const { return counts_; }

  // Records of the ids touched since the last checkpoint (put or delete).
  void checkpoint(state::CheckpointBatch& batch);
  // Off for a join that is never checkpointed (a Processor without a store): the ids
  // touched are then not remembered, which would grow without end.
  void track_changes(bool on) { track_changes_ = on; }
  // Rebuilds the join from the `pending` column family (after load() of the scalars).
  Status restore(state::StateStore& store);

  // The changelog's view: each id touched since the last checkpoint, its input partition
  // (as last touched) and its record as checkpoint() will write it (empty: the id is gone).
  // Consumes nothing; ids of no partition (-1) are skipped.
  void for_each_change(const std::function<void(int32_t partition, std::string_view id, std::string_view record)>& visit) const;
  // A partition restored from the changelog: its records here are replaced by `records`
  // (id -> record as for_each_change gave it; empty ones skipped), in memory and in `batch`.
  // A record that is not readable is refused (Corruption naming the id): the caller stops.
  Status replace_partition(int32_t partition, const std::map<std::string, std::string, std::less<>>& records,
                           state::CheckpointBatch& batch);
  // The records of the partitions not in `held` go (another member holds them now), in
  // memory and in `batch`; records of no partition (written before records had one) stay.
  // Returns how many went.
  size_t drop_partitions_except(const std::set<int32_t>& held, state::CheckpointBatch& batch);
  // Pending predictions, early labels and tombstones of input partition p.
  size_t records_of_partition(int32_t partition) const;
  // Counters and stream time, for the model snapshot.
  void save(ByteWriter& out) const;
  Status load(ByteReader& in);

 private:
  enum class Gone : uint8_t { kJoined = 1, kExpired = 2 };
  struct Tombstone {
    Gone kind;
    int32_t partition;  // its prediction's
    int64_t since_ms;   // stream time when it was created
    uint64_t seq;
  };
  using AgeKey = std::pair<int64_t, uint64_t>;  // (ts, seq): oldest first
  // Ids are looked up by string_view: no key is copied to find it.
  struct IdHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  template <typename V>
  using IdMap = std::unordered_map<std::string, V, IdHash, std::equal_to<>>;
  using AgeMap = std::map<AgeKey, std::string>;

  void bury(std::string_view id, Gone kind, int32_t partition, int64_t at_ms);
  void touch(std::string_view id, int32_t partition);
  void drop_early(AgeMap::iterator it, std::vector<EarlyLabel>* unknown);
  // The record of `id` as it stands into *out; false when the id is gone.
  bool encode(std::string_view id, std::string* out) const;
  // Takes one record (restore, replace_partition); `partition` >= 0: it must be of that one.
  bool insert_record(const std::string& id, std::string_view value, int32_t partition);
  // Removes whatever `id` holds (pending, early, tombstone), without a record of it.
  void erase_id(std::string_view id);
  // Removes the ids whose partition is `gone`, here and in `batch`.
  size_t drop_where(const std::function<bool(int32_t partition)>& gone, state::CheckpointBatch& batch);
  // The age maps' and the pending map's entries, through the spare nodes. Returns the key
  // used: a key already taken (by an entry restored from another instance, whose sequence
  // numbers are its own) moves on to the next free sequence number.
  AgeKey add_age(AgeMap& ages, AgeKey key, std::string_view id);
  void remove_age(AgeMap& ages, AgeMap::iterator it) { spare_ages_.push_back(ages.extract(it)); }
  void remove_age(AgeMap& ages, AgeKey key);
  PendingPrediction& add_pending(std::string_view id);
  void remove_pending(IdMap<PendingPrediction>::iterator it) { spare_pending_.push_back(pending_.extract(it)); }

  LabelSettings settings_;
  int64_t stream_time_ms_ = INT64_MIN;
  uint64_t tomb_seq_ = 0;
  LabelJoinCounts counts_;
  bool track_changes_ = true;

  IdMap<PendingPrediction> pending_;
  AgeMap pending_age_;
  IdMap<EarlyLabel> early_;
  AgeMap early_age_;
  IdMap<Tombstone> tombstones_;
  AgeMap tombstone_age_;  // (since, seq)
  IdMap<int32_t> dirty_;  // ids touched since the last checkpoint -> their partition

  std::vector<IdMap<PendingPrediction>::node_type> spare_pending_;
  std::vector<AgeMap::node_type> spare_ages_;  // of any of the three age maps
  std::vector<IdMap<Tombstone>::node_type> spare_tombstones_;
  std::vector<IdMap<int32_t>::node_type> spare_dirty_;
  std::string record_;  // checkpoint's buffer
};

}  // namespace streamlearn::pipeline
