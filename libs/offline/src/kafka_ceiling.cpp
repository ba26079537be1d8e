#include "kafka_ceiling.hpp"

#include <fmt/format.h>
#include <librdkafka/rdkafka.h>

#include <chrono>
#include <memory>
#include <vector>

namespace streamlearn::pipeline {
namespace {

using Clock = std::chrono::steady_clock;

struct ClientDeleter {
  void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
};
using Client = std::unique_ptr<rd_kafka_t, ClientDeleter>;

Result<Client> NewClient(rd_kafka_type_t type, const kafka::Properties& properties,
                         void (*on_delivery)(rd_kafka_t*, const rd_kafka_message_t*, void*) = nullptr,
                         void* opaque = nullptr) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char errstr[512];
  for (const auto& [key, value] : properties) {
    if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), errstr, sizeof errstr) != RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      return Status::Invalid("kafka property '" + key + "': " + errstr);
    }
  }
  if (on_delivery) rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
  rd_kafka_conf_set_opaque(conf, opaque);
  rd_kafka_t* rk = rd_kafka_new(type, conf, errstr, sizeof errstr);
  if (!rk) {
    rd_kafka_conf_destroy(conf);
    return Status::Internal(std::string("kafka client: ") + errstr);
  }
  return Client(rk);
}

struct Deliveries {
  uint64_t failed = 0;
  static void OnDelivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
    if (m->err) static_cast<Deliveries*>(opaque)->failed++;
  }
};

}  // namespace

Result<double> KafkaCeiling(const kafka::Properties& consumer_props, const kafka::Properties& producer_props,
                            const std::string& in, const std::string& out, uint64_t events) {
  Deliveries deliveries;
  auto producer = NewClient(RD_KAFKA_PRODUCER, producer_props, &Deliveries::OnDelivery, &deliveries);
  if (!producer.ok()) return producer.status();
  rd_kafka_t* prk = producer->get();
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(prk, out.c_str(), nullptr);
  const rd_kafka_metadata_t* md = nullptr;
  if (rd_kafka_metadata(prk, 0, rkt, &md, 10000) == RD_KAFKA_RESP_ERR_NO_ERROR && md) rd_kafka_metadata_destroy(md);

  auto consumer = NewClient(RD_KAFKA_CONSUMER, consumer_props);
  if (!consumer.ok()) {
    rd_kafka_topic_destroy(rkt);
    return consumer.status();
  }
  rd_kafka_t* crk = consumer->get();
  rd_kafka_poll_set_consumer(crk);
  rd_kafka_topic_partition_list_t* topics = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(topics, in.c_str(), RD_KAFKA_PARTITION_UA);
  rd_kafka_subscribe(crk, topics);
  rd_kafka_topic_partition_list_destroy(topics);
  rd_kafka_queue_t* queue = rd_kafka_queue_get_consumer(crk);

  std::vector<rd_kafka_message_t*> batch(1000);
  uint64_t seen = 0;
  Clock::time_point first{};
  const auto deadline = Clock::now() + std::chrono::minutes(5);
  while (seen < events && Clock::now() < deadline) {
    // Given time, consume_batch_queue waits for a full batch: wait for one message, then
    // take what is there.
    ssize_t n = rd_kafka_consume_batch_queue(queue, 100, batch.data(), 1);
    if (n == 1) {
      const ssize_t more = rd_kafka_consume_batch_queue(queue, 0, batch.data() + 1, batch.size() - 1);
      if (more > 0) n += more;
    }
    for (ssize_t i = 0; i < n; ++i) {
      rd_kafka_message_t* m = batch[static_cast<size_t>(i)];
      if (!m->err) {
        if (first == Clock::time_point{}) first = Clock::now();
        while (rd_kafka_produce(rkt, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY, m->payload, m->len, m->key,
                                m->key_len, nullptr) != 0 &&
               rd_kafka_last_error() == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
          rd_kafka_poll(prk, 10);
        }
        seen++;
      }
      rd_kafka_message_destroy(m);
    }
    rd_kafka_poll(prk, 0);
  }
  const rd_kafka_resp_err_t flushed = rd_kafka_flush(prk, 60000);
  const auto end = Clock::now();
  rd_kafka_queue_destroy(queue);
  rd_kafka_consumer_close(crk);
  rd_kafka_topic_destroy(rkt);
  if (seen < events) return Status::Internal(fmt::format("ceiling pass-through read only {} of {} messages", seen, events));
  if (flushed || deliveries.failed) {
    return Status::Internal(fmt::format("ceiling pass-through: {} deliveries failed ({})", deliveries.failed,
                                        rd_kafka_err2str(flushed)));
  }
  return static_cast<double>(seen) / std::chrono::duration<double>(end - first).count();
}

Status CheckNothingEvicted(const std::string& bootstrap, const std::string& topic, int partitions,
                           uint64_t expected) {
  auto client = NewClient(RD_KAFKA_PRODUCER, {{"bootstrap.servers", bootstrap}});
  if (!client.ok()) return client.status();
  uint64_t kept = 0;
  int64_t dropped = 0;
  for (int p = 0; p < partitions; ++p) {
    int64_t low = -1, high = -1;
    const rd_kafka_resp_err_t err =
        rd_kafka_query_watermark_offsets(client->get(), topic.c_str(), p, &low, &high, 10000);
    if (err) return Status::Unavailable(fmt::format("watermarks of {}-{}: {}", topic, p, rd_kafka_err2str(err)));
    kept += static_cast<uint64_t>(high - low);
    dropped += low;
  }
  if (dropped > 0 || kept != expected) {
    return Status::Invalid(fmt::format(
        "the embedded broker kept {} of {} messages of {} ({} dropped: it keeps 5 MiB per partition); "
        "use fewer --events or more --partitions",
        kept, expected, topic, dropped));
  }
  return Status::Ok();
}

}  // namespace streamlearn::pipeline
