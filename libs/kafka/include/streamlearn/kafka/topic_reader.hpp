#pragma once
// Reads every partition of one topic from its beginning, with no consumer group: each
// instance sees every record (the model-sync topic, where every instance reads what all its
// peers publish). Partitions are found by metadata and assigned directly; a topic that does
// not exist yet is looked for again once a second, added partitions every 30 s. One thread, like kafka.hpp.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "streamlearn/core/status.hpp"
#include "streamlearn/kafka/kafka.hpp"

namespace streamlearn::kafka {

struct OwnedRecord {
  int32_t partition = -1;
  int64_t offset = -1;
  std::string key;
  std::string value;
};

class TopicReader {
 public:
  // `properties`: the client's settings (bootstrap.servers and any security settings);
  // group and commit settings are set here.
  static Result<std::unique_ptr<TopicReader>> Create(const Properties& properties, std::string topic);
  ~TopicReader();
  TopicReader(const TopicReader&) = delete;
  TopicReader& operator=(const TopicReader&) = delete;

  // Appends what has arrived (never waits), at most `max_records`.
  Status read_available(std::vector<OwnedRecord>* out, size_t max_records = 100000);
  size_t partitions() const { return assigned_; }

 private:
  TopicReader() = default;
  void discover();
  rd_kafka_t* rk_ = nullptr;
  std::string topic_;
  size_t assigned_ = 0;
  int64_t last_discovery_ms_ = -1000000;
};

}  // namespace streamlearn::kafka
