#include "streamlearn/pipeline/processor.hpp"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <unordered_map>

#include "streamlearn/core/bytes.hpp"
#include "streamlearn/core/event_decoder.hpp"
#include "streamlearn/core/json_text.hpp"
#include "streamlearn/core/json_writer.hpp"
#include "streamlearn/core/label_decoder.hpp"
#include "streamlearn/drift/data_drift.hpp"
#include "streamlearn/drift/factory.hpp"
#include "streamlearn/eval/metrics.hpp"
#include "streamlearn/features/features.hpp"
#include "streamlearn/features/lags.hpp"
#include "streamlearn/learn/learner_factory.hpp"
#include "streamlearn/learn/linear_update.hpp"
#include "streamlearn/pipeline/entity_cache.hpp"
#include "streamlearn/pipeline/label_join.hpp"
#include "streamlearn/pipeline/predict.hpp"
#include "streamlearn/pipeline/probe.hpp"
#include "divergence_guard.hpp"
#include "data_drift_settings.hpp"
#include "drift_policy.hpp"
#include "label_kind_watch.hpp"
#include "model_selection.hpp"
#include "target_scaler.hpp"
#include "streamlearn/pipeline/scoring.hpp"
#include "streamlearn/pipeline/slices.hpp"
#include "streamlearn/state/store.hpp"

namespace streamlearn::pipeline {
namespace {

constexpr std::string_view kSnapshotMagic = "SLPM";
// 3: regression's target scaler and divergence guard, stream lags. A processor with none of
// them writes version 2 (the same bytes as before they existed, readable by older builds).
constexpr uint32_t kSnapshotVersion = 3;
constexpr uint32_t kSnapshotVersionV2 = 2;  // 2: the label join's counters and stream time

using Clock = std::chrono::steady_clock;

// This build's snapshot, or one of version 2 (it lacks the trailing regression parts).
Result<std::string_view> OpenProcessorSnapshot(std::string_view sealed, uint32_t* version) {
  auto payload = OpenSnapshot(kSnapshotMagic, kSnapshotVersion, sealed);
  if (payload.ok() || payload.status().code() != ErrorCode::kFailedPrecondition) return payload;
  auto older = OpenSnapshot(kSnapshotMagic, kSnapshotVersionV2, sealed);
  if (!older.ok()) return payload.status();  // names the version this build writes
  *version = kSnapshotVersionV2;
  return older;
}

// One message of a batch, in order: an event (index into the decoded events) or a label.
struct BatchOp {
  bool is_label = false;
  size_t index = 0;  // into Impl::pending or Impl::label_records
  size_t raw = 0;    // into the batch
  double target = 0;  // the label as the model learns it (0/1, class index, value); labelled only
};

// Test-then-train figures of one model, for its task.
struct ModelMetrics {
  eval::PrequentialClassifier classification;
  eval::PrequentialRegressor regression;
  explicit ModelMetrics(size_t window)
      : classification(eval::ClassifierMetricsOptions{window}), regression(eval::RegressorMetricsOptions{window}) {}
};

// A challenger: another model on the same stream, scored and trained like the champion,
// never published.
struct Challenger {
  std::string name;
  Task task;
  std::unique_ptr<learn::Learner> model;
  bool scores_probability = false;  // the learner's, read once
  learn::Prediction prediction;
  // What its last predict_keeping() kept for learning the same vector (see learn_from).
  std::unique_ptr<learn::PredictionMemo> memo;
  ModelMetrics metrics;
};

}  // namespace

struct Processor::Impl {
  PipelineConfig config;
  state::StateStore* store = nullptr;
  PipelineProbe* probe = nullptr;

  EventDecoder decoder;
  features::FeatureDictionary dictionary;
  features::FeatureBuilder builder;
  std::optional<features::StreamLags> lags;  // features.lags
  std::unique_ptr<learn::Learner> model;
  std::unique_ptr<learn::PredictionMemo> model_memo;  // the model's, as Challenger::memo
  learn::Prediction prediction;  // reused: softmax probabilities without allocating
  Task task = Task::kBinary;
  bool scores_probability = false;  // the learner's, read once
  // Softmax: class names in order of first appearance; the index is what the model learns.
  std::vector<std::string> class_names;
  std::unordered_map<std::string, uint32_t> class_ids;
  std::vector<Challenger> challengers;
  std::unique_ptr<ModelSelector> selector;    // selection.enabled: which candidate serves
  learn::Prediction candidate_prediction;     // the model's, scored for the selector
  std::unique_ptr<DriftPolicy> drift_policy;  // detectors, background learner, action
  std::optional<drift::DataDriftMonitor> data_drift;
  DataDriftSampler data_drift_sample{1};  // which events data_drift watches
  std::unique_ptr<SliceMetrics> slices;  // metrics.slices only
  const Event* slicing = nullptr;        // the event whose outcome the slices take next
  int32_t source_partition = -1;         // the input partition of the event being handled
  Clock::time_point slices_reported{};    // when the probe's slice gauges were last set
  // The batch's predictions, their latencies and the labels learned, told to the probe once
  // per batch.
  uint64_t predictions_unreported = 0;
  uint64_t learned_unreported = 0;
  HistogramBatch latency_batch{PipelineProbe::LatencyBounds()};
  void report_batch();
  ModelMetrics metrics;
  std::optional<TargetScaler> target_scaler;  // regression only
  std::optional<DivergenceGuard> divergence;  // regression only
  LabelDecoder label_decoder;
  std::unique_ptr<LabelJoin> join;  // labels.enabled only
  LabelJoinCounts join_reported;    // what the probe has been told
  bool told_not_copartitioned = false;  // logged once (note_label_partition)
  std::function<void(const LearnOutcome&)> observer;
  std::function<void(const DecodedEvent&)> decode_observer;

  uint64_t model_version = 1;
  std::string_view version_cause = "start";  // ChampionVersion::cause
  // The model registry (models.keep): versions the store keeps, oldest first, and learner
  // bytes of replaced versions waiting for the next checkpoint.
  std::vector<uint64_t> kept_versions;
  std::vector<std::pair<uint64_t, std::string>> version_writes;
  ProcessorStats counts;  // messages, predictions, invalid, labelled, drifts
  std::optional<EntityCache> entities;  // made once the store is known
  using EntityEntry = EntityCache::Entry;
  std::map<std::pair<std::string, int32_t>, int64_t> next_offsets;
  // The next_offsets entries of one topic's partitions, by partition number (map entries do
  // not move): a batch in timestamp order changes partition at almost every message, and
  // each change was a map lookup comparing topic names.
  std::string offset_slots_topic;
  std::vector<int64_t*> offset_slots;
  int64_t* next_offset_slot(std::string_view topic, int32_t partition) {
    const auto at = static_cast<size_t>(partition);
    if (partition >= 0 && at < offset_slots.size() && offset_slots[at] != nullptr && topic == offset_slots_topic) {
      return offset_slots[at];
    }
    int64_t* slot = &next_offsets[{std::string(topic), partition}];
    if (partition < 0 || partition >= 65536) return slot;
    if (topic != offset_slots_topic) {
      offset_slots_topic = std::string(topic);
      offset_slots.assign(offset_slots.size(), nullptr);
    }
    if (offset_slots.size() <= at) offset_slots.resize(at + 1, nullptr);
    offset_slots[at] = slot;
    return slot;
  }

  // Reused per batch so the steady state does not allocate.
  std::vector<Event> pending;  // decoded valid events of the batch, reused
  size_t pending_used = 0;
  std::vector<LabelRecord> label_records;  // decoded labels of the batch, reused
  size_t labels_used = 0;
  std::vector<BatchOp> ops;
  std::vector<EarlyLabel> unknown_labels;
  PendingPrediction joined;
  PendingPrediction served;  // what a delayed label's join stores: its buffers are reused
  EarlyLabel arrived;        // a label from the labels topic, as the join takes it
  std::vector<EntityEntry*> batch_entities;  // per decoded event of the batch, its cached entity
  FeatureVector x;

  Impl(const PipelineConfig& c, features::FeatureConfig fc, std::unique_ptr<learn::Learner> learner,
       std::unique_ptr<DriftPolicy> d)
      : config(c),
        dictionary(fc.max_dense_features),
        builder(fc, &dictionary),
        model(std::move(learner)),
        task(model->task()),
        scores_probability(model->scores_probability()),
        drift_policy(std::move(d)),
        metrics(static_cast<size_t>(c.metrics.rolling_window)) {}

  // The label as the model learns it; Invalid (the dead-letter reason) for a kind this
  // model cannot learn. Softmax class names get indices in order of first appearance.
  Status target_of(const Label& label, double* y);
  LabelKindWatch label_kinds;
  // Predicts `features` with the serving candidate into `prediction`: the model, unless
  // selection made another candidate serve.
  void predict(const FeatureVector& features) {
    predict_candidate(selector ? selector->champion() : 0, features, prediction);
  }
  // Selection's candidates by number: the model, the challengers, the baselines. Learners
  // that learn a standardised target answer in the target's own units. A learner keeps its
  // memo of `features` for learning them (learn_from).
  void predict_candidate(size_t i, const FeatureVector& features, learn::Prediction& out) {
    if (i > challengers.size()) {
      selector->predict_baseline(i, out);
      return;
    }
    if (i == 0) {
      model->predict_keeping(features, out, model_memo);
    } else {
      challengers[i - 1].model->predict_keeping(features, out, challengers[i - 1].memo);
    }
    if (target_scaler) out.score = target_scaler->unscaled(out.score);
  }
  bool serving_scores_probability() const {
    if (!selector || selector->champion() == 0) return scores_probability;
    const size_t i = selector->champion();
    return i <= challengers.size() ? challengers[i - 1].scores_probability : true;
  }
  // After a labelled event: the switch selection makes, if any, published.
  Status select_candidate(std::string_view event_id, int64_t ts_ms, OutputSink& sink);

