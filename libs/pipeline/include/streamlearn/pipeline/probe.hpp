#pragma once
// The pipeline's Prometheus metrics, in one place (a "probe" per subsystem). Counters are
// atomics inside prometheus-cpp: the processing thread writes, the HTTP thread reads.

#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace prometheus {
class Counter;
template <typename T>
class Family;
class Gauge;
class Histogram;
class Registry;
}  // namespace prometheus

namespace streamlearn::pipeline {

struct FieldSlices;

// A histogram's observations of one batch, added to it in one step: prometheus-cpp's
// Observe takes the histogram's lock and updates two atomics per value, which per event
// cost more than the rest of the event's metrics. Each value goes to the bucket Observe
// would put it in (the first bound >= it), so the counts are the same; the sum is added
// once per batch (its rounding may differ in the last bits from a sum added value by value).
class HistogramBatch {
 public:
  explicit HistogramBatch(std::vector<double> bounds = {});
  void observe(double value) {
    size_t i = 0;
    while (i < bounds_.size() && !(bounds_[i] >= value)) ++i;
    counts_[i] += 1;
    sum_ += value;
    empty_ = false;
  }
  // Adds what was observed since the last flush to `histogram` (built with the same bounds).
  void flush(prometheus::Histogram& histogram);

 private:
  std::vector<double> bounds_;
  std::vector<double> counts_;  // one per bound, then +Inf
  double sum_ = 0;
  bool empty_ = true;
};

class PipelineProbe {
 public:
  explicit PipelineProbe(std::shared_ptr<prometheus::Registry> registry);
  const std::shared_ptr<prometheus::Registry>& registry() const { return registry_; }

  prometheus::Counter& events_in;
  prometheus::Counter& events_invalid;
  prometheus::Counter& predictions_out;
  prometheus::Counter& labels_learned;
  prometheus::Counter& drifts;
  prometheus::Counter& checkpoints;
  prometheus::Gauge& accuracy;
  prometheus::Gauge& rolling_accuracy;
  prometheus::Gauge& model_version;
  // streamlearn_consumer_lag: exported only while known (partitions assigned, their high
  // watermarks fetched); streamlearn_consumer_lag_known says which. A made-up 0 would hide a
  // backlog from an alert on the lag; a missing sample cannot.
  void set_consumer_lag(std::optional<int64_t> lag);
  prometheus::Gauge& entities_cached;
  prometheus::Histogram& latency_seconds;     // receive → prediction produced, per event
  static const std::vector<double>& LatencyBounds();  // latency_seconds' buckets
  prometheus::Histogram& checkpoint_seconds;
  // Faults (docs/architecture.md): a broker outage pauses the commit cycle; the DLQ never blocks.
  prometheus::Gauge& broker_up;                    // 1 reachable, 0 during an outage
  prometheus::Counter& broker_outages;             // outages begun
  prometheus::Counter& broker_outage_seconds;      // time spent in outages (closed ones)
  prometheus::Counter& dlq_truncated;              // dead letters cut to fit the producer's limit
  prometheus::Counter& dlq_delivery_failures;      // dead letters the broker refused (after shrinking)
  prometheus::Counter& guarded_updates;            // model updates skipped to keep weights finite
  prometheus::Counter& model_divergences;          // regression champions reset because they ran away
  prometheus::Counter& broker_auth_failures;       // authentication/authorisation refusals librdkafka reported
  prometheus::Gauge& state_writable;               // 0 while checkpoints cannot be written (disk trouble)
  prometheus::Counter& checkpoint_failures;        // checkpoint writes the disk refused (each attempt)
  // Delayed labels (labels topic): streamlearn_labels_total{outcome=...}.
  prometheus::Counter& labels_joined;     // trained the model with the served vector
  prometheus::Counter& labels_early;      // arrived before their event
  prometheus::Counter& labels_unknown;    // their event never came: dead-lettered
  prometheus::Counter& labels_late;       // their prediction had expired: dead-lettered
  prometheus::Counter& labels_duplicate;  // a second label for an id: ignored
  prometheus::Counter& labels_invalid;    // undecodable: dead-lettered
  prometheus::Counter& labels_wrong_kind;  // a kind the task cannot learn (events' or topic's): dead-lettered
  prometheus::Counter& pending_expired;   // streamlearn_pending_dropped_total{reason="expired"}
  prometheus::Counter& pending_evicted;   // ... {reason="evicted"} (labels.max_pending)
  prometheus::Gauge& pending_size;        // predictions waiting for their label
  prometheus::Gauge& early_size;          // labels waiting for their event
  prometheus::Histogram& label_delay_seconds;  // label ts - event ts, per joined label
  // Drift actions and data drift.
  prometheus::Counter& backgrounds_started;   // background learners started at a warning
  prometheus::Counter& backgrounds_dropped;   // ... dropped because the warning cleared
  prometheus::Counter& backgrounds_swapped;   // ... swapped in at a drift
  prometheus::Counter& model_switches;        // selection: another candidate serves
  // Several instances in one group (scale.*): partitions moving, and their state with them.
  prometheus::Counter& rebalances;            // partition assignments received
  prometheus::Counter& restored_records;      // changelog records read to restore a partition
  prometheus::Counter& restore_seconds;       // time spent restoring partitions
  prometheus::Counter& changelog_records;     // entity states and offset markers produced
  prometheus::Counter& changelog_bytes;       // their keys and values
  // streamlearn_data_drift_total{feature, kind}: one series per watched feature that drifted.
  prometheus::Counter& data_drift(const std::string& feature, const std::string& kind);
  // Bytes a model holds (the champion and each challenger, by name).
  prometheus::Gauge& model_bytes(const std::string& model);
  // Every model's figures by name, so that dashboards compare champion and challengers:
  // streamlearn_model_accuracy{model, window="prequential"|"rolling"} (classification only).
  void set_model_accuracy(const std::string& model, double prequential, double rolling);

  // Sliced metrics (metrics.slices): streamlearn_slice_{events,accuracy,log_loss,
  // positive_rate,true_positive_rate}{field,value} for the reported values (top K and
  // "(other)"; a value that leaves them loses its series) and streamlearn_slice_gap{field,
  // metric}. Called off the per-event path (it allocates).
  void set_slices(const std::vector<FieldSlices>& slices);

 private:
  prometheus::Family<prometheus::Gauge>& consumer_lag_family_;
  prometheus::Gauge* consumer_lag_ = nullptr;  // in consumer_lag_family_ while the lag is known
  prometheus::Gauge& consumer_lag_known_;
  prometheus::Family<prometheus::Counter>& data_drift_family_;
  prometheus::Family<prometheus::Gauge>& model_bytes_family_;
  std::vector<prometheus::Family<prometheus::Gauge>*> slice_families_;  // per figure, as set_slices writes them
  prometheus::Family<prometheus::Gauge>& slice_gap_family_;
  prometheus::Family<prometheus::Gauge>& model_accuracy_family_;
  std::set<std::pair<std::string, std::string>> slice_series_;  // (field, value) now exported
  std::shared_ptr<prometheus::Registry> registry_;
};

}  // namespace streamlearn::pipeline
