#include "streamlearn/pipeline/processor.hpp"

#include <fmt/format.h>
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cmath>
#include <unordered_map>

#include "streamlearn/core/bytes.hpp"
#include "streamlearn/core/event_decoder.hpp"
#include "streamlearn/core/json_text.hpp"
#include "streamlearn/drift/factory.hpp"
#include "streamlearn/eval/prequential.hpp"
#include "streamlearn/features/features.hpp"
#include "streamlearn/learn/logistic_regression.hpp"
#include "streamlearn/pipeline/probe.hpp"
#include "streamlearn/state/store.hpp"

namespace streamlearn::pipeline {
namespace {

constexpr std::string_view kSnapshotMagic = "SLPM";
constexpr uint32_t kSnapshotVersion = 1;

using Clock = std::chrono::steady_clock;

struct CachedEntity {
  features::EntityState state;
  bool dirty = false;
};

}  // namespace

struct Processor::Impl {
  PipelineConfig config;
  state::StateStore* store = nullptr;
  PipelineProbe* probe = nullptr;

  EventDecoder decoder;
  features::FeatureDictionary dictionary;
  features::FeatureBuilder builder;
  learn::LogisticRegression model;
  std::unique_ptr<drift::DriftDetector> detector;
  eval::PrequentialBinary metrics;

  uint64_t model_version = 1;
  bool in_warning = false;  // the detector's last level was a warning
  ProcessorStats counts;  // messages, predictions, invalid, labelled, drifts
  features::StringMap<CachedEntity> entities;  // transparent: looked up by string_view
  std::vector<std::pair<const std::string*, CachedEntity*>> dirty;
  std::map<std::pair<std::string, int32_t>, int64_t> next_offsets;

  // Reused per batch so the steady state does not allocate.
  std::vector<Event> pending;  // decoded valid events of the batch, reused
  size_t pending_used = 0;
  std::vector<std::string_view> missing_keys;
  std::vector<std::optional<std::string>> loaded;
  FeatureVector x;
  std::string json;

  Impl(const PipelineConfig& c, features::FeatureConfig fc, learn::LogisticConfig lc,
       std::unique_ptr<drift::DriftDetector> d)
      : config(c),
        dictionary(fc.max_dense_features),
        builder(fc, &dictionary),
        model(lc),
        detector(std::move(d)),
        metrics(static_cast<size_t>(c.metrics.rolling_window)) {}

