#include "streamlearn/pipeline/runner.hpp"

#include <fmt/format.h>
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <spdlog/spdlog.h>

#include <chrono>

#include "streamlearn/core/json_text.hpp"
#include "streamlearn/kafka/kafka.hpp"
#include "streamlearn/pipeline/probe.hpp"
#include "streamlearn/state/store.hpp"

namespace streamlearn::pipeline {
namespace {

using Clock = std::chrono::steady_clock;

class KafkaSink : public OutputSink {
 public:
  KafkaSink(kafka::Producer& producer, const KafkaSettings& settings) : producer_(producer), settings_(settings) {}

  Status prediction(std::string_view entity, std::string_view json) override {
    return producer_.produce(settings_.predictions_topic, entity, json);
  }
  Status dead_letter(const RawMessage& m, std::string_view reason) override {
    partition_ = std::to_string(m.source.partition);
    offset_ = std::to_string(m.source.offset);
    return producer_.produce(settings_.dlq_topic, m.key, m.payload,
                             {{"error", reason},
                              {"source.topic", m.source.topic},
                              {"source.partition", partition_},
                              {"source.offset", offset_}});
  }
  Status drift(std::string_view model, std::string_view json) override {
    return producer_.produce(settings_.drift_topic, model, json);
  }

 private:
  kafka::Producer& producer_;
  const KafkaSettings& settings_;
  std::string partition_, offset_;
};

}  // namespace

struct KafkaRunner::Impl {
  PipelineConfig config;
  PipelineProbe* probe = nullptr;
  std::unique_ptr<state::StateStore> store;
  std::unique_ptr<Processor> processor;
  std::unique_ptr<kafka::Producer> producer;
  std::unique_ptr<kafka::Consumer> consumer;
  Clock::time_point started = Clock::now();
  Clock::time_point last_checkpoint = Clock::now();
  uint64_t checkpoints = 0;
  uint64_t checkpointed_messages = 0;  // processor's message count at the last checkpoint
  bool assigned = false;
  bool broker_ok = true;
  Status hook_error;  // a failure inside a rebalance hook, reported by run()

  mutable std::mutex status_mutex;
  RunnerStatus latest;

