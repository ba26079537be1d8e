#include "streamlearn/kafka/partition_tailer.hpp"

#include <librdkafka/rdkafka.h>
#include <spdlog/spdlog.h>

#include "assigned_consumer.hpp"

namespace streamlearn::kafka {

Result<std::unique_ptr<PartitionTailer>> PartitionTailer::Create(const Properties& properties, std::string topic) {
  std::unique_ptr<PartitionTailer> tailer(new PartitionTailer());
  tailer->topic_ = std::move(topic);
  Properties props = properties;
  props["enable.auto.offset.store"] = "false";
  props["enable.partition.eof"] = "false";
  // An offset beyond the end (a recreated topic) restarts at the beginning, where the caller
  // notices it by the offsets it gets.
  props["auto.offset.reset"] = "earliest";
  props["fetch.wait.max.ms"] = "100";
  auto consumer = NewAssignedConsumer(std::move(props), ".standby", "partition tailer");
  if (!consumer.ok()) return consumer.status();
  rd_kafka_t* rk = *consumer;
  tailer->rk_ = rk;
  rd_kafka_poll_set_consumer(rk);
  return tailer;
}

PartitionTailer::~PartitionTailer() {
  if (!rk_) return;
  rd_kafka_assign(rk_, nullptr);
  rd_kafka_consumer_close(rk_);
  rd_kafka_destroy(rk_);
}

Status PartitionTailer::assign(const std::map<int32_t, int64_t>& next_offsets) {
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(static_cast<int>(next_offsets.size()));
  for (const auto& [partition, next] : next_offsets) {
    rd_kafka_topic_partition_list_add(list, topic_.c_str(), partition)->offset =
        next >= 0 ? next : RD_KAFKA_OFFSET_BEGINNING;
  }
  const rd_kafka_resp_err_t err = rd_kafka_assign(rk_, list);
  rd_kafka_topic_partition_list_destroy(list);
  if (err) return Status::Unavailable("assigning " + topic_ + ": " + rd_kafka_err2str(err));
  return Status::Ok();
}

Result<size_t> PartitionTailer::poll(int timeout_ms, size_t max_records,
                                     const std::function<void(const MessageView&)>& visit) {
  size_t visited = 0;
  for (int wait = timeout_ms; visited < max_records; wait = 0) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk_, wait);
    if (!m) break;
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      MessageView view;
      view.topic = topic_;
      view.partition = m->partition;
      view.offset = m->offset;
      view.key = {static_cast<const char*>(m->key), m->key_len};
      view.payload = {static_cast<const char*>(m->payload), m->len};
      visit(view);
      visited++;
    } else {
      spdlog::debug("partition tailer {}: {}", topic_, rd_kafka_message_errstr(m));
    }
    rd_kafka_message_destroy(m);
  }
  return visited;
}

std::optional<int64_t> PartitionTailer::end_offset(int32_t partition) const {
  int64_t low = 0, high = 0;
  if (rd_kafka_get_watermark_offsets(rk_, topic_.c_str(), partition, &low, &high) != RD_KAFKA_RESP_ERR_NO_ERROR ||
      high < 0) {
    return std::nullopt;
  }
  return high;
}

}  // namespace streamlearn::kafka
