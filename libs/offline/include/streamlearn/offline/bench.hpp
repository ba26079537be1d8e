#pragma once
// `streamlearn bench`: end-to-end events/s of the pipeline on the embedded broker, beside
// librdkafka's own ceiling (consume and produce the same messages, nothing else) measured in
// the same run, so the ratios mean something on a noisy shared machine; then the latency
// from event to prediction at half of the pipeline's rate.

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "streamlearn/core/status.hpp"

namespace streamlearn::pipeline {

struct BenchOptions {
  // The embedded broker keeps 5 MiB per partition (about 35,000 of these events): the bench
  // checks that none of its input was dropped.
  uint64_t events = 200000;
  int partitions = 8;
  uint64_t seed = 7;
  double latency_seconds = 2;  // the latency run's length; 0 = none
  // The default settings' latency is measured in this many runs of latency_seconds, each on
  // topics of its own: the embedded broker walks a partition's whole list of batches on every
  // fetch, so its latency climbs as a log grows (after about 2.5 s at half the pipeline's
  // rate), a cost of the mock that a real broker does not have.
  int latency_windows = 3;
  double latency_rate = 0;     // events/s produced then; 0 = half the pipeline's measured rate
  // When set, each latency run writes one line per event to <path>.<run>.tsv (send time,
  // latency, its share up to the prediction's produce) and the checkpoint times beside.
  std::string latency_trace;
  // librdkafka properties for the service in the latency runs (e.g. linger.ms), over the defaults.
  std::map<std::string, std::string> latency_properties;
};

// One latency run: the whole way (event produce() to prediction read back), the share up to
// the prediction's produce() (its Kafka timestamp, millisecond resolution), and the
// checkpoints the service wrote meanwhile with the time processing waited for them.
struct LatencyFigures {
  double rate = 0;  // events/s produced
  double p50_ms = 0, p99_ms = 0, max_ms = 0;
  double to_output_p50_ms = 0, to_output_p99_ms = 0;
  uint64_t events = 0;
  uint64_t checkpoints = 0;
  double checkpoint_pause_mean_ms = 0;
};

struct BenchResult {
  double ceiling_events_per_sec = 0;              // librdkafka alone: batch consume + produce
  double passthrough_arrival_events_per_sec = 0;  // our Consumer and Producer, as fetched
  double passthrough_events_per_sec = 0;          // ... with the timestamp merge (the pipeline's order)
  double pipeline_events_per_sec = 0;             // default settings (timestamp merge)
  double pipeline_arrival_events_per_sec = 0;     // kafka.order: arrival
  double pipeline_logistic_events_per_sec = 0;    // model.type: logistic alone (timestamp merge)
  double ratio = 0;                               // pipeline / ceiling
  double latency_rate = 0;                        // events/s produced during the latency run
  double latency_p50_ms = 0, latency_p99_ms = 0, latency_max_ms = 0;  // the median window's
  uint64_t latency_events = 0;
  std::vector<LatencyFigures> latency_windows;  // each window of the default settings
  LatencyFigures latency_no_checkpoints;  // the same run with no checkpoint during it
};

Result<BenchResult> RunBench(const BenchOptions& options, const std::function<void(const std::string&)>& print);

}  // namespace streamlearn::pipeline
