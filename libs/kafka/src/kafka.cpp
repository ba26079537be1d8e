#include "streamlearn/kafka/kafka.hpp"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <string_view>

namespace streamlearn::kafka {
namespace {

// librdkafka's CONFWARN for a property of the other kind of client ("Configuration property
// fetch.wait.max.ms is a consumer property and will be ignored by this producer instance").
bool IsOtherClientsProperty(std::string_view message) {
  return message.find("is a consumer property and will be ignored by this producer instance") != std::string_view::npos ||
         message.find("is a producer property and will be ignored by this consumer instance") != std::string_view::npos;
}

void LogFromLibrdkafka(const rd_kafka_t* rk, int level, const char* facility, const char* message) {
  // syslog levels: 0-3 error, 4 warning, 5-6 info, 7 debug
  auto lvl = level <= 3 ? spdlog::level::err
             : level == 4 ? spdlog::level::warn
             : level <= 6 ? spdlog::level::info
                          : spdlog::level::debug;
  // A failed connection ("FAIL") is also reported through the error callback, where an
  // outage is logged once by its owner: here it would be one line per reconnect attempt.
  if (std::strcmp(facility, "FAIL") == 0) lvl = spdlog::level::debug;
  // kafka.properties goes to every client the service makes, consumers and producers alike,
  // so a consumer-only property is ignored by each producer (and the reverse) by design; the
  // warning librdkafka prints for it, once per client, is noise. Other CONFWARNs stay warnings.
  if (std::strcmp(facility, "CONFWARN") == 0 && IsOtherClientsProperty(message)) lvl = spdlog::level::debug;
  spdlog::log(lvl, "kafka {} {}: {}", rd_kafka_name(rk), facility, message);
}

// Connection-level errors librdkafka retries by itself; with a BrokerHealth they are
// reported there (and the outage is logged once by its owner) instead of per retry.
bool IsConnectivityError(int err) {
  return err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN || err == RD_KAFKA_RESP_ERR__TRANSPORT ||
         err == RD_KAFKA_RESP_ERR__RESOLVE;
}

// The broker refused who we are or what we may do: retrying will not help until the
// configuration (credentials, mechanism, ACLs) changes.
bool IsAuthError(int err) {
  switch (err) {
    case RD_KAFKA_RESP_ERR__AUTHENTICATION:
    case RD_KAFKA_RESP_ERR__SSL:
    case RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED:
    case RD_KAFKA_RESP_ERR_UNSUPPORTED_SASL_MECHANISM:
    case RD_KAFKA_RESP_ERR_ILLEGAL_SASL_STATE:
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_DELEGATION_TOKEN_AUTH_DISABLED:
    case RD_KAFKA_RESP_ERR_DELEGATION_TOKEN_AUTHORIZATION_FAILED:
      return true;
    default:
      return false;
  }
}

void ReportError(BrokerHealth* health, rd_kafka_t* rk, int err, const char* reason) {
  if (health && IsAuthError(err)) {
    health->report_auth_failure(std::string(reason) + " (" +
                                rd_kafka_err2name(static_cast<rd_kafka_resp_err_t>(err)) + ")");
    spdlog::debug("kafka {}: {} ({})", rd_kafka_name(rk), reason,
                  rd_kafka_err2name(static_cast<rd_kafka_resp_err_t>(err)));
    return;
  }
  if (health && IsConnectivityError(err)) {
    if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) {
      health->report_all_down(reason);
    } else {
      health->report_transport_error(reason);
    }
    spdlog::debug("kafka {}: {} ({})", rd_kafka_name(rk), reason,
                  rd_kafka_err2name(static_cast<rd_kafka_resp_err_t>(err)));
    return;
  }
  // Broker transport errors are retried by librdkafka itself: worth a warning, not a stop.
  spdlog::warn("kafka {}: {} ({})", rd_kafka_name(rk), reason,
               rd_kafka_err2name(static_cast<rd_kafka_resp_err_t>(err)));
}

void ErrorFromLibrdkafka(rd_kafka_t* rk, int err, const char* reason, void*) {
  ReportError(nullptr, rk, err, reason);
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

Result<rd_kafka_conf_t*> MakeConf(const Properties& properties, void* opaque) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char errstr[512];
  for (const auto& [key, value] : properties) {
    if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), errstr, sizeof errstr) !=
        RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      return Status::Invalid("kafka property '" + key + "': " + errstr);
    }
  }
  rd_kafka_conf_set_log_cb(conf, LogFromLibrdkafka);
  rd_kafka_conf_set_error_cb(conf, ErrorFromLibrdkafka);
  rd_kafka_conf_set_opaque(conf, opaque);
  return conf;
}

// rd_kafka_new takes ownership of `conf` only on success; on failure it is destroyed here.
Result<rd_kafka_t*> NewClient(rd_kafka_type_t type, rd_kafka_conf_t* conf, const char* what) {
  char errstr[512];
  rd_kafka_t* rk = rd_kafka_new(type, conf, errstr, sizeof errstr);
  if (!rk) {
    rd_kafka_conf_destroy(conf);
    return Status::Invalid(std::string(what) + ": " + errstr);
  }
  return rk;
}

