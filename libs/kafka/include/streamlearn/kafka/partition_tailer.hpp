#pragma once
// Follows chosen partitions of one topic from chosen offsets, with no consumer group: a
// standby replica tails the changelog partitions of the state it keeps warm. Unlike
// TopicReader (every partition from its beginning), the caller decides which partitions and
// where each starts, and may change that at any time. One thread, like kafka.hpp.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "streamlearn/core/status.hpp"
#include "streamlearn/kafka/kafka.hpp"

namespace streamlearn::kafka {

class PartitionTailer {
 public:
  // Where a partition starts when no offset of it is known: its first record.
  static constexpr int64_t kBeginning = -2;
  // `properties`: the client's settings (bootstrap.servers, security); group and commit
  // settings are set here.
  static Result<std::unique_ptr<PartitionTailer>> Create(const Properties& properties, std::string topic);
  ~PartitionTailer();
  PartitionTailer(const PartitionTailer&) = delete;
  PartitionTailer& operator=(const PartitionTailer&) = delete;

  // Replaces what is followed: partition -> next offset to read (or kBeginning).
  Status assign(const std::map<int32_t, int64_t>& next_offsets);
  // Visits up to `max_records` records in each partition's offset order, waiting up to
  // `timeout_ms` for the first one; returns how many it visited.
  Result<size_t> poll(int timeout_ms, size_t max_records, const std::function<void(const MessageView&)>& visit);
  // The partition's end offset as last fetched (nullopt before the first fetch answered).
  std::optional<int64_t> end_offset(int32_t partition) const;
  const std::string& topic() const { return topic_; }

 private:
  PartitionTailer() = default;
  rd_kafka_t* rk_ = nullptr;
  std::string topic_;
};

// Reads one partition from offset `from` (or its beginning, if that is later) to its end
// (the high watermark when called), with a short-lived consumer in no group: a restore that
// has a warm copy up to `from` and needs only what follows. As ReadPartition otherwise.
Status ReadPartitionFrom(const Properties& properties, const std::string& topic, int32_t partition, int64_t from,
                         int timeout_ms, const std::function<void(const MessageView& message, int64_t end)>& visit);

}  // namespace streamlearn::kafka
