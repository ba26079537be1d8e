#pragma once
// The pipeline's Prometheus metrics, in one place (a "probe" per subsystem). Counters are
// atomics inside prometheus-cpp: the processing thread writes, the HTTP thread reads.

#include <memory>

namespace prometheus {
class Counter;
class Gauge;
class Histogram;
class Registry;
}  // namespace prometheus

namespace streamlearn::pipeline {

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
  prometheus::Gauge& consumer_lag;
  prometheus::Gauge& entities_cached;
  prometheus::Histogram& latency_seconds;     // receive → prediction produced, per event
  prometheus::Histogram& checkpoint_seconds;
  // Faults (DESIGN.md §7): a broker outage pauses the commit cycle; the DLQ never blocks.
  prometheus::Gauge& broker_up;                    // 1 reachable, 0 during an outage
  prometheus::Counter& broker_outages;             // outages begun
  prometheus::Counter& broker_outage_seconds;      // time spent in outages (closed ones)
  prometheus::Counter& dlq_truncated;              // dead letters cut to fit the producer's limit
  prometheus::Counter& dlq_delivery_failures;      // dead letters the broker refused (after shrinking)
  prometheus::Counter& guarded_updates;            // model updates skipped to keep weights finite

 private:
  std::shared_ptr<prometheus::Registry> registry_;
};

}  // namespace streamlearn::pipeline
