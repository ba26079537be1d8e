#pragma once
// State that follows its partition (docs/architecture.md, "Scaling out"). Input partition
// p's unit is its entity states (those the event that last touched them came from p), its
// label join records (with labels.enabled and scale.changelog_labels: the pending
// predictions of its events, the early labels of labels partition p and the ids joined or
// expired, label_join.hpp), its next offsets (events and labels topics) and, once a member
// has checkpointed it, its changelog partition p: at each checkpoint, before the producer
// flush, the changed entity states and label join records of p (the bytes RocksDB gets) and
// then one offset marker. A checkpoint's records end
// with its marker, so what follows a partition's last marker belongs to a checkpoint that
// never finished and a restore ignores it.
//
// On assignment, a partition whose local offset equals the group's committed one, and whose
// changelog ends with this member's marker or one at that offset (this member held it last),
// resumes from the local state. Otherwise its changelog is read: if the
// last marker is this instance's own, the local state is still the latest (the commit lagged
// behind a kill -9); if it is another member's, the partition's states are replaced by the
// changelog's up to that marker and consumption resumes at the marker's offsets, never
// elsewhere. Without a marker, as before: the local offset, else the group's. After each
// assignment the label join keeps only the records of the partitions held (the others'
// new holder took them from the changelog).

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "streamlearn/core/status.hpp"
#include "streamlearn/kafka/kafka.hpp"
#include "streamlearn/pipeline/config.hpp"

namespace streamlearn::state {
class StateStore;
}

namespace streamlearn::pipeline {

class Processor;
class PipelineProbe;
class StandbyReplicas;

// A marker's content: which instance wrote it, its checkpoint sequence, and the next
// offset of each input topic of the partition.
struct OffsetMarker {
  std::string instance;
  uint64_t sequence = 0;
  std::map<std::string, int64_t> next_offsets;  // topic -> next offset
};
// The marker's key: it starts with a NUL byte, which no entity key does (the decoder
// refuses control characters in entities), so compaction keeps the last marker of each
// partition beside the entities.
std::string_view OffsetMarkerKey();
std::string EncodeOffsetMarker(const OffsetMarker& marker);
Result<OffsetMarker> DecodeOffsetMarker(std::string_view value);

// A label join record's key on the changelog: a NUL byte (as the marker's: no entity starts
// with one), "label:", then the event id. The value is the record RocksDB's `pending` column
// family holds (its first byte says what it is); an empty value: the id is gone.
std::string LabelJoinKey(std::string_view id);
bool IsLabelJoinKey(std::string_view key);
std::string_view IdOfLabelJoinKey(std::string_view key);  // the key minus its prefix

// An offset marker computed at a checkpoint's cut, produced once the checkpoint is written.
struct PendingMarker {
  int32_t partition = -1;
  std::string value;
};

class PartitionStates {
 public:
  // `reader` are the properties of the short-lived consumer that reads a changelog.
  PartitionStates(const PipelineConfig& config, Processor& processor, state::StateStore& store, PipelineProbe* probe,
                  kafka::Properties reader);

  // Produces the entity states changed since the last checkpoint (before the checkpoint's
  // flush, which then covers them) and returns the marker of each changed partition, to be
  // produced by produce_markers once the checkpoint is written: a marker on the changelog
  // then always stands for a checkpoint that exists and whose predictions were acknowledged
  // (a kill -9 between the write and the marker costs a replay, never a lost event).
  Status produce_changes(kafka::Producer& producer, std::vector<PendingMarker>* markers);
  Status produce_markers(kafka::Producer& producer, const std::vector<PendingMarker>& markers);

  // Decides, per assigned partition, where it resumes (sets parts[i].offset) and restores
  // from the changelog what another member advanced. `progress` gets what /readyz shows.
  Status on_assign(kafka::Consumer& consumer, std::vector<kafka::PartitionOffset>& parts,
                   const std::function<void(const std::string& waiting_for)>& progress);
  // After the revoke hook's checkpoint: the partitions go. Their label join records are
  // produced no more, and dropped at the next assignment (an eager rebalance revokes all
  // and may assign the same ones back).
  void on_revoke(const std::vector<kafka::PartitionOffset>& revoked);

  // scale.standby_replicas: an assigned partition stops being tailed, and its restore starts
  // from the warm copy, reading only the changelog after it.
  void set_standby(StandbyReplicas* standby) { standby_ = standby; }

  const std::string& topic() const { return topic_; }
  const std::string& instance() const { return instance_; }

 private:
  struct Restored;
  Status decide(kafka::Consumer& consumer, std::vector<kafka::PartitionOffset>& parts,
                const std::function<void(const std::string&)>& progress);
  Status restore(int32_t partition, Restored& from, const std::function<void(const std::string&)>& progress);
  // Whether label join records are in the unit (labels.enabled, scale.changelog_labels).
  bool labels_in_unit() const;
  Status drop_labels_not_held();

  const PipelineConfig& config_;
  Processor& processor_;
  state::StateStore& store_;
  PipelineProbe* probe_;
  kafka::Properties reader_;
  StandbyReplicas* standby_ = nullptr;
  std::string topic_;
  std::string instance_;
  uint64_t sequence_ = 0;
  uint64_t produced_messages_ = 0;
  std::map<std::pair<std::string, int32_t>, int64_t> marked_;  // last marker's offsets
  std::set<std::pair<std::string, int32_t>> held_;  // partitions assigned and not revoked
  std::string bytes_;
  std::string key_;
};

// The changelog topic must have a partition for each input partition; a broker that
// auto-creates it with fewer is refused with a message naming scale.changelog_topic.
Status CheckChangelogTopic(const PipelineConfig& config, const kafka::Properties& properties,
                           kafka::Producer& producer);

// With labels.enabled: a labels topic with another partition count than the events topic is
// not co-partitioned, so with several instances a label can reach one that does not hold its
// prediction. Said once at start (a warning); nothing refused, one instance works as it is.
void WarnIfLabelsNotCopartitioned(const PipelineConfig& config, const kafka::Properties& properties);

}  // namespace streamlearn::pipeline