// Pauses or resumes one partition's fetching. On pause librdkafka drops what it prefetched
// for the partition and, on resume, fetches again from the position after the last message
// it gave us.
void SetPaused(rd_kafka_t* rk, const char* topic, int32_t partition, bool paused) {
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(list, topic, partition);
  if (paused) {
    rd_kafka_pause_partitions(rk, list);
  } else {
    rd_kafka_resume_partitions(rk, list);
  }
  rd_kafka_topic_partition_list_destroy(list);
}

void DestroyMessages(std::vector<TimestampMerge::Handle>* messages) {
  for (auto* m : *messages) rd_kafka_message_destroy(static_cast<rd_kafka_message_t*>(m));
  messages->clear();
}

std::vector<PartitionOffset> ToVector(const rd_kafka_topic_partition_list_t* list) {
  std::vector<PartitionOffset> out;
  out.reserve(list->cnt);
  for (int i = 0; i < list->cnt; ++i) {
    const auto& p = list->elems[i];
    out.push_back({p.topic, p.partition, p.offset});
  }
  return out;
}

}  // namespace

struct ClientCallbacks {
  static void OnProducerError(rd_kafka_t* rk, int err, const char* reason, void* opaque) {
    ReportError(static_cast<Producer*>(opaque)->health_.get(), rk, err, reason);
  }
  static void OnConsumerError(rd_kafka_t* rk, int err, const char* reason, void* opaque) {
    ReportError(static_cast<Consumer*>(opaque)->health_.get(), rk, err, reason);
  }
};

// ---------------------------------------------------------------- BrokerHealth

void BrokerHealth::report_all_down(std::string_view reason) {
  {
    std::lock_guard lock(mutex_);
    last_reason_ = reason;
  }
  all_down_.fetch_add(1, std::memory_order_acq_rel);
}

void BrokerHealth::report_transport_error(std::string_view reason) {
  {
    std::lock_guard lock(mutex_);
    last_reason_ = reason;
  }
  transport_.fetch_add(1, std::memory_order_acq_rel);
}

std::string BrokerHealth::last_reason() const {
  std::lock_guard lock(mutex_);
  return last_reason_;
}

void BrokerHealth::report_auth_failure(std::string_view reason) {
  {
    std::lock_guard lock(mutex_);
    last_auth_reason_ = reason;
  }
  auth_.fetch_add(1, std::memory_order_acq_rel);
}

std::string BrokerHealth::last_auth_reason() const {
  std::lock_guard lock(mutex_);
  return last_auth_reason_;
}

void MessageBatch::add(rd_kafka_message_t* m) {
  MessageView v;
  // The same topic handle as the message before (alive: the batch holds that message) has
  // the same name: no strlen per message.
  v.topic = !owned_.empty() && owned_.back()->rkt == m->rkt ? views_.back().topic
                                                             : std::string_view(rd_kafka_topic_name(m->rkt));
  owned_.push_back(m);
  v.partition = m->partition;
  v.offset = m->offset;
  v.timestamp_ms = rd_kafka_message_timestamp(m, nullptr);
  v.key = std::string_view(static_cast<const char*>(m->key), m->key ? m->key_len : 0);
  v.payload = std::string_view(static_cast<const char*>(m->payload), m->payload ? m->len : 0);
  views_.push_back(v);
}

void MessageBatch::clear() {
  for (auto* m : owned_) rd_kafka_message_destroy(m);
  owned_.clear();
  views_.clear();
}

// ---------------------------------------------------------------- Producer

Result<std::unique_ptr<Producer>> Producer::Create(const Properties& properties,
                                                   std::shared_ptr<BrokerHealth> health,
                                                   DeliveryFailureHandler on_failure) {
  std::unique_ptr<Producer> producer(new Producer());
  producer->health_ = std::move(health);
  producer->on_failure_ = std::move(on_failure);
  auto conf = MakeConf(properties, producer.get());
  if (!conf.ok()) return conf.status();
  rd_kafka_conf_set_error_cb(*conf, &ClientCallbacks::OnProducerError);
  rd_kafka_conf_set_dr_msg_cb(*conf, &Producer::OnDelivery);
  auto rk = NewClient(RD_KAFKA_PRODUCER, *conf, "kafka producer");
  if (!rk.ok()) return rk.status();
  producer->rk_ = *rk;
  return producer;
}

Producer::~Producer() {
  if (rk_) {
    rd_kafka_flush(rk_, 5000);
    for (rd_kafka_topic_t* rkt : warm_topics_) rd_kafka_topic_destroy(rkt);
    for (auto& [name, rkt] : topics_) rd_kafka_topic_destroy(rkt);
    rd_kafka_destroy(rk_);
  }
}

