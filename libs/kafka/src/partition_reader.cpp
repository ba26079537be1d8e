// What moving a partition's state between members needs from Kafka: the group's committed
// offsets, a synchronous commit before a hand-over, and reading a changelog partition whole.
#include <librdkafka/rdkafka.h>

#include <string>

#include "streamlearn/kafka/kafka.hpp"
#include "streamlearn/kafka/range_reader.hpp"

namespace streamlearn::kafka {
namespace {

rd_kafka_topic_partition_list_t* ToList(const std::vector<PartitionOffset>& parts) {
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(static_cast<int>(parts.size()));
  for (const auto& p : parts) rd_kafka_topic_partition_list_add(list, p.topic.c_str(), p.partition)->offset = p.offset;
  return list;
}

}  // namespace

Status Consumer::commit_sync(const std::vector<PartitionOffset>& offsets) {
  if (offsets.empty()) return Status::Ok();
  rd_kafka_topic_partition_list_t* list = ToList(offsets);
  rd_kafka_resp_err_t err = rd_kafka_commit(rk_, list, 0);
  rd_kafka_topic_partition_list_destroy(list);
  if (err && err != RD_KAFKA_RESP_ERR__NO_OFFSET) {
    return Status::Unavailable(std::string("commit: ") + rd_kafka_err2str(err));
  }
  return Status::Ok();
}

Status Consumer::committed(std::vector<PartitionOffset>& parts, int timeout_ms) {
  if (parts.empty()) return Status::Ok();
  rd_kafka_topic_partition_list_t* list = ToList(parts);
  rd_kafka_resp_err_t err = rd_kafka_committed(rk_, list, timeout_ms);
  if (!err) {
    for (int i = 0; i < list->cnt && i < static_cast<int>(parts.size()); ++i) {
      const auto& e = list->elems[i];
      parts[i].offset = e.err || e.offset < 0 ? -1 : e.offset;
    }
  }
  rd_kafka_topic_partition_list_destroy(list);
  if (err) return Status::Unavailable(std::string("committed offsets: ") + rd_kafka_err2str(err));
  return Status::Ok();
}

Status ReadPartition(const Properties& properties, const std::string& topic, int32_t partition, int timeout_ms,
                     const std::function<void(const MessageView& message, int64_t end)>& visit) {
  std::vector<ReadRange> whole = {{partition, 0, -1}};  // from the low watermark
  return ReadRanges(properties, topic, whole, timeout_ms,
                    [&](const MessageView& message) { visit(message, whole.front().end); });
}

}  // namespace streamlearn::kafka