  Status checkpoint(const std::atomic<bool>* stop);
  void publish_status();
};

KafkaRunner::KafkaRunner(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
KafkaRunner::~KafkaRunner() = default;

Result<std::unique_ptr<KafkaRunner>> KafkaRunner::Create(const PipelineConfig& config, PipelineProbe* probe) {
  auto impl = std::make_unique<Impl>();
  impl->config = config;
  impl->probe = probe;
  auto store = state::StateStore::Open(config.state.dir);
  if (!store.ok()) return store.status();
  impl->store = std::move(store).value();
  auto processor = Processor::Create(config, impl->store.get(), probe);
  if (!processor.ok()) return processor.status();
  impl->processor = std::move(processor).value();

  kafka::Properties common = {{"bootstrap.servers", config.kafka.bootstrap_servers}};
  kafka::Properties producer_props = common;
  producer_props["enable.idempotence"] = "true";  // retries never duplicate or reorder
  producer_props["linger.ms"] = "5";
  producer_props["message.timeout.ms"] = "0";     // never give up on a prediction: an outage pauses us
  kafka::Properties consumer_props = common;
  consumer_props["group.id"] = config.kafka.group_id;
  consumer_props["enable.auto.commit"] = "false";    // RocksDB holds the truth; Kafka gets a copy for lag
  consumer_props["auto.offset.reset"] = "earliest";
  consumer_props["session.timeout.ms"] = "6000";     // the smallest a real broker accepts by default
  consumer_props["fetch.wait.max.ms"] = "50";
  for (const auto& [k, v] : config.kafka.properties) {
    producer_props[k] = v;
    consumer_props[k] = v;
  }
  auto producer = kafka::Producer::Create(producer_props);
  if (!producer.ok()) return producer.status();
  impl->producer = std::move(producer).value();

  Impl* self = impl.get();
  kafka::RebalanceHooks hooks;
  hooks.on_assign = [self](std::vector<kafka::PartitionOffset>& parts) {
    // Resume where the last checkpoint left off: RocksDB, not Kafka, is the source of truth.
    const auto& stored = self->processor->next_offsets();
    for (auto& p : parts) {
      auto it = stored.find({p.topic, p.partition});
      p.offset = it == stored.end() ? -1 : it->second;
      spdlog::info("partition {}-{} resumes at {}", p.topic, p.partition,
                   p.offset >= 0 ? std::to_string(p.offset) : std::string("the group's committed offset"));
    }
    self->assigned = !parts.empty();
  };
  hooks.on_revoke = [self](const std::vector<kafka::PartitionOffset>&) {
    Status st = self->checkpoint(nullptr);
    if (!st.ok() && self->hook_error.ok()) self->hook_error = st;
    self->assigned = false;
  };
  auto consumer = kafka::Consumer::Create(consumer_props, std::move(hooks));
  if (!consumer.ok()) return consumer.status();
  impl->consumer = std::move(consumer).value();
  SL_RETURN_IF_ERROR(impl->consumer->subscribe({config.kafka.events_topic}));
  return std::unique_ptr<KafkaRunner>(new KafkaRunner(std::move(impl)));
}

Status KafkaRunner::Impl::checkpoint(const std::atomic<bool>* stop) {
  const Clock::time_point begin = Clock::now();
  // Every prediction of the events being checkpointed must be acknowledged first:
  // otherwise a crash after the checkpoint would lose them.
  int waited_while_stopping_ms = 0;
  for (;;) {
    Status st = producer->flush(1000);
    if (st.ok()) break;
    if (broker_ok) spdlog::warn("checkpoint waits for the broker: {}", st.message());
    broker_ok = false;
    publish_status();
    if (stop && stop->load() && (waited_while_stopping_ms += 1000) >= 5000) {
      // Shutting down during an outage: keep the last good checkpoint; a restart replays.
      return Status::Unavailable("broker unreachable while stopping; " + st.message() +
                                 "; the next start replays from the last checkpoint");
    }
  }
  if (!broker_ok) spdlog::info("broker reachable again; checkpoint proceeds");
  broker_ok = true;
  if (producer->failed() > 0) {
    return Status::Unavailable("predictions were lost in delivery (" + producer->take_delivery_error() +
                               "); not checkpointing past them, restart replays from the last checkpoint");
  }
  const uint64_t processed = processor->stats().messages;
  if (processed == checkpointed_messages && checkpoints > 0) {
    last_checkpoint = Clock::now();  // nothing new: no write, no commit
    return Status::Ok();
  }
  state::CheckpointBatch batch = store->begin_checkpoint();
  processor->checkpoint(batch);
  SL_RETURN_IF_ERROR(store->commit(batch));
  checkpointed_messages = processed;
  // Kafka only accepts commits for partitions this member holds; the others stay in RocksDB.
  std::vector<kafka::PartitionOffset> offsets;
  if (consumer) {
    for (const auto& held : consumer->assignment()) {
      auto it = processor->next_offsets().find({held.topic, held.partition});
      if (it != processor->next_offsets().end()) offsets.push_back({held.topic, held.partition, it->second});
    }
  }
  Status commit = consumer ? consumer->commit_async(offsets) : Status::Ok();
  if (!commit.ok()) spdlog::debug("kafka offset commit (for lag only): {}", commit.message());
  checkpoints++;
  last_checkpoint = Clock::now();
  if (probe) {
    probe->checkpoints.Increment();
    probe->checkpoint_seconds.Observe(std::chrono::duration<double>(last_checkpoint - begin).count());
  }
  return Status::Ok();
}

void KafkaRunner::Impl::publish_status() {
  RunnerStatus s;
  s.processor = processor->stats();
  s.lag = consumer ? consumer->lag() : 0;
  s.checkpoints = checkpoints;
  s.assigned = assigned;
  s.broker_ok = broker_ok;
  s.uptime_s = std::chrono::duration<double>(Clock::now() - started).count();
  if (probe) probe->consumer_lag.Set(static_cast<double>(s.lag));
  std::lock_guard lock(status_mutex);
  latest = std::move(s);
}

Status KafkaRunner::run(const std::atomic<bool>& stop) {
  Impl& s = *impl_;
  KafkaSink sink(*s.producer, s.config.kafka);
  kafka::MessageBatch batch;
  std::vector<RawMessage> raw;
  const auto interval = std::chrono::milliseconds(s.config.state.commit_interval_ms);
  Clock::time_point last_status = Clock::now();
  while (!stop.load()) {
    SL_RETURN_IF_ERROR(s.consumer->poll(static_cast<size_t>(s.config.kafka.batch_size),
                                        s.config.kafka.poll_timeout_ms, &batch));
    if (!s.hook_error.ok()) return s.hook_error;
    raw.clear();
    for (const auto& m : batch.views()) {
      raw.push_back({{m.topic, m.partition, m.offset, m.timestamp_ms}, m.key, m.payload});
    }
    if (!raw.empty()) SL_RETURN_IF_ERROR(s.processor->process(raw, sink));
    batch.clear();
    s.producer->poll();
    const auto now = Clock::now();
    if (now - s.last_checkpoint >= interval) SL_RETURN_IF_ERROR(s.checkpoint(&stop));
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
  s.publish_status();
  return Status::Ok();
}

RunnerStatus KafkaRunner::status() const {
  std::lock_guard lock(impl_->status_mutex);
  return impl_->latest;
}

PipelineProbe* KafkaRunner::probe() const { return impl_->probe; }

std::string KafkaRunner::status_json() const { return StatusToJson(status(), impl_->config); }

std::string StatusToJson(const RunnerStatus& s, const PipelineConfig& config) {
  std::string out = R"({"model":)";
  AppendJsonString(out, config.model.name);
  fmt::format_to(std::back_inserter(out),
                 R"(,"version":{},"events_in":{},"predictions_out":{},"dlq":{},"labelled":{},"accuracy":{},)"
                 R"("rolling_accuracy":{},"log_loss":{},"majority_baseline":{},"trained":{},"entities":{},"lag":{},)"
                 R"("checkpoints":{},"assigned":{},"broker_ok":{},"uptime_s":{:.3f},"drifts":[)",
                 s.processor.model_version, s.processor.messages, s.processor.predictions, s.processor.invalid,
                 s.processor.labelled, s.processor.accuracy, s.processor.rolling_accuracy, s.processor.log_loss,
                 s.processor.majority_baseline, s.processor.model_trained, s.processor.entities_cached, s.lag,
                 s.checkpoints, s.assigned, s.broker_ok, s.uptime_s);
  for (size_t i = 0; i < s.processor.drifts.size(); ++i) {
    const auto& d = s.processor.drifts[i];
    fmt::format_to(std::back_inserter(out), R"({}{{"events":{},"ts":{}}})", i ? "," : "", d.events, d.ts_ms);
  }
  out.append("]}");
  return out;
}

}  // namespace streamlearn::pipeline
