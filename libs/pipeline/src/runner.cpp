#include "streamlearn/pipeline/runner.hpp"

#include <fmt/format.h>
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <deque>
#include <future>
#include <optional>
#include <thread>

#include "streamlearn/core/json_text.hpp"
#include "streamlearn/core/json_writer.hpp"
#include "streamlearn/kafka/kafka.hpp"
#include "streamlearn/pipeline/entity_cache.hpp"
#include "streamlearn/pipeline/probe.hpp"
#include "streamlearn/state/checkpoint_writer.hpp"
#include "streamlearn/state/store.hpp"
#include "checkpoint_cut.hpp"
#include "health_watch.hpp"
#include "label_kind_watch.hpp"
#include "exactly_once.hpp"
#include "model_sync.hpp"
#include "standby.hpp"
#include "output_encoders.hpp"
#include "partition_state.hpp"
#include "replay_dedup.hpp"

namespace streamlearn::pipeline {
namespace {

using Clock = std::chrono::steady_clock;

// Room kept beside a dead letter's key and payload for its headers and librdkafka's
// per-message framing, so a truncated dead letter always fits message.max.bytes.
constexpr size_t kDlqReserveBytes = 4096;
constexpr size_t kDlqMaxKeyBytes = 1024;

// "lag": the number, or null while it is not known (before assignment): never a made-up 0.
JsonWriter& WriteLag(JsonWriter& w, bool known, int64_t lag) {
  w.key("lag");
  return known ? w.integer(lag) : w.null();
}

// The pipeline's output to Kafka. Predictions and drift events are small; a dead letter
// carries whatever arrived, so it is cut to the producer's limit (header `truncated` = the
// original size) and never stops the pipeline: a refused one is logged and counted.
class KafkaSink : public OutputSink {
 public:
  KafkaSink(kafka::Producer& producer, const KafkaSettings& settings, PipelineProbe* probe, ReplayDedup* replay)
      : producer_(producer),
        settings_(settings),
        probe_(probe),
        replay_(replay),
        dlq_max_bytes_(DeadLetterLimit(producer)) {}

  static size_t DeadLetterLimit(const kafka::Producer& producer) {
    const size_t max = producer.max_message_bytes();
    return max > 2 * kDlqReserveBytes ? max - kDlqReserveBytes : max / 2;
  }

  Status write(const PredictionRecord& record) override {
    if (!replay_) {
      return producer_.produce(settings_.predictions_topic, record.entity, prediction_encoder_.encode(record));
    }
    // scale.replay_dedup: to its event's partition number, unless a replay's and already published.
    if (replay_->skip(record.partition, record.entity, record.id)) return Status::Ok();
    SL_RETURN_IF_ERROR(producer_.produce(settings_.predictions_topic, record.entity, prediction_encoder_.encode(record),
                                         {}, record.partition));
    replay_->produced(record.partition);
    return Status::Ok();
  }
  Status write(const ConceptDriftRecord& record) override {
    json_.clear();
    EncodeConceptDrift(record, json_);
    return producer_.produce(settings_.drift_topic, record.model, json_);
  }
  Status write(const DataDriftRecord& record) override {
    json_.clear();
    EncodeDataDrift(record, json_);
    return producer_.produce(settings_.drift_topic, record.model, json_);
  }
  Status write(const ModelSwitchRecord& record) override {
    json_.clear();
    EncodeModelSwitch(record, json_);
    return producer_.produce(settings_.drift_topic, record.model, json_);
  }
  Status write(const SliceGapRecord& record) override {
    json_.clear();
    EncodeSliceGap(record, json_);
    return producer_.produce(settings_.drift_topic, record.model, json_);
  }
  Status write(const ModelChangeRecord& record) override {
    json_.clear();
    EncodeModelChange(record, json_);
    return producer_.produce(settings_.drift_topic, record.model, json_);
  }
  Status write(const DeadLetterRecord& record) override {
    const RawMessage& m = record.message;
    const std::string_view reason = record.reason;
    partition_ = std::to_string(m.source.partition);
    offset_ = std::to_string(m.source.offset);
    std::vector<kafka::Header> headers = {{"error", reason},
                                          {"source.topic", m.source.topic},
                                          {"source.partition", partition_},
                                          {"source.offset", offset_}};
    size_t header_bytes = 0;
    for (const auto& h : headers) header_bytes += h.name.size() + h.value.size();
    std::string_view key = m.key, payload = m.payload;
    if (key.size() > kDlqMaxKeyBytes) {
      key_size_ = std::to_string(key.size());
      headers.push_back({"key.truncated", key_size_});
      key = key.substr(0, kDlqMaxKeyBytes);
    }
    const size_t room = dlq_max_bytes_ > header_bytes + key.size() ? dlq_max_bytes_ - header_bytes - key.size() : 0;
    if (payload.size() > room) {
      payload_size_ = std::to_string(payload.size());
      headers.push_back({"truncated", payload_size_});
      payload = payload.substr(0, room);
      if (probe_) probe_->dlq_truncated.Increment();
      truncated_++;
      spdlog::log(truncated_ == 1 || truncated_ % 1000 == 0 ? spdlog::level::info : spdlog::level::debug,
                  "dead letter {}-{}@{} truncated from {} to {} bytes (message.max.bytes {}); {} so far",
                  m.source.topic, m.source.partition, m.source.offset, m.payload.size(), payload.size(),
                  producer_.max_message_bytes(), truncated_);
    }
    Status st = producer_.produce(settings_.dlq_topic, key, payload, headers);
    if (st.ok()) return st;
    // Refused locally: send the reason and the source position without the payload.
    payload_size_ = std::to_string(m.payload.size());
    std::string refused(st.message());
    std::vector<kafka::Header> bare(headers.begin(), headers.begin() + 4);
    bare.push_back({"truncated", payload_size_});
    bare.push_back({"dlq.error", refused});
    Status again = producer_.produce(settings_.dlq_topic, key, {}, bare);
    if (probe_) probe_->dlq_truncated.Increment();
    if (!again.ok()) {
      if (probe_) probe_->dlq_delivery_failures.Increment();
      spdlog::error("dead letter {}-{}@{} ({}) could not be produced: {}", m.source.topic, m.source.partition,
                    m.source.offset, reason, again.message());
    }
    return Status::Ok();  // the DLQ never stops the pipeline
  }