  Status load_entities();
  Status handle(const Event& event, Clock::time_point received, OutputSink& sink);
  std::string snapshot() const;
  Status restore(std::string_view sealed);
  Status publish_drift(std::string_view level, uint64_t version, std::string_view action, const Event& event,
                       double error_before, OutputSink& sink);
};

Processor::Processor(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Processor::~Processor() = default;

Result<std::unique_ptr<Processor>> Processor::Create(const PipelineConfig& config, state::StateStore* store,
                                                     PipelineProbe* probe) {
  features::FeatureConfig fc;
  fc.entity_aggregates = config.features.entity_aggregates;
  fc.ewma_half_life_s = config.features.ewma_half_life_s;
  fc.hash_bits = static_cast<uint32_t>(config.features.hash_bits);
  SL_RETURN_IF_ERROR(fc.validate());
  learn::LogisticConfig lc;
  lc.learning_rate = config.model.learning_rate;
  lc.l2 = config.model.l2;
  lc.hash_bits = fc.hash_bits;
  SL_RETURN_IF_ERROR(lc.validate());
  std::map<std::string, std::string> detector_params = config.drift.params;
  if (config.drift.detector == "adwin" && !detector_params.count("delta")) {
    detector_params["delta"] = fmt::format("{}", config.drift.delta);
  }
  auto detector = drift::MakeDetector(config.drift.detector, detector_params);
  if (!detector.ok()) return Status::Invalid("drift.params: " + detector.status().message());

  auto impl = std::make_unique<Impl>(config, fc, lc, std::move(detector).value());
  impl->store = store;
  impl->probe = probe;
  if (store) {
    auto snapshot = store->get_model(config.model.name);
    if (!snapshot.ok()) return snapshot.status();
    if (snapshot->has_value()) {
      Status st = impl->restore(**snapshot);
      if (!st.ok()) {
        return Status(st.code(), "model '" + config.model.name + "' in " + store->dir() + ": " + st.message());
      }
      spdlog::info("restored model '{}' version {} ({} events trained)", config.model.name, impl->model_version,
                   impl->model.trained());
    }
    auto offsets = store->offsets();
    if (!offsets.ok()) return offsets.status();
    for (const auto& [tp, next] : *offsets) impl->next_offsets[{tp.topic, tp.partition}] = next;
  }
  if (probe) probe->model_version.Set(static_cast<double>(impl->model_version));
  return std::unique_ptr<Processor>(new Processor(std::move(impl)));
}

Status Processor::process(std::span<const RawMessage> batch, OutputSink& sink) {
  Impl& s = *impl_;
  const Clock::time_point received = Clock::now();
  // 1. Decode and validate; bad events go to the dead letters, in order with the rest.
  if (s.pending.size() < batch.size()) s.pending.resize(batch.size());
  s.pending_used = 0;
  for (size_t i = 0; i < batch.size(); ++i) {
    const RawMessage& m = batch[i];
    s.counts.messages++;
    s.next_offsets[{std::string(m.source.topic), m.source.partition}] = m.source.offset + 1;
    Event& event = s.pending[s.pending_used];
    Status st = s.decoder.decode(m.payload, m.key, m.source, &event);
    if (st.ok() && event.label && event.label->kind != Label::Kind::kBinary) {
      st = Status::Invalid("label must be 0, 1 or a boolean: model '" + s.config.model.name + "' is a binary " +
                           s.config.model.type + " model");
    }
    if (!st.ok()) {
      s.counts.invalid++;
      if (s.probe) s.probe->events_invalid.Increment();
      SL_RETURN_IF_ERROR(sink.dead_letter(m, st.message()));
      continue;
    }
    s.pending_used++;
  }
  if (s.probe) s.probe->events_in.Increment(static_cast<double>(batch.size()));
  // 2. Entity states the cache lacks, in one MultiGet.
  SL_RETURN_IF_ERROR(s.load_entities());
  // 3. Test, then train, one event at a time, in order.
  for (size_t i = 0; i < s.pending_used; ++i) {
    SL_RETURN_IF_ERROR(s.handle(s.pending[i], received, sink));
  }
  if (s.probe) {
    s.probe->accuracy.Set(s.metrics.accuracy());
    s.probe->rolling_accuracy.Set(s.metrics.rolling_accuracy());
    s.probe->entities_cached.Set(static_cast<double>(s.entities.size()));
  }
  return Status::Ok();
}

Status Processor::Impl::load_entities() {
  if (!store) return Status::Ok();
  missing_keys.clear();
  for (size_t i = 0; i < pending_used; ++i) {
    const std::string& entity = pending[i].entity;
    if (entities.find(entity) == entities.end()) {
      entities.emplace(entity, CachedEntity{});  // placeholder; also dedups keys in this batch
      missing_keys.push_back(entities.find(entity)->first);
    }
  }
  if (missing_keys.empty()) return Status::Ok();
  SL_RETURN_IF_ERROR(store->get_entities(missing_keys, &loaded));
  for (size_t i = 0; i < missing_keys.size(); ++i) {
    if (!loaded[i]) continue;
    auto& cached = entities.find(missing_keys[i])->second;
    Status st = features::EntityState::decode(*loaded[i], &cached.state);
    if (!st.ok()) {
      return Status::Corruption("entity '" + std::string(missing_keys[i]) + "' in " + store->dir() + ": " +
                                st.message());
    }
  }
  return Status::Ok();
}

Status Processor::Impl::handle(const Event& event, Clock::time_point received, OutputSink& sink) {
  auto [it, inserted] = entities.try_emplace(event.entity);
  CachedEntity& entity = it->second;

  builder.build(event, entity.state, &x);
  const double score = model.predict_proba(x);
  const int predicted = score >= 0.5 ? 1 : 0;
  const auto latency = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - received);

  json.clear();
  json.append(R"({"id":)");
  AppendJsonString(json, event.id);
  json.append(R"(,"entity":)");
  AppendJsonString(json, event.entity);
  json.append(R"(,"model":)");
  AppendJsonString(json, config.model.name);
  // Shortest round-trip formatting of the score: a replayed event yields the same bytes.
  fmt::format_to(std::back_inserter(json), R"(,"version":{},"score":{},"class":{},"ts":{},"latency_us":{}}})",
                 model_version, score, predicted, event.ts_ms, latency.count());
  SL_RETURN_IF_ERROR(sink.prediction(event.entity, json));
  counts.predictions++;
  if (probe) {
    probe->predictions_out.Increment();
    probe->latency_seconds.Observe(static_cast<double>(latency.count()) * 1e-6);
  }

  if (event.label) {
    const int y = event.label->value >= 0.5 ? 1 : 0;
    metrics.update(score, predicted, y);
    counts.labelled++;
    const double error_before = detector->estimation();
    const drift::DriftLevel level = detector->update(predicted != y ? 1.0 : 0.0);
    const bool was_warning = in_warning;
    in_warning = level == drift::DriftLevel::kWarning;
    if (level == drift::DriftLevel::kDrift && detector->estimation() <= error_before) {
      // Two-sided detectors (ADWIN, KSWIN, Page-Hinkley "both") also flag a model whose
      // error is falling because it is still learning. That is no concept drift; resetting
      // would throw the progress away.
      counts.improvements++;
      spdlog::debug("{}: error fell from {:.4f} to {:.4f} after {} events: improvement, not drift", detector->name(),
                    error_before, detector->estimation(), counts.predictions);
    } else if (level == drift::DriftLevel::kDrift) {
      const uint64_t detected_version = model_version;
      if (config.drift.action == "reset") {
        model.reset_weights();
        model_version++;
        if (probe) probe->model_version.Set(static_cast<double>(model_version));
      }
      counts.drifts.push_back({counts.predictions, event.ts_ms, event.id, error_before, detector->estimation()});
      if (probe) probe->drifts.Increment();
      spdlog::info("drift detected by {} after {} events (event {}); action {}, model version {}", detector->name(),
                   counts.predictions, event.id, config.drift.action, model_version);
      SL_RETURN_IF_ERROR(publish_drift("drift", detected_version, config.drift.action, event, error_before, sink));
    } else if (in_warning && !was_warning) {
      // Published once when the warning zone is entered, not for every update inside it.
      counts.warnings++;
      SL_RETURN_IF_ERROR(publish_drift("warning", model_version, "none", event, error_before, sink));
    }
    model.learn(x, y);
    if (probe) probe->labels_learned.Increment();
  }

  builder.update(event, &entity.state);
  if (!entity.dirty) {
    entity.dirty = true;
    dirty.emplace_back(&it->first, &entity);
  }
  return Status::Ok();
}

Status Processor::Impl::publish_drift(std::string_view level, uint64_t version, std::string_view action,
                                      const Event& event, double error_before, OutputSink& sink) {
  json.clear();
  auto out = std::back_inserter(json);
  json.append(R"({"model":)");
  AppendJsonString(json, config.model.name);
  fmt::format_to(out, R"(,"version":{},"detector":"{}","level":"{}","events":{},"ts":{},"action":"{}",)", version,
                 detector->name(), level, counts.predictions, event.ts_ms, action);
  json.append(R"("event_id":)");
  AppendJsonString(json, event.id);
  json.append(R"(,"stats":{)");
  for (const auto& [name, value] : detector->stats()) {
    if (!std::isfinite(value)) continue;  // JSON has no NaN/Inf
    fmt::format_to(out, R"("{}":{},)", name, value);
  }
  fmt::format_to(out, R"("error_before":{},"error_after":{}}}}})", error_before, detector->estimation());
  return sink.drift(config.model.name, json);
}

std::string Processor::Impl::snapshot() const {
  std::string payload;
  ByteWriter w(&payload);
  w.str(config.model.name);
  w.str(config.model.type);
  w.u64(model_version);
  w.u64(counts.messages);
  w.u64(counts.predictions);
  w.u64(counts.invalid);
  w.u64(counts.labelled);
  w.u32(static_cast<uint32_t>(counts.drifts.size()));
  for (const auto& d : counts.drifts) {
    w.u64(d.events);
    w.i64(d.ts_ms);
    w.str(d.event_id);
    w.f64(d.error_before);
    w.f64(d.error_after);
  }
  w.u64(counts.improvements);
  w.u64(counts.warnings);
  w.u8(in_warning ? 1 : 0);
  dictionary.save(w);
  model.save(w);
  detector->save(w);
  metrics.save(w);
  return SealSnapshot(kSnapshotMagic, kSnapshotVersion, payload);
}

Status Processor::Impl::restore(std::string_view sealed) {
  auto payload = OpenSnapshot(kSnapshotMagic, kSnapshotVersion, sealed);
  if (!payload.ok()) return payload.status();
  ByteReader r(*payload);
  std::string name = r.str();
  std::string type = r.str();
  if (r.ok() && type != config.model.type) {
    return Status::FailedPrecondition("stored model is of type '" + type + "', the config says '" +
                                      config.model.type + "'");
  }
  model_version = r.u64();
  counts.messages = r.u64();
  counts.predictions = r.u64();
  counts.invalid = r.u64();
  counts.labelled = r.u64();
  uint32_t n = r.u32();
  if (!r.ok() || n > r.remaining() / 36) return Status::Corruption("snapshot header");
  counts.drifts.clear();
  for (uint32_t i = 0; i < n; ++i) {
    DriftRecord d;
    d.events = r.u64();
    d.ts_ms = r.i64();
    d.event_id = r.str();
    d.error_before = r.f64();
    d.error_after = r.f64();
    counts.drifts.push_back(std::move(d));
  }
  counts.improvements = r.u64();
  counts.warnings = r.u64();
  in_warning = r.u8() != 0;
  SL_RETURN_IF_ERROR(dictionary.load(r));
  SL_RETURN_IF_ERROR(model.load(r));
  SL_RETURN_IF_ERROR(detector->load(r));
  SL_RETURN_IF_ERROR(metrics.load(r));
  if (!r.ok() || !r.at_end()) return Status::Corruption("snapshot has trailing or missing bytes");
  // The builder caches dictionary ids; a fresh one re-reads them from the loaded dictionary.
  return Status::Ok();
}

Result<SnapshotInfo> InspectSnapshot(std::string_view sealed) {
  auto payload = OpenSnapshot(kSnapshotMagic, kSnapshotVersion, sealed);
  if (!payload.ok()) return payload.status();
  ByteReader r(*payload);
  SnapshotInfo info;
  info.name = r.str();
  info.type = r.str();
  info.version = r.u64();
  info.messages = r.u64();
  info.predictions = r.u64();
  info.invalid = r.u64();
  info.labelled = r.u64();
  info.drifts = r.u32();
  if (!r.ok()) return Status::Corruption("snapshot header");
  info.bytes = sealed.size();
  info.checksum = Checksum(sealed);
  return info;
}

void Processor::checkpoint(state::CheckpointBatch& batch) {
  Impl& s = *impl_;
  std::string bytes;
  for (auto& [key, entity] : s.dirty) {
    entity->state.encode(&bytes);
    batch.put_entity(*key, bytes);
    entity->dirty = false;
  }
  s.dirty.clear();
  batch.put_model(s.config.model.name, s.snapshot());
  for (const auto& [tp, next] : s.next_offsets) batch.put_offset({tp.first, tp.second}, next);
}

const std::map<std::pair<std::string, int32_t>, int64_t>& Processor::next_offsets() const {
  return impl_->next_offsets;
}

void Processor::forget_partitions() { impl_->next_offsets.clear(); }

ProcessorStats Processor::stats() const {
  const Impl& s = *impl_;
  ProcessorStats out = s.counts;
  out.accuracy = s.metrics.accuracy();
  out.rolling_accuracy = s.metrics.rolling_accuracy();
  out.log_loss = s.metrics.log_loss();
  out.majority_baseline = s.metrics.majority_baseline_accuracy();
  out.model_version = s.model_version;
  out.model_trained = s.model.trained();
  out.guarded_updates = s.model.guarded_updates();
  out.entities_cached = s.entities.size();
  return out;
}

std::string Processor::model_snapshot() const { return impl_->snapshot(); }

}  // namespace streamlearn::pipeline
