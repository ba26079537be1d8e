#pragma once
// Where the standby copies go (scale.standby_replicas = N): exactly N copies of each
// partition, never on the instance that holds it, as Kafka Streams' assignor places them.
// A librdkafka member cannot read the group's assignment, so each instance publishes its own
// on a members topic (MemberRecord, keyed by instance id, every second and at each change;
// a tombstone when it stops) and every instance computes the same placement from what it
// read: for partition p, the live members that do not hold p, ranked by a rendezvous hash of
// (p, instance id); the first N keep a copy. A member whose last record is older than its
// TTL counts as gone (a kill -9 publishes no tombstone).
//
// StandbyPlacement is the bookkeeping alone, fed records, with no Kafka.

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "streamlearn/core/status.hpp"

namespace streamlearn::pipeline {

// One instance's record on the members topic (the value; the key is the instance id).
struct MemberRecord {
  int64_t at_ms = 0;   // the publisher's wall clock when it wrote the record
  int64_t ttl_ms = 0;  // after at_ms + ttl_ms without a newer record, the member is gone
  std::set<int32_t> held;  // partitions it processes
  std::set<int32_t> warm;  // partitions it keeps a copy of (for operators and tests; not read back)
};
// Text, so an operator can read the topic with kcat: "standby-member 1 <at_ms> <ttl_ms>
// held=<p,p,...> warm=<p,...>".
std::string EncodeMemberRecord(const MemberRecord& record);
Result<MemberRecord> DecodeMemberRecord(std::string_view value);

// The rendezvous score of (partition, instance): the member with the highest keeps the copy.
uint64_t RendezvousScore(int32_t partition, std::string_view instance);

class StandbyPlacement {
 public:
  StandbyPlacement(std::string self, int replicas) : self_(std::move(self)), replicas_(replicas) {}

  // A record read from the members topic; an empty value is a tombstone (the member left).
  // Records of this instance are ignored: it knows its own assignment.
  void receive(std::string_view instance, std::string_view value);

  // The partitions (of `partitions`) this instance keeps a copy of at `now_ms`, given the
  // ones it holds. `short_of`: partitions with fewer than N candidates, and how many copies
  // they get (every live non-holder keeps one).
  std::set<int32_t> warm(const std::set<int32_t>& held_here, int32_t partitions, int64_t now_ms,
                         std::map<int32_t, int>* short_of = nullptr) const;
  // Live members at `now_ms`, this instance included.
  std::set<std::string> live(int64_t now_ms) const;

 private:
  std::string self_;
  int replicas_;
  std::map<std::string, MemberRecord, std::less<>> members_;
};

}  // namespace streamlearn::pipeline