 private:
  kafka::Producer& producer_;
  const KafkaSettings& settings_;
  PipelineProbe* probe_;
  ReplayDedup* replay_;  // null: predictions by the key's hash, replays not deduplicated
  size_t dlq_max_bytes_;
  uint64_t truncated_ = 0;
  std::string partition_, offset_, key_size_, payload_size_;
  PredictionEncoder prediction_encoder_;
  std::string json_;  // reused: a record's text, encoded per message without allocating
};

// Cooperative-sticky moves only the partitions that change hands (the others keep being
// processed through a rebalance). It balances the topics' partitions together, though, so
// with a labels topic, whose partition p must go with events partition p, the range
// assignor stays. kafka.properties may set either.
std::string DefaultAssignmentStrategy(const PipelineConfig& config) {
  return config.labels.enabled ? "range" : "cooperative-sticky";
}

// Before revoked partitions go: their offsets committed and acknowledged, so their next
// holder sees that this member's state is the latest (and restores it from the changelog).
// The processor's next offsets of `parts` (those it has any for).
std::vector<kafka::PartitionOffset> NextOffsetsOf(const Processor& processor,
                                                  const std::vector<kafka::PartitionOffset>& parts) {
  std::vector<kafka::PartitionOffset> offsets;
  for (const auto& p : parts) {
    auto it = processor.next_offsets().find({p.topic, p.partition});
    if (it != processor.next_offsets().end()) offsets.push_back({p.topic, p.partition, it->second});
  }
  return offsets;
}

void HandOver(kafka::Consumer& consumer, const Processor& processor, const std::vector<kafka::PartitionOffset>& revoked) {
  Status st = consumer.commit_sync(NextOffsetsOf(processor, revoked));
  if (!st.ok()) spdlog::warn("committing the offsets of revoked partitions: {}", st.message());
}

}  // namespace

struct KafkaRunner::Impl {
  PipelineConfig config;
  PipelineProbe* probe = nullptr;
  std::unique_ptr<state::StateStore> store;
  std::unique_ptr<Processor> processor;
  // Before the clients: closing the consumer runs the revoke hook, which checkpoints.
  std::unique_ptr<StandbyReplicas> standby;  // scale.standby_replicas; outlives the consumer's revoke
  std::unique_ptr<PartitionStates> partitions;  // scale.changelog: state follows its partition
  std::unique_ptr<kafka::Producer> producer;
  // kafka.guarantee exactly_once: uses the producer; outlives the consumer, whose closing checkpoints.
  std::unique_ptr<ExactlyOnce> exactly_once;
  std::unique_ptr<ModelSyncLink> model_sync;  // scale.model_sync: mixes at checkpoints
  std::unique_ptr<ReplayDedup> replay;        // scale.replay_dedup: a replay publishes no second answer
  std::unique_ptr<kafka::Consumer> consumer;
  // Closing the consumer runs the revoke hook, which checkpoints with most members here:
  // closed first, while they all live (whatever order they are declared in).
  ~Impl() {
    if (consumer) (void)consumer->close();
  }
  uint64_t delivered_at_commit = 0;           // acknowledged messages when the last transaction committed
  std::string waiting_for;  // what a rebalance waits for (/readyz), empty when nothing
  Clock::time_point started = Clock::now();
  Clock::time_point last_checkpoint = Clock::now();
  uint64_t checkpoints = 0;
  uint64_t checkpointed_messages = 0;  // processor's message count at the last checkpoint
  bool assigned = false;
  bool broker_ok = true;  // false from the start of an outage until the cluster answers again
  Status hook_error;  // a failure inside a rebalance hook, reported by run()
  std::unique_ptr<DiskTrouble> disk;
  std::unique_ptr<AuthTrouble> auth;
  // A checkpoint cut and not yet written: waiting for its predictions' acknowledgements
  // (checkpoint_cut.hpp), or refused by the disk and committed again as it is (the
  // processor has handed over its changes; nothing is consumed until it is written).
  std::optional<CheckpointCut> unwritten;
  // Writes `unwritten`'s batch off the processing thread; after `unwritten` and `store`, so
  // that it is destroyed (its write finished) before them.
  state::CheckpointWriter writer;

  // Broker outages (docs/architecture.md): begun by librdkafka's ALL_BROKERS_DOWN or by a flush
  // that is not acknowledged in time; ended by an acknowledgement or a metadata answer.
  std::shared_ptr<kafka::BrokerHealth> health = std::make_shared<kafka::BrokerHealth>();
  uint64_t seen_all_down = 0;
  Clock::time_point outage_began;
  Clock::time_point last_reachability_check;
  uint64_t delivered_at_outage = 0;
  uint64_t delivered_at_refusal = 0;  // acknowledged predictions at the last auth refusal
  uint64_t outages = 0;
  uint64_t guarded_seen = 0;  // the model's guarded-update count already added to the probe
  uint64_t dlq_failures = 0;

  mutable std::mutex status_mutex;
  RunnerStatus latest;
  // GET /v1/series: a point a second, the last kSeriesPoints (under status_mutex).
  struct SeriesPoint {
    double t = 0;  // uptime, s
    double events_per_s = 0, labels_per_s = 0;
    int64_t lag = 0;  // -1: unknown
    uint64_t version = 0, drifts = 0, data_drifts = 0;
    std::vector<double> accuracy, rolling;  // champion, then challengers
    std::vector<double> mae;                // the same, for a regression pipeline
  };
  static constexpr size_t kSeriesPoints = 600;
  std::deque<SeriesPoint> series;
  Clock::time_point last_point;
  uint64_t point_messages = 0, point_labelled = 0;
  void add_series_point(const RunnerStatus& s);
  SnapshotBoard snapshots;  // for POST /v1/predict
  // The registry's views (under status_mutex), refreshed with each predict snapshot.
  std::string models_view;
  std::map<std::string, std::string, std::less<>> model_views;
  // Registry commands from the HTTP thread, applied between batches.
  using CommandAnswer = std::promise<Result<std::string>>;
  std::mutex command_mutex;
  std::deque<std::pair<ModelCommand, std::shared_ptr<CommandAnswer>>> commands;
  std::atomic<bool> running{false};
  void apply_commands(OutputSink& sink);
  Clock::time_point last_snapshot;
  uint64_t snapshot_messages = 0;  // the processor's message count at the last one

  void publish_snapshot(bool force);