  // `entry` is null for an event without an entity: no entity state is read or written.
  Status handle(const Event& event, EntityEntry* entry, double target, Clock::time_point received, OutputSink& sink);
  Status handle_label(const LabelRecord& label, double target, const RawMessage& raw, OutputSink& sink);
  // A label and its prediction met: from labels and events partitions of different numbers,
  // the topics are not co-partitioned (said once).
  void note_label_partition(std::string_view id, int32_t label_partition, int32_t event_partition);
  // Test-then-train's second half, for an inline label or a joined delayed one: metrics and
  // the drift detector see the prediction that was served, then the model learns x.
  // `fresh`: the serving candidate's prediction of `features` when no learner has learned
  // since it was made (an inline label): selection scores it instead of predicting again.
  Status learn_from(const FeatureVector& features, double score, int predicted, const std::vector<double>& probabilities,
                    double y, std::string_view id, int64_t ts_ms, OutputSink& sink,
                    const learn::Prediction* fresh = nullptr);
  Status advance_stream_time(int64_t ts_ms, OutputSink& sink);
  // target_agg with a delayed label: the entity's target aggregate learns it (its state
  // loaded from the store when the cache no longer holds it).
  // `partition`: the label's, for an entity reloaded without an event since (labels are
  // partitioned like their events), so the changelog knows where its state goes.
  Status learn_entity_target(const std::string& entity, double y, int32_t partition);
  void report_labels();
  std::string snapshot() const;
  Status restore(std::string_view sealed);
  // Publishes what the drift policy did about one labelled event (records, logs, metrics).
  Status publish_drift(const DriftPolicy::Outcome& outcome, std::string_view event_id, int64_t ts_ms, OutputSink& sink);
  // A regression champion that ran away (DivergenceGuard): reset, new version, published
  // as a drift reset with reason "diverged".
  Status reset_diverged(std::string_view event_id, int64_t ts_ms, OutputSink& sink);
  Status publish_data_drift(const drift::DataDriftEvent& d, const Event& event, OutputSink& sink);
  Status watch_inputs(const Event& event, OutputSink& sink);
  Status record_slices(int predicted, double p_true, double y, OutputSink& sink);
  void end_slicing() {
    if (slices) slices->clear();
    slicing = nullptr;
  }
  // Names dense feature i for Learner::describe: the dictionary's name, or "#i".
  learn::DenseFeatureName dense_name() const {
    return [this](size_t i) {
      return i < dictionary.size() ? std::string(dictionary.name(static_cast<uint32_t>(i))) : "#" + std::to_string(i);
    };
  }
  // The model registry's part of a checkpoint: the champion's bytes under its version, the
  // replaced versions' bytes, and the oldest beyond models.keep deleted.
  void keep_versions(state::CheckpointBatch& batch);
  // Makes `learner` the champion as a new version; publishes the change.
  Result<std::string> replace_champion(std::unique_ptr<learn::Learner> learner, ModelChangeRecord record, OutputSink& sink);
};

Processor::Processor(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Processor::~Processor() = default;

Result<std::unique_ptr<Processor>> Processor::Create(const PipelineConfig& config, state::StateStore* store,
                                                     PipelineProbe* probe) {
  RegisterLearnerFamilies();
  auto parsed_features = features::FeatureConfig::Parse(FeatureKeys(config.features));
  if (!parsed_features.ok()) return parsed_features.status();
  features::FeatureConfig fc = *parsed_features;
  auto learner = learn::MakeLearner(config.model.type, LearnerKeys(config.model, config.features.hash_bits), "model.");
  if (!learner.ok()) return learner.status();
  // Categorical fields as nominal attributes when a model reads them (a Hoeffding tree);
  // without one the feature state keeps its bytes.
  fc.nominals = fc.nominals || (*learner)->reads_nominals();
  for (const auto& challenger : config.challengers) {
    auto cc = learn::MakeLearner(ChallengerType(config, challenger.first), ChallengerKeys(config, challenger.first),
                                 "challengers." + challenger.first + ".");
    if (cc.ok() && (*cc)->reads_nominals()) fc.nominals = true;
  }
  DriftSettings drift_settings = config.drift;
  drift_settings.action = EffectiveDriftAction(config);
  auto drift_policy = DriftPolicy::Create(drift_settings);
  if (!drift_policy.ok()) return drift_policy.status();

  auto impl = std::make_unique<Impl>(config, fc, std::move(learner).value(), std::move(drift_policy).value());
  if (fc.lags.enabled()) impl->lags.emplace(fc.lags, &impl->dictionary);
  if (impl->task == Task::kRegression) {
    impl->target_scaler.emplace(config.model.standardize_target);
    impl->divergence.emplace(config.drift.divergence_factor, static_cast<uint32_t>(config.drift.divergence_window));
  }
  for (const auto& challenger : config.challengers) {
    const std::string& name = challenger.first;
    if (name == config.model.name) return Status::Invalid("challengers." + name + ": the champion (model.name) has this name");
    auto cc = learn::MakeLearner(ChallengerType(config, name), ChallengerKeys(config, name), "challengers." + name + ".");
    if (!cc.ok()) return cc.status();
    if ((*cc)->task() != impl->task) {
      return Status::Invalid("challengers." + name + ".type: must predict what the champion predicts (type '" +
                             config.model.type + "')");
    }
    const Task challenger_task = (*cc)->task();
    const bool probabilistic = (*cc)->scores_probability();
    impl->challengers.push_back({name, challenger_task, std::move(cc).value(), probabilistic, {}, nullptr,
                                 ModelMetrics(static_cast<size_t>(config.metrics.rolling_window))});
  }
  if (config.selection.enabled) {
    SL_RETURN_IF_ERROR(ValidateSelectionSettings(config));
    impl->selector =
        std::make_unique<ModelSelector>(config.selection, impl->task, SelectionCandidates(config, impl->task));
  }
  if (config.drift.data_enabled) {
    auto monitor = drift::DataDriftMonitor::Create(DataDriftConfigOf(config.drift));
    if (!monitor.ok()) return Status::Invalid("drift.data: " + monitor.status().message());
    impl->data_drift.emplace(std::move(monitor).value());
    impl->data_drift_sample = DataDriftSampler(config.drift.data_sample);
  }
  if (!config.metrics.slices.empty()) {
    if (impl->task == Task::kRegression) return Status::Invalid("metrics.slices: needs a classification model");
    impl->slices = std::make_unique<SliceMetrics>(config.metrics.slices, static_cast<size_t>(config.metrics.slices_top_k),
                                                  config.metrics.slice_gap_alert, impl->task == Task::kBinary);
  }
  impl->store = store;
  impl->entities.emplace(store, static_cast<size_t>(config.state.max_cached_entities));
  impl->probe = probe;
  if (config.labels.enabled) {
    impl->join = std::make_unique<LabelJoin>(config.labels);
    impl->join->track_changes(store != nullptr);  // nothing is checkpointed without a store
  }
  if (store) {
    auto snapshot = store->get_model(config.model.name);
    if (!snapshot.ok()) return snapshot.status();
    if (snapshot->has_value()) {
      Status st = impl->restore(**snapshot);
      if (!st.ok()) {
        return Status(st.code(), "model '" + config.model.name + "' in " + store->dir() + ": " + st.message());
      }
      spdlog::info("restored model '{}' version {} ({} events trained)", config.model.name, impl->model_version,
                   impl->model->trained());
    }
    if (impl->join) {
      Status st = impl->join->restore(*store);
      if (!st.ok()) return st;
      if (impl->join->pending_size() + impl->join->early_size() > 0) {
        spdlog::info("restored {} pending prediction(s) and {} early label(s)", impl->join->pending_size(),
                     impl->join->early_size());
      }
      impl->join_reported = impl->join->counts();
    }
    auto versions = store->model_versions(config.model.name);
    if (!versions.ok()) return versions.status();
    for (const auto& kept : *versions) impl->kept_versions.push_back(kept.first);
    auto offsets = store->offsets();
    if (!offsets.ok()) return offsets.status();
    for (const auto& [tp, next] : *offsets) impl->next_offsets[{tp.topic, tp.partition}] = next;
  }
  if (probe) probe->model_version.Set(static_cast<double>(impl->model_version));
  return std::unique_ptr<Processor>(new Processor(std::move(impl)));
}

Status Processor::process(std::span<const RawMessage> batch, OutputSink& sink) {
  Impl& s = *impl_;
  // Also when the batch fails part way: what was produced is counted.
  struct ReportBatch {
    Impl& s;
    ~ReportBatch() { s.report_batch(); }
  } report_batch{s};
  const Clock::time_point received = Clock::now();
  // 1. Decode and validate; bad messages go to the dead letters, in order with the rest.
  if (s.pending.size() < batch.size()) s.pending.resize(batch.size());
  s.pending_used = 0;
  s.labels_used = 0;
  s.ops.clear();
  uint64_t events_in = 0;
  // Batches come a partition at a time: the offsets' map entry is looked up when it changes.
  int64_t* next_offset = nullptr;
  std::string_view offset_topic;
  int32_t offset_partition = -1;
  for (size_t i = 0; i < batch.size(); ++i) {
    const RawMessage& m = batch[i];
    s.counts.messages++;
    // The same topic is mostly the same text (one string per topic): its address is compared
    // first, the bytes only when it differs.
    const bool same_topic = m.source.topic.data() == offset_topic.data() ? m.source.topic.size() == offset_topic.size()
                                                                         : m.source.topic == offset_topic;
    if (next_offset == nullptr || m.source.partition != offset_partition || !same_topic) {
      next_offset = s.next_offset_slot(m.source.topic, m.source.partition);
      offset_topic = m.source.topic;
      offset_partition = m.source.partition;
    }
    *next_offset = m.source.offset + 1;
    if (s.join && m.source.topic == s.config.kafka.labels_topic) {
      if (s.label_records.size() <= s.labels_used) s.label_records.resize(s.labels_used + 1);
      LabelRecord& label = s.label_records[s.labels_used];
      Status st = s.label_decoder.decode(m.payload, &label);
      double target = 0;
      if (st.ok()) st = s.target_of(label.label, &target);
      if (!st.ok()) {
        s.counts.invalid++;
        if (s.probe) s.probe->labels_invalid.Increment();
        SL_RETURN_IF_ERROR(sink.write(DeadLetterRecord{m, st.message()}));
        continue;
      }
      if (label.ts_ms < 0) label.ts_ms = m.source.timestamp_ms;
      s.ops.push_back({true, s.labels_used++, i, target});
      continue;
    }
    events_in++;
    Event& event = s.pending[s.pending_used];
    Status st = s.decoder.decode(m.payload, m.key, m.source, &event, m.readable_after);
    double target = 0;
    if (st.ok() && event.label) {
      // Assigned only when refused: a Status's move costs more than the check.
      if (Status refused = s.target_of(*event.label, &target); !refused.ok()) st = std::move(refused);
    }
    if (s.decode_observer) s.decode_observer({i, st.ok() ? &event : nullptr, s.decoder.concept_marker()});
    if (!st.ok()) {
      s.counts.invalid++;
      if (s.probe) s.probe->events_invalid.Increment();
      SL_RETURN_IF_ERROR(sink.write(DeadLetterRecord{m, st.message()}));
      continue;
    }
    s.ops.push_back({false, s.pending_used++, i, target});
  }
  if (s.probe) s.probe->events_in.Increment(static_cast<double>(events_in));
  // 2. Each event's entity state: cached, or read in one MultiGet.
  SL_RETURN_IF_ERROR(s.entities->resolve(std::span<const Event>(s.pending.data(), s.pending_used), &s.batch_entities));
  // 3. Test, then train, one message at a time, in order.
  for (const BatchOp& op : s.ops) {
    if (op.is_label) {
      SL_RETURN_IF_ERROR(s.handle_label(s.label_records[op.index], op.target, batch[op.raw], sink));
    } else {
      if (op.index + 2 * features::kPrefetchAhead < s.pending_used) {
        if (const EntityCache::Entry* far = s.batch_entities[op.index + 2 * features::kPrefetchAhead]) {
          features::PrefetchAggregatesHeader(far->second.state);
        }
      }
      if (op.index + features::kPrefetchAhead < s.pending_used) {
        if (const EntityCache::Entry* ahead = s.batch_entities[op.index + features::kPrefetchAhead]) {
          features::PrefetchAggregates(ahead->second.state);
        }
      }
      // The entity's state moves with the partition of the event that last touched it.
      if (EntityCache::Entry* entry = s.batch_entities[op.index]) entry->second.partition = batch[op.raw].source.partition;
      s.source_partition = batch[op.raw].source.partition;
      SL_RETURN_IF_ERROR(s.handle(s.pending[op.index], s.batch_entities[op.index], op.target, received, sink));
    }
  }
  if (s.probe) {
    if (s.task != Task::kRegression) {
      s.probe->accuracy.Set(s.metrics.classification.accuracy());
      s.probe->rolling_accuracy.Set(s.metrics.classification.rolling_accuracy());
    }
    s.probe->entities_cached.Set(static_cast<double>(s.entities->size()));
    if (s.slices && received - s.slices_reported >= std::chrono::seconds(1)) {
      s.probe->set_slices(s.slices->report());  // allocates: once a second, not per event
      s.slices_reported = received;
    }
    s.report_labels();
  }
  return Status::Ok();
}

void Processor::Impl::report_batch() {
  if (!probe) return;
  if (learned_unreported > 0) probe->labels_learned.Increment(static_cast<double>(learned_unreported));
  learned_unreported = 0;
  if (predictions_unreported == 0) return;
  probe->predictions_out.Increment(static_cast<double>(predictions_unreported));
  predictions_unreported = 0;
  latency_batch.flush(probe->latency_seconds);
}

void Processor::Impl::report_labels() {
  if (!join || !probe) return;
  const LabelJoinCounts& now = join->counts();
  auto add = [](prometheus::Counter& c, uint64_t after, uint64_t before) {
    if (after > before) c.Increment(static_cast<double>(after - before));
  };
  add(probe->labels_joined, now.joined, join_reported.joined);
  add(probe->labels_early, now.early, join_reported.early);
  add(probe->labels_unknown, now.unknown, join_reported.unknown);
  add(probe->labels_late, now.late, join_reported.late);
  add(probe->labels_duplicate, now.duplicate, join_reported.duplicate);
  add(probe->pending_expired, now.expired, join_reported.expired);
  add(probe->pending_evicted, now.evicted, join_reported.evicted);
  join_reported = now;
  probe->pending_size.Set(static_cast<double>(join->pending_size()));
  probe->early_size.Set(static_cast<double>(join->early_size()));
}

Status Processor::Impl::advance_stream_time(int64_t ts_ms, OutputSink& sink) {
  unknown_labels.clear();
  join->advance(ts_ms, &unknown_labels);
  for (const EarlyLabel& l : unknown_labels) {
    RawMessage m{{l.topic, l.partition, l.offset, l.ts_ms}, l.key, l.payload};
    SL_RETURN_IF_ERROR(sink.write(DeadLetterRecord{
        m, "label for unknown event id " + QuoteForReason(l.id) + ": no event with this id arrived within labels.early_ttl (" +
               std::to_string(config.labels.early_ttl_ms) + " ms of event time) or labels.max_early was exceeded",
        DeadLetterRecord::Cause::kUnknownLabel}));
  }
  return Status::Ok();
}

Status Processor::Impl::learn_entity_target(const std::string& entity_key, double y, int32_t partition) {
  auto entry = entities->find_or_load(entity_key);
  if (!entry.ok()) return entry.status();
  if ((*entry)->second.partition < 0) (*entry)->second.partition = partition;
  builder.learn_target(y, &(*entry)->second.state);
  entities->mark_dirty(**entry);
  return Status::Ok();
}

Status Processor::Impl::handle_label(const LabelRecord& record, double target, const RawMessage& raw,
                                     OutputSink& sink) {
  arrived.id.assign(record.id);
  arrived.value = target;
  arrived.ts_ms = record.ts_ms;
  arrived.seq = counts.messages;  // unique per message, in processing order
  // Where it came from, for its dead letter if its event never comes.
  arrived.topic.assign(raw.source.topic);
  arrived.partition = raw.source.partition;
  arrived.offset = raw.source.offset;
  arrived.key.assign(raw.key);
  arrived.payload.assign(raw.payload);
  switch (join->add_label(arrived, &joined)) {
    case LabelJoin::LabelOutcome::kJoined: {
      note_label_partition(record.id, raw.source.partition, joined.partition);
      if (probe && record.ts_ms >= 0) {
        probe->label_delay_seconds.Observe(static_cast<double>(std::max<int64_t>(0, record.ts_ms - joined.ts_ms)) * 1e-3);
      }
      SL_RETURN_IF_ERROR(learn_from(joined.x, joined.score, joined.predicted, joined.probabilities, target, record.id,
                                    record.ts_ms, sink));
      if (task != Task::kMulticlass && builder.config().target_agg && !joined.entity.empty()) {
        SL_RETURN_IF_ERROR(learn_entity_target(joined.entity, target, raw.source.partition));
      }
      break;
    }
    case LabelJoin::LabelOutcome::kLate:
      SL_RETURN_IF_ERROR(sink.write(DeadLetterRecord{raw, "label for event id " + QuoteForReason(record.id) +
                                                              " arrived after its pending prediction expired (labels.ttl " +
                                                              std::to_string(config.labels.ttl_ms) +
                                                              " ms of event time) or was evicted (labels.max_pending)",
                                                     DeadLetterRecord::Cause::kLateLabel}));
      break;
    case LabelJoin::LabelOutcome::kUnknown:
      SL_RETURN_IF_ERROR(sink.write(DeadLetterRecord{
          raw, "label for unknown event id " + QuoteForReason(record.id) + ": older than labels.ttl (" +
                   std::to_string(config.labels.ttl_ms) +
                   " ms of event time) and no record of its event is left (it never came, or its prediction "
                   "expired and was forgotten)",
          DeadLetterRecord::Cause::kUnknownLabel}));
      break;
    case LabelJoin::LabelOutcome::kEarly:
    case LabelJoin::LabelOutcome::kDuplicate:
      break;
  }
  return advance_stream_time(record.ts_ms, sink);
}

void Processor::Impl::note_label_partition(std::string_view id, int32_t label_partition, int32_t event_partition) {
  if (told_not_copartitioned || label_partition < 0 || event_partition < 0 || label_partition == event_partition) return;
  told_not_copartitioned = true;
  spdlog::warn("the label for event id {} came from partition {} of {}, its event from partition {} of {}: the "
               "topics are not co-partitioned (labels keyed like their events, as many partitions). One instance "
               "joins them all the same; with several, a label goes to the holder of its labels partition, which "
               "may not hold its prediction: the label waits there and is dead-lettered as unknown, and the "
               "prediction expires (docs/architecture.md, Delayed labels). Logged once",
               QuoteForReason(id), label_partition, config.kafka.labels_topic, event_partition, config.kafka.events_topic);
}

Status Processor::Impl::target_of(const Label& label, double* y) {
  // A kind the task cannot learn is refused here, once: the watch counts it, the reason
  // names what the model learns.
  if (!LabelKindFits(label.kind, task)) {
    label_kinds.refused(label.kind, task, config.model);
    if (probe) probe->labels_wrong_kind.Increment();
    switch (task) {
      case Task::kBinary:
        return Status::Invalid("label must be 0, 1 or a boolean: model '" + config.model.name + "' is a binary " +
                               config.model.type + " model");
      case Task::kRegression:
        return Status::Invalid("label must be a number: model '" + config.model.name + "' is a " + config.model.type +
                               " regression model");
      case Task::kMulticlass:
        return Status::Invalid("label must be a class name (a string) or 0/1: model '" + config.model.name +
                               "' is a softmax model");
    }
  }
  label_kinds.accepted();
  switch (task) {
    case Task::kBinary:
      *y = label.value >= 0.5 ? 1 : 0;
      return Status::Ok();
    case Task::kRegression:
      *y = label.value;
      return Status::Ok();
    case Task::kMulticlass: {
      const std::string name = label.kind == Label::Kind::kClass ? label.class_name : (label.value >= 0.5 ? "1" : "0");
      auto it = class_ids.find(name);
      if (it == class_ids.end()) {
        if (class_names.size() >= learn::kMaxLearnerClasses) {
          return Status::Invalid("label " + QuoteForReason(name) + " would be class " +
                                 std::to_string(class_names.size() + 1) + ": a softmax model learns at most " +
                                 std::to_string(learn::kMaxLearnerClasses));
        }
        it = class_ids.emplace(name, static_cast<uint32_t>(class_names.size())).first;
        class_names.push_back(name);
      }
      *y = it->second;
      return Status::Ok();
    }
  }
  return Status::Internal("unknown task");
}

Status Processor::Impl::handle(const Event& event, EntityEntry* entry, double target, Clock::time_point received,
                              OutputSink& sink) {
  features::EntityState* entity = entry ? &entry->second.state : nullptr;

  if (data_drift && data_drift_sample.watches(event.id)) SL_RETURN_IF_ERROR(watch_inputs(event, sink));
  if (entity) {
    builder.build(event, *entity, &x);
  } else {
    builder.build(event, &x);
  }
  if (lags) lags->build(&x);
  predict(x);
  const double score = prediction.score;
  const int predicted = prediction.class_index;
  const auto latency = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - received);

  PredictionRecord record;
  record.id = event.id;
  record.entity = event.entity;
  record.model = config.model.name;
  record.version = model_version;
  if (selector) {
    record.candidate = selector->name(selector->champion());
    selector->count_served();
  }
  record.score = score;
  if (task == Task::kBinary) {
    record.class_field = PredictionRecord::ClassField::kIndex;
    record.class_index = predicted == 1 ? 1 : 0;
  } else if (task == Task::kMulticlass) {
    if (predicted >= 0 && static_cast<size_t>(predicted) < class_names.size()) {
      record.class_field = PredictionRecord::ClassField::kName;
      record.class_name = class_names[static_cast<size_t>(predicted)];
    } else {
      record.class_field = PredictionRecord::ClassField::kNull;  // no class seen yet
    }
  }
  record.ts_ms = event.ts_ms;
  record.latency_us = latency.count();
  record.partition = source_partition;
  SL_RETURN_IF_ERROR(sink.write(record));
  counts.predictions++;
  if (probe) {
    predictions_unreported++;
    latency_batch.observe(static_cast<double>(latency.count()) * 1e-6);
  }

  // Slices take this event's outcome only while it is handled, also when handling fails.
  struct SliceSelection {
    Impl& impl;
    ~SliceSelection() { impl.end_slicing(); }
  } selection{*this};
  if (slices) {
    slices->select(event);
    slicing = &event;
  }
  if (event.label) {
    SL_RETURN_IF_ERROR(
        learn_from(x, score, predicted, prediction.probabilities, target, event.id, event.ts_ms, sink, &prediction));
    if (task != Task::kMulticlass && entity) builder.learn_target(target, entity);
  } else if (join) {
    served.entity.assign(event.entity);
    served.ts_ms = event.ts_ms;
    served.seq = counts.messages;
    served.score = score;
    served.predicted = predicted;
    served.model_version = model_version;
    served.x = x;
    served.probabilities = prediction.probabilities;
    served.partition = source_partition;
    if (auto early = join->add_prediction(event.id, served)) {
      note_label_partition(event.id, early->partition, source_partition);
      if (probe && early->ts_ms >= 0) probe->label_delay_seconds.Observe(0);
      SL_RETURN_IF_ERROR(learn_from(x, score, predicted, prediction.probabilities, early->value, event.id, event.ts_ms,
                                    sink, &prediction));
      if (task != Task::kMulticlass && entity) builder.learn_target(early->value, entity);
    }
  }
  end_slicing();
  if (join) SL_RETURN_IF_ERROR(advance_stream_time(event.ts_ms, sink));

  if (entity) {
    builder.update(event, entity);
    entities->mark_dirty(*entry);
  } else {
    builder.update(event);
  }
  if (lags) lags->update(event);
  return Status::Ok();
}

Status Processor::Impl::learn_from(const FeatureVector& features, double score, int predicted,
                                   const std::vector<double>& probabilities, double y, std::string_view id,
                                   int64_t ts_ms, OutputSink& sink, const learn::Prediction* fresh) {
  const double p_true = TrueClassProbability(task, serving_scores_probability(), score, probabilities, y);
  const double error = ScorePrediction(task, metrics.classification, metrics.regression, score, predicted, p_true, y);
  counts.labelled++;
  // The learner that served predicted this vector already (predictions are deterministic
  // and nothing has learned since): its prediction is scored, not made again.
  const size_t serving = selector && fresh ? selector->champion() : challengers.size() + 1;
  // Whether the model's memo is of `features`: it served them (fresh) or predicts them for
  // the selector below. A memo of another vector (the event before a delayed label) is not.
  const bool model_predicted = fresh != nullptr || selector != nullptr;
  if (selector) {
    const learn::Prediction& model_prediction =
        serving == 0 ? *fresh : (predict_candidate(0, features, candidate_prediction), candidate_prediction);
    selector->score(0, model_prediction,
                    TrueClassProbability(task, scores_probability, model_prediction.score,
                                         model_prediction.probabilities, y),
                    y);
  }
  // Challengers: test, then train, on the same vector (for a delayed label, they are
  // tested now, on the vector the champion was served with).
  for (size_t i = 0; i < challengers.size(); ++i) {
    Challenger& c = challengers[i];
    if (serving == i + 1) {
      c.prediction.score = fresh->score;
      c.prediction.class_index = fresh->class_index;
      c.prediction.probabilities.assign(fresh->probabilities.begin(), fresh->probabilities.end());
    } else {
      c.model->predict_keeping(features, c.prediction, c.memo);
      if (target_scaler) c.prediction.score = target_scaler->unscaled(c.prediction.score);
    }
    const double c_p_true =
        TrueClassProbability(c.task, c.scores_probability, c.prediction.score, c.prediction.probabilities, y);
    ScorePrediction(c.task, c.metrics.classification, c.metrics.regression, c.prediction.score,
                    c.prediction.class_index, c_p_true, y);
    if (selector) selector->score(i + 1, c.prediction, c_p_true, y);
  }
  // Every prediction is scored: now the target's statistics may learn y.
  const double learned_y = target_scaler ? target_scaler->learned(y) : y;
  // Every challenger's memo is of `features`: predicted above, or it served them (fresh).
  for (auto& c : challengers) c.model->learn_predicted(features, learned_y, 1.0, c.memo.get());
  if (selector) {
    selector->score_and_learn_baselines(y);
    // The switch (for the next prediction) goes out before any drift record of this event.
    SL_RETURN_IF_ERROR(select_candidate(id, ts_ms, sink));
  }
  const DriftPolicy::Outcome drift = drift_policy->update(error, model);
  if (drift.kind != DriftPolicy::Outcome::Kind::kNone || drift.background_dropped) {
    SL_RETURN_IF_ERROR(publish_drift(drift, id, ts_ms, sink));
  }
  if (divergence) {
    if (drift.model_replaced) {
      divergence->restart();
    } else if (divergence->update(score, y)) {
      SL_RETURN_IF_ERROR(reset_diverged(id, ts_ms, sink));
    }
  }
  // Before the observer: evaluate places a slice gap record by its event, which the
  // observer's scoring retires.
  if (slicing) SL_RETURN_IF_ERROR(record_slices(predicted, p_true, y, sink));
  if (observer) observer({id, ts_ms, score, predicted, static_cast<int>(y), y, p_true});
  drift_policy->learn(features, learned_y);
  // A model the drift policy replaced or reset ignores the memo (another state).
  model->learn_predicted(features, learned_y, 1.0, model_predicted ? model_memo.get() : nullptr);
  if (lags) lags->learn_label(y);
  learned_unreported++;  // told to the probe at the end of the batch (report_batch)
  return Status::Ok();
}

Status Processor::Impl::select_candidate(std::string_view event_id, int64_t ts_ms, OutputSink& sink) {
  const std::optional<CandidateSwitch> change = selector->select();
  if (!change) return Status::Ok();
  model_version++;
  version_cause = "switch";
  if (probe) {
    probe->model_version.Set(static_cast<double>(model_version));
    probe->model_switches.Increment();
  }
  const std::string_view metric = ToString(selector->metric());
  spdlog::info("model selection: '{}' ({} {:.4f}) replaces '{}' ({:.4f}) after {} labelled events; model version {}",
               selector->name(change->to), metric, change->to_value, selector->name(change->from), change->from_value,
               change->labelled, model_version);
  ModelSwitchRecord record;
  record.model = config.model.name;
  record.version = model_version;
  record.from = selector->name(change->from);
  record.to = selector->name(change->to);
  record.metric = metric;
  record.from_value = change->from_value;
  record.to_value = change->to_value;
  record.window = static_cast<uint64_t>(config.selection.window);
  record.events = counts.predictions;
  record.labelled = change->labelled;
  record.ts_ms = ts_ms;
  record.event_id = event_id;
  return sink.write(record);
}

Status Processor::Impl::watch_inputs(const Event& event, OutputSink& sink) {
  for (const auto& f : event.numeric) {
    if (auto d = data_drift->observe_numeric(f.name, f.value)) SL_RETURN_IF_ERROR(publish_data_drift(*d, event, sink));
  }
  for (const auto& f : event.categorical) {
    if (auto d = data_drift->observe_categorical(f.name, f.value)) SL_RETURN_IF_ERROR(publish_data_drift(*d, event, sink));
  }
  return Status::Ok();
}

Status Processor::Impl::record_slices(int predicted, double p_true, double y, OutputSink& sink) {
  slices->record(predicted, p_true, y);
  std::vector<SliceGapAlert>& alerts = slices->alerts();
  if (alerts.empty()) return Status::Ok();
  Status written = Status::Ok();
  for (const SliceGapAlert& a : alerts) {
    spdlog::info("slice gap on '{}': {} {:.4g} ('{}' {:.4g}, '{}' {:.4g}), threshold {:.4g}", a.field, a.metric, a.gap,
                 a.max_value, a.max_rate, a.min_value, a.min_rate, a.threshold);
    SliceGapRecord record;
    record.model = config.model.name;
    record.alert = &a;
    record.events = counts.predictions;
    record.ts_ms = slicing->ts_ms;
    record.event_id = slicing->id;
    if (written.ok()) written = sink.write(record);
  }
  alerts.clear();
  return written;
}

Status Processor::Impl::publish_data_drift(const drift::DataDriftEvent& d, const Event& event, OutputSink& sink) {
  counts.data_drifts++;
  const std::string kind(drift::ToString(d.kind));
  if (probe) probe->data_drift(d.feature, kind).Increment();
  spdlog::info("data drift on {} feature '{}' ({} {:.4g}, threshold {:.4g}) at event {}", kind, d.feature, d.detector,
               d.statistic, d.threshold, event.id);
  DataDriftRecord record;
  record.model = config.model.name;
  record.alarm = &d;
  record.events = counts.predictions;
  record.ts_ms = event.ts_ms;
  record.event_id = event.id;
  return sink.write(record);
}

Status Processor::Impl::publish_drift(const DriftPolicy::Outcome& drift, std::string_view event_id, int64_t ts_ms,
                                      OutputSink& sink) {
  using Kind = DriftPolicy::Outcome::Kind;
  const drift::DriftDetector& detector = drift_policy->detector();
  if (drift.background_dropped) {
    spdlog::info("drift warning cleared: background learner dropped after {} events", drift.background_trained);
    if (probe) probe->backgrounds_dropped.Increment();
  }
  if (drift.kind == Kind::kImprovement) {
    spdlog::debug("{}: error fell from {:.4f} to {:.4f} after {} events: improvement, not drift", detector.name(),
                  drift.error_before, drift.error_after, counts.predictions);
    return Status::Ok();
  }
  if (drift.kind == Kind::kNone) return Status::Ok();
  const uint64_t detected_version = model_version;
  if (drift.kind == Kind::kDrift) {
    if (drift.background_swapped) {
      spdlog::info("drift: the background learner ({} events since the warning) replaces model version {}",
                   drift.background_trained, model_version);
      if (probe) probe->backgrounds_swapped.Increment();
    }
    if (drift.model_replaced) {
      model_version++;
      version_cause = "drift";
      if (probe) probe->model_version.Set(static_cast<double>(model_version));
    }
    counts.drifts.push_back({counts.predictions, ts_ms, std::string(event_id), drift.error_before, drift.error_after});
    if (probe) probe->drifts.Increment();
    spdlog::info("drift detected by {} after {} events (event {}); action {}, model version {}", detector.name(),
                 counts.predictions, event_id, drift.action, model_version);
  } else if (drift.background_started && probe) {
    probe->backgrounds_started.Increment();
  }
  const auto stats = detector.stats();
  ConceptDriftRecord record;
  record.model = config.model.name;
  record.version = detected_version;
  record.detector = detector.name();
  record.level = drift.kind == Kind::kDrift ? "drift" : "warning";
  record.events = counts.predictions;
  record.ts_ms = ts_ms;
  record.action = drift.action;
  record.event_id = event_id;
  record.stats = stats;
  record.error_before = drift.error_before;
  record.error_after = drift.error_after;
  if (drift_policy->action() == DriftPolicy::Action::kBackground) record.background_trained = drift.background_trained;
  return sink.write(record);
}

Status Processor::Impl::reset_diverged(std::string_view event_id, int64_t ts_ms, OutputSink& sink) {
  const double model_mae = divergence->model_mae();
  const double baseline_mae = divergence->baseline_mae();
  divergence->restart();
  model->reset();
  const uint64_t diverged_version = model_version++;
  version_cause = "diverged";
  if (probe) {
    probe->model_divergences.Increment();
    probe->model_version.Set(static_cast<double>(model_version));
  }
  spdlog::warn("model '{}' version {} diverged at event {}: MAE {:.4g} over the last {} labels, {:.4g} times the mean "
               "predictor's {:.4g} (drift.divergence_factor {}); reset, now version {}",
               config.model.name, diverged_version, event_id, model_mae, divergence->window(),
               baseline_mae > 0 ? model_mae / baseline_mae : std::numeric_limits<double>::infinity(), baseline_mae,
               divergence->factor(), model_version);
  const std::pair<std::string, double> stats[] = {{"window", static_cast<double>(divergence->window())},
                                                  {"factor", divergence->factor()}};
  ConceptDriftRecord record;
  record.model = config.model.name;
  record.version = diverged_version;
  record.detector = "divergence";
  record.level = "drift";
  record.events = counts.predictions;
  record.ts_ms = ts_ms;
  record.action = "reset";
  record.event_id = event_id;
  record.stats = stats;
  record.error_before = model_mae;  // the model's MAE over the window …
  record.error_after = baseline_mae;  // … and the mean predictor's
  record.reason = "diverged";
  return sink.write(record);
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
  w.u64(drift_policy->counts().improvements);
  w.u64(drift_policy->counts().warnings);
  w.u8(drift_policy->in_warning() ? 1 : 0);
  dictionary.save(w);
  builder.save(w);
  w.u32(static_cast<uint32_t>(class_names.size()));
  for (const auto& name : class_names) w.str(name);
  model->save(w);
  drift_policy->save_detector(w);
  metrics.classification.save(w);
  metrics.regression.save(w);
  w.u32(static_cast<uint32_t>(challengers.size()));
  for (const auto& c : challengers) {
    w.str(c.name);
    c.model->save(w);
    c.metrics.classification.save(w);
    c.metrics.regression.save(w);
  }
  w.u8(join ? 1 : 0);
  if (join) join->save(w);
  w.u64(counts.data_drifts);
  w.u64(drift_policy->counts().backgrounds_started);
  w.u64(drift_policy->counts().backgrounds_dropped);
  drift_policy->save_learners(w);
  w.u8(data_drift ? 1 : 0);
  if (data_drift) data_drift->save(w);
  // Optional trailing parts, so snapshots without them keep their bytes (and older ones
  // still load): version 3 adds the target scaler, the divergence guard and the lags; a
  // "selection" section may follow either version.
  const bool v3 = target_scaler || divergence || lags;
  if (v3) {
    w.u8(target_scaler ? 1 : 0);
    if (target_scaler) target_scaler->save(w);
    w.u8(divergence ? 1 : 0);
    if (divergence) divergence->save(w);
    w.u8(lags ? 1 : 0);
    if (lags) lags->save(w);
  }
  if (selector) {
    w.str("selection");
    selector->save(w);
  }
  if (!v3) return SealSnapshot(kSnapshotMagic, kSnapshotVersionV2, payload);
  return SealSnapshot(kSnapshotMagic, kSnapshotVersion, payload);
}

Status Processor::Impl::restore(std::string_view sealed) {
  uint32_t version = kSnapshotVersion;
  auto payload = OpenProcessorSnapshot(sealed, &version);
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
  DriftPolicy::Counts drift_counts;
  drift_counts.improvements = r.u64();
  drift_counts.warnings = r.u64();
  const bool in_warning = r.u8() != 0;
  SL_RETURN_IF_ERROR(dictionary.load(r));
  SL_RETURN_IF_ERROR(builder.load(r));
  const uint32_t classes = r.u32();
  if (!r.ok() || classes > learn::kMaxLearnerClasses) return Status::Corruption("snapshot class names");
  class_names.clear();
  class_ids.clear();
  for (uint32_t i = 0; i < classes; ++i) {
    class_names.push_back(r.str());
    class_ids.emplace(class_names.back(), i);
  }
  SL_RETURN_IF_ERROR(model->load(r));
  SL_RETURN_IF_ERROR(drift_policy->load_detector(r));
  SL_RETURN_IF_ERROR(metrics.classification.load(r));
  SL_RETURN_IF_ERROR(metrics.regression.load(r));
  // Challengers are matched by name: a stored one no longer configured is dropped, a new
  // one starts fresh.
  const uint32_t stored_challengers = r.u32();
  if (!r.ok() || stored_challengers > 1000) return Status::Corruption("snapshot challengers");
  for (uint32_t i = 0; i < stored_challengers; ++i) {
    const std::string challenger = r.str();
    auto it =
        std::find_if(challengers.begin(), challengers.end(), [&](const Challenger& c) { return c.name == challenger; });
    auto restored = learn::RestoreLearner(r);
    if (!restored.ok()) {
      return Status(restored.status().code(), "challenger '" + challenger + "': " + restored.status().message());
    }
    ModelMetrics m(static_cast<size_t>(config.metrics.rolling_window));
    SL_RETURN_IF_ERROR(m.classification.load(r));
    SL_RETURN_IF_ERROR(m.regression.load(r));
    if (it == challengers.end()) continue;
    std::string bytes;
    ByteWriter copy(&bytes);
    (*restored)->save(copy);
    ByteReader again(bytes);
    Status st = it->model->load(again);  // keeps the configured rates; refuses another kind
    if (!st.ok()) {
      spdlog::warn("challenger '{}': its stored model does not fit the configured one ({}); it starts fresh",
                   challenger, st.message());
      continue;
    }
    it->metrics = std::move(m);
  }
  if (r.u8() != 0) {
    // Written with labels enabled; read them even when they are now disabled.
    LabelJoin scratch(config.labels);
    SL_RETURN_IF_ERROR((join ? *join : scratch).load(r));
  }
  counts.data_drifts = r.u64();
  drift_counts.backgrounds_started = r.u64();
  drift_counts.backgrounds_dropped = r.u64();
  drift_policy->restore_state(in_warning, drift_counts);
  SL_RETURN_IF_ERROR(drift_policy->load_learners(r, *model));
  if (r.u8() != 0) {
    auto scratch = drift::DataDriftMonitor::Create({});
    if (!scratch.ok()) return scratch.status();
    SL_RETURN_IF_ERROR(scratch->load(r));
    // The saved monitor carries its config; a changed drift.data config starts afresh.
    if (data_drift && scratch->config() == data_drift->config()) data_drift.emplace(std::move(scratch).value());
  }
  if (version >= 3) {
    // A model keeps the target scaling it learned with, whatever the config says now.
    if (r.u8() != 0) {
      TargetScaler stored(false);
      SL_RETURN_IF_ERROR(stored.load(r));
      if (target_scaler) target_scaler = stored;
    }
    if (r.u8() != 0) {
      DivergenceGuard stored(0, 1);
      if (divergence) {
        SL_RETURN_IF_ERROR(divergence->load(r));
      } else {
        SL_RETURN_IF_ERROR(stored.load(r));
      }
    }
    if (r.u8() != 0) {
      features::StreamLags scratch({}, &dictionary);
      SL_RETURN_IF_ERROR((lags ? *lags : scratch).load(r));
    }
  } else if (target_scaler) {
    target_scaler.emplace(false);  // a version 2 model learned the target in its own units
  }
  if (r.ok() && !r.at_end()) {
    if (r.str() != "selection") return Status::Corruption("snapshot: unknown trailing section");
    // Written with selection enabled; read it even when it is now disabled.
    ModelSelector scratch(config.selection, task, {});
    SL_RETURN_IF_ERROR((selector ? *selector : scratch).load(r));
  }
  if (!r.ok() || !r.at_end()) return Status::Corruption("snapshot has trailing or missing bytes");
  // The builder caches dictionary ids; a fresh one re-reads them from the loaded dictionary.
  return Status::Ok();
}

Result<SnapshotInfo> InspectSnapshot(std::string_view sealed) {
  uint32_t version = kSnapshotVersion;
  auto payload = OpenProcessorSnapshot(sealed, &version);
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
  s.entities->checkpoint(batch);
  if (s.join) s.join->checkpoint(batch);
  batch.put_model(s.config.model.name, s.snapshot());
  s.keep_versions(batch);
  for (const auto& [tp, next] : s.next_offsets) batch.put_offset({tp.first, tp.second}, next);
}

const std::map<std::pair<std::string, int32_t>, int64_t>& Processor::next_offsets() const {
  return impl_->next_offsets;
}

void Processor::forget_partitions() {
  impl_->next_offsets.clear();
  impl_->offset_slots.clear();
}

void Processor::set_next_offset(const std::string& topic, int32_t partition, int64_t next) {
  impl_->next_offsets[{topic, partition}] = next;
}

EntityCache* Processor::entity_cache() { return impl_->entities ? &*impl_->entities : nullptr; }
LabelJoin* Processor::label_join() { return impl_->join.get(); }

ProcessorStats Processor::stats() const {
  const Impl& s = *impl_;
  ProcessorStats out = s.counts;
  out.improvements = s.drift_policy->counts().improvements;
  out.warnings = s.drift_policy->counts().warnings;
  out.backgrounds_started = s.drift_policy->counts().backgrounds_started;
  out.backgrounds_dropped = s.drift_policy->counts().backgrounds_dropped;
  // 0 before the first labelled event (the metrics say NaN: undefined), as status readers expect.
  auto or_zero = [](double v) { return std::isfinite(v) ? v : 0.0; };
  out.accuracy = or_zero(s.metrics.classification.accuracy());
  out.rolling_accuracy = or_zero(s.metrics.classification.rolling_accuracy());
  out.log_loss = or_zero(s.metrics.classification.log_loss());
  out.majority_baseline = or_zero(s.metrics.classification.majority_baseline_accuracy());
  if (s.task == Task::kRegression) {
    out.mae = s.metrics.regression.mae();
    out.rmse = s.metrics.regression.rmse();
    out.r2 = s.metrics.regression.r2();
  }
  out.labels_wrong_kind = s.label_kinds.refused_total();
  out.labels_wrong_kind_in_a_row = s.label_kinds.refused_in_a_row();
  out.label_kind_advice = s.label_kinds.advice();
  if (s.slices) out.slices = s.slices->report();
  for (const auto& c : s.challengers) {
    ChallengerStats cs;
    cs.name = c.name;
    cs.type = std::string(c.model->type());
    cs.trained = c.model->trained();
    cs.memory_bytes = c.model->memory_bytes();
    cs.accuracy = c.metrics.classification.accuracy();
    cs.rolling_accuracy = c.metrics.classification.rolling_accuracy();
    cs.log_loss = c.metrics.classification.log_loss();
    if (c.task == Task::kRegression) {
      cs.mae = c.metrics.regression.mae();
      cs.rmse = c.metrics.regression.rmse();
      cs.r2 = c.metrics.regression.r2();
    }
    out.challengers.push_back(std::move(cs));
  }
  if (s.selector) out.selection = s.selector->stats();
  out.model_version = s.model_version;
  out.model_trained = s.model->trained();
  out.model_bytes = s.model->memory_bytes();
  out.guarded_updates = s.model->guarded_updates();
  for (const auto& field : s.builder.field_reports()) out.clipped_values += field.clipped;
  out.divergences = s.divergence ? s.divergence->divergences() : 0;
  out.entities_cached = s.entities->size();
  if (s.join) {
    out.labels_enabled = true;
    out.labels = s.join->counts();
    out.pending_labels = s.join->pending_size();
    out.early_labels = s.join->early_size();
  }
  return out;
}

void Processor::set_learn_observer(std::function<void(const LearnOutcome&)> observer) {
  impl_->observer = std::move(observer);
}

size_t Processor::entity_memory_bytes() const { return impl_->entities ? impl_->entities->memory_bytes() : 0; }

void Processor::set_decode_observer(std::function<void(const DecodedEvent&)> observer) {
  impl_->decode_observer = std::move(observer);
}

LabelJoinCounts Processor::label_counts() const { return impl_->join ? impl_->join->counts() : LabelJoinCounts{}; }
size_t Processor::pending_labels() const { return impl_->join ? impl_->join->pending_size() : 0; }

std::string Processor::model_snapshot() const { return impl_->snapshot(); }

std::shared_ptr<const PredictSnapshot> Processor::predict_snapshot(int64_t now_ms) const {
  const Impl& s = *impl_;
  auto snapshot = std::make_shared<PredictSnapshot>();
  snapshot->model_name = s.config.model.name;
  snapshot->model_version = s.model_version;
  snapshot->messages = s.counts.messages;
  snapshot->taken_ms = now_ms;
  ByteWriter features(&snapshot->features);
  s.dictionary.save(features);
  s.builder.save(features);
  ByteWriter model(&snapshot->model);
  s.model->save(model);
  snapshot->class_names = s.class_names;
  for (const EntityCache::Entry* entry : s.entities->dirty()) snapshot->entities.emplace(entry->first, entry->second.state);
  return snapshot;
}

Result<std::unique_ptr<Processor>> Processor::FromSnapshot(const PipelineConfig& config, std::string_view sealed) {
  auto processor = Create(config, nullptr, nullptr);
  if (!processor.ok()) return processor.status();
  Status st = (*processor)->impl_->restore(sealed);
  if (!st.ok()) return Status(st.code(), "model snapshot: " + st.message());
  return processor;
}

void WriteChallengerJson(JsonWriter& w, const ChallengerStats& c) {
  w.begin_object()
      .field("name", std::string_view(c.name))
      .field("trained", c.trained)
      .field("accuracy", c.accuracy)
      .field("rolling_accuracy", c.rolling_accuracy)
      .field("log_loss", c.log_loss)
      .field("mae", c.mae)
      .field("rmse", c.rmse)
      .field("r2", c.r2)
      .field("type", std::string_view(c.type))
      .field("memory_bytes", c.memory_bytes)
      .end_object();
}

std::string Processor::describe_json(size_t top_sparse) const {
  const Impl& s = *impl_;
  const ProcessorStats st = stats();
  std::string out;
  JsonWriter w(&out);
  w.begin_object()
      .field("name", std::string_view(s.config.model.name))
      .field("type", std::string_view(s.config.model.type))
      .field("version", s.model_version)
      .field("messages", st.messages)
      .field("predictions", st.predictions)
      .field("labelled", st.labelled)
      .field("trained", s.model->trained())
      .field("guarded_updates", s.model->guarded_updates())
      .field("memory_bytes", uint64_t{s.model->memory_bytes()})
      .field("drifts", uint64_t{st.drifts.size()});
  w.key("metrics")
      .begin_object()
      .field("accuracy", st.accuracy)
      .field("rolling_accuracy", st.rolling_accuracy)
      .field("log_loss", st.log_loss)
      .field("majority_baseline", st.majority_baseline)
      .field("mae", st.mae)
      .field("rmse", st.rmse)
      .field("r2", st.r2)
      .end_object();
  w.key("classes").begin_array();
  for (const auto& name : s.class_names) w.string(name);
  w.end_array();
  // The learner's own part: "learner" (its settings) and what it learned ("weights").
  s.model->describe(
      w,
      [&](size_t i) {
        return i < s.dictionary.size() ? std::string(s.dictionary.name(static_cast<uint32_t>(i))) : "#" + std::to_string(i);
      },
      top_sparse);
  w.key("challengers").begin_array();
  for (const auto& c : st.challengers) WriteChallengerJson(w, c);
  w.end_array();
  if (st.selection.enabled) WriteSelectionJson(w.key("selection"), st.selection);
  const drift::DriftDetector& detector = s.drift_policy->detector();
  w.key("detector").begin_object().field("name", detector.name());
  w.key("stats").begin_object();
  for (const auto& [name, value] : detector.stats()) {
    if (std::isfinite(value)) w.field(name, value);
  }
  w.end_object().end_object().end_object();
  return out;
}

}  // namespace streamlearn::pipeline

