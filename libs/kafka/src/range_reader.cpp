#include "streamlearn/kafka/range_reader.hpp"

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <chrono>
#include <map>

#include "assigned_consumer.hpp"

namespace streamlearn::kafka {

Status ReadRanges(const Properties& properties, const std::string& topic, std::vector<ReadRange>& ranges,
                  int timeout_ms, const std::function<void(const MessageView& message)>& visit) {
  if (ranges.empty()) return Status::Ok();
  Properties props = properties;
  props["enable.partition.eof"] = "true";
  auto consumer = NewAssignedConsumer(std::move(props), ".reader", "reader of " + topic);
  if (!consumer.ok()) return consumer.status();
  rd_kafka_t* rk = *consumer;
  struct Destroy {
    rd_kafka_t* rk;
    ~Destroy() {
      rd_kafka_consumer_close(rk);
      rd_kafka_destroy(rk);
    }
  } destroy{rk};
  std::map<int32_t, std::pair<int64_t, int64_t>> reading;  // partition -> (next, end)
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(static_cast<int>(ranges.size()));
  for (ReadRange& r : ranges) {
    int64_t low = 0, high = 0;
    const rd_kafka_resp_err_t err =
        rd_kafka_query_watermark_offsets(rk, topic.c_str(), r.partition, &low, &high, timeout_ms);
    if (err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART || err == RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION ||
        err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC) {
      low = high = 0;  // never written
    } else if (err) {
      rd_kafka_topic_partition_list_destroy(list);
      return Status::Unavailable("watermarks of " + topic + "-" + std::to_string(r.partition) + ": " +
                                 rd_kafka_err2str(err));
    }
    r.end = high;
    const int64_t first = r.from < 0 && r.last > 0 ? std::max(high - r.last, low) : r.from;
    if (first < 0 || first >= high) continue;
    const int64_t from = std::max(first, low);
    reading[r.partition] = {from, high};
    rd_kafka_topic_partition_list_add(list, topic.c_str(), r.partition)->offset = from;
  }
  rd_kafka_resp_err_t err = reading.empty() ? RD_KAFKA_RESP_ERR_NO_ERROR : rd_kafka_assign(rk, list);
  rd_kafka_topic_partition_list_destroy(list);
  if (err) return Status::Unavailable("assigning " + topic + ": " + rd_kafka_err2str(err));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (!reading.empty()) {
    if (std::chrono::steady_clock::now() > deadline) {
      const auto& [partition, at] = *reading.begin();
      return Status::Unavailable("reading " + topic + "-" + std::to_string(partition) + " timed out at offset " +
                                 std::to_string(at.first) + " of " + std::to_string(at.second));
    }
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk, 100);
    if (!m) continue;
    struct Free {
      rd_kafka_message_t* m;
      ~Free() { rd_kafka_message_destroy(m); }
    } free_message{m};
    auto it = reading.find(m->partition);
    if (m->err) {
      if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        if (it != reading.end()) reading.erase(it);  // fewer than the watermark promised
        continue;
      }
      if (m->err == RD_KAFKA_RESP_ERR__TRANSPORT || m->err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) continue;
      return Status::Unavailable("reading " + topic + ": " + rd_kafka_message_errstr(m));
    }
    if (it == reading.end()) continue;
    MessageView view;
    view.topic = topic;
    view.partition = m->partition;
    view.offset = m->offset;
    view.key = {static_cast<const char*>(m->key), m->key ? m->key_len : 0};
    view.payload = {static_cast<const char*>(m->payload), m->payload ? m->len : 0};
    visit(view);
    it->second.first = m->offset + 1;
    if (it->second.first >= it->second.second) reading.erase(it);
  }
  return Status::Ok();
}

}  // namespace streamlearn::kafka