void Producer::OnDelivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
  auto* self = static_cast<Producer*>(opaque);
  // Counted before the failure handler, which may produce (a dead letter) under a new number.
  struct Reported {
    Producer* self;
    uint64_t number;
    ~Reported() { self->reported(number); }
  } reported{self, static_cast<uint64_t>(reinterpret_cast<uintptr_t>(m->_private))};
  if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    self->delivered_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  const std::string reason = std::string("delivery to ") + rd_kafka_topic_name(m->rkt) + " failed: " +
                             rd_kafka_err2str(m->err);
  if (self->health_ && IsAuthError(m->err)) {
    self->health_->report_auth_failure(reason + " (" + rd_kafka_err2name(m->err) + ")");
  }
  if (self->on_failure_) {
    FailedDelivery f;
    f.topic = rd_kafka_topic_name(m->rkt);
    f.key = std::string_view(static_cast<const char*>(m->key), m->key ? m->key_len : 0);
    f.payload = std::string_view(static_cast<const char*>(m->payload), m->payload ? m->len : 0);
    rd_kafka_headers_t* hdrs = nullptr;
    if (rd_kafka_message_headers(m, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR && hdrs) {
      const char* name = nullptr;
      const void* value = nullptr;
      size_t size = 0;
      for (size_t i = 0; rd_kafka_header_get_all(hdrs, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR; ++i) {
        f.headers.emplace_back(name, std::string(static_cast<const char*>(value), value ? size : 0));
      }
    }
    f.error = m->err;
    f.error_name = rd_kafka_err2name(m->err);
    f.reason = reason;
    if (self->on_failure_(f)) return;
  }
  self->failed_.fetch_add(1, std::memory_order_relaxed);
  if (self->first_error_.empty()) self->first_error_ = reason;
}

Status Producer::produce(std::string_view topic, std::string_view key, std::string_view value,
                         const std::vector<Header>& headers, int32_t partition, int64_t timestamp_ms) {
  return produce_impl(topic, key, value, headers, partition, timestamp_ms, true);
}

Status Producer::try_produce(std::string_view topic, std::string_view key, std::string_view value,
                             const std::vector<Header>& headers, int32_t partition, int64_t timestamp_ms) {
  return produce_impl(topic, key, value, headers, partition, timestamp_ms, false);
}

size_t Producer::max_message_bytes() const {
  char buf[64];
  size_t size = sizeof buf;
  if (rd_kafka_conf_get(rd_kafka_conf(rk_), "message.max.bytes", buf, &size) != RD_KAFKA_CONF_OK) return 1000000;
  return static_cast<size_t>(std::strtoull(buf, nullptr, 10));
}

bool Producer::cluster_reachable(int timeout_ms) const {
  const rd_kafka_metadata_t* md = nullptr;
  // all_topics=0 and no topic: only brokers and the topics this client already knows.
  rd_kafka_resp_err_t err = rd_kafka_metadata(rk_, 0, nullptr, &md, timeout_ms);
  if (md) rd_kafka_metadata_destroy(md);
  return err == RD_KAFKA_RESP_ERR_NO_ERROR;
}

Status Producer::warm_up(const std::vector<std::string>& topics, int timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  Status result = Status::Ok();
  for (const std::string& topic : topics) {
    rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk_, topic.c_str(), nullptr);
    if (!rkt) return Status::Invalid("topic '" + topic + "': " + rd_kafka_err2str(rd_kafka_last_error()));
    warm_topics_.push_back(rkt);
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    const rd_kafka_metadata_t* md = nullptr;
    const rd_kafka_resp_err_t err =
        rd_kafka_metadata(rk_, 0, rkt, &md, static_cast<int>(std::max<int64_t>(left.count(), 1)));
    if (md) rd_kafka_metadata_destroy(md);
    if (err && result.ok()) result = Status::Unavailable("metadata for topic " + topic + ": " + rd_kafka_err2str(err));
  }
  return result;
}

rd_kafka_topic_t* Producer::topic_handle(std::string_view topic) {
  if (last_topic_ < topics_.size() && topics_[last_topic_].first == topic) return topics_[last_topic_].second;
  for (size_t i = 0; i < topics_.size(); ++i) {
    if (topics_[i].first == topic) {
      last_topic_ = i;
      return topics_[i].second;
    }
  }
  std::string name(topic);
  // No configuration: the default topic configuration, as producing by name uses.
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk_, name.c_str(), nullptr);
  if (!rkt) return nullptr;  // not remembered: asked again (and refused again) next time
  topics_.emplace_back(std::move(name), rkt);
  last_topic_ = topics_.size() - 1;
  return rkt;
}

Status Producer::produce_impl(std::string_view topic, std::string_view key, std::string_view value,
                              const std::vector<Header>& headers, int32_t partition, int64_t timestamp_ms,
                              bool block) {
  // librdkafka wants a NUL-terminated topic; topic names are short, so this stays on the stack.
  char topic_buf[256];
  if (topic.size() >= sizeof topic_buf) return Status::Invalid("topic name too long");
  rd_kafka_topic_t* const rkt = topic_handle(topic);
  if (!rkt) {
    std::memcpy(topic_buf, topic.data(), topic.size());
    topic_buf[topic.size()] = '\0';
  }
  uint64_t number = 0;
  {
    std::lock_guard lock(numbers_mutex_);
    number = next_number_++;
    reported_.push_back(false);
  }
  for (;;) {
    rd_kafka_headers_t* hdrs = nullptr;
    if (!headers.empty()) {
      hdrs = rd_kafka_headers_new(headers.size());
      for (const auto& h : headers) {
        rd_kafka_header_add(hdrs, h.name.data(), static_cast<ssize_t>(h.name.size()),
                            h.value.data(), static_cast<ssize_t>(h.value.size()));
      }
    }
    // An empty key is no key (null): the partitioner spreads such messages.
    void* const key_data = key.empty() ? nullptr : const_cast<char*>(key.data());
    void* const opaque = reinterpret_cast<void*>(static_cast<uintptr_t>(number));
    // A name librdkafka refused a handle for goes by name: its error is then produce's.
    rd_kafka_resp_err_t err =
        rkt ? rd_kafka_producev(rk_, RD_KAFKA_V_RKT(rkt), RD_KAFKA_V_PARTITION(partition),
                                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY(key_data, key.size()),
                                RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
                                RD_KAFKA_V_TIMESTAMP(timestamp_ms), RD_KAFKA_V_HEADERS(hdrs),
                                RD_KAFKA_V_OPAQUE(opaque), RD_KAFKA_V_END)
            : rd_kafka_producev(rk_, RD_KAFKA_V_TOPIC(topic_buf), RD_KAFKA_V_PARTITION(partition),
                                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY(key_data, key.size()),
                                RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
                                RD_KAFKA_V_TIMESTAMP(timestamp_ms), RD_KAFKA_V_HEADERS(hdrs),
                                RD_KAFKA_V_OPAQUE(opaque), RD_KAFKA_V_END);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return Status::Ok();  // headers now owned by librdkafka
    if (hdrs) rd_kafka_headers_destroy(hdrs);
    if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL || !block) {
      reported(number);  // never queued: no report will come
      return Status::Unavailable("producing to " + std::string(topic) + ": " + rd_kafka_err2str(err));
    }
    rd_kafka_poll(rk_, 10);  // queue full: serve delivery reports until there is room
  }
}