  // Waits until every prediction is acknowledged, then writes what was processed (a cut
  // waiting for its acknowledgements first).
  Status checkpoint(const std::atomic<bool>* stop);
  // checkpoint(), with a write the disk refused turned into disk trouble (Ok, consuming
  // paused) until state.disk_error_timeout_ms; an error then, or for anything else.
  Status checkpoint_or_pause(const std::atomic<bool>* stop);
  Status pause_on_disk_error(Status st);
  // Between batches: cuts a checkpoint when the interval is up and writes it once its
  // predictions are acknowledged, without waiting for them (checkpoint_cut.hpp).
  Status checkpoint_step(const std::atomic<bool>& stop, Clock::time_point now, Clock::duration interval);
  void make_cut();
  Status write_cut(Clock::time_point begin);
  // The cut's RocksDB write handed to the writer thread (written on this one when it must
  // follow a transaction or a disk recovery).
  Status start_write(Clock::time_point now);
  // The writer's result: on success the cut is done (cut_written); a refusal is returned with
  // the cut kept, as write_cut returns it.
  Status finish_write(Clock::time_point begin);
  // Whatever waits for the write in flight (the blocking checkpoint): taken first, a refusal
  // down the same path as between batches.
  Status await_write();
  std::vector<kafka::PartitionOffset> held_offsets() const;
  Status cut_written(Clock::time_point begin, const std::vector<kafka::PartitionOffset>& offsets);
  void set_waiting(const std::string& what) {
    waiting_for = what;
    publish_status();
  }
  void publish_status();
  void begin_outage(const std::string& why);
  void end_outage(const char* how);
  // Looks at what librdkafka reported and, during an outage, whether the cluster answers.
  void watch_broker();
  bool handle_failed_delivery(const kafka::FailedDelivery& f);
};

void KafkaRunner::Impl::begin_outage(const std::string& why) {
  if (!broker_ok) return;
  broker_ok = false;
  outages++;
  outage_began = Clock::now();
  last_reachability_check = outage_began;
  delivered_at_outage = producer ? producer->delivered() : 0;
  spdlog::warn("broker outage: {}; predictions are held and retried, checkpoints wait, /readyz reports 503 "
               "(logged once; the end of the outage is logged too)", why);
  if (probe) {
    probe->broker_up.Set(0);
    probe->broker_outages.Increment();
  }
  publish_status();
}

void KafkaRunner::Impl::end_outage(const char* how) {
  if (broker_ok) return;
  broker_ok = true;
  const double seconds = std::chrono::duration<double>(Clock::now() - outage_began).count();
  spdlog::info("broker reachable again after {:.1f} s ({}); {} prediction(s) still in flight, processing resumes",
               seconds, how, producer ? producer->in_flight() : 0);
  if (probe) {
    probe->broker_up.Set(1);
    probe->broker_outage_seconds.Increment(seconds);
  }
  publish_status();
}

void KafkaRunner::Impl::watch_broker() {
  const uint64_t refused = auth->update(health->auth_failures(), health->last_auth_reason(), Clock::now());
  if (refused > 0) {
    delivered_at_refusal = producer->delivered();
    if (probe) probe->broker_auth_failures.Increment(static_cast<double>(refused));
  }
  const uint64_t all_down = health->all_down_reports();
  if (all_down != seen_all_down) {
    seen_all_down = all_down;
    // Refused credentials make every broker "down" too: that is not an outage.
    if (auth->active()) return;
    // Each client reports on its own, when its poll serves the report: one still reconnecting
    // when the cluster came back reports after the outage ended. While all looks well, the
    // cluster's own answer decides.
    if (broker_ok && producer->cluster_reachable(500)) {
      spdlog::debug("a client reported all brokers down, but the cluster answers a metadata request");
      return;
    }
    begin_outage("all brokers down (" + health->last_reason() + ")");
    return;
  }
  if (auth->active() && producer->delivered() > delivered_at_refusal) auth->accepted();
  if (broker_ok) return;
  if (producer->delivered() > delivered_at_outage) {
    end_outage("the broker acknowledged predictions");
    return;
  }
  // Nothing in flight to be acknowledged: ask for metadata, at most twice a second.
  const auto now = Clock::now();
  if (producer->in_flight() == 0 && now - last_reachability_check >= std::chrono::milliseconds(500)) {
    last_reachability_check = now;
    if (producer->cluster_reachable(500)) end_outage("the cluster answered a metadata request");
    last_reachability_check = Clock::now();
  }
}

// A dead letter the broker refused (its limit may be lower than ours): send it again
// without the payload, so the reason still reaches the DLQ; predictions are not retried
// here (message.timeout.ms=0 leaves only permanent errors) and stop the checkpoint.
bool KafkaRunner::Impl::handle_failed_delivery(const kafka::FailedDelivery& f) {
  if (f.topic != config.kafka.dlq_topic) return false;
  bool already_bare = false;
  std::vector<kafka::Header> headers;
  std::string size = std::to_string(f.payload.size());
  for (const auto& [name, value] : f.headers) {
    if (name == "dlq.error") already_bare = true;
    if (name == "truncated") size = value;
    if (name != "truncated" && name != "dlq.error") headers.push_back({name, value});
  }
  headers.push_back({"truncated", size});
  headers.push_back({"dlq.error", f.reason});
  dlq_failures++;
  if (already_bare || f.payload.empty() ||
      !producer->try_produce(f.topic, f.key.substr(0, kDlqMaxKeyBytes), {}, headers).ok()) {
    spdlog::error("dead letter refused by the broker and not resent ({}); counted in "
                  "streamlearn_dlq_delivery_failures_total",
                  f.reason);
    if (probe) probe->dlq_delivery_failures.Increment();
  } else {
    spdlog::warn("dead letter refused by the broker ({}); resent without its payload", f.reason);
    if (probe) probe->dlq_truncated.Increment();
  }
  return true;  // the DLQ never stops the pipeline
}

KafkaRunner::KafkaRunner(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
KafkaRunner::~KafkaRunner() = default;

Result<std::unique_ptr<KafkaRunner>> KafkaRunner::Create(const PipelineConfig& config, PipelineProbe* probe) {
  auto impl = std::make_unique<Impl>();
  impl->config = config;
  impl->probe = probe;
  impl->disk = std::make_unique<DiskTrouble>(std::chrono::milliseconds(config.state.disk_error_timeout_ms));
  impl->auth = std::make_unique<AuthTrouble>(std::chrono::milliseconds(config.kafka.auth_timeout_ms));
  auto store = state::StateStore::Open(config.state.dir);
  if (!store.ok()) return store.status();
  impl->store = std::move(store).value();
  auto processor = Processor::Create(config, impl->store.get(), probe);
  if (!processor.ok()) return processor.status();
  impl->processor = std::move(processor).value();

  // librdkafka backs off reconnecting up to reconnect.backoff.max.ms (default 10 s): after
  // an outage of a few seconds that alone delayed resuming by up to 10 s. 1 s bounds it.
  kafka::Properties common = {{"bootstrap.servers", config.kafka.bootstrap_servers},
                              {"reconnect.backoff.max.ms", "1000"}};
  kafka::Properties producer_props = common;
  producer_props["enable.idempotence"] = "true";  // retries never duplicate or reorder
  producer_props["linger.ms"] = "5";
  producer_props["message.timeout.ms"] = "0";     // never give up on a prediction: an outage pauses us
  kafka::Properties consumer_props = kafka::ConsumerQueueDefaults(
      config.kafka.order == KafkaOrder::kArrival ? kafka::MergeOptions::Order::kArrival
                                                 : kafka::MergeOptions::Order::kTimestamp);
  consumer_props.insert(common.begin(), common.end());
  consumer_props["partition.assignment.strategy"] = DefaultAssignmentStrategy(config);
  consumer_props["group.id"] = config.kafka.group_id;
  consumer_props["enable.auto.commit"] = "false";    // RocksDB holds the truth; Kafka gets a copy for lag
  consumer_props["auto.offset.reset"] = "earliest";
  consumer_props["session.timeout.ms"] = "6000";     // the smallest a real broker accepts by default
  // A third of the session, as Kafka advises: librdkafka's 3 s let one missed heartbeat and a
  // 3 s broker blip expire the session, and the rebalance replayed events.
  consumer_props["heartbeat.interval.ms"] = "2000";
  consumer_props["fetch.wait.max.ms"] = "50";
  // Disk trouble stops polling: the group must not drop us before state.disk_error_timeout_ms.
  const auto poll_interval = std::to_string(int64_t{config.state.disk_error_timeout_ms} + 60000);
  if (config.state.disk_error_timeout_ms + int64_t{60000} > 300000) consumer_props["max.poll.interval.ms"] = poll_interval;
  for (const auto& [k, v] : config.kafka.properties) {
    producer_props[k] = v;
    consumer_props[k] = v;
  }
  if (config.kafka.guarantee == KafkaGuarantee::kExactlyOnce) ConfigureTransactionalProducer(config, producer_props);
  Impl* self = impl.get();
  auto producer = kafka::Producer::Create(producer_props, impl->health,
                                          [self](const kafka::FailedDelivery& f) { return self->handle_failed_delivery(f); });
  if (!producer.ok()) return producer.status();
  impl->producer = std::move(producer).value();
  {
    std::vector<std::string> outputs;
    for (const std::string* topic : {&config.kafka.predictions_topic, &config.kafka.drift_topic, &config.kafka.dlq_topic}) {
      if (!topic->empty()) outputs.push_back(*topic);
    }
    // A cluster that does not answer yet is the outage handling's business, not a start error.
    Status warm = impl->producer->warm_up(outputs, 2000);
    if (!warm.ok()) spdlog::warn("output topics not warmed up: {}", warm.message());
  }
  impl->guarded_seen = impl->processor->stats().guarded_updates;
  // The producer's properties: a consumer's on a short-lived producer make librdkafka warn once per key.
  if (Status topic = CheckChangelogTopic(config, producer_props, *impl->producer); !topic.ok()) {
    if (config.scale.changelog_given) return topic;
    spdlog::warn("{}. The changelog is off (scale.changelog is not set): a partition that moves to another "
                 "instance starts from that instance's own state",
                 topic.message());
    impl->config.scale.changelog = false;
  }
  WarnIfLabelsNotCopartitioned(impl->config, producer_props);
  impl->partitions = std::make_unique<PartitionStates>(impl->config, *impl->processor, *impl->store, probe, consumer_props);
  if (config.scale.standby_replicas > 0 && !impl->config.scale.changelog) {
    spdlog::warn("scale.standby_replicas: the changelog is off, so no partition is kept warm");
  } else if (config.scale.standby_replicas > 0) {
    kafka::Properties members_props = common;  // the members topic's producer: a plain one
    members_props.insert(config.kafka.properties.begin(), config.kafka.properties.end());
    auto standby = StandbyReplicas::Start(impl->config, consumer_props, members_props, probe);
    if (!standby.ok()) return standby.status();
    impl->standby = std::move(standby).value();
    impl->partitions->set_standby(impl->standby.get());
  }
  auto replay = ReplayDedup::Create(impl->config, producer_props, consumer_props, probe);
  if (!replay.ok()) return replay.status();
  impl->replay = std::move(replay).value();
  if (!impl->replay) impl->config.scale.replay_dedup = false;  // the markers then carry no predictions offsets
  if (config.sync.enabled) {
    kafka::Properties sync_props = common;
    sync_props.insert(config.kafka.properties.begin(), config.kafka.properties.end());
    auto link = ModelSyncLink::Create(config, *impl->producer, sync_props, probe);
    if (!link.ok()) return link.status();
    impl->model_sync = std::move(link).value();
  }

  kafka::RebalanceHooks hooks;
  hooks.on_assign = [self](std::vector<kafka::PartitionOffset>& parts) {
    self->writer.wait();  // the store's writes in order: a cut's write in flight, then a restore's
    // Resume where the last checkpoint left off: RocksDB, not Kafka, is the source of truth.
    const auto& stored = self->processor->next_offsets();
    for (auto& p : parts) {
      auto it = stored.find({p.topic, p.partition});
      p.offset = it == stored.end() ? -1 : it->second;
      spdlog::info("partition {}-{} resumes at {}", p.topic, p.partition,
                   p.offset >= 0 ? std::to_string(p.offset) : std::string("the group's committed offset"));
    }
    Status restored = self->partitions->on_assign(*self->consumer, parts,
                                                  [self](const std::string& what) { self->set_waiting(what); });
    if (!restored.ok() && self->hook_error.ok()) self->hook_error = restored;
    if (self->exactly_once) self->exactly_once->on_assign(*self->consumer, parts);
    if (self->replay && restored.ok()) {
      Status read = self->replay->on_assign(parts, *self->processor, [self](const std::string& what) { self->set_waiting(what); });
      if (!read.ok() && self->hook_error.ok()) self->hook_error = read;
    }
    self->auth->accepted();  // joining the group took authentication
    // Cooperative rebalancing adds partitions to those held (and may add none).
    self->assigned = self->assigned || !parts.empty();
  };
  hooks.on_revoke = [self](const std::vector<kafka::PartitionOffset>& revoked) {
    Status st = self->checkpoint(nullptr);  // a write in flight first
    if (!st.ok() && self->hook_error.ok()) self->hook_error = st;
    // The checkpoint's changelog markers follow its write: on the changelog before the
    // partitions go, since their next holder restores from it (without them, it replays more).
    if (st.ok() && self->config.scale.changelog) {
      Status flushed = self->producer->flush(5000);
      if (!flushed.ok()) spdlog::warn("handing partitions over: the changelog markers wait: {}", flushed.message());
    }
    // With exactly_once the group's offsets must never pass what a transaction committed.
    if (st.ok() || !self->exactly_once) HandOver(*self->consumer, *self->processor, revoked);
    if (self->exactly_once) self->exactly_once->on_revoke(revoked);
    self->partitions->on_revoke(revoked);
    for (const auto& r : revoked) {
      if (self->standby && r.topic == self->config.kafka.events_topic) self->standby->release(r.partition);
    }
    if (self->replay) self->replay->on_revoke(revoked);
    self->assigned = self->consumer->assignment().size() > revoked.size();
  };
  auto consumer = kafka::Consumer::Create(consumer_props, std::move(hooks), impl->health);
  if (!consumer.ok()) return consumer.status();
  impl->consumer = std::move(consumer).value();
  kafka::MergeOptions merge;
  merge.order = config.kafka.order == KafkaOrder::kArrival ? kafka::MergeOptions::Order::kArrival
                                                          : kafka::MergeOptions::Order::kTimestamp;
  merge.max_idle_ms = config.kafka.max_idle_ms;
  merge.max_buffered = static_cast<size_t>(std::max(2 * config.kafka.batch_size, 1000));
  impl->consumer->set_merge(merge);
  // Labels are keyed like their events (by entity) and the topics have the same partition
  // count, so the range assignor gives this instance the label partitions of its events.
  std::vector<std::string> topics = {config.kafka.events_topic};
  if (config.labels.enabled) topics.push_back(config.kafka.labels_topic);
  SL_RETURN_IF_ERROR(impl->consumer->subscribe(topics));
  if (config.kafka.guarantee == KafkaGuarantee::kExactlyOnce) {
    auto eo = ExactlyOnce::Start(*impl->producer, TransactionalId(config), probe ? probe->registry().get() : nullptr);
    if (!eo.ok()) return eo.status();
    impl->exactly_once = std::move(eo).value();
  }
  return std::unique_ptr<KafkaRunner>(new KafkaRunner(std::move(impl)));
}

Status KafkaRunner::Impl::checkpoint(const std::atomic<bool>* stop) {
  SL_RETURN_IF_ERROR(await_write());  // in order: a cut in flight is written (or refused) first
  const Clock::time_point begin = Clock::now();
  // The predictions offsets beside the events offsets, for the markers and the checkpoint.
  if (replay) replay->record(*processor);
  // The changelog's records go before the flush, which then covers them too; their markers
  // after the write (checkpoint_cut.hpp).
  std::vector<PendingMarker> markers;
  if (partitions) {
    Status produced = partitions->produce_changes(*producer, &markers);
    if (!produced.ok()) return exactly_once ? exactly_once->abandon(produced) : produced;
  }
  // Every prediction of the events being checkpointed must be acknowledged first:
  // otherwise a crash after the checkpoint would lose them.
  int waited_while_stopping_ms = 0;
  for (;;) {
    const uint64_t delivered_before = producer->delivered();
    Status st = producer->flush(1000);
    if (st.ok()) break;
    watch_broker();  // ALL_BROKERS_DOWN names the cause better than the flush does
    // Acknowledgements still arriving (the burst after a rebalance, or after an outage that
    // watch_broker just ended on them): slow, not down.
    if (producer->delivered() > delivered_before) continue;
    // A refusal of our credentials also leaves predictions unacknowledged: not an outage.
    if (!auth->active()) begin_outage("checkpoint waits for the broker: " + st.message());
    publish_status();
    if (auth->expired(Clock::now())) return Status::Unavailable(auth->give_up_message());
    if (stop && stop->load() && (waited_while_stopping_ms += 1000) >= 5000) {
      // Shutting down during an outage: keep the last good checkpoint; a restart replays.
      return Status::Unavailable("broker unreachable while stopping; " + st.message() +
                                 "; the next start replays from the last checkpoint");
    }
  }
  // Acknowledged predictions prove the cluster is back; an empty flush proves nothing
  // (rd_kafka_outq_len also counts callbacks waiting to be served), and watch_broker asks
  // for metadata instead.
  if (producer->delivered() > delivered_at_outage) end_outage("every prediction acknowledged");
  if (producer->failed() > 0 && exactly_once) {  // a message of the transaction failed
    return exactly_once->abandon(Status::Unavailable("delivery failed: " + producer->take_delivery_error()));
  }
  if (producer->failed() > 0) {
    return Status::Unavailable("predictions were lost in delivery (" + producer->take_delivery_error() +
                               "); not checkpointing past them, restart replays from the last checkpoint");
  }
  const uint64_t processed = processor->stats().messages;
  // A cut made earlier is acknowledged now (the flush): written first, then what followed.
  if (unwritten && unwritten->messages != processed) SL_RETURN_IF_ERROR(write_cut(begin));
  // An open transaction that holds records (an operator's command) is committed all the same.
  const bool pending_records = exactly_once && producer->delivered() != delivered_at_commit;
  if (!unwritten && processed == checkpointed_messages && checkpoints > 0 && !pending_records &&
      !(model_sync && model_sync->peers_published())) {
    last_checkpoint = Clock::now();  // nothing new: no write
    // The last commit may have been refused (a rebalance was under way): asked again, one
    // request per interval, so that an idle group's offsets catch up with its checkpoint.
    if (consumer) {
      Status commit = consumer->commit_async(NextOffsetsOf(*processor, consumer->assignment()));
      if (!commit.ok()) spdlog::debug("kafka offset commit (for lag only): {}", commit.message());
    }
    // Markers of a state already written (a cut's write that an error interrupted).
    return partitions ? partitions->produce_markers(*producer, markers) : Status::Ok();
  }
  if (!unwritten) {
    make_cut();
    unwritten->markers = std::move(markers);
  }
  return write_cut(begin);
}

void KafkaRunner::Impl::make_cut() {
  const auto at = Clock::now();
  if (model_sync) model_sync->before_checkpoint(*processor);  // the checkpoint stores the mix
  // Before the processor hands over its changes: the store lags the cache until the write.
  if (EntityCache* cache = processor->entity_cache()) cache->hold_evictions(true);
  unwritten.emplace(store->begin_checkpoint());
  processor->checkpoint(unwritten->batch);
  unwritten->messages = processor->stats().messages;
  unwritten->produced = producer->produced();  // after the changelog's records, if any
  for (const auto& [tp, next] : processor->next_offsets()) unwritten->offsets.push_back({tp.first, tp.second, next});
  unwritten->at = at;
}

// Kafka only accepts commits for partitions this member holds; the others stay in RocksDB.
std::vector<kafka::PartitionOffset> KafkaRunner::Impl::held_offsets() const {
  std::vector<kafka::PartitionOffset> offsets;
  if (consumer) {
    for (const auto& held : consumer->assignment()) {
      for (const auto& cut : unwritten->offsets) {
        if (cut.topic == held.topic && cut.partition == held.partition) offsets.push_back(cut);
      }
    }
  }
  return offsets;
}

Status KafkaRunner::Impl::write_cut(Clock::time_point begin) {
  const std::vector<kafka::PartitionOffset> offsets = held_offsets();
  // The transaction first: a crash before the RocksDB write then leaves the group's offsets
  // ahead of RocksDB's, which the next start recognises (exactly_once.hpp). With exactly_once
  // every cut is made right after a flush (checkpoint_step never cuts ahead), so the open
  // transaction holds exactly the cut's records. Once: a disk retry writes the same cut again.
  if (exactly_once && !unwritten->transaction_committed) {
    // In the transaction: its markers become visible with it, or not at all.
    if (partitions) {
      Status produced = partitions->produce_markers(*producer, unwritten->markers);
      if (!produced.ok()) return exactly_once->abandon(produced);
      unwritten->markers.clear();
    }
    Status committed = exactly_once->commit(*consumer, offsets);
    if (!committed.ok()) {
      if (EntityCache* cache = processor->entity_cache()) cache->hold_evictions(false);
      unwritten.reset();  // never written: its outputs were not committed
      return committed;
    }
    unwritten->transaction_committed = true;
    delivered_at_commit = producer->delivered();
  }
  if (disk->active()) SL_RETURN_IF_ERROR(store->resume());
  SL_RETURN_IF_ERROR(store->commit(unwritten->batch));
  return cut_written(begin, offsets);
}

Status KafkaRunner::Impl::start_write(Clock::time_point now) {
  if (exactly_once || disk->active()) return pause_on_disk_error(write_cut(now));
  writer.start(*store, unwritten->batch);
  unwritten->write_began = now;
  unwritten->held_s += std::chrono::duration<double>(Clock::now() - now).count();
  return Status::Ok();
}

Status KafkaRunner::Impl::finish_write(Clock::time_point begin) {
  SL_RETURN_IF_ERROR(writer.take());
  return cut_written(begin, held_offsets());
}

Status KafkaRunner::Impl::await_write() {
  return writer.busy() ? pause_on_disk_error(finish_write(Clock::now())) : Status::Ok();
}

// The cut is in RocksDB: only now its markers and its offsets follow.
Status KafkaRunner::Impl::cut_written(Clock::time_point begin, const std::vector<kafka::PartitionOffset>& offsets) {
  if (EntityCache* cache = processor->entity_cache()) cache->hold_evictions(false);
  checkpointed_messages = unwritten->messages;
  const double held_s = unwritten->held_s;
  const std::vector<PendingMarker> markers = std::move(unwritten->markers);
  unwritten.reset();
  // Written: the markers may now say so (the next flush covers them; a hand-over flushes).
  if (partitions) SL_RETURN_IF_ERROR(partitions->produce_markers(*producer, markers));
  if (model_sync) model_sync->after_checkpoint(*processor);
  // With exactly_once the transaction carried these offsets already; committed again here
  // (the same values, harmless) because the embedded broker drops a transaction's offsets.
  Status commit = consumer ? consumer->commit_async(offsets) : Status::Ok();
  if (!commit.ok()) spdlog::debug("kafka offset commit (for lag only): {}", commit.message());
  checkpoints++;
  last_checkpoint = Clock::now();
  if (probe) {
    probe->checkpoints.Increment();
    // How long processing waited for this checkpoint (a cut's own time included).
    probe->checkpoint_seconds.Observe(held_s + std::chrono::duration<double>(last_checkpoint - begin).count());
  }
  return Status::Ok();
}

Status KafkaRunner::Impl::checkpoint_step(const std::atomic<bool>& stop, Clock::time_point now,
                                          Clock::duration interval) {
  if (unwritten) {
    if (writer.busy()) {
      // Written, or a write slower than a second (a slow disk): waited for, as before.
      if (!writer.done() && now - unwritten->write_began < std::chrono::seconds(1)) return Status::Ok();
      return pause_on_disk_error(finish_write(now));
    }
    if (producer->reported_below() >= unwritten->produced) {
      // A failed delivery: the blocking checkpoint refuses to go past it and says why.
      if (producer->failed() > 0) return checkpoint_or_pause(&stop);
      return start_write(now);
    }
    // Not acknowledged within a second: the blocking checkpoint tells slow from down.
    if (now - unwritten->at >= std::chrono::seconds(1)) return checkpoint_or_pause(&stop);
    return Status::Ok();
  }
  if (now - last_checkpoint < interval) return Status::Ok();
  // Model sync publishes the champion as checkpointed, right after the write: kept blocking.
  // Nothing new: the blocking one has nothing to wait for.
  // exactly_once: a transaction is committed whole, so it may hold nothing beyond its cut.
  if (model_sync || exactly_once || processor->stats().messages == checkpointed_messages) {
    return checkpoint_or_pause(&stop);
  }
  if (replay) replay->record(*processor);  // the predictions offsets, as checkpoint() does
  std::vector<PendingMarker> markers;
  if (partitions) SL_RETURN_IF_ERROR(partitions->produce_changes(*producer, &markers));
  make_cut();
  unwritten->markers = std::move(markers);
  unwritten->held_s = std::chrono::duration<double>(Clock::now() - now).count();
  return Status::Ok();
}

Status KafkaRunner::Impl::checkpoint_or_pause(const std::atomic<bool>* stop) {
  return pause_on_disk_error(checkpoint(stop));
}

Status KafkaRunner::Impl::pause_on_disk_error(Status st) {
  const auto now = Clock::now();
  if (st.ok()) {
    disk->recovered(now);
    if (probe) probe->state_writable.Set(1);
    return st;
  }
  if (st.code() != ErrorCode::kIoError) return st;
  if (probe) {
    probe->checkpoint_failures.Increment();
    probe->state_writable.Set(0);
  }
  disk->failed(st.message(), now);
  publish_status();
  if (disk->expired(now)) return Status::IoError(disk->give_up_message(config.state.dir));
  return Status::Ok();
}

void KafkaRunner::Impl::publish_status() {
  RunnerStatus s;
  s.processor = processor->stats();
  const std::optional<int64_t> lag = consumer ? consumer->known_lag() : std::nullopt;
  s.lag = lag.value_or(0);
  s.lag_known = lag.has_value();
  s.checkpoints = checkpoints;
  s.assigned = assigned;
  s.broker_ok = broker_ok;
  if (disk->active()) s.disk_error = disk->reason();
  if (auth->active()) s.auth_error = auth->reason();
  s.waiting_for = waiting_for;
  s.uptime_s = std::chrono::duration<double>(Clock::now() - started).count();
  if (probe) {
    probe->set_consumer_lag(lag);
    probe->model_bytes(config.model.name).Set(static_cast<double>(s.processor.model_bytes));
    for (const auto& c : s.processor.challengers) probe->model_bytes(c.name).Set(static_cast<double>(c.memory_bytes));
    if (TaskOf(config.model) != Task::kRegression) {
      probe->set_model_accuracy(config.model.name, s.processor.accuracy, s.processor.rolling_accuracy);
      for (const auto& c : s.processor.challengers) probe->set_model_accuracy(c.name, c.accuracy, c.rolling_accuracy);
    }
    if (s.processor.guarded_updates > guarded_seen) {
      probe->guarded_updates.Increment(static_cast<double>(s.processor.guarded_updates - guarded_seen));
    }
  }
  guarded_seen = std::max(guarded_seen, s.processor.guarded_updates);
  std::lock_guard lock(status_mutex);
  add_series_point(s);
  latest = std::move(s);
}

void KafkaRunner::Impl::add_series_point(const RunnerStatus& s) {
  const auto now = Clock::now();
  const double dt = std::chrono::duration<double>(now - last_point).count();
  if (!series.empty() && dt < 1.0) return;
  const ProcessorStats& p = s.processor;
  SeriesPoint point;
  point.t = s.uptime_s;
  if (!series.empty() && dt > 0) {
    point.events_per_s = static_cast<double>(p.messages - point_messages) / dt;
    point.labels_per_s = static_cast<double>(p.labelled - point_labelled) / dt;
  }
  point.lag = s.lag_known ? s.lag : -1;
  point.version = p.model_version;
  point.drifts = p.drifts.size();
  point.data_drifts = p.data_drifts;
  if (TaskOf(config.model) == Task::kRegression) {
    point.mae.push_back(p.labelled > 0 ? p.mae : std::nan(""));
    for (const auto& c : p.challengers) point.mae.push_back(c.mae);
  } else {
    point.accuracy.push_back(p.accuracy);
    point.rolling.push_back(p.rolling_accuracy);
    for (const auto& c : p.challengers) {
      point.accuracy.push_back(c.accuracy);
      point.rolling.push_back(c.rolling_accuracy);
    }
  }
  series.push_back(std::move(point));
  if (series.size() > kSeriesPoints) series.pop_front();
  last_point = now;
  point_messages = p.messages;
  point_labelled = p.labelled;
}

void KafkaRunner::Impl::publish_snapshot(bool force) {
  const auto now = Clock::now();
  if (!force && now - last_snapshot < std::chrono::milliseconds(config.http.predict_refresh_ms)) return;
  // A snapshot copies the entities changed since the last cut and reads the others from the
  // store, which lacks a waiting cut's: the next batch's turn comes once it is written.
  if (!force && unwritten) return;
  const uint64_t messages = processor->stats().messages;
  if (!force && messages == snapshot_messages) return;
  const auto wall = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::system_clock::now().time_since_epoch());
  snapshots.publish(processor->predict_snapshot(wall.count()));
  last_snapshot = now;
  snapshot_messages = messages;
  std::string models = processor->models_json();
  std::map<std::string, std::string, std::less<>> views;
  auto view = [&](const std::string& name) {
    auto one = processor->model_json(name);
    if (one.ok()) views.emplace(name, std::move(one).value());
  };
  view(config.model.name);
  for (const auto& challenger : config.challengers) view(challenger.first);
  std::lock_guard lock(status_mutex);
  models_view = std::move(models);
  model_views = std::move(views);
}

void KafkaRunner::Impl::apply_commands(OutputSink& sink) {
  std::deque<std::pair<ModelCommand, std::shared_ptr<CommandAnswer>>> todo;
  {
    std::lock_guard lock(command_mutex);
    todo.swap(commands);
  }
  if (todo.empty()) return;
  std::vector<Result<std::string>> results;
  for (auto& queued : todo) results.push_back(processor->apply(queued.first, sink));
  // Published before answering: a client that reads the answer sees the change everywhere.
  publish_snapshot(/*force=*/true);
  publish_status();
  for (size_t i = 0; i < todo.size(); ++i) todo[i].second->set_value(std::move(results[i]));
}

Status KafkaRunner::run(const std::atomic<bool>& stop) {
  Impl& s = *impl_;
  KafkaSink sink(*s.producer, s.config.kafka, s.probe, s.replay.get());
  kafka::MessageBatch batch;
  std::vector<RawMessage> raw;
  const auto interval = std::chrono::milliseconds(s.config.state.commit_interval_ms);
  Clock::time_point last_status = Clock::now();
  if (s.config.http.enabled) s.publish_snapshot(/*force=*/true);
  s.running = true;
  // Commands still queued when run() ends are answered, not left waiting.
  struct Stopped {
    Impl& s;
    ~Stopped() {
      std::lock_guard lock(s.command_mutex);
      s.running = false;
      for (auto& queued : s.commands) {
        queued.second->set_value(Status::Unavailable("the pipeline stopped before applying it"));
      }
      s.commands.clear();
    }
  } stopped{s};
  while (!stop.load()) {
    if (s.auth->expired(Clock::now())) return Status::Unavailable(s.auth->give_up_message());
    if (s.disk->active()) {  // consume nothing until the refused checkpoint is written
      s.producer->poll();
      s.watch_broker();
      if (s.disk->retry_due(Clock::now())) {
        SL_RETURN_IF_ERROR(s.checkpoint_or_pause(&stop));
      } else {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
      s.publish_status();
      continue;
    }
    // While a checkpoint's write is in flight, back within a millisecond when idle to take its
    // result: its changelog markers and offsets follow the write as closely as when it blocked.
    const int poll_ms = s.writer.busy() ? std::min(s.config.kafka.poll_timeout_ms, 1) : s.config.kafka.poll_timeout_ms;
    SL_RETURN_IF_ERROR(s.consumer->poll(static_cast<size_t>(s.config.kafka.batch_size), poll_ms, &batch));
    if (!s.hook_error.ok()) return s.hook_error;
    raw.clear();
    for (const auto& m : batch.views()) {
      raw.push_back({{m.topic, m.partition, m.offset, m.timestamp_ms}, m.key, m.payload});
    }
    if (!raw.empty()) {
      Status processed = s.exactly_once ? s.exactly_once->process(*s.processor, raw, sink)
                                        : s.processor->process(raw, sink);
      if (!processed.ok()) return s.exactly_once ? s.exactly_once->abandon(processed) : processed;
    }
    batch.clear();
    s.producer->poll();
    s.watch_broker();
    const auto now = Clock::now();
    SL_RETURN_IF_ERROR(s.checkpoint_step(stop, now, interval));
    s.apply_commands(sink);
    if (s.config.http.enabled) s.publish_snapshot(/*force=*/false);
    if (!raw.empty() || now - last_status >= std::chrono::milliseconds(200)) {
      s.publish_status();
      last_status = now;
    }
  }
  // Drain: everything processed is flushed and checkpointed, then the group is left.
  spdlog::info("stopping: flushing predictions and writing the last checkpoint");
  SL_RETURN_IF_ERROR(s.checkpoint(&stop));
  SL_RETURN_IF_ERROR(s.consumer->close());
  if (!s.hook_error.ok()) return s.hook_error;
  if (s.exactly_once) s.exactly_once->finish();
  s.publish_status();
  return Status::Ok();
}

RunnerStatus KafkaRunner::status() const {
  std::lock_guard lock(impl_->status_mutex);
  return impl_->latest;
}

PipelineProbe* KafkaRunner::probe() const { return impl_->probe; }

const PipelineConfig& KafkaRunner::config() const { return impl_->config; }

std::string KafkaRunner::models_json() const {
  std::lock_guard lock(impl_->status_mutex);
  return impl_->models_view;
}

Result<std::string> KafkaRunner::model_json(const std::string& name) const {
  std::lock_guard lock(impl_->status_mutex);
  auto it = impl_->model_views.find(name);
  if (it == impl_->model_views.end()) return Status::NotFound("no model named " + QuoteForReason(name));
  return it->second;
}

Result<std::string> KafkaRunner::submit(ModelCommand command, std::chrono::milliseconds timeout) {
  Impl& s = *impl_;
  auto answer = std::make_shared<Impl::CommandAnswer>();
  auto future = answer->get_future();
  {
    std::lock_guard lock(s.command_mutex);
    if (!s.running) return Status::Unavailable("the pipeline is not running");
    s.commands.emplace_back(std::move(command), answer);
  }
  if (future.wait_for(timeout) != std::future_status::ready) {
    return Status::Unavailable("queued, but not applied within " + std::to_string(timeout.count()) +
                               " ms (the processing thread is busy); it may still apply: see GET /v1/models");
  }
  return future.get();
}

Result<std::unique_ptr<Predictor>> KafkaRunner::make_predictor() const {
  return Predictor::Create(impl_->config, &impl_->snapshots, impl_->store.get());
}

std::string KafkaRunner::status_json() const { return StatusToJson(status(), impl_->config); }

Readiness KafkaRunner::readiness() const {
  const RunnerStatus s = status();
  Readiness r = ReadinessOf(s.assigned, s.broker_ok, s.disk_error, s.auth_error, s.waiting_for);
  // Not for a few bad labels: only when none of the last many could be learned.
  if (r.ready && s.processor.labels_wrong_kind_in_a_row >= kWrongKindLabelsUnready) {
    r = {false, "the last " + std::to_string(s.processor.labels_wrong_kind_in_a_row) +
                    " labels were all dead-lettered for their kind: " + s.processor.label_kind_advice};
  }
  return r;
}

std::string KafkaRunner::series_json() const {
  std::string out;
  JsonWriter w(&out);
  const bool regression = TaskOf(impl_->config.model) == Task::kRegression;
  w.begin_object().field("metric", std::string_view(regression ? "mae" : "accuracy")).key("models").begin_array().string(impl_->config.model.name);
  for (const auto& challenger : impl_->config.challengers) w.string(challenger.first);
  w.end_array().key("points").begin_array();
  std::lock_guard lock(impl_->status_mutex);
  for (const auto& p : impl_->series) {
    w.begin_object()
        .field("t", std::round(p.t * 1000) / 1000)
        .field("events_per_s", std::round(p.events_per_s * 10) / 10)
        .field("labels_per_s", std::round(p.labels_per_s * 10) / 10);
    WriteLag(w, p.lag >= 0, p.lag)
        .field("version", p.version)
        .field("drifts", p.drifts)
        .field("data_drifts", p.data_drifts);
    w.key("accuracy").begin_array();
    for (double v : p.accuracy) w.number(v);
    w.end_array().key("rolling").begin_array();
    for (double v : p.rolling) w.number(v);
    w.end_array();
    if (regression) {
      w.key("mae").begin_array();
      for (double v : p.mae) w.number(v);
      w.end_array();
    }
    w.end_object();
  }
  w.end_array().end_object();
  return out;
}

std::vector<std::pair<std::string, std::string>> KafkaRunner::status_rows() const {
  const RunnerStatus s = status();
  const ProcessorStats& p = s.processor;
  auto number = [](double v) { return fmt::format("{:.4f}", v); };
  const bool regression = TaskOf(impl_->config.model) == Task::kRegression;
  std::vector<std::pair<std::string, std::string>> rows = {
      {"model", impl_->config.model.name + " (" + impl_->config.model.type + ")"},
      {"model version", std::to_string(p.model_version)},
      {"events in", std::to_string(p.messages)},
      {"predictions out", std::to_string(p.predictions)},
      {"dead letters", std::to_string(p.invalid + p.labels.unknown + p.labels.late)},
      {"labelled", std::to_string(p.labelled)},
      {regression ? "MAE" : "accuracy", number(regression ? p.mae : p.accuracy)},
      {regression ? "RMSE" : "rolling accuracy", number(regression ? p.rmse : p.rolling_accuracy)},
      {"lag", s.lag_known ? std::to_string(s.lag) : "unknown"},
      {"concept drifts", std::to_string(p.drifts.size())},
      {"data drifts", std::to_string(p.data_drifts)},
      {"broker", !s.auth_error.empty() ? "refuses authentication" : s.broker_ok ? "ok" : "unreachable"},
      {"state", s.disk_error.empty() ? "writable" : "refuses writes"},
  };
  for (const auto& c : p.challengers) {
    rows.emplace_back("challenger " + c.name + " (" + c.type + ")",
                      regression ? number(c.mae) + " MAE"
                                 : number(std::isfinite(c.rolling_accuracy) ? c.rolling_accuracy : 0) + " rolling");
  }
  if (p.labels_wrong_kind > 0) rows.emplace_back("labels of the wrong kind", std::to_string(p.labels_wrong_kind));
  if (p.labels_enabled) {
    rows.emplace_back("labels joined", std::to_string(p.labels.joined));
    rows.emplace_back("labels pending", std::to_string(p.pending_labels));
  }
  return rows;
}

Result<ModelCommand> ParseModelCommand(const std::string& name, const std::string& action, const std::string& body) {
  ModelCommand command;
  command.model = name;
  // The whole grammar is {} with an optional "version": compared without white space.
  std::string compact;
  bool in_string = false;
  for (char c : body) {
    if (c == '"') in_string = !in_string;
    if (in_string || (c != ' ' && c != '\t' && c != '\n' && c != '\r')) compact.push_back(c);
  }
  constexpr std::string_view kPrefix = R"({"version":)";
  std::optional<uint64_t> version;
  if (compact.size() > kPrefix.size() + 1 && compact.starts_with(kPrefix) && compact.back() == '}') {
    const std::string digits = compact.substr(kPrefix.size(), compact.size() - kPrefix.size() - 1);
    if (digits.empty() || digits.size() > 19 || digits.find_first_not_of("0123456789") != std::string::npos) {
      return Status::Invalid(R"("version" must be a positive integer)");
    }
    version = std::stoull(digits);
  } else if (!compact.empty() && compact != "{}") {
    return Status::Invalid(R"(body must be empty, {} or {"version": <positive integer>})");
  }
  if (action == "rollback") {
    command.kind = ModelCommand::Kind::kRollback;
    command.version = version;
    if (version && *version == 0) return Status::Invalid("version must be at least 1");
  } else if (action == "promote") {
    command.kind = ModelCommand::Kind::kPromote;
    if (version) return Status::Invalid("promote takes no version: the challenger's model becomes a new version");
  } else {
    return Status::Invalid("unknown action " + QuoteForReason(action) + ": rollback or promote");
  }
  return command;
}

std::string StatusToJson(const RunnerStatus& s, const PipelineConfig& config) {
  const ProcessorStats& p = s.processor;
  // Undefined figures are null: a regression's accuracy, any figure before the first label.
  const bool regression = TaskOf(config.model) == Task::kRegression;
  const double undefined = std::nan("");
  auto classification = [&](double v) { return regression || p.labelled == 0 ? undefined : v; };
  std::string out;
  JsonWriter w(&out);
  w.begin_object()
      .field("model", std::string_view(config.model.name))
      .field("version", p.model_version)
      .field("events_in", p.messages)
      .field("predictions_out", p.predictions)
      .field("dlq", p.invalid + p.labels.unknown + p.labels.late)
      .field("labelled", p.labelled);
  w.key("accuracy").number(classification(p.accuracy));
  w.key("rolling_accuracy").number(classification(p.rolling_accuracy));
  w.key("log_loss").number(classification(p.log_loss));
  w.key("majority_baseline").number(classification(p.majority_baseline));
  w.field("labels_wrong_kind", p.labels_wrong_kind);
  if (p.labels_wrong_kind > 0) {
    w.field("labels_wrong_kind_in_a_row", p.labels_wrong_kind_in_a_row)
        .field("label_kind_advice", std::string_view(p.label_kind_advice));
  }
  w.field("type", std::string_view(config.model.type))
      .field("trained", p.model_trained)
      .field("memory_bytes", p.model_bytes)
      .field("entities", uint64_t{p.entities_cached});
  WriteLag(w, s.lag_known, s.lag)
      .field("checkpoints", s.checkpoints)
      .field("assigned", s.assigned)
      .field("broker_ok", s.broker_ok)
      .field("state_writable", s.disk_error.empty())
      .field("uptime_s", std::round(s.uptime_s * 1000) / 1000);  // milliseconds are enough
  w.key("drifts").begin_array();
  for (const auto& d : p.drifts) w.begin_object().field("events", d.events).field("ts", d.ts_ms).end_object();
  w.end_array();
  if (regression) {
    w.key("mae").number(p.labelled > 0 ? p.mae : undefined);
    w.key("rmse").number(p.labelled > 0 ? p.rmse : undefined);
    w.key("r2").number(p.labelled > 0 ? p.r2 : undefined);
  }
  if (!p.challengers.empty()) {
    w.key("challengers").begin_array();
    for (const auto& c : p.challengers) WriteChallengerJson(w, c);
    w.end_array();
  }
  if (p.selection.enabled) WriteSelectionJson(w.key("selection"), p.selection);
  if (!p.slices.empty()) {
    w.key("slices").begin_array();
    for (const auto& f : p.slices) WriteFieldSlicesJson(w, f);
    w.end_array();
  }
  if (p.labels_enabled) {
    const auto& l = p.labels;
    w.key("labels")
        .begin_object()
        .field("pending", p.pending_labels)
        .field("early_waiting", p.early_labels)
        .field("joined", l.joined)
        .field("early", l.early)
        .field("unknown", l.unknown)
        .field("late", l.late)
        .field("duplicate", l.duplicate)
        .field("expired", l.expired)
        .field("evicted", l.evicted)
        .end_object();
  }
  w.end_object();
  return out;
}

}  // namespace streamlearn::pipeline
