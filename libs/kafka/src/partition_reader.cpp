// What moving a partition's state between members needs from Kafka: the group's committed
// offsets, a synchronous commit before a hand-over, and reading a changelog partition whole.
#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <chrono>
#include <string>

#include "assigned_consumer.hpp"
#include "streamlearn/kafka/kafka.hpp"
#include "streamlearn/kafka/partition_tailer.hpp"

namespace streamlearn::kafka {
namespace {

rd_kafka_topic_partition_list_t* ToList(const std::vector<PartitionOffset>& parts) {
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(static_cast<int>(parts.size()));
  for (const auto& p : parts) rd_kafka_topic_partition_list_add(list, p.topic.c_str(), p.partition)->offset = p.offset;
  return list;
}

}  // namespace

Result<rd_kafka_t*> NewAssignedConsumer(Properties props, const std::string& suffix, const std::string& what) {
  props["group.id"] = (props.count("group.id") ? props.at("group.id") : std::string("streamlearn")) + suffix;
  props.erase("partition.assignment.strategy");
  props["enable.auto.commit"] = "false";
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char errstr[512];
  for (const auto& [key, value] : props) {
    if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), errstr, sizeof errstr) != RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      return Status::Invalid("kafka property '" + key + "': " + errstr);
    }
  }
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr);
  if (!rk) {
    rd_kafka_conf_destroy(conf);
    return Status::Invalid(what + ": " + errstr);
  }
  return rk;
}

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
  return ReadPartitionFrom(properties, topic, partition, 0, timeout_ms, visit);
}

Status ReadPartitionFrom(const Properties& properties, const std::string& topic, int32_t partition, int64_t from,
                         int timeout_ms, const std::function<void(const MessageView& message, int64_t end)>& visit) {
  Properties props = properties;
  props["enable.partition.eof"] = "true";
  auto consumer = NewAssignedConsumer(std::move(props), ".restore", "changelog reader");
  if (!consumer.ok()) return consumer.status();
  rd_kafka_t* rk = *consumer;
  struct Destroy {
    rd_kafka_t* rk;
    ~Destroy() {
      rd_kafka_consumer_close(rk);
      rd_kafka_destroy(rk);
    }
  } destroy{rk};
  int64_t low = 0, high = 0;
  rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(rk, topic.c_str(), partition, &low, &high, timeout_ms);
  if (err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART || err == RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION ||
      err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC) {
    return Status::Ok();  // never written: nothing to restore
  }
  if (err) {
    return Status::Unavailable("watermarks of " + topic + "-" + std::to_string(partition) + ": " + rd_kafka_err2str(err));
  }
  if (from > high) {
    return Status::FailedPrecondition("offset " + std::to_string(from) + " is beyond the end of " + topic + "-" +
                                      std::to_string(partition) + " (" + std::to_string(high) + ")");
  }
  const int64_t start = std::max(low, from);
  if (high <= start) return Status::Ok();
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(list, topic.c_str(), partition)->offset = start;
  err = rd_kafka_assign(rk, list);
  rd_kafka_topic_partition_list_destroy(list);
  if (err) return Status::Unavailable(std::string("assigning the changelog: ") + rd_kafka_err2str(err));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  int64_t next = start;
  while (next < high) {
    if (std::chrono::steady_clock::now() > deadline) {
      return Status::Unavailable("reading " + topic + "-" + std::to_string(partition) + " timed out at offset " +
                                 std::to_string(next) + " of " + std::to_string(high));
    }
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk, 100);
    if (!m) continue;
    if (m->err) {
      const rd_kafka_resp_err_t code = m->err;
      const bool eof = code == RD_KAFKA_RESP_ERR__PARTITION_EOF;
      const std::string why = rd_kafka_message_errstr(m);
      rd_kafka_message_destroy(m);
      if (eof) break;  // fewer than the watermark promised (records removed meanwhile)
      if (code == RD_KAFKA_RESP_ERR__TRANSPORT || code == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) continue;
      return Status::Unavailable("reading " + topic + "-" + std::to_string(partition) + ": " + why);
    }
    MessageView view;
    view.topic = topic;
    view.partition = m->partition;
    view.offset = m->offset;
    view.key = {static_cast<const char*>(m->key), m->key_len};
    view.payload = {static_cast<const char*>(m->payload), m->len};
    visit(view, high);
    next = m->offset + 1;
    rd_kafka_message_destroy(m);
  }
  return Status::Ok();
}

}  // namespace streamlearn::kafka