Status Producer::flush(int timeout_ms) {
  rd_kafka_resp_err_t err = rd_kafka_flush(rk_, timeout_ms);
  if (err == RD_KAFKA_RESP_ERR__TIMED_OUT) {
    return Status::Unavailable(std::to_string(rd_kafka_outq_len(rk_)) +
                               " messages not yet acknowledged by the broker");
  }
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return Status::Unavailable(rd_kafka_err2str(err));
  return Status::Ok();
}

void Producer::poll() const { rd_kafka_poll(rk_, 0); }

void Producer::reported(uint64_t number) {
  std::lock_guard lock(numbers_mutex_);
  if (number < reported_below_ || number - reported_below_ >= reported_.size()) return;
  reported_[number - reported_below_] = true;
  while (!reported_.empty() && reported_.front()) {
    reported_.pop_front();
    reported_below_++;
  }
}

uint64_t Producer::produced() const {
  std::lock_guard lock(numbers_mutex_);
  return next_number_;
}

uint64_t Producer::reported_below() const {
  std::lock_guard lock(numbers_mutex_);
  return reported_below_;
}
uint64_t Producer::in_flight() const { return static_cast<uint64_t>(rd_kafka_outq_len(rk_)); }

std::string Producer::take_delivery_error() { return std::exchange(first_error_, std::string()); }

// ---------------------------------------------------------------- Consumer

struct Consumer::SplitQueues {
  struct Partition {
    std::string topic;
    int32_t partition = -1;
    rd_kafka_queue_t* queue = nullptr;
  };
  std::vector<Partition> partitions;
  // A message reaching an empty partition queue wakes a poll() waiting for one (called on a
  // librdkafka thread).
  std::mutex mutex;
  std::condition_variable arrived;
  bool woken = false;
  static void OnArrival(rd_kafka_t*, void* opaque) {
    auto* self = static_cast<SplitQueues*>(opaque);
    {
      std::lock_guard lock(self->mutex);
      self->woken = true;
    }
    self->arrived.notify_one();
  }
  void arm() {
    std::lock_guard lock(mutex);
    woken = false;
  }
  void wait(int ms) {
    std::unique_lock lock(mutex);
    arrived.wait_for(lock, std::chrono::milliseconds(ms), [this] { return woken; });
  }
  Partition* find(std::string_view topic, int32_t partition) {
    for (auto& p : partitions) {
      if (p.partition == partition && p.topic == topic) return &p;
    }
    return nullptr;
  }
  static void Release(Partition& p) {
    rd_kafka_queue_cb_event_enable(p.queue, nullptr, nullptr);
    rd_kafka_queue_destroy(p.queue);
  }
  ~SplitQueues() {
    for (auto& p : partitions) Release(p);
  }
};

Consumer::Consumer()
    : timestamp_merge_(
          NowMs,
          [this](const std::string& topic, int32_t partition) {
            Watermarks marks;
            if (rd_kafka_get_watermark_offsets(rk_, topic.c_str(), partition, &marks.low, &marks.high) != 0) {
              return Watermarks{};
            }
            return marks;
          },
          [](const StuckPartition& s) {
            spdlog::warn("partition {}-{} delivered nothing for {} ms although its log goes on (next {}, high "
                         "watermark {}); the other partitions are processed meanwhile, so their order may differ "
                         "from a replay",
                         s.topic, s.partition, s.idle_ms, s.next_offset, s.high_watermark);
          }),
      split_(std::make_unique<SplitQueues>()) {
  set_merge(merge_);
}

void Consumer::set_merge(MergeOptions options) {
  merge_ = options;
  timestamp_merge_.set_limits({options.max_idle_ms, options.max_block_ms, options.max_buffered});
}

struct ConsumerCallbacks {
  static void OnRebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                          rd_kafka_topic_partition_list_t* parts, void* opaque);
};