namespace streamlearn::pipeline {

void Processor::Impl::keep_versions(state::CheckpointBatch& batch) {
  auto keep = [&](uint64_t version, std::string_view bytes) {
    batch.put_model_version(config.model.name, version, bytes);
    if (std::find(kept_versions.begin(), kept_versions.end(), version) == kept_versions.end()) {
      kept_versions.insert(std::upper_bound(kept_versions.begin(), kept_versions.end(), version), version);
    }
  };
  for (const auto& [version, bytes] : version_writes) keep(version, bytes);
  version_writes.clear();
  std::string bytes;
  ByteWriter w(&bytes);
  model->save(w);
  keep(model_version, bytes);
  const size_t limit = static_cast<size_t>(std::max(1, config.models.keep));
  while (kept_versions.size() > limit) {
    batch.delete_model_version(config.model.name, kept_versions.front());
    kept_versions.erase(kept_versions.begin());
  }
}

Result<std::string> Processor::Impl::replace_champion(std::unique_ptr<learn::Learner> learner, ModelChangeRecord record,
                                                      OutputSink& sink) {
  // The replaced version's last state is kept too, so a rollback can return to it.
  std::string bytes;
  ByteWriter w(&bytes);
  model->save(w);
  version_writes.emplace_back(model_version, std::move(bytes));
  uint64_t next = model_version;
  for (uint64_t v : kept_versions) next = std::max(next, v);
  for (const auto& pending_write : version_writes) next = std::max(next, pending_write.first);
  record.previous_version = model_version;
  record.version = next + 1;
  model = std::move(learner);
  model_version = record.version;
  version_cause = record.action == "rollback" ? "rollback" : "promote";
  if (probe) probe->model_version.Set(static_cast<double>(model_version));
  record.model = config.model.name;
  record.trained = model->trained();
  record.ts_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  spdlog::info("model '{}': {} to version {} (was {})", config.model.name, record.action, record.version,
               record.previous_version);
  SL_RETURN_IF_ERROR(sink.write(record));
  std::string out;
  JsonWriter j(&out);
  j.begin_object()
      .field("model", record.model)
      .field("action", record.action)
      .field("version", record.version)
      .field("previous_version", record.previous_version);
  if (record.restored_version) j.field("restored_version", *record.restored_version);
  if (!record.challenger.empty()) j.field("challenger", record.challenger);
  j.field("trained", record.trained).end_object();
  return out;
}

Result<std::string> Processor::apply(const ModelCommand& command, OutputSink& sink) {
  Impl& s = *impl_;
  auto fresh = learn::MakeLearner(s.config.model.type, LearnerKeys(s.config.model, s.config.features.hash_bits), "model.");
  if (!fresh.ok()) return fresh.status();
  ModelChangeRecord record;
  std::string bytes;
  if (command.kind == ModelCommand::Kind::kRollback) {
    if (command.model != s.config.model.name) {
      return Status::NotFound("no champion named " + QuoteForReason(command.model) + ": rollback applies to '" +
                              s.config.model.name + "'");
    }
    if (s.store == nullptr) return Status::Unavailable("no state store: no versions are kept");
    auto versions = s.store->model_versions(s.config.model.name);
    if (!versions.ok()) return versions.status();
    for (const auto& pending_write : s.version_writes) versions->push_back(pending_write);
    std::optional<uint64_t> target = command.version;
    if (!target) {
      for (const auto& kept : *versions) {
        if (kept.first < s.model_version && (!target || kept.first > *target)) target = kept.first;
      }
      if (!target) return Status::NotFound("no version before " + std::to_string(s.model_version) + " is kept");
    }
    if (*target == s.model_version) {
      return Status::Invalid("version " + std::to_string(*target) + " is the current one");
    }
    for (const auto& kept : *versions) {
      if (kept.first == *target) bytes = kept.second;
    }
    if (bytes.empty()) {
      // A replaced version can be both stored and pending (its last state): listed once.
      std::vector<uint64_t> numbers;
      for (const auto& kept : *versions) numbers.push_back(kept.first);
      std::sort(numbers.begin(), numbers.end());
      numbers.erase(std::unique(numbers.begin(), numbers.end()), numbers.end());
      std::string list;
      for (uint64_t number : numbers) list += (list.empty() ? "" : ", ") + std::to_string(number);
      return Status::NotFound("version " + std::to_string(*target) + " is not kept (kept: " +
                              (list.empty() ? std::string("none yet") : list) + "; models.keep " +
                              std::to_string(s.config.models.keep) + ")");
    }
    record.action = "rollback";
    record.restored_version = *target;
  } else {
    auto it = std::find_if(s.challengers.begin(), s.challengers.end(),
                           [&](const Challenger& c) { return c.name == command.model; });
    if (it == s.challengers.end()) return Status::NotFound("no challenger named " + QuoteForReason(command.model));
    if (it->model->type() != s.config.model.type) {
      return Status::FailedPrecondition("challenger '" + it->name + "' is a " + std::string(it->model->type()) +
                                        " model and the champion a " + s.config.model.type +
                                        " one: change model.type in the config instead");
    }
    ByteWriter w(&bytes);
    it->model->save(w);
    record.action = "promote";
    record.challenger = it->name;
  }
  ByteReader r(bytes);
  Status loaded = (*fresh)->load(r);
  if (!loaded.ok()) {
    return Status::FailedPrecondition("the champion cannot take that model: " + loaded.message());
  }
  return s.replace_champion(std::move(fresh).value(), record, sink);
}

std::string Processor::models_json() const {
  const Impl& s = *impl_;
  const ProcessorStats st = stats();
  std::string out;
  JsonWriter w(&out);
  w.begin_object().field("champion", std::string_view(s.config.model.name));
  w.key("models").begin_array();
  w.begin_object()
      .field("name", std::string_view(s.config.model.name))
      .field("role", "champion")
      .field("type", std::string_view(s.config.model.type))
      .field("version", s.model_version)
      .field("trained", st.model_trained)
      .field("memory_bytes", st.model_bytes);
  // Undefined figures (NaN before any label) read as 0, as in /v1/status.
  auto metrics = [&w](double accuracy, double rolling, double log_loss, double mae, double rmse, double r2) {
    auto finite = [](double v) { return std::isfinite(v) ? v : 0.0; };
    w.key("metrics")
        .begin_object()
        .field("accuracy", finite(accuracy))
        .field("rolling_accuracy", finite(rolling))
        .field("log_loss", finite(log_loss))
        .field("mae", finite(mae))
        .field("rmse", finite(rmse))
        .field("r2", finite(r2))
        .end_object();
  };
  metrics(st.accuracy, st.rolling_accuracy, st.log_loss, st.mae, st.rmse, st.r2);
  w.key("kept_versions").begin_array();
  std::vector<uint64_t> kept = s.kept_versions;
  for (const auto& pending_write : s.version_writes) kept.push_back(pending_write.first);
  std::sort(kept.begin(), kept.end());
  kept.erase(std::unique(kept.begin(), kept.end()), kept.end());
  for (uint64_t v : kept) w.unsigned_integer(v);
  w.end_array().end_object();
  for (const auto& c : st.challengers) {
    w.begin_object()
        .field("name", std::string_view(c.name))
        .field("role", "challenger")
        .field("type", std::string_view(c.type))
        .field("version", uint64_t{1})
        .field("trained", c.trained)
        .field("memory_bytes", c.memory_bytes);
    metrics(c.accuracy, c.rolling_accuracy, c.log_loss, c.mae, c.rmse, c.r2);
    w.end_object();
  }
  w.end_array().end_object();
  return out;
}

Result<std::string> Processor::model_json(std::string_view name) const {
  const Impl& s = *impl_;
  if (name == s.config.model.name) return describe_json();
  auto it = std::find_if(s.challengers.begin(), s.challengers.end(), [&](const Challenger& c) { return c.name == name; });
  if (it == s.challengers.end()) return Status::NotFound("no model named " + QuoteForReason(name));
  const ProcessorStats st = stats();
  std::string out;
  JsonWriter w(&out);
  w.begin_object().field("role", "challenger").key("figures");
  for (const auto& c : st.challengers) {
    if (c.name == name) WriteChallengerJson(w, c);
  }
  it->model->describe(w, s.dense_name(), 20);
  w.end_object();
  return out;
}

}  // namespace streamlearn::pipeline

