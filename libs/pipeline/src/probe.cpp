#include "streamlearn/pipeline/probe.hpp"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <algorithm>
#include <map>

#include "streamlearn/pipeline/slices.hpp"

namespace streamlearn::pipeline {
namespace {

// The per-value figures of set_slices, in the order it writes them.
constexpr std::pair<const char*, const char*> kSliceFigures[] = {
    {"streamlearn_slice_events", "Labelled events per value of a sliced field (metrics.slices)"},
    {"streamlearn_slice_accuracy", "Prequential accuracy per value of a sliced field"},
    {"streamlearn_slice_log_loss", "Prequential log loss per value of a sliced field"},
    {"streamlearn_slice_positive_rate", "Share predicted positive per value of a sliced field"},
    {"streamlearn_slice_true_positive_rate", "True-positive rate per value of a sliced field"},
};

prometheus::Counter& MakeCounter(prometheus::Registry& r, const char* name, const char* help) {
  return prometheus::BuildCounter().Name(name).Help(help).Register(r).Add({});
}
prometheus::Gauge& MakeGauge(prometheus::Registry& r, const char* name, const char* help) {
  return prometheus::BuildGauge().Name(name).Help(help).Register(r).Add({});
}
prometheus::Histogram& MakeHistogram(prometheus::Registry& r, const char* name, const char* help,
                                     prometheus::Histogram::BucketBoundaries buckets) {
  return prometheus::BuildHistogram().Name(name).Help(help).Register(r).Add({}, std::move(buckets));
}

prometheus::Counter& LabelOutcome(prometheus::Registry& r, const char* outcome) {
  return prometheus::BuildCounter()
      .Name("streamlearn_labels_total")
      .Help("Labels from the labels topic, by outcome: joined (trained), early (before their event), unknown and "
            "late (dead-lettered), duplicate (ignored), invalid (dead-lettered)")
      .Register(r)
      .Add({{"outcome", outcome}});
}
prometheus::Counter& PendingDropped(prometheus::Registry& r, const char* reason) {
  return prometheus::BuildCounter()
      .Name("streamlearn_pending_dropped_total")
      .Help("Pending predictions dropped without a label: expired (labels.ttl) or evicted (labels.max_pending)")
      .Register(r)
      .Add({{"reason", reason}});
}

}  // namespace

HistogramBatch::HistogramBatch(std::vector<double> bounds)
    : bounds_(std::move(bounds)), counts_(bounds_.size() + 1, 0.0) {}

void HistogramBatch::flush(prometheus::Histogram& histogram) {
  if (empty_) return;
  histogram.ObserveMultiple(counts_, sum_);
  std::fill(counts_.begin(), counts_.end(), 0.0);
  sum_ = 0;
  empty_ = true;
}

const std::vector<double>& PipelineProbe::LatencyBounds() {
  static const std::vector<double> kBounds = {1e-6, 5e-6, 2e-5, 1e-4, 5e-4, 2e-3, 1e-2, 5e-2, 0.25, 1};
  return kBounds;
}

PipelineProbe::PipelineProbe(std::shared_ptr<prometheus::Registry> registry)
    : events_in(MakeCounter(*registry, "streamlearn_events_in_total", "Messages consumed from the events topic")),
      events_invalid(MakeCounter(*registry, "streamlearn_events_invalid_total", "Events sent to the dead-letter topic")),
      predictions_out(MakeCounter(*registry, "streamlearn_predictions_total", "Predictions produced")),
      labels_learned(MakeCounter(*registry, "streamlearn_labels_learned_total", "Labelled events the model trained on")),
      drifts(MakeCounter(*registry, "streamlearn_drift_total", "Concept drifts detected")),
      checkpoints(MakeCounter(*registry, "streamlearn_checkpoints_total", "State checkpoints written to RocksDB")),
      accuracy(MakeGauge(*registry, "streamlearn_prequential_accuracy", "Prequential (test-then-train) accuracy since start")),
      rolling_accuracy(MakeGauge(*registry, "streamlearn_rolling_accuracy", "Prequential accuracy over the rolling window")),
      model_version(MakeGauge(*registry, "streamlearn_model_version", "Version of the published model (bumped at each reset)")),
      entities_cached(MakeGauge(*registry, "streamlearn_entities_cached", "Entity states held in memory")),
      latency_seconds(MakeHistogram(*registry, "streamlearn_processing_latency_seconds",
                                    "Time from receiving an event to producing its prediction",
                                    LatencyBounds())),
      checkpoint_seconds(MakeHistogram(*registry, "streamlearn_checkpoint_seconds",
                                       "Duration of a checkpoint: producer flush plus RocksDB write",
                                       {1e-3, 5e-3, 2e-2, 0.1, 0.5, 2, 10})),
      broker_up(MakeGauge(*registry, "streamlearn_broker_up",
                          "1 while the Kafka cluster is reachable, 0 during an outage (predictions held, checkpoints wait)")),
      broker_outages(MakeCounter(*registry, "streamlearn_broker_outages_total",
                                 "Broker outages begun (all brokers down, or predictions not acknowledged in time)")),
      broker_outage_seconds(MakeCounter(*registry, "streamlearn_broker_outage_seconds_total",
                                        "Seconds spent in broker outages that have ended")),
      dlq_truncated(MakeCounter(*registry, "streamlearn_dlq_truncated_total",
                                "Dead letters whose payload was cut to the producer's message size limit (header 'truncated')")),
      dlq_delivery_failures(MakeCounter(*registry, "streamlearn_dlq_delivery_failures_total",
                                        "Dead letters the broker refused even after shrinking them (logged, counted)")),
      guarded_updates(MakeCounter(*registry, "streamlearn_model_guarded_updates_total",
                                  "Model updates skipped because they would have made a weight NaN or infinite")),
      model_divergences(MakeCounter(*registry, "streamlearn_model_divergences_total",
                                    "Regression champions reset because their error ran beyond drift.divergence_factor "
                                    "times the mean predictor's (drift reason 'diverged')")),
      broker_auth_failures(MakeCounter(*registry, "streamlearn_broker_auth_failures_total",
                                       "Broker authentication or authorisation failures (SASL, SSL, ACLs) librdkafka "
                                       "reported")),
      state_writable(MakeGauge(*registry, "streamlearn_state_writable",
                               "1 while checkpoints are written, 0 while the state directory refuses writes "
                               "(consuming paused)")),
      checkpoint_failures(MakeCounter(*registry, "streamlearn_checkpoint_failures_total",
                                      "Checkpoint writes the state directory refused (no space, I/O error, "
                                      "read-only), each attempt")),
      labels_joined(LabelOutcome(*registry, "joined")),
      labels_early(LabelOutcome(*registry, "early")),
      labels_unknown(LabelOutcome(*registry, "unknown")),
      labels_late(LabelOutcome(*registry, "late")),
      labels_duplicate(LabelOutcome(*registry, "duplicate")),
      labels_invalid(LabelOutcome(*registry, "invalid")),
      labels_wrong_kind(MakeCounter(*registry, "streamlearn_labels_wrong_kind_total",
                                    "Labels dead-lettered because the task cannot learn their kind (numbers for a "
                                    "binary model, class names for a regression)")),
      pending_expired(PendingDropped(*registry, "expired")),
      pending_evicted(PendingDropped(*registry, "evicted")),
      pending_size(MakeGauge(*registry, "streamlearn_pending_labels", "Predictions waiting for their label (pending store)")),
      early_size(MakeGauge(*registry, "streamlearn_early_labels", "Labels waiting for their event")),
      label_delay_seconds(MakeHistogram(*registry, "streamlearn_label_delay_seconds",
                                        "Event time from an event to its label, per joined label",
                                        {1, 10, 60, 600, 3600, 6 * 3600, 86400, 7 * 86400, 30 * 86400})),
      backgrounds_started(MakeCounter(*registry, "streamlearn_background_started_total",
                                      "Background learners started at a drift warning (drift.action background)")),
      backgrounds_dropped(MakeCounter(*registry, "streamlearn_background_dropped_total",
                                      "Background learners dropped because the warning cleared")),
      backgrounds_swapped(MakeCounter(*registry, "streamlearn_background_swapped_total",
                                      "Background learners swapped in at a drift (new model version)")),
      model_switches(MakeCounter(*registry, "streamlearn_model_switches_total",
                                 "Model selection: switches of the serving candidate (new model version)")),
      rebalances(MakeCounter(*registry, "streamlearn_rebalances_total",
                             "Partition assignments received from the consumer group (a rebalance, not an outage)")),
      restored_records(MakeCounter(*registry, "streamlearn_restored_records_total",
                                   "Changelog records read to restore partitions another member had advanced")),
      restore_seconds(MakeCounter(*registry, "streamlearn_restore_seconds_total",
                                  "Seconds spent restoring partitions from the changelog")),
      changelog_records(MakeCounter(*registry, "streamlearn_changelog_records_total",
                                    "Entity states and offset markers produced to the changelog topic")),
      changelog_bytes(MakeCounter(*registry, "streamlearn_changelog_bytes_total",
                                  "Key and value bytes produced to the changelog topic")),
      consumer_lag_family_(prometheus::BuildGauge()
                               .Name("streamlearn_consumer_lag")
                               .Help("Messages on the consumed topics not yet processed; absent while unknown "
                                     "(see streamlearn_consumer_lag_known)")
                               .Register(*registry)),
      consumer_lag_known_(MakeGauge(*registry, "streamlearn_consumer_lag_known",
                                    "1 when partitions are assigned and their high watermarks known, else 0 "
                                    "(streamlearn_consumer_lag is then absent)")),
      data_drift_family_(prometheus::BuildCounter()
                             .Name("streamlearn_data_drift_total")
                             .Help("Data drift alarms per input feature: ADWIN/KSWIN on numeric values, PSI on categories")
                             .Register(*registry)),
      model_bytes_family_(prometheus::BuildGauge()
                              .Name("streamlearn_model_bytes")
                              .Help("Memory a model holds: parameters, statistics, trees, windows (champion and challengers)")
                              .Register(*registry)),
      slice_gap_family_(prometheus::BuildGauge()
                            .Name("streamlearn_slice_gap")
                            .Help("Largest gap across a sliced field's values: metric demographic_parity or equal_opportunity")
                            .Register(*registry)),
      model_accuracy_family_(prometheus::BuildGauge()
                                 .Name("streamlearn_model_accuracy")
                                 .Help("Accuracy of each model by name (champion and challengers), prequential since start "
                                       "or over the rolling window (classification)")
                                 .Register(*registry)),
      registry_(std::move(registry)) {
  broker_up.Set(1);  // until an outage says otherwise
  state_writable.Set(1);
  for (const auto& [name, help] : kSliceFigures) {
    slice_families_.push_back(&prometheus::BuildGauge().Name(name).Help(help).Register(*registry_));
  }
}

prometheus::Counter& PipelineProbe::data_drift(const std::string& feature, const std::string& kind) {
  return data_drift_family_.Add({{"feature", feature}, {"kind", kind}});  // the existing series when known
}

prometheus::Gauge& PipelineProbe::model_bytes(const std::string& model) {
  return model_bytes_family_.Add({{"model", model}});
}

void PipelineProbe::set_model_accuracy(const std::string& model, double prequential, double rolling) {
  model_accuracy_family_.Add({{"model", model}, {"window", "prequential"}}).Set(prequential);
  model_accuracy_family_.Add({{"model", model}, {"window", "rolling"}}).Set(rolling);
}

void PipelineProbe::set_slices(const std::vector<FieldSlices>& slices) {
  std::set<std::pair<std::string, std::string>> now;
  for (const FieldSlices& f : slices) {
    for (const SliceFigures& v : f.values) {
      const std::map<std::string, std::string> labels = {{"field", f.field}, {"value", v.value}};
      const double figures[] = {static_cast<double>(v.events), v.accuracy, v.log_loss, v.positive_rate,
                                v.true_positive_rate};
      for (size_t i = 0; i < slice_families_.size(); ++i) slice_families_[i]->Add(labels).Set(figures[i]);
      now.emplace(f.field, v.value);
    }
    slice_gap_family_.Add({{"field", f.field}, {"metric", "demographic_parity"}}).Set(f.demographic_parity_difference);
    slice_gap_family_.Add({{"field", f.field}, {"metric", "equal_opportunity"}}).Set(f.equal_opportunity_difference);
  }
  for (const auto& [field, value] : slice_series_) {
    if (now.count({field, value}) != 0) continue;
    const std::map<std::string, std::string> labels = {{"field", field}, {"value", value}};
    for (auto* family : slice_families_) family->Remove(&family->Add(labels));
  }
  slice_series_ = std::move(now);
}

void PipelineProbe::set_consumer_lag(std::optional<int64_t> lag) {
  consumer_lag_known_.Set(lag ? 1 : 0);
  if (!lag) {
    if (consumer_lag_) consumer_lag_family_.Remove(consumer_lag_);
    consumer_lag_ = nullptr;
    return;
  }
  if (!consumer_lag_) consumer_lag_ = &consumer_lag_family_.Add({});
  consumer_lag_->Set(static_cast<double>(*lag));
}

}  // namespace streamlearn::pipeline