Result<std::unique_ptr<Consumer>> Consumer::Create(const Properties& properties,
                                                   RebalanceHooks hooks,
                                                   std::shared_ptr<BrokerHealth> health) {
  std::unique_ptr<Consumer> consumer(new Consumer());
  consumer->hooks_ = std::move(hooks);
  consumer->health_ = std::move(health);
  auto conf = MakeConf(properties, consumer.get());
  if (!conf.ok()) return conf.status();
  rd_kafka_conf_set_error_cb(*conf, &ClientCallbacks::OnConsumerError);
  rd_kafka_conf_set_rebalance_cb(*conf, &ConsumerCallbacks::OnRebalance);
  auto rk = NewClient(RD_KAFKA_CONSUMER, *conf, "kafka consumer");
  if (!rk.ok()) return rk.status();
  consumer->rk_ = *rk;
  rd_kafka_poll_set_consumer(consumer->rk_);
  consumer->queue_ = rd_kafka_queue_get_consumer(consumer->rk_);
  return consumer;
}

Consumer::~Consumer() {
  if (!rk_) return;
  (void)close();
  std::vector<TimestampMerge::Handle> held;  // held-back messages go before their client
  timestamp_merge_.clear(&held);
  DestroyMessages(&held);
  split_.reset();
  if (queue_) rd_kafka_queue_destroy(queue_);
  // A close that did not finish must not be waited for again inside rd_kafka_destroy.
  rd_kafka_destroy_flags(rk_, close_finished_ ? 0 : RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
}

Status Consumer::close() {
  if (closed_) return Status::Ok();
  closed_ = true;
  // rd_kafka_consumer_close() waits without a bound for the group to let the member go; a
  // coordinator that never answers the LeaveGroup (seen with the embedded broker when a member
  // left in the middle of a join) would hang the process's shutdown. The same close, served
  // here with a deadline: the revoke hook still runs first (its rebalance event is served on
  // this queue), and after the deadline the member is left to the session timeout.
  rd_kafka_queue_t* close_queue = rd_kafka_queue_new(rk_);
  rd_kafka_error_t* error = rd_kafka_consumer_close_queue(rk_, close_queue);
  if (error) {
    std::string message = std::string("closing consumer: ") + rd_kafka_error_string(error);
    rd_kafka_error_destroy(error);
    rd_kafka_queue_destroy(close_queue);
    return Status::Unavailable(message);
  }
  const int64_t deadline = NowMs() + close_timeout_ms_;
  while (!rd_kafka_consumer_closed(rk_) && NowMs() < deadline) rd_kafka_queue_poll_callback(close_queue, 100);
  close_finished_ = rd_kafka_consumer_closed(rk_) != 0;
  rd_kafka_queue_destroy(close_queue);
  if (!close_finished_) {
    spdlog::warn("the consumer did not finish leaving its group within {} ms; the coordinator will drop it "
                 "after session.timeout.ms",
                 close_timeout_ms_);
    return Status::Unavailable("closing consumer: the group did not answer within " +
                               std::to_string(close_timeout_ms_) + " ms");
  }
  return Status::Ok();
}

void ConsumerCallbacks::OnRebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                                    rd_kafka_topic_partition_list_t* parts, void* opaque) {
  auto* self = static_cast<Consumer*>(opaque);
  // NULL while the protocol is not known (a rebalance event served as the member leaves the
  // group mid-join): strcmp on it is undefined behaviour, and such a revocation is eager.
  const char* known_protocol = rd_kafka_rebalance_protocol(rk);
  const char* protocol = known_protocol ? known_protocol : "NONE";
  bool cooperative = std::strcmp(protocol, "COOPERATIVE") == 0;
  std::vector<TimestampMerge::Handle> dropped;
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    std::vector<PartitionOffset> assigned = ToVector(parts);
    if (self->hooks_.on_assign) self->hooks_.on_assign(assigned);
    for (int i = 0; i < parts->cnt; ++i) {
      parts->elems[i].offset = assigned[i].offset >= 0 ? assigned[i].offset : RD_KAFKA_OFFSET_INVALID;
      if (assigned[i].offset >= 0) self->assigned_at_[{assigned[i].topic, assigned[i].partition}] = assigned[i].offset;
      // librdkafka keeps an application's pause across a re-assignment: a partition that
      // starts over here must fetch again.
      if (self->timestamp_merge_.assign(assigned[i].topic, assigned[i].partition, assigned[i].offset, &dropped)) {
        SetPaused(rk, parts->elems[i].topic, parts->elems[i].partition, false);
      }
      self->split_partition(parts->elems[i].topic, parts->elems[i].partition);
    }
    DestroyMessages(&dropped);
    spdlog::info("assigned {} partition(s) ({} rebalance)", parts->cnt, protocol);
    if (cooperative) {
      rd_kafka_error_t* e = rd_kafka_incremental_assign(rk, parts);
      if (e) rd_kafka_error_destroy(e);
    } else {
      rd_kafka_assign(rk, parts);
    }
    return;
  }
  // Revoked or lost: let the pipeline checkpoint first, then give the partitions up.
  if (self->hooks_.on_revoke) self->hooks_.on_revoke(ToVector(parts));
  for (int i = 0; i < parts->cnt; ++i) {
    self->assigned_at_.erase({parts->elems[i].topic, parts->elems[i].partition});
    // Held-back messages were never processed: the next owner reads them again from the
    // checkpoint's offsets. A paused partition is resumed while still ours: librdkafka would
    // keep it paused when it is assigned back.
    if (self->timestamp_merge_.revoke(parts->elems[i].topic, parts->elems[i].partition, &dropped)) {
      SetPaused(rk, parts->elems[i].topic, parts->elems[i].partition, false);
    }
    self->join_partition(parts->elems[i].topic, parts->elems[i].partition);
  }
  DestroyMessages(&dropped);
  spdlog::info("revoked {} partition(s) ({} rebalance)", parts->cnt, protocol);
  if (cooperative) {
    rd_kafka_error_t* e = rd_kafka_incremental_unassign(rk, parts);
    if (e) rd_kafka_error_destroy(e);
  } else {
    rd_kafka_assign(rk, nullptr);
  }
}

