#include "streamlearn/kafka/topic_reader.hpp"

#include <librdkafka/rdkafka.h>
#include <spdlog/spdlog.h>

#include <chrono>

#include "assigned_consumer.hpp"

namespace streamlearn::kafka {
namespace {

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Result<std::unique_ptr<TopicReader>> TopicReader::Create(const Properties& properties, std::string topic) {
  std::unique_ptr<TopicReader> reader(new TopicReader());
  reader->topic_ = std::move(topic);
  Properties props = properties;
  props.erase("group.id");  // "streamlearn-topic-reader", whatever the pipeline's group
  props["enable.auto.offset.store"] = "false";
  props["fetch.wait.max.ms"] = "100";
  auto consumer = NewAssignedConsumer(std::move(props), "-topic-reader", "topic reader");
  if (!consumer.ok()) return consumer.status();
  rd_kafka_t* rk = *consumer;
  reader->rk_ = rk;
  rd_kafka_poll_set_consumer(rk);
  reader->discover();
  return reader;
}

TopicReader::~TopicReader() {
  if (!rk_) return;
  rd_kafka_assign(rk_, nullptr);
  rd_kafka_consumer_close(rk_);
  rd_kafka_destroy(rk_);
}

void TopicReader::discover() {
  // Once a second while the topic is missing, then every 30 s for added partitions: the
  // metadata request waits (200 ms at most) on the caller's thread.
  const int64_t now = NowMs();
  if (now - last_discovery_ms_ < (assigned_ == 0 ? 1000 : 30000)) return;
  last_discovery_ms_ = now;
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk_, topic_.c_str(), nullptr);
  if (!rkt) return;
  const rd_kafka_metadata_t* md = nullptr;
  const rd_kafka_resp_err_t err = rd_kafka_metadata(rk_, 0, rkt, &md, 200);
  size_t count = 0;
  if (!err && md && md->topic_cnt == 1 && md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    count = static_cast<size_t>(md->topics[0].partition_cnt);
  }
  if (md) rd_kafka_metadata_destroy(md);
  rd_kafka_topic_destroy(rkt);
  if (count <= assigned_) return;
  // incremental_assign keeps the partitions already read where they are.
  rd_kafka_topic_partition_list_t* parts = rd_kafka_topic_partition_list_new(static_cast<int>(count - assigned_));
  for (size_t p = assigned_; p < count; ++p) {
    rd_kafka_topic_partition_list_add(parts, topic_.c_str(), static_cast<int32_t>(p))->offset = RD_KAFKA_OFFSET_BEGINNING;
  }
  rd_kafka_error_t* error = rd_kafka_incremental_assign(rk_, parts);
  rd_kafka_topic_partition_list_destroy(parts);
  if (error) {
    spdlog::warn("topic reader {}: assigning partitions: {}", topic_, rd_kafka_error_string(error));
    rd_kafka_error_destroy(error);
    return;
  }
  spdlog::debug("topic reader {}: reading {} partition(s)", topic_, count);
  assigned_ = count;
}

Status TopicReader::read_available(std::vector<OwnedRecord>* out, size_t max_records) {
  discover();
  for (size_t n = 0; n < max_records; ++n) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk_, 0);
    if (!m) break;
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      OwnedRecord r;
      r.partition = m->partition;
      r.offset = m->offset;
      if (m->key) r.key.assign(static_cast<const char*>(m->key), m->key_len);
      if (m->payload) r.value.assign(static_cast<const char*>(m->payload), m->len);
      out->push_back(std::move(r));
    } else if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      spdlog::debug("topic reader {}: {}", topic_, rd_kafka_message_errstr(m));
    }
    rd_kafka_message_destroy(m);
  }
  return Status::Ok();
}

}  // namespace streamlearn::kafka