namespace streamlearn::pipeline {
namespace {

// Whether `peer`'s names index the same things as `own` (so index i means one name on both
// sides): equal on the common prefix, and the peer knows no more than this side does (a name
// it has and this side lacks would get another index here later).
bool SameIndexing(const std::vector<std::string>& own, const std::vector<std::string>& peer) {
  return peer.size() <= own.size() && std::equal(peer.begin(), peer.end(), own.begin());
}

// A peer's model taken whole or added: both its classes and its dense features.
Status CheckSameIndexing(const ChampionModel& own, const ChampionModel& peer) {
  if (SameIndexing(own.classes, peer.classes) && SameIndexing(own.features, peer.features)) return Status::Ok();
  return Status::FailedPrecondition("a peer's classes or dense features are indexed otherwise (" +
                                    std::to_string(peer.classes.size()) + " classes and " +
                                    std::to_string(peer.features.size()) + " features known there, " +
                                    std::to_string(own.classes.size()) + " and " + std::to_string(own.features.size()) +
                                    " here)");
}

}  // namespace

ChampionModel Processor::champion_model() const {
  const Impl& s = *impl_;
  ChampionModel out;
  out.type = std::string(s.model->type());
  out.version = s.model_version;
  out.trained = s.model->trained();
  out.classes = s.class_names;
  out.features.reserve(s.dictionary.size());
  for (uint32_t i = 0; i < s.dictionary.size(); ++i) out.features.push_back(s.dictionary.name(i));
  ByteWriter w(&out.learner);
  s.model->save(w);
  return out;
}

Status Processor::mix_champion(double own_weight, std::span<const WeightedChampion> peers) {
  Impl& s = *impl_;
  if (peers.empty()) return s.model->mix(own_weight, {});  // whether the champion mixes at all
  const ChampionModel own = champion_model();
  std::vector<std::unique_ptr<learn::Learner>> restored;
  std::vector<learn::MixInput> inputs;
  for (const WeightedChampion& peer : peers) {
    const ChampionModel& m = *peer.model;
    if (m.type != own.type) {
      return Status::FailedPrecondition("a peer's champion is " + QuoteForReason(m.type) + ", this one " +
                                        QuoteForReason(own.type));
    }
    if (!SameIndexing(own.classes, m.classes)) {
      return Status::FailedPrecondition("a peer's classes are indexed otherwise (" + std::to_string(m.classes.size()) +
                                        " known there, " + std::to_string(own.classes.size()) + " here)");
    }
    if (!SameIndexing(own.features, m.features)) {
      return Status::FailedPrecondition("a peer's dense features are indexed otherwise (" +
                                        std::to_string(m.features.size()) + " known there, " +
                                        std::to_string(own.features.size()) + " here)");
    }
    ByteReader in(m.learner);
    auto learner = learn::RestoreLearner(in);
    if (!learner.ok()) return learner.status();
    inputs.push_back({learner->get(), peer.weight});
    restored.push_back(std::move(learner).value());
  }
  return s.model->mix(own_weight, inputs);
}

ChampionVersion Processor::champion_version() const { return {impl_->model_version, impl_->version_cause}; }

uint64_t Processor::champion_model_trained() const { return impl_->model->trained(); }

Status Processor::adopt_champion(const ChampionModel& peer) {
  Impl& s = *impl_;
  const ChampionModel own = champion_model();
  SL_RETURN_IF_ERROR(CheckSameIndexing(own, peer));
  ByteReader in(peer.learner);
  auto learner = learn::RestoreLearner(in);
  if (!learner.ok()) return learner.status();
  // Taken through the mix (reset, then the peer at full weight), so that trained() stays
  // this instance's count; asked first with weight 0, which checks without changing anything.
  const learn::MixInput check[] = {{learner->get(), 0.0}};
  const Status mixes = s.model->mix(0, check);
  if (!mixes.ok() && mixes.code() != ErrorCode::kUnimplemented) return mixes;
  s.version_writes.emplace_back(s.model_version, own.learner);  // kept for a rollback
  if (mixes.ok()) {
    s.model->reset();
    const learn::MixInput whole[] = {{learner->get(), 1.0}};
    SL_RETURN_IF_ERROR(s.model->mix(0, whole));
  } else {
    s.model = std::move(learner).value();
  }
  s.model_version = peer.version;
  s.version_cause = "adopted";
  s.drift_policy->restart();
  if (s.divergence) s.divergence->restart();
  if (s.probe) s.probe->model_version.Set(static_cast<double>(s.model_version));
  return Status::Ok();
}

Status Processor::add_champion_update(const ChampionModel& now, std::string_view base) {
  Impl& s = *impl_;
  const ChampionModel own = champion_model();
  if (now.type != own.type) {
    return Status::FailedPrecondition("a peer's champion is " + QuoteForReason(now.type) + ", this one " +
                                      QuoteForReason(own.type));
  }
  SL_RETURN_IF_ERROR(CheckSameIndexing(own, now));
  ByteReader now_in(now.learner), base_in(base);
  auto now_learner = learn::RestoreLearner(now_in);
  if (!now_learner.ok()) return now_learner.status();
  auto base_learner = learn::RestoreLearner(base_in);
  if (!base_learner.ok()) return base_learner.status();
  return learn::AddLearnerUpdate(*s.model, **now_learner, **base_learner);
}

}  // namespace streamlearn::pipeline