Status Consumer::subscribe(const std::vector<std::string>& topics) {
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(static_cast<int>(topics.size()));
  for (const auto& t : topics) rd_kafka_topic_partition_list_add(list, t.c_str(), RD_KAFKA_PARTITION_UA);
  rd_kafka_resp_err_t err = rd_kafka_subscribe(rk_, list);
  rd_kafka_topic_partition_list_destroy(list);
  if (err) return Status::Invalid(std::string("subscribe: ") + rd_kafka_err2str(err));
  return Status::Ok();
}

size_t Consumer::buffered() const { return timestamp_merge_.buffered(); }

void Consumer::split_partition(const char* topic, int32_t partition) {
  if (merge_.order != MergeOptions::Order::kTimestamp || split_->find(topic, partition)) return;
  rd_kafka_queue_t* queue = rd_kafka_queue_get_partition(rk_, topic, partition);
  if (!queue) return;  // not a partition librdkafka knows: it stays on the consumer's queue
  // Before the assignment starts the fetcher: librdkafka then leaves the forwarding to us.
  rd_kafka_queue_forward(queue, nullptr);
  rd_kafka_queue_cb_event_enable(queue, &SplitQueues::OnArrival, split_.get());
  split_->partitions.push_back({topic, partition, queue});
}

void Consumer::join_partition(const char* topic, int32_t partition) {
  auto& parts = split_->partitions;
  for (auto it = parts.begin(); it != parts.end(); ++it) {
    if (it->partition == partition && it->topic == topic) {
      SplitQueues::Release(*it);
      parts.erase(it);
      return;
    }
  }
}

Status Consumer::take(rd_kafka_message_t** messages, size_t n, MessageBatch* arrival) {
  Status result = Status::Ok();
  // The topic name of the last topic handle seen (alive while its message is held).
  const rd_kafka_topic_t* named = nullptr;
  std::string_view topic;
  for (size_t i = 0; i < n; ++i) {
    rd_kafka_message_t* m = messages[i];
    if (m->err) {
      if ((IsConnectivityError(m->err) || IsAuthError(m->err)) && health_) {
        ReportError(health_.get(), rk_, m->err, rd_kafka_message_errstr(m));
      } else if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        // The same error again within a minute is a retry of it, not news.
        const int64_t now = NowMs();
        if (m->err != last_logged_error_ || now - last_logged_ms_ >= 60000) {
          spdlog::warn("consumer: {}", rd_kafka_message_errstr(m));
          last_logged_error_ = m->err;
          last_logged_ms_ = now;
        } else {
          spdlog::debug("consumer: {}", rd_kafka_message_errstr(m));
        }
      }
      rd_kafka_message_destroy(m);
      char errstr[512];
      rd_kafka_resp_err_t fatal = rd_kafka_fatal_error(rk_, errstr, sizeof errstr);
      if (fatal && result.ok()) result = Status::Internal(std::string("fatal consumer error: ") + errstr);
      continue;
    }
    if (merge_.order == MergeOptions::Order::kArrival) {
      arrival->add(m);
      continue;
    }
    if (m->rkt != named) {
      named = m->rkt;
      topic = rd_kafka_topic_name(m->rkt);
    }
    switch (timestamp_merge_.push(topic, m->partition, m->offset, rd_kafka_message_timestamp(m, nullptr), m)) {
      case TimestampMerge::Push::kQueued:
        break;
      case TimestampMerge::Push::kQueuedPause:  // backpressure
        SetPaused(rk_, rd_kafka_topic_name(m->rkt), m->partition, true);
        break;
      case TimestampMerge::Push::kNotAssigned:  // not (or no longer) ours: a stale fetch
        rd_kafka_message_destroy(m);
        named = nullptr;  // that may have been its handle's last reference
        break;
    }
  }
  return result;
}

// Takes what the consumer's queue has, a batch at a time (waiting up to `wait_ms` for the
// first message only: a batch is what is there now). Serves rebalances and errors too.
Status Consumer::fetch(int wait_ms, size_t max_messages, MessageBatch* arrival) {
  if (max_messages == 0) return Status::Ok();
  if (scratch_.size() < max_messages) scratch_.resize(max_messages);  // grows only: no zeroing per poll
  size_t taken = 0;
  if (wait_ms > 0) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk_, wait_ms);
    if (!m) return Status::Ok();
    scratch_[0] = m;
    taken = 1;
  }
  // consume_batch_queue waits for a full batch when given time: it is given none.
  const ssize_t more = rd_kafka_consume_batch_queue(queue_, 0, scratch_.data() + taken, max_messages - taken);
  if (more > 0) taken += static_cast<size_t>(more);
  return take(scratch_.data(), taken, arrival);
}

