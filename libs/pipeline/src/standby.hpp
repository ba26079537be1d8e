#pragma once
// Standby replicas (scale.standby_replicas, docs/architecture.md "Scaling out"): warm copies
// of the partitions this instance does not hold, kept by tailing their changelog partitions,
// so that when one of them is assigned here its restore reads only the changelog records
// after the copy's position instead of the whole partition (Kafka Streams' standby tasks).
//
// Which copies: exactly N of each partition over the group, never on its holder, placed by
// StandbyPlacement (standby_placement.hpp) from the assignments that every instance
// publishes on the members topic (MembersTopic); fewer when fewer than N live members do not
// hold it (logged). A copy no longer placed here stays on disk, untailed: if the partition
// comes back here (as a copy or assigned), it is read on from that copy's position.
//
// The copies live in a RocksDB of their own (<state.dir>/standby): keys are the partition
// (4 bytes, big-endian) then the changelog's key (an entity, or a label join record's); the partition's last offset marker is stored under
// the marker's key and its changelog position (the offset after that marker) as the
// store's offset of (changelog topic, partition). They never touch the active state: the
// entity cache and the instance's StateStore see a copy only when a restore adopts it. Only
// records up to a marker are applied (as a restore does); what follows the last marker
// waits in memory until its marker comes.
//
// A background thread tails and applies; the processing thread calls hold() and copy_of()
// on assignment and release() on revocation. A mutex orders them: after hold(p) returns, the
// thread writes nothing more of p.

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include "partition_state.hpp"
#include "standby_placement.hpp"
#include "streamlearn/core/status.hpp"
#include "streamlearn/kafka/partition_tailer.hpp"
#include "streamlearn/kafka/topic_reader.hpp"
#include "streamlearn/pipeline/config.hpp"

namespace prometheus {
class Counter;
class Gauge;
template <typename T>
class Family;
}  // namespace prometheus

namespace streamlearn::state {
class StateStore;
}

namespace streamlearn::pipeline {

class PipelineProbe;

// A partition's state as the changelog had it at a marker.
struct WarmCopy {
  std::map<std::string, std::string, std::less<>> entities;
  std::optional<OffsetMarker> marker;
  int64_t position = 0;  // changelog offset after the marker: a restore reads from here
};

class StandbyReplicas {
 public:
  // Opens <state.dir>/standby and starts publishing this instance's assignment and tailing
  // the changelog partitions placed here. `reader`: the consumers' properties; `writer`: the
  // members topic's producer's.
  static Result<std::unique_ptr<StandbyReplicas>> Start(const PipelineConfig& config, const kafka::Properties& reader,
                                                        const kafka::Properties& writer, PipelineProbe* probe);
  ~StandbyReplicas();  // stops the thread, then publishes that this instance left
  StandbyReplicas(const StandbyReplicas&) = delete;
  StandbyReplicas& operator=(const StandbyReplicas&) = delete;

  // Partition p is active here now: no more of it is tailed or written.
  void hold(int32_t partition);
  // The copy of a held partition (position 0 and no marker when there is none).
  Result<WarmCopy> copy_of(int32_t partition);
  // Partition p went to another member: tailed again, from its copy's position.
  void release(int32_t partition);

 private:
  StandbyReplicas() = default;
  void run();
  Status step();
  Status publish(int64_t now_ms);  // this instance's member record, when due
  Status drop(int32_t partition, int64_t end);

  std::string topic_;
  std::string members_topic_;
  std::string instance_;
  int replicas_ = 1;
  kafka::Properties reader_;
  std::unique_ptr<kafka::Producer> members_out_;        // the thread's only, then the destructor's
  std::unique_ptr<kafka::TopicReader> members_in_;      // the thread's only
  std::optional<StandbyPlacement> placement_;          // the thread's only
  std::set<int32_t> warm_;                              // placed here at the last assignment
  std::map<int32_t, int> short_of_;                     // partitions short of N copies, as last logged
  std::string published_;                               // the last record published
  int64_t published_ms_ = 0;
  bool publish_failed_ = false;                         // logged once until it works again
  std::unique_ptr<state::StateStore> store_;
  std::unique_ptr<kafka::PartitionTailer> tailer_;  // the thread's only
  std::mutex mu_;  // held_, store_ writes and reads of a partition's copy
  std::set<int32_t> held_;
  uint64_t held_version_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  // The thread's own: partitions tailed, their next offset, and records after their last marker.
  struct Tail {
    int64_t next = 0;
    std::map<std::string, std::string, std::less<>> unfinished;
  };
  std::map<int32_t, Tail> tails_;
  uint64_t assigned_version_ = ~uint64_t{0};
  int partitions_ = 0;
  prometheus::Gauge* partitions_gauge_ = nullptr;
  prometheus::Gauge* lag_gauge_ = nullptr;
  prometheus::Counter* records_ = nullptr;
  prometheus::Counter* bytes_ = nullptr;
  prometheus::Family<prometheus::Gauge>* copy_family_ = nullptr;
  std::map<int32_t, std::pair<prometheus::Gauge*, prometheus::Gauge*>> copy_gauges_;  // active, standby
};

// The members topic: "<kafka.group_id>.standby-members" (standby_placement.hpp).
std::string MembersTopic(const PipelineConfig& config);
// How often an instance publishes its member record, and how long one stays valid.
inline constexpr int64_t kMemberHeartbeatMs = 1000;
inline constexpr int64_t kMemberTtlMs = 6000;

// A restore's starting point: the warm copy of `partition` (held) in `entities` and
// `marker`; returns the changelog offset the restore reads from (0 without a copy).
int64_t AdoptWarmCopy(StandbyReplicas& standby, int32_t partition,
                      std::map<std::string, std::string, std::less<>>& entities, std::optional<OffsetMarker>& marker);

}  // namespace streamlearn::pipeline
