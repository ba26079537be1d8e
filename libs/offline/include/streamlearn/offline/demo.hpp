#pragma once
// `streamlearn demo`: an embedded broker, a synthetic drifting stream and the learner in
// one process, with a progress line every second and a summary at the end.

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "streamlearn/core/status.hpp"
#include "streamlearn/eval/concepts.hpp"
#include "streamlearn/pipeline/runner.hpp"

namespace streamlearn::pipeline {

struct DemoOptions {
  uint64_t events = 200000;
  uint64_t seed = 42;
  int partitions = 4;
  uint64_t entities = 1000;
  double invalid_share = 0.005;
  size_t concepts = 4;            // SEA thetas 8, 9, 7, 9.5: changes evenly spaced
  std::string state_dir;          // empty: a fresh temporary directory, removed afterwards;
                                  // otherwise it must be empty or absent
  // The producer waits while the learner is this far behind: the mock broker keeps only 5 MiB
  // per partition, and a short lag keeps the processing order close to the stream's order.
  uint64_t max_lag = 5000;
  // A drift more than this many valid events after a change is a false alarm, not its detection.
  uint64_t detection_tolerance = 5000;
  PipelineConfig config;          // bootstrap and state dir are filled in by the demo
};

struct DemoSummary {
  uint64_t events_in = 0;
  uint64_t predictions_out = 0;
  uint64_t dlq = 0;
  uint64_t invalid_produced = 0;
  double accuracy = 0;
  double majority_baseline = 0;
  double events_per_sec = 0;
  double seconds = 0;
  std::vector<uint64_t> changes;        // stream position (message index) where each new concept began
  std::vector<uint64_t> change_events;  // ... and the same changes as valid events before them: the
                                        // count a DriftRecord's `events` is measured in
  std::vector<DriftRecord> drifts;
  // The drifts judged against the changes, in valid events (see ScoreDemoDetections).
  eval::DetectionScore detection;
  uint64_t model_version = 0;
  std::string bootstrap_servers;
};

std::string SummaryToJson(const DemoSummary& summary);

// The drifts against the true changes, both counted in valid events: a drift at the
// 0-based index of its firing event in processing order (DriftRecord.events - 1), a change
// at `change_events`. The
// count, not the triggering event's position: with partitions merged, the event that fires
// may come from a partition a few events behind, and the count only grows in processing
// order. A drift within `tolerance` after a change detects it; any other is a false alarm.
eval::DetectionScore ScoreDemoDetections(const DemoSummary& summary, uint64_t tolerance);

// `on_start` sees the runner once it exists (the service starts its HTTP server there);
// `on_stop` runs before the runner is destroyed, however the demo ends (the service stops its
// HTTP server there: its handlers use the runner); `print` receives the progress and
// summary lines. `interrupted` (SIGINT) stops the demo early; the summary covers what was
// processed.
Result<DemoSummary> RunDemo(const DemoOptions& options, const std::atomic<bool>& interrupted,
                            const std::function<void(KafkaRunner&)>& on_start,
                            const std::function<void(const std::string&)>& print,
                            const std::function<void()>& on_stop = {});

}  // namespace streamlearn::pipeline