// Hands the merge what librdkafka holds for each split partition the merge holds nothing of
// (or only for `topic`/`partition` when given), at most max_buffered per partition: never
// enough to pause it, what waits beyond stays in librdkafka's queue.
Status Consumer::refill(const std::string_view* topic, int32_t partition, size_t* took) {
  const size_t most = std::max<size_t>(1, merge_.max_buffered);
  scratch_.resize(std::max(scratch_.size(), most));
  Status result = Status::Ok();
  for (auto& p : split_->partitions) {
    if (topic && (p.partition != partition || p.topic != *topic)) continue;
    if (timestamp_merge_.buffered(p.topic, p.partition) > 0) continue;
    const ssize_t n = rd_kafka_consume_batch_queue(p.queue, 0, scratch_.data(), most);
    if (n <= 0) continue;
    Status st = take(scratch_.data(), static_cast<size_t>(n), nullptr);
    if (!st.ok() && result.ok()) result = st;
    if (took) *took += timestamp_merge_.buffered(p.topic, p.partition);
  }
  return result;
}

void Consumer::release(size_t max_messages, MessageBatch* batch) {
  while (batch->size() < max_messages) {
    const TimestampMerge::Step step = timestamp_merge_.next();
    if (step.kind == TimestampMerge::Step::Kind::kWait) {
      // The partition waited for may have messages in its librdkafka queue already.
      size_t took = 0;
      if (!refill(&step.topic, step.partition, &took).ok() || took == 0) return;
      continue;
    }
    if (step.kind != TimestampMerge::Step::Kind::kMessage) return;  // nothing held
    auto* m = static_cast<rd_kafka_message_t*>(step.message);
    batch->add(m);
    if (step.resume) SetPaused(rk_, rd_kafka_topic_name(m->rkt), m->partition, false);
  }
}

Status Consumer::poll(size_t max_messages, int timeout_ms, MessageBatch* batch) {
  batch->clear();
  if (merge_.order == MergeOptions::Order::kArrival) return fetch(timeout_ms, max_messages, batch);
  const int64_t deadline = NowMs() + timeout_ms;
  for (;;) {
    split_->arm();  // from here, a message reaching an empty partition queue ends the wait below
    // The consumer's queue: rebalances, errors, and messages of partitions not split.
    SL_RETURN_IF_ERROR(fetch(0, max_messages, batch));
    SL_RETURN_IF_ERROR(refill(nullptr, -1, nullptr));
    release(max_messages, batch);
    const int64_t left = deadline - NowMs();
    if (!batch->empty() || left <= 0) return Status::Ok();
    // Nothing may go yet: wait for a message (or for an idle partition to pass), briefly,
    // so that blocked partitions and the consumer's queue are looked at again.
    split_->wait(static_cast<int>(std::min<int64_t>(left, 10)));
  }
}

Status Consumer::commit_async(const std::vector<PartitionOffset>& offsets) {
  if (offsets.empty()) return Status::Ok();
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(static_cast<int>(offsets.size()));
  for (const auto& o : offsets) {
    rd_kafka_topic_partition_list_add(list, o.topic.c_str(), o.partition)->offset = o.offset;
  }
  rd_kafka_resp_err_t err = rd_kafka_commit(rk_, list, 1);
  rd_kafka_topic_partition_list_destroy(list);
  if (err && err != RD_KAFKA_RESP_ERR__NO_OFFSET) {
    return Status::Unavailable(std::string("commit: ") + rd_kafka_err2str(err));
  }
  return Status::Ok();
}

std::vector<PartitionOffset> Consumer::assignment() const {
  rd_kafka_topic_partition_list_t* list = nullptr;
  std::vector<PartitionOffset> out;
  if (rd_kafka_assignment(rk_, &list) == RD_KAFKA_RESP_ERR_NO_ERROR && list) {
    rd_kafka_position(rk_, list);
    out = ToVector(list);
  }
  if (list) rd_kafka_topic_partition_list_destroy(list);
  return out;
}

std::optional<int64_t> Consumer::known_lag() const {
  const std::vector<PartitionOffset> held = assignment();
  if (held.empty()) return std::nullopt;
  int64_t total = 0;
  for (const auto& p : held) {
    int64_t low = -1, high = -1;
    if (rd_kafka_get_watermark_offsets(rk_, p.topic.c_str(), p.partition, &low, &high) || high < 0) {
      return std::nullopt;  // not fetched yet: the backlog is not known, not empty
    }
    int64_t position = p.offset;
    if (position < 0) {
      auto it = assigned_at_.find({p.topic, p.partition});
      position = it != assigned_at_.end() ? it->second : low;
    }
    if (position < 0) return std::nullopt;
    if (high > position) total += high - position;
  }
  return total + static_cast<int64_t>(buffered());
}

int64_t Consumer::lag() const {
  int64_t total = 0;
  for (const auto& p : assignment()) {
    int64_t low = -1, high = -1;
    if (rd_kafka_get_watermark_offsets(rk_, p.topic.c_str(), p.partition, &low, &high) ||
        high < 0) {
      continue;
    }
    // No position yet (nothing consumed since the assignment): the assigned start offset,
    // else the low watermark (auto.offset.reset=earliest with nothing committed).
    int64_t position = p.offset;
    if (position < 0) {
      auto it = assigned_at_.find({p.topic, p.partition});
      position = it != assigned_at_.end() ? it->second : low;
    }
    if (position >= 0 && high > position) total += high - position;
  }
  // Fetched but held back by the merge: consumed for librdkafka, not yet processed.
  return total + static_cast<int64_t>(buffered());
}

// ---------------------------------------------------------------- EmbeddedBroker

Result<std::unique_ptr<EmbeddedBroker>> EmbeddedBroker::Start(int brokers) {
  std::unique_ptr<EmbeddedBroker> b(new EmbeddedBroker());
  auto conf = MakeConf({}, b.get());
  if (!conf.ok()) return conf.status();
  // The mock cluster's host handle connects nowhere: librdkafka's warning that it has no
  // bootstrap.servers would be the first line a user of `broker` or `demo` reads.
  rd_kafka_conf_set_log_cb(*conf, [](const rd_kafka_t* rk, int level, const char* facility, const char* message) {
    if (std::strcmp(facility, "CONFWARN") == 0) level = 7;
    LogFromLibrdkafka(rk, level, facility, message);
  });
  auto rk = NewClient(RD_KAFKA_PRODUCER, *conf, "embedded broker");
  if (!rk.ok()) return rk.status();
  b->host_ = *rk;
  b->cluster_ = rd_kafka_mock_cluster_new(b->host_, brokers);
  if (!b->cluster_) return Status::Internal("embedded broker: could not start the mock cluster");
  b->brokers_ = brokers;
  b->bootstrap_ = rd_kafka_mock_cluster_bootstraps(b->cluster_);
  return b;
}

EmbeddedBroker::~EmbeddedBroker() {
  if (cluster_) rd_kafka_mock_cluster_destroy(cluster_);
  if (host_) rd_kafka_destroy(host_);
}

Status EmbeddedBroker::create_topic(const std::string& name, int partitions) {
  rd_kafka_resp_err_t err = rd_kafka_mock_topic_create(cluster_, name.c_str(), partitions, 1);
  if (err) return Status::Internal("creating topic " + name + ": " + rd_kafka_err2str(err));
  return Status::Ok();
}

Status EmbeddedBroker::set_brokers_up(bool up) {
  for (int id = 1; id <= brokers_; ++id) {
    rd_kafka_resp_err_t err = up ? rd_kafka_mock_broker_set_up(cluster_, id)
                                 : rd_kafka_mock_broker_set_down(cluster_, id);
    if (err) return Status::Internal(std::string("broker ") + std::to_string(id) + ": " + rd_kafka_err2str(err));
  }
  up_ = up;
  return Status::Ok();
}

Status EmbeddedBroker::push_produce_errors(const std::vector<int>& errors) {
  return push_request_errors(/*ApiKey Produce*/ 0, errors);
}

Status EmbeddedBroker::push_request_errors(int api_key, const std::vector<int>& errors) {
  std::vector<rd_kafka_resp_err_t> errs;
  for (int e : errors) errs.push_back(static_cast<rd_kafka_resp_err_t>(e));
  rd_kafka_mock_push_request_errors_array(cluster_, static_cast<int16_t>(api_key), errs.size(), errs.data());
  return Status::Ok();
}

const Properties& ConsumerQueueDefaults(MergeOptions::Order order) {
  static const Properties kShared = {{"queued.min.messages", "1000000"}, {"queued.max.messages.kbytes", "262144"}};
  // Per partition: librdkafka's own count, and 8 MB (its default is 64 MB per partition),
  // more than a second of a partition's messages at the pipeline's rate. librdkafka lowers
  // fetch.max.bytes (the whole Fetch response) to queued.max.messages.kbytes unless it is set:
  // at 8 MB a response filled up after 8 to 16 partitions, the rest got nothing, and as
  // librdkafka moves the first partition of a request by one per request, a partition at the
  // end waited many round trips, holding the merge back (32 partitions: every partition
  // waited for in turn). librdkafka's default 50 MB gives each partition its share.
  static const Properties kPerPartition = {{"queued.min.messages", "100000"},
                                           {"queued.max.messages.kbytes", "8192"},
                                           {"fetch.max.bytes", "52428800"}};
  return order == MergeOptions::Order::kTimestamp ? kPerPartition : kShared;
}

Result<int> PartitionCount(const Properties& properties, const std::string& topic, int timeout_ms) {
  auto conf = MakeConf(properties, nullptr);
  if (!conf.ok()) return conf.status();
  auto client = NewClient(RD_KAFKA_PRODUCER, *conf, "kafka client");
  if (!client.ok()) return client.status();
  rd_kafka_t* rk = *client;
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk, topic.c_str(), nullptr);
  const rd_kafka_metadata_t* md = nullptr;
  rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 0, rkt, &md, timeout_ms);
  Result<int> result = Status::Unavailable("metadata for topic " + topic + ": " + rd_kafka_err2str(err));
  if (!err && md && md->topic_cnt == 1) {
    const auto& t = md->topics[0];
    if (t.err) {
      result = Status::NotFound("topic " + topic + ": " + rd_kafka_err2str(t.err));
    } else {
      result = t.partition_cnt;
    }
  }
  if (md) rd_kafka_metadata_destroy(md);
  rd_kafka_topic_destroy(rkt);
  rd_kafka_destroy(rk);
  return result;
}

}  // namespace streamlearn::kafka
